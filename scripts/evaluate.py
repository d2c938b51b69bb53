"""Re-score a saved framing model and print the same report as training.

    python scripts/evaluate.py MODEL_DIR                  # the run's test split and real-news sets again
    python scripts/evaluate.py MODEL_DIR data/a.jsonl ... # any annotated JSONL files, one set each
    python scripts/evaluate.py MODEL_DIR --json out.json  # also write the metrics (atomically)

Baselines are refitted on the model's own training split (rebuilt from its
training_config.yaml) and scored on the same sets.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# This file is named like the `evaluate` library; keep its folder off the import path so that
# `import evaluate` inside framing finds the library, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("data", nargs="*", type=Path, help="annotated JSONL files (default: the run's evaluation sets)")
    ap.add_argument("--json", type=Path, help="write the metrics here")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    ap.add_argument("--no-baselines", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from framing.errors import FramingError
    from framing.evaluation import EvalSet, corpus_splits, evaluate_sets, external_sets, format_report
    from framing.inference import Predictor
    from framing.io_utils import atomic_write_json, check_output_file
    from framing.records import load_records
    from framing.training_args import TrainConfig, load_config

    try:
        if args.json:
            check_output_file(args.json)  # a directory or unwritable --json fails now, not after scoring
        predictor = Predictor(str(args.model_dir), "cpu", args.precision)
        cfg_file = args.model_dir / "training_config.yaml"
        cfg = load_config(cfg_file) if cfg_file.is_file() else TrainConfig()
        cfg.training.eval_batch_size = args.batch_size
        cfg.evaluation.baselines = cfg_file.is_file() and not args.no_baselines
        splits = corpus_splits(cfg)
        if args.data:
            sets = [EvalSet(f.stem, f"annotated passages from {f}", load_records([f])) for f in args.data]
        else:
            real, skipped = external_sets(cfg.evaluation.real_data)
            for msg in skipped:
                print(f"note: evaluation data {msg}", file=sys.stderr)
            sets = [EvalSet("test", "grouped test split of the bundled corpus", splits["test"]), *real]
    except (FramingError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = {"model_dir": str(args.model_dir), "temperature": predictor.temperature,
               "sets": evaluate_sets(predictor, predictor.temperature, sets, splits["train"], cfg, {})}
    print(format_report(results))
    if args.json:
        atomic_write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
