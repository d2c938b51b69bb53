"""Stand-off annotations of corpus v2: two blind annotations per passage, a third where they disagree.

``framing/corpus/annotations/v2-XX.tsv`` holds, for every v2 passage of
language XX, tab-separated: ``id``, the first annotation (``a1_label``,
``a1_speaker``: the writer's), the blind second one (``a2_label``,
``a2_speaker``: an annotator who saw only the guideline and the article text),
the adjudication (``a3_label``, ``a3_speaker``: a third annotator, filled only
where the first two disagree on that field) and the ``final_*`` values that the
corpus JSONL carries. :func:`agreement` reports percent agreement and Cohen's
kappa (scikit-learn) per language; ``python -m framing.annotations`` prints it.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

from .labels import LABELS, SPEAKERS
from .records import CorpusError

ANNOTATION_DIR = Path(__file__).with_name("corpus") / "annotations"
FIELDS = ("id", "a1_label", "a1_speaker", "a2_label", "a2_speaker", "a3_label", "a3_speaker",
          "final_label", "final_speaker")


def read_annotations(path: str | Path) -> list[dict]:
    """Rows of one stand-off file, validated (the error names the file and line)."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise CorpusError(path, 1, f"header must be {' '.join(FIELDS)}, got {reader.fieldnames}")
        for lineno, row in enumerate(reader, start=2):
            for key in FIELDS[1:]:
                allowed = LABELS if key.endswith("label") else SPEAKERS
                value = row.get(key) or ""
                if value and value not in allowed:
                    raise CorpusError(path, lineno, f"{key}: {value!r} is not one of {', '.join(allowed)}")
                if not value and (key.startswith(("a1", "a2", "final"))):
                    raise CorpusError(path, lineno, f"{key} is empty")
            for kind in ("label", "speaker"):
                a1, a2, a3, fin = (row[f"{x}_{kind}"] for x in ("a1", "a2", "a3", "final"))
                expected = a1 if a1 == a2 else a3
                if a1 != a2 and not a3:
                    raise CorpusError(path, lineno, f"{row['id']}: annotators disagree on {kind} and no a3_{kind}")
                if fin != expected:
                    raise CorpusError(path, lineno, f"{row['id']}: final_{kind} {fin!r} should be {expected!r}")
            rows.append(row)
    return rows


def load_all(directory: Path = ANNOTATION_DIR) -> dict[str, list[dict]]:
    """Every stand-off file in ``directory`` by language code (``v2-de.tsv`` -> ``de``)."""
    return {p.stem.split("-", 1)[1]: read_annotations(p) for p in sorted(Path(directory).glob("v2-*.tsv"))}


def agreement(rows: Sequence[dict], kind: str = "label") -> dict:
    """Passages, percent agreement, Cohen's kappa and adjudicated count of a1 vs a2 on ``kind``."""
    from sklearn.metrics import cohen_kappa_score

    a1 = [r[f"a1_{kind}"] for r in rows]
    a2 = [r[f"a2_{kind}"] for r in rows]
    same = sum(x == y for x, y in zip(a1, a2))
    kappa = float(cohen_kappa_score(a1, a2)) if rows and len(set(a1) | set(a2)) > 1 else float("nan")
    changed = sum(r[f"final_{kind}"] != r[f"a1_{kind}"] for r in rows)
    return {"n": len(rows), "agreement": same / max(len(rows), 1), "kappa": kappa,
            "adjudicated": len(rows) - same, "final_differs_from_a1": changed}


def agreement_table(by_lang: dict[str, list[dict]]) -> str:
    """A Markdown table of label and speaker agreement per language, and over all."""
    head = ("| lang | passages | label agreement | label kappa | adjudicated | final ≠ writer's | "
            "speaker agreement | speaker kappa |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    everything = [r for rows in by_lang.values() for r in rows]
    for lang, rows in [*sorted(by_lang.items()), ("**all**", everything)]:
        lab, spk = agreement(rows, "label"), agreement(rows, "speaker")
        lines.append(f"| {lang} | {lab['n']} | {lab['agreement']:.1%} | {lab['kappa']:.3f} | {lab['adjudicated']} | "
                     f"{lab['final_differs_from_a1']} | {spk['agreement']:.1%} | {spk['kappa']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the inter-annotator agreement of corpus v2 per language."""
    ap = argparse.ArgumentParser(prog="python -m framing.annotations", description=main.__doc__)
    ap.add_argument("--dir", type=Path, default=ANNOTATION_DIR, help="folder of v2-XX.tsv files")
    args = ap.parse_args(argv)
    try:
        by_lang = load_all(args.dir)
    except CorpusError as exc:
        print(f"error: {exc}")
        return 1
    if not by_lang:
        print(f"error: no v2-XX.tsv files in {args.dir}")
        return 1
    print(agreement_table(by_lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
