"""Print a fixed-seed random sample of corpus passages for a label audit against ANNOTATION.md.

    python scripts/audit_sample.py [--n 100] [--seed 2026] [--source authored] [--tsv audit.tsv]

Re-read each passage against the guideline, then fix the label (and note) in the
corpus file; the corpus card records how many labels the audit changed.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--source", action="append", help="only these sources (repeatable)")
    ap.add_argument("--tsv", help="also write id, lang, label, note, text as TSV (an audit sheet)")
    args = ap.parse_args(argv)

    from framing.data import load_corpus
    from framing.errors import FramingError
    from framing.io_utils import AtomicWriter, check_output_file

    try:
        if args.tsv:
            check_output_file(args.tsv)
        records = load_corpus(sources=args.source)
    except FramingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sample = random.Random(args.seed).sample(records, min(args.n, len(records)))
    for i, r in enumerate(sample, 1):
        note = f"  [note: {r['note']}]" if r["note"] else ""
        print(f"{i:3d}. {r['id']} ({r['lang']}, {r['source']}) -> {r['label']}{note}\n     {r['text']}\n")
    if args.tsv:
        with AtomicWriter(args.tsv, newline="") as fh:
            w = csv.writer(fh, delimiter="\t")
            w.writerow(["id", "lang", "source", "label", "note", "text", "audit_label"])
            for r in sample:
                w.writerow([r["id"], r["lang"], r["source"], r["label"], r["note"], r["text"], ""])
    return 0


if __name__ == "__main__":
    sys.exit(main())
