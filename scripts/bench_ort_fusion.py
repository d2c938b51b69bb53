"""Does ONNX Runtime's transformer fusion pay? Plain vs fused export, fp32 and dynamic int8, side by side.

    python scripts/bench_ort_fusion.py outputs/framing-e5-small [--passages 600] [--repeats 2]

Builds (or reuses) the model's cached ``onnx`` and ``onnx-int8`` exports, runs
``onnxruntime.transformers.optimizer.optimize_model`` (``model_type="bert"``) on
the fp32 graph and quantizes the fused graph as ``onnx-int8`` is quantized, in a
temporary folder (nothing is added to the model directory). Then it scores the
same corpus passages (fixed shuffle, batches of 32, padded, 2 threads unless
``OMP_NUM_THREADS`` says otherwise) with each graph in one process, alternating
graphs per repeat, and prints passages/s (best repeat), the fused-node counts
and the share of the plain fp32 graph's labels each graph keeps. It answers
an experiment: the shipped export stays unfused unless this says fusion pays.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

BATCH = 32


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--passages", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoTokenizer

    from framing.backends.bench import sample_corpus
    from framing.backends.export import export_dir, quantize_int8
    from framing.backends.onnx_backend import OnnxBackend
    from framing.inference import predict
    from framing.training_args import TrainConfig

    for backend in ("onnx", "onnx-int8"):  # make (or reuse) the cached exports
        predict(["warm-up passage"], str(args.model), backend=backend)
    plain, plain8 = export_dir(args.model, "onnx"), export_dir(args.model, "onnx-int8")
    with tempfile.TemporaryDirectory() as tmp:
        fused, fused8 = Path(tmp) / "fused", Path(tmp) / "fused-int8"
        fused.mkdir(), fused8.mkdir()
        shape = AutoConfig.from_pretrained(str(args.model))
        graph = optimize_model(str(plain / "model.onnx"), model_type="bert", num_heads=shape.num_attention_heads,
                               hidden_size=shape.hidden_size)
        stats = {k: v for k, v in graph.get_fused_operator_statistics().items() if v}
        graph.save_model_to_file(str(fused / "model.onnx"))
        quantize_int8(fused, fused8)
        sessions = {name: OnnxBackend(name, folder) for name, folder in
                    [("onnx", plain), ("onnx-int8", plain8), ("fused", fused),
                     ("fused-int8", fused8)]}

        cfg = TrainConfig()
        texts = [cfg.text_prefix + r["text"] for r in sample_corpus(args.passages, seed=0)]
        tok = AutoTokenizer.from_pretrained(str(args.model))
        batches = [tok(texts[i:i + BATCH], padding=True, truncation=True,
                       max_length=cfg.training.max_length, return_tensors="np")
                   for i in range(0, len(texts), BATCH)]

        def labels(backend) -> tuple[np.ndarray, float]:
            t0 = time.perf_counter()
            out = [backend.logits(b["input_ids"].astype(np.int64), b["attention_mask"].astype(np.int64), None)
                   for b in batches]
            return np.concatenate(out).argmax(1), len(texts) / (time.perf_counter() - t0)

        rates: dict[str, list[float]] = {name: [] for name in sessions}
        preds: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, backend in sessions.items():
                preds[name], rate = labels(backend)
                rates[name].append(rate)
    print(f"fused nodes: {stats}")
    print(f"{len(texts)} passages, batch {BATCH}, {torch.get_num_threads()} threads")
    print(f"{'graph':<12}{'passages/s':>12}{'same labels as onnx fp32':>28}")
    for name in sessions:
        print(f"{name:<12}{max(rates[name]):>12.1f}{(preds[name] == preds['onnx']).mean():>27.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
