"""Dataset builders: grouped splits, k-fold, filters, DatasetDict, summary."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from framing.data import (SplitConfig, build_dataset_dict, filter_records, grouped_kfold, grouped_split, load_corpus,
                          summary_table)
from framing.labels import LABELS

from .conftest import make_records, write_jsonl

RECORDS = make_records(40, with_seed_articles=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), holdout=st.booleans())
def test_no_article_in_two_splits(seed, holdout):
    splits = grouped_split(RECORDS, SplitConfig(seed=seed, folds=5, holdout_seed_articles=holdout))
    owners: dict[str, str] = {}
    for name, rs in splits.items():
        for r in rs:
            assert owners.setdefault(r["article_id"], name) == name
    assert sum(len(rs) for rs in splits.values()) == len(RECORDS)
    if holdout:  # seed articles and their translations only in "seed"
        assert {r["article_id"] for r in splits["seed"]} == {"seed-000", "seed-001"}


def test_split_is_deterministic_and_seed_dependent():
    a = grouped_split(RECORDS, SplitConfig(seed=1, folds=5))
    b = grouped_split(RECORDS, SplitConfig(seed=1, folds=5))
    c = grouped_split(RECORDS, SplitConfig(seed=2, folds=5))
    ids = lambda s: {k: [r["id"] for r in v] for k, v in s.items()}  # noqa: E731
    assert ids(a) == ids(b)
    assert ids(a) != ids(c)


def test_grouped_kfold_covers_each_article_once():
    seen = []
    for train, test in grouped_kfold(RECORDS, k=4, seed=3):
        assert not {r["article_id"] for r in train} & {r["article_id"] for r in test}
        seen += [r["id"] for r in test]
    assert sorted(seen) == sorted(r["id"] for r in RECORDS)


def test_filters():
    assert {r["lang"] for r in filter_records(RECORDS, languages=["de"])} == {"de"}
    assert {r["source"] for r in filter_records(RECORDS, sources=["seed", "translation"])} == {"seed", "translation"}
    assert filter_records(RECORDS) == RECORDS


def test_dataset_dict_round_trip(tmp_path):
    from datasets import DatasetDict

    dsd = build_dataset_dict(RECORDS, SplitConfig(seed=0, folds=5))
    assert set(dsd) == {"train", "validation", "test"}
    assert dsd["train"].features["label"].names == list(LABELS)
    dsd.save_to_disk(str(tmp_path / "dsd"))
    back = DatasetDict.load_from_disk(str(tmp_path / "dsd"))
    for name in dsd:
        assert back[name].to_list() == dsd[name].to_list()
    row = back["test"][0]
    original = next(r for r in RECORDS if r["id"] == row["id"])
    assert LABELS[row["label"]] == original["label"] and row["text"] == original["text"]


def test_summary_table_counts():
    splits = grouped_split(RECORDS, SplitConfig(seed=0, folds=5))
    table = summary_table(splits)
    all_row = table.splitlines()[-1].split()
    assert all_row[0] == "all" and int(all_row[1]) == len(RECORDS)


def test_summary_cli_on_bundled_corpus():
    out = subprocess.run([sys.executable, "-m", "framing.data", "--summary"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].split()[:3] == ["split", "passages", "articles"]
    assert int(out.stdout.splitlines()[-1].split()[1]) == len(load_corpus())


def test_summary_cli_reports_bad_data(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    out = subprocess.run([sys.executable, "-m", "framing.data", "--summary", "--files", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert f"{bad}:1:" in out.stderr and "Traceback" not in out.stderr


def test_load_corpus_with_files(tmp_path):
    p = write_jsonl(tmp_path / "x.jsonl", make_records(3))
    assert len(load_corpus([p], languages=["en"])) == 6
