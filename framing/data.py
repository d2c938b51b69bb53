"""Dataset builders: annotated records -> ``datasets.DatasetDict`` with grouped splits.

Splits never cut an article: every passage of an ``article_id`` (and every
translation of it, which shares the ``article_id``) lands in exactly one split.
Folds come from scikit-learn's ``StratifiedGroupKFold`` (grouped by article,
stratified by language and label), so a split is deterministic for a seed.

The seed articles can be held out as a split of their own (``seed``), so that a
model trained on the rest is scored on passages whose articles it never saw.

``python -m framing.data --summary`` prints the corpus table.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .labels import LABELS
from .records import COLUMNS, CorpusError, load_records

if TYPE_CHECKING:
    from .training_args import DataConfig

CORPUS_DIR = Path(__file__).with_name("corpus")
SEED_SOURCES = ("seed", "translation")


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    """The JSONL files of the bundled corpus, in a stable order."""
    return sorted(Path(directory).glob("*.jsonl"))


def filter_records(records: Sequence[dict], languages: Sequence[str] | None = None,
                   sources: Sequence[str] | None = None) -> list[dict]:
    """Keep records whose ``lang`` and ``source`` are in the given lists (``None`` keeps all)."""
    return [r for r in records
            if (not languages or r["lang"] in languages) and (not sources or r["source"] in sources)]


def load_corpus(paths: Sequence[str | Path] | None = None, languages: Sequence[str] | None = None,
                sources: Sequence[str] | None = None) -> list[dict]:
    """Load and validate the bundled corpus (or ``paths``), then filter it."""
    return filter_records(load_records(paths or corpus_files()), languages, sources)


def load_configured_corpus(data: DataConfig) -> list[dict]:
    """The records a run's ``data:`` section selects (its files, or the bundled corpus; filtered)."""
    return load_corpus(data.files or None, data.languages or None, data.sources or None)


def is_seed_article(record: dict) -> bool:
    """True for a seed passage or a translation of one (they share the seed's ``article_id``)."""
    return record["source"] in SEED_SOURCES and record["article_id"].startswith("seed-")


@dataclass(frozen=True)
class SplitConfig:
    """How to cut the corpus: ``folds`` grouped folds, of which one is test and one validation."""

    seed: int = 42
    folds: int = 10
    test_folds: int = 1
    validation_folds: int = 1
    holdout_seed_articles: bool = False
    validation_source: str = ""  # draw validation only from this source's articles ("" = from all)


def _stratify_key(r: dict) -> str:
    return f"{r['lang']}:{r['label']}"


def grouped_kfold(records: Sequence[dict], k: int = 5, seed: int = 42) -> Iterator[tuple[list[dict], list[dict]]]:
    """``k`` (train, test) pairs; each article's passages fall in one test fold only."""
    from sklearn.model_selection import StratifiedGroupKFold

    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    n_groups = len({r["article_id"] for r in records})
    if n_groups < k:
        raise ValueError(f"cannot make {k} grouped folds from {n_groups} articles")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    y = [_stratify_key(r) for r in records]
    groups = [r["article_id"] for r in records]
    for train_idx, test_idx in cv.split(records, y, groups):
        yield [records[i] for i in train_idx], [records[i] for i in test_idx]


def grouped_split(records: Sequence[dict], cfg: SplitConfig = SplitConfig()) -> dict[str, list[dict]]:
    """Split into ``train`` / ``validation`` / ``test`` (and ``seed`` if held out), grouped by article."""
    records = list(records)
    out: dict[str, list[dict]] = {}
    if cfg.holdout_seed_articles:
        out["seed"] = [r for r in records if is_seed_article(r)]
        records = [r for r in records if not is_seed_article(r)]
    if cfg.test_folds + cfg.validation_folds >= cfg.folds:
        raise ValueError(f"{cfg.test_folds} test + {cfg.validation_folds} validation folds leave no "
                         f"training fold out of {cfg.folds}")
    t, v = cfg.test_folds, cfg.validation_folds
    if cfg.validation_source:
        # validation: ``v`` of ``folds`` grouped folds of that source's articles; test: ``t`` folds of the rest
        pool = [r for r in records if r["source"] == cfg.validation_source]
        if not pool:
            raise ValueError(f"no records of source {cfg.validation_source!r} to draw the validation split from")
        vfolds = [test for _, test in grouped_kfold(pool, cfg.folds, cfg.seed)]
        out["validation"] = [r for f in vfolds[:v] for r in f]
        held = {r["id"] for r in out["validation"]}
        rest = [r for r in records if r["id"] not in held]
        folds = [test for _, test in grouped_kfold(rest, cfg.folds, cfg.seed)]
        out["test"] = [r for f in folds[:t] for r in f]
        out["train"] = [r for f in folds[t:] for r in f]
    else:
        folds = [test for _, test in grouped_kfold(records, cfg.folds, cfg.seed)]
        out["test"] = [r for f in folds[:t] for r in f]
        out["validation"] = [r for f in folds[t:t + v] for r in f]
        out["train"] = [r for f in folds[t + v:] for r in f]
    order = {r["id"]: i for i, r in enumerate(records)}
    for name in ("train", "validation", "test"):
        out[name].sort(key=lambda r: order[r["id"]])
    return {name: out[name] for name in ("train", "validation", "test", "seed") if name in out}


def features():
    """The ``datasets.Features`` of a framing dataset (``label`` is a ``ClassLabel``)."""
    from datasets import ClassLabel, Features, Value

    cols = {c: Value("int32") if c == "para" else Value("string") for c in COLUMNS}
    cols["label"] = ClassLabel(names=list(LABELS))
    return Features(cols)


def to_dataset(records: Sequence[dict]):
    """A ``datasets.Dataset`` of ``records`` with the framing features."""
    from datasets import Dataset

    feats = features()
    columns = {c: [r.get(c) or ("" if c != "para" else 0) for r in records] for c in COLUMNS}
    columns["label"] = [LABELS.index(r["label"]) for r in records]
    return Dataset.from_dict(columns, features=feats)


def build_dataset_dict(records: Sequence[dict], cfg: SplitConfig = SplitConfig()):
    """The grouped splits of ``records`` as a ``datasets.DatasetDict``."""
    from datasets import DatasetDict

    return DatasetDict({name: to_dataset(rs) for name, rs in grouped_split(records, cfg).items()})


def summary_table(splits: dict[str, Sequence[dict]]) -> str:
    """Counts by split, label, language and source, as a plain-text table."""
    langs = sorted({r["lang"] for rs in splits.values() for r in rs})
    sources = sorted({r["source"] for rs in splits.values() for r in rs})
    head = ["split", "passages", "articles", *LABELS, *langs, *sources]
    rows = []
    for name, rs in [*splits.items(), ("all", [r for rs in splits.values() for r in rs])]:
        lab, lng, src = (Counter(r[k] for r in rs) for k in ("label", "lang", "source"))
        rows.append([name, str(len(rs)), str(len({r["article_id"] for r in rs})),
                     *(str(lab[x]) for x in LABELS), *(str(lng[x]) for x in langs), *(str(src[x]) for x in sources)])
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(x.rjust(w) if i else x.ljust(w) for i, (x, w) in enumerate(zip(row, widths)))
                     for row in [head, *rows])


def main(argv: list[str] | None = None) -> int:
    """Validate the corpus and print its summary (counts by split, label, language, source)."""
    ap = argparse.ArgumentParser(prog="python -m framing.data", description=main.__doc__)
    ap.add_argument("--summary", action="store_true", help="print the table (the default action)")
    ap.add_argument("--files", nargs="+", type=Path, help="annotated JSONL files (default: bundled corpus)")
    ap.add_argument("--lang", action="append", help="keep only this language (repeatable)")
    ap.add_argument("--source", action="append", help="keep only this source (repeatable)")
    ap.add_argument("--seed", type=int, default=SplitConfig.seed, help="split seed")
    ap.add_argument("--holdout-seeds", action="store_true", help="seed articles as a split of their own")
    ap.add_argument("--no-split", action="store_true", help="one row for the whole corpus")
    args = ap.parse_args(argv)
    try:
        records = load_corpus(args.files, args.lang, args.source)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not records:
        print("error: no records match the filters", file=sys.stderr)
        return 1
    if args.no_split:
        splits = {"corpus": records}
    else:
        try:
            splits = grouped_split(records, SplitConfig(seed=args.seed, holdout_seed_articles=args.holdout_seeds))
        except ValueError as exc:
            print(f"error: cannot split: {exc}", file=sys.stderr)
            return 1
    print(summary_table(splits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
