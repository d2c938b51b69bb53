"""Score an ensemble of fine-tuned framing models (mean of their calibrated log-probabilities).

    python scripts/ensemble.py outputs/ablation/v1+v2+context-s42 outputs/ablation/v1+v2+context-s43 \\
        outputs/ablation/v1+v2+context-s44 [--json outputs/ablation/ensemble-context.json]

An ensemble costs one forward pass per member at inference, so it has to pay
for that in quality. Each member's logits are divided by its own temperature,
turned into log-probabilities and averaged; the ensemble's temperature is then
fitted again on the validation split of the first member's training config
(never on evaluation data). The ensemble and each member are scored on the
same sets (validation, test, real news, seed passages when held out) and a
macro-F1 table says whether it pays.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


class EnsemblePredictor:
    """The part of ``framing.inference.Predictor`` that evaluation uses, over several members."""

    def __init__(self, members: list):
        labels = {tuple(m.labels) for m in members}
        contexts = {m.context for m in members}
        if len(labels) != 1 or len(contexts) != 1:
            raise ValueError("ensemble members must share their labels and context mode")
        self.members = members
        self.labels = list(members[0].labels)
        self.context = members[0].context
        self.temperature = 1.0

    def logits(self, texts: Sequence[str], batch_size: int = 64, contexts: Sequence[str] | None = None):
        """Mean calibrated log-probabilities of the members (usable as logits)."""
        total = None
        for m in self.members:
            raw, windows = m.logits(texts, batch_size, contexts=contexts)
            z = raw / m.temperature
            logp = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
            total = logp if total is None else total + logp
        return total / len(self.members), windows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, help="write the ensemble's metrics here")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if len(args.models) < 2:
        print("error: an ensemble needs at least two models", file=sys.stderr)
        return 2
    from framing.calibration import fit_temperature
    from framing.evaluation import (corpus_splits, evaluate_sets, external_sets, format_report, label_ids,
                                     macro_f1_table, record_logits, split_sets)
    from framing.inference import ModelDirectoryError, Predictor
    from framing.io_utils import atomic_write_json, check_output_file
    from framing.training_args import load_config

    try:
        if args.json:
            check_output_file(args.json)
        members = [Predictor(str(d), "cpu", "auto") for d in args.models]
        ensemble = EnsemblePredictor(members)
    except (ModelDirectoryError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = load_config(args.models[0] / "training_config.yaml")
    cfg.training.eval_batch_size = args.batch_size
    cfg.evaluation.baselines = False
    splits = corpus_splits(cfg)
    ensemble.temperature = fit_temperature(record_logits(ensemble, splits["validation"], args.batch_size),
                                           label_ids(splits["validation"]))
    sets = split_sets(splits, external_sets(cfg.evaluation.real_data)[0])
    results = {"ensemble_of": [str(d) for d in args.models], "temperature": ensemble.temperature,
               "sets": evaluate_sets(ensemble, ensemble.temperature, sets, splits["train"], cfg, {})}
    print(format_report(results))
    if args.json:
        atomic_write_json(args.json, results)
    rows = {"ensemble": results["sets"]}
    for d, m in zip(args.models, members):
        rows[d.name] = evaluate_sets(m, m.temperature, sets, splits["train"], cfg, {})
    print("\nmacro-F1 per set: ensemble vs each member\n" + macro_f1_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
