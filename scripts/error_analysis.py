"""List a model's errors on annotated passages, grouped to aim the next round of data.

    python scripts/error_analysis.py MODEL_DIR                       # ../shared/data/real_dev.jsonl
    python scripts/error_analysis.py MODEL_DIR FILE.jsonl --list     # also every error, one line each
    python scripts/error_analysis.py MODEL_DIR --json errors.json    # the tables as JSON (atomically)

Errors are counted by (true, predicted) label, language, length (words) and
whether a speaker of either side is named in the passage itself (a multilingual
list of the crisis's officials and institutions, ``framing.speakers``), next to
how many passages of each group there are. Passages are scored with their
article context exactly as in training's evaluation (``record_logits``).
Evaluation data is read at run time and never copied into the project.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

LENGTH_BINS = ((0, 20, "<=20 words"), (21, 40, "21-40"), (41, 60, "41-60"), (61, 10 ** 9, ">60"))


def length_bin(text: str) -> str:
    n = len(text.split())
    return next(name for lo, hi, name in LENGTH_BINS if lo <= n <= hi)


def group_table(rows: list[dict], key: str) -> list[tuple[str, int, int]]:
    """(group, passages, errors) for each value of ``key``, largest groups first."""
    n, e = Counter(r[key] for r in rows), Counter(r[key] for r in rows if not r["correct"])
    return [(g, n[g], e[g]) for g, _ in n.most_common()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("data", nargs="*", type=Path, default=[Path("../shared/data/real_dev.jsonl")])
    ap.add_argument("--list", action="store_true", help="print every error (id, labels, confidence, start of text)")
    ap.add_argument("--json", type=Path, help="write the tables here")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from framing.evaluation import record_logits
    from framing.calibration import probabilities
    from framing.inference import ModelDirectoryError, Predictor
    from framing.io_utils import atomic_write_json
    from framing.records import CorpusError, load_records
    from framing.speakers import names_speaker

    missing = [str(p) for p in args.data if not p.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        records = load_records(args.data)
        predictor = Predictor(str(args.model_dir), "cpu", "auto")
    except (CorpusError, ModelDirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    probs = probabilities(record_logits(predictor, records, args.batch_size), predictor.temperature)
    rows = []
    for r, p in zip(records, probs):
        pred = predictor.labels[int(p.argmax())]
        rows.append({"id": r["id"], "lang": r["lang"], "true": r["label"], "pred": pred, "conf": float(p.max()),
                     "correct": pred == r["label"], "length": length_bin(r["text"]),
                     "speaker_named": "named" if names_speaker(r["text"]) else "not named",
                     "pair": f"{r['label']} -> {pred}", "text": r["text"]})
    errors = [r for r in rows if not r["correct"]]
    print(f"{len(errors)} errors in {len(rows)} passages ({len(errors) / max(len(rows), 1):.1%})")
    tables = {}
    for key, title in (("pair", "true -> predicted"), ("lang", "language"), ("length", "length"),
                       ("speaker_named", "speaker named in the passage")):
        if key == "pair":
            tab = [(g, k, k) for g, k in Counter(r["pair"] for r in errors).most_common()]
        else:
            tab = group_table(rows, key)
        tables[key] = [{"group": g, "passages": n, "errors": e} for g, n, e in tab]
        print(f"\n{title}:")
        for g, n, e in tab:
            rate = "" if key == "pair" else f"  error rate {e / max(n, 1):.0%} of {n}"
            print(f"  {g:<40} {e:>4} errors{rate}")
    cross = Counter((r["true"], r["speaker_named"]) for r in errors)
    print("\nerrors by true label and whether the speaker is named:")
    for (lab, named), k in sorted(cross.items()):
        print(f"  {lab:<18} {named:<10} {k}")
    confident = [r for r in errors if r["conf"] >= 0.9]
    print(f"\nconfident errors (top score >= 0.9): {len(confident)} of {len(errors)}")
    if args.list:
        print("\nevery error (id, lang, true -> predicted, confidence, speaker named, start of text):")
        for r in sorted(errors, key=lambda r: -r["conf"]):
            print(f"  {r['id']} {r['lang']} {r['pair']} {r['conf']:.2f} {r['speaker_named']}: {r['text'][:90]}")
    if args.json:
        atomic_write_json(args.json, {"n": len(rows), "errors": len(errors), "tables": tables,
                                      "confident_errors": len(confident)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
