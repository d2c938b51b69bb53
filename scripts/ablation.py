"""Train variants of the recipe over several seeds and tabulate them side by side.

    python scripts/ablation.py --variant default= --variant context=context=previous \\
        --variant v1-only="data.sources=[seed,translation,authored]" --seeds 42 43 44

Each variant is ``NAME=OVERRIDES`` (space-separated ``key=value`` overrides of
``configs/default.yaml``, as ``scripts/train.py`` takes them). Every (variant,
seed) run goes through ``scripts/train.py`` in its own process into
``OUT/NAME-sSEED/`` with ``seed_evaluation=held_out`` (the seed articles stay
out of training and are scored as their own set, at no extra cost) unless the
overrides say otherwise. A finished run (its ``metrics.json`` exists) is not
trained again, so the command can be resumed. The table gives, per variant,
the mean, standard deviation and minimum over seeds of real-news macro-F1 and
``western_response`` recall, the TF-IDF baseline, real-news ECE, seed
hold-out and validation macro-F1, and training time; it is printed and written
to ``OUT/ablation.md`` and ``OUT/ablation.json`` (atomically).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = "real:real_dev"


def _get(metrics: dict, set_name: str, *path: str) -> float | None:
    node = metrics.get("sets", {}).get(set_name)
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, (int, float)) else None


def run_summary(metrics: dict) -> dict:
    """The figures of one run that the ablation table shows."""
    tr = metrics.get("training", {})
    return {
        "real_macro_f1": _get(metrics, REAL, "model", "macro_f1"),
        "real_western_recall": _get(metrics, REAL, "model", "per_class", "western_response", "recall"),
        "real_tfidf": _get(metrics, REAL, "baselines", "tfidf_logreg", "macro_f1"),
        "real_ece": _get(metrics, REAL, "model", "ece"),
        "seed": _get(metrics, "seed", "model", "macro_f1"),
        "validation": _get(metrics, "validation", "model", "macro_f1"),
        "test": _get(metrics, "test", "model", "macro_f1"),
        "train_minutes": (tr.get("train_seconds") or 0) / 60,
        "wall_minutes": (tr.get("wall_seconds") or 0) / 60,
    }


def _stats(values: list[float | None]) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "-"
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f} (min {min(vals):.3f})"


def table(results: dict[str, dict[str, dict]]) -> str:
    """Markdown: one row per variant, mean ± sd (min) over its seeds."""
    cols = [("real_macro_f1", "real-dev macro-F1"), ("real_western_recall", "western recall (real)"),
            ("real_tfidf", "TF-IDF (real)"), ("real_ece", "ECE (real)"), ("seed", "seed hold-out"),
            ("validation", "validation"), ("test", "test"), ("wall_minutes", "wall min")]
    lines = ["| variant | seeds | " + " | ".join(c for _, c in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    for name, runs in results.items():
        seeds = ", ".join(sorted(runs))
        cells = []
        for key, _ in cols:
            vals = [r[key] for r in runs.values()]
            if key == "wall_minutes":
                cells.append(f"{statistics.mean(vals):.1f}" if vals else "-")
            else:
                cells.append(_stats(vals))
        lines.append(f"| {name} | {seeds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", required=True, metavar="NAME=OVERRIDES")
    ap.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    ap.add_argument("--out", type=Path, default=Path("outputs/ablation"))
    ap.add_argument("--summarize-only", action="store_true", help="tabulate finished runs, train nothing")
    ap.add_argument("--card", type=Path, metavar="MODEL_DIR",
                    help="also add the table to MODEL_DIR's metrics.json and re-render its model card")
    args = ap.parse_args(argv)
    from framing.io_utils import atomic_write_json, atomic_write_text

    variants = []
    for spec in args.variant:
        name, sep, overrides = spec.partition("=")
        if not sep or not name:
            print(f"error: --variant {spec!r} must be NAME=OVERRIDES", file=sys.stderr)
            return 2
        variants.append((name, shlex.split(overrides)))
    results: dict[str, dict[str, dict]] = {}
    for name, overrides in variants:
        results[name] = {}
        for seed in args.seeds:
            out = args.out / f"{name}-s{seed}"
            metrics_file = out / "metrics.json"
            if not metrics_file.is_file() and not args.summarize_only:
                extra = [] if any(o.startswith("seed_evaluation=") for o in overrides) else ["seed_evaluation=held_out"]
                cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), *extra, *overrides,
                       f"training.seed={seed}", f"output_dir={out}"]
                print(f"\n### {name}, seed {seed}: {' '.join(cmd[1:])}", flush=True)
                if subprocess.run(cmd, cwd=ROOT).returncode != 0:
                    print(f"error: run {name} seed {seed} failed", file=sys.stderr)
                    return 1
            if metrics_file.is_file():
                results[name][str(seed)] = run_summary(json.loads(metrics_file.read_text(encoding="utf-8")))
    md = table(results)
    print("\n" + md)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "ablation.md", md + "\n")
    atomic_write_json(args.out / "ablation.json", {"variants": {n: o for n, o in variants}, "results": results})
    if args.card:
        add_to_card(args.card, md, " ".join(["python scripts/ablation.py", *map(shlex.quote, argv or sys.argv[1:])]))
    return 0


def add_to_card(model_dir: Path, markdown: str, command: str) -> None:
    """Store the table in ``model_dir/metrics.json`` and re-render ``model_dir/README.md`` with it."""
    from framing.io_utils import atomic_write_json
    from framing.model_card import write_model_card
    from framing.training_args import load_config

    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    metrics["ablation"] = {"markdown": markdown, "command": command}
    atomic_write_json(model_dir / "metrics.json", metrics)
    write_model_card(model_dir / "README.md", metrics, load_config(model_dir / "training_config.yaml"))
    print(f"model card of {model_dir} re-rendered with the table")


if __name__ == "__main__":
    raise SystemExit(main())
