"""Stand-off annotation files: validation and agreement figures."""

from __future__ import annotations

import pytest

from framing.annotations import FIELDS, agreement, read_annotations
from framing.records import CorpusError


def _write(path, rows):
    path.write_text("\t".join(FIELDS) + "\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_agreement_and_kappa(tmp_path):
    rows = [["a", "russian_position", "russian", "russian_position", "russian", "", "", "russian_position", "russian"],
            ["b", "western_response", "western", "neutral_report", "western", "neutral_report", "",
             "neutral_report", "western"],
            ["c", "neutral_report", "none", "neutral_report", "none", "", "", "neutral_report", "none"],
            ["d", "western_response", "western", "western_response", "both", "", "both", "western_response", "both"]]
    got = read_annotations(_write(tmp_path / "v2-en.tsv", rows))
    lab = agreement(got, "label")
    assert lab["n"] == 4 and lab["agreement"] == 0.75 and lab["adjudicated"] == 1 and lab["final_differs_from_a1"] == 1
    assert 0 < lab["kappa"] < 1
    assert agreement(got, "speaker")["agreement"] == 0.75


@pytest.mark.parametrize("row, message", [
    (["a", "western_response", "western", "neutral_report", "western", "", "", "neutral_report", "western"],
     "disagree on label and no a3_label"),
    (["a", "western_response", "western", "western_response", "western", "", "", "neutral_report", "western"],
     "final_label 'neutral_report' should be 'western_response'"),
    (["a", "western", "western", "western_response", "western", "", "", "western_response", "western"],
     "a1_label: 'western' is not one of"),
])
def test_bad_rows_name_file_line_and_problem(tmp_path, row, message):
    path = _write(tmp_path / "v2-en.tsv", [row])
    with pytest.raises(CorpusError, match=message) as err:
        read_annotations(path)
    assert str(err.value).startswith(f"{path}:2:")
