"""Benchmark every inference backend against transformers.pipeline on the same model and passages.

    python scripts/bench_predict.py [MODEL_DIR] [--passages 1200] [--json results.json]

Each configuration runs in its own process (peak RSS = the child's own VmHWM), on the same
fixed-seed sample of the bundled corpus (timed) and the real dev passages when present
(labels only): torch fp32, torch bf16 (autocast), onnx fp32, onnx int8 (dynamic), openvino and
openvino int8 (when installed), then backend="auto" (after the others are cached, so it uses this
very measurement) and transformers.pipeline("text-classification") batched fp32 (batch 32), the
baseline of the ratios. Printed: the CPU model and flags, passages/s, the ratio to the pipeline,
peak RSS, the share of labels equal to torch fp32's and the macro-F1 difference per set, and the
faithfulness gate. The measuring code is framing.backends.bench, the same as `framing bench`'s.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    from framing.backends.bench import bench_command
    from framing.backends.bench_args import add_bench_arguments

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", help="model directory (same as --model)")
    add_bench_arguments(ap)
    args = ap.parse_args(argv)
    args.model = args.model or args.model_dir or "outputs/framing-e5-small"
    args.extra = ("auto", "pipeline")
    return bench_command(args)


if __name__ == "__main__":
    sys.exit(main())
