"""Average the weights of fine-tuned framing models (a uniform "model soup", Wortsman et al. 2022).

    python scripts/soup.py outputs/ablation/v1+v2-s42 outputs/ablation/v1+v2-s43 outputs/ablation/v1+v2-s44 \\
        -o outputs/soup

The models must share one architecture and config (the same recipe trained with
different seeds). The soup costs nothing at inference, unlike an ensemble. Its
temperature is fitted again on the validation split of the first model's
training config (never on evaluation data), then it is scored like
``scripts/evaluate.py`` does (validation, test, real news, seed passages when
held out), and each ingredient is scored on the same sets beside it, so the
printed table says whether the soup pays. The directory is written atomically.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def average_state_dicts(dirs: list[Path]) -> dict:
    """Element-wise mean of the ``model.safetensors`` tensors of ``dirs`` (same keys and shapes)."""
    from safetensors.torch import load_file

    states = [load_file(str(d / "model.safetensors")) for d in dirs]
    keys = set(states[0])
    for d, s in zip(dirs[1:], states[1:]):
        if set(s) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise ValueError(f"{d}: weights do not match {dirs[0]} (another architecture or config)")
    return {k: sum(s[k].float() for s in states) / len(states) for k in states[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if len(args.models) < 2:
        print("error: a soup needs at least two models", file=sys.stderr)
        return 2
    from safetensors.torch import save_file

    from framing.calibration import fit_temperature
    from framing.evaluation import (corpus_splits, evaluate_sets, external_sets, format_report, label_ids,
                                     macro_f1_table, record_logits, split_sets)
    from framing.inference import ModelDirectoryError, Predictor
    from framing.io_utils import atomic_write_json
    from framing.training_args import load_config

    try:
        for d in args.models:
            Predictor(str(d), "cpu", "fp32")  # validates each directory
        state = average_state_dicts(args.models)
    except (ModelDirectoryError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = load_config(args.models[0] / "training_config.yaml")
    splits = corpus_splits(cfg)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{args.output.name}.", dir=args.output.parent))
    try:
        for f in args.models[0].iterdir():
            if f.is_file() and f.name not in ("model.safetensors", "metrics.json", "README.md", "confusion_matrix.png"):
                shutil.copy2(f, tmp / f.name)
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / "model.safetensors"),
                  metadata={"format": "pt"})
        soup = Predictor(str(tmp), "cpu", "auto")
        temperature = fit_temperature(record_logits(soup, splits["validation"], args.batch_size),
                                      label_ids(splits["validation"]))
        soup.temperature = temperature
        soup.model.config.calibration_temperature = temperature
        soup.model.config.to_json_file(str(tmp / "config.json"))
        sets = split_sets(splits, external_sets(cfg.evaluation.real_data)[0])
        cfg.evaluation.baselines = False
        results = {"soup_of": [str(d) for d in args.models], "temperature": temperature,
                   "sets": evaluate_sets(soup, temperature, sets, splits["train"], cfg, {})}
        atomic_write_json(tmp / "metrics.json", results)
        if args.output.exists():
            shutil.rmtree(args.output)
        tmp.rename(args.output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(format_report(results))
    print("\nmacro-F1 per set: soup vs each ingredient")
    rows = {"soup": results["sets"]}
    for d in args.models:
        p = Predictor(str(d), "cpu", "auto")
        rows[d.name] = evaluate_sets(p, p.temperature, sets, splits["train"], cfg, {})
    print("\n" + macro_f1_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
