"""The `framing predict` command line on every input and output format."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from framing.cli import main
from framing.labels import LABELS

ARTICLE = ("Business News\n\nPutin demands guarantees from NATO\n\nPutin said NATO had deceived Russia.\n\n"
           "The talks will take place in Geneva.\n\nSource link\n")


@pytest.fixture(scope="module")
def model(trained_tiny) -> str:
    return str(trained_tiny[0])


@pytest.fixture
def files(tmp_path):
    txt = tmp_path / "article.txt"
    txt.write_text(ARTICLE, encoding="utf-8")
    jl = tmp_path / "passages.jsonl"
    jl.write_text(json.dumps({"id": 1, "text": "Putin spoke.", "outlet": "x"}) + "\n\n"
                  + json.dumps({"id": 2, "text": "Die NATO antwortet."}, ensure_ascii=False) + "\n", encoding="utf-8")
    cs = tmp_path / "rows.csv"
    cs.write_text("id,body,extra\n1,\"Lavrov, angry, spoke.\",a\n2,Biden warned.,b\n", encoding="utf-8")
    return txt, jl, cs


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main(["predict", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_txt_passage_level_jsonl(capsys, model, files):
    rc, out, _ = run(capsys, str(files[0]), "--model", model)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [r["pred_passage"] for r in rows] == [0, 1, 2]
    assert rows[1]["pred_text"] == "Putin said NATO had deceived Russia."
    assert ARTICLE[rows[1]["pred_start"]:rows[1]["pred_end"]] == rows[1]["pred_text"]
    assert all(r["pred_label"] in LABELS and abs(sum(r["pred_scores"].values()) - 1) < 1e-6 for r in rows)


def test_jsonl_passes_fields_through(capsys, model, files):
    rc, out, _ = run(capsys, str(files[1]), "--model", model)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [(r["id"], r["pred_line"]) for r in rows] == [(1, 1), (2, 3)]
    assert rows[0]["outlet"] == "x" and rows[1]["text"] == "Die NATO antwortet."


def test_csv_input_and_csv_output(capsys, model, files):
    rc, out, _ = run(capsys, str(files[2]), "--model", model, "--text-column", "body", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and [r["id"] for r in rows] == ["1", "2"] and rows[0]["extra"] == "a"
    assert rows[0]["body"] == "Lavrov, angry, spoke." and rows[0]["pred_label"] in LABELS
    assert abs(sum(float(rows[0][f"pred_score_{lab}"]) for lab in LABELS) - 1) < 1e-6


def test_csv_missing_column(capsys, model, files):
    rc, _, err = run(capsys, str(files[2]), "--model", model)
    assert rc == 2 and "no column 'text'" in err


def test_article_level_table_and_jsonl(capsys, model, files):
    rc, out, _ = run(capsys, str(files[0]), "--model", model, "--level", "article", "--format", "table")
    assert rc == 0 and "3 passages" in out and "article.txt" in out
    rc, out, _ = run(capsys, str(files[0]), str(files[1]), "--model", model, "--level", "article")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["pred_n_passages"] for r in rows] == [3, 1, 1]
    assert rows[0]["pred_dominant_frame"] in LABELS and len(rows[0]["pred_passages"]) == 3


def test_output_file_is_written_and_inputs_are_protected(capsys, model, files, tmp_path):
    target = tmp_path / "out" / "result.jsonl"
    rc, out, _ = run(capsys, str(files[1]), "--model", model, "-o", str(target))
    assert rc == 0 and out == "" and len(target.read_text().splitlines()) == 2
    assert not list(target.parent.glob(".*tmp"))
    before = files[1].read_bytes()
    rc, _, err = run(capsys, str(files[1]), "--model", model, "-o", str(files[1]))
    assert rc == 2 and "refusing to overwrite" in err and files[1].read_bytes() == before


def test_failed_run_leaves_no_half_written_output(capsys, model, files, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{broken\n')
    target = tmp_path / "result.jsonl"
    target.write_text("previous result\n")
    rc, _, err = run(capsys, str(files[1]), str(bad), "--model", model, "-o", str(target))
    assert rc == 2 and f"{bad}:2: malformed JSON" in err
    assert target.read_text() == "previous result\n"


def test_invalid_utf8(capsys, model, tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Headline\n\nLa r\xe9union a eu lieu \xe0 Gen\xe8ve.".encode("latin-1"))
    rc, _, err = run(capsys, str(bad), "--model", model)
    assert rc == 2 and f"{bad}:3: invalid UTF-8" in err and "--errors replace" in err
    rc, out, _ = run(capsys, str(bad), "--model", model, "--errors", "replace")
    assert rc == 0 and "\ufffd" in json.loads(out.splitlines()[1])["pred_text"]


def test_unknown_extension_and_missing_file(capsys, model, tmp_path):
    odd = tmp_path / "a.md"
    odd.write_text("x")
    assert run(capsys, str(odd), "--model", model)[2].startswith("error: ")
    rc, _, err = run(capsys, str(tmp_path / "nope.txt"), "--model", model)
    assert rc == 2 and "no such file" in err
    rc, out, _ = run(capsys, str(odd), "--model", model, "--input-format", "txt")
    assert rc == 0 and json.loads(out)["pred_text"] == "x"


def test_stdin_and_console_script(model, files):
    res = subprocess.run([sys.executable, "-m", "framing.cli", "predict", "-", "--model", model, "--format", "table"],
                         input=ARTICLE, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(res.stdout.splitlines()) == 3
    res = subprocess.run(["framing", "predict", str(files[1]), "--model", model], capture_output=True, text=True)
    assert res.returncode == 0 and len(res.stdout.splitlines()) == 2


def test_progress_bar_for_many_inputs(capsys, model, tmp_path):
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({"text": f"Passage {i}"}) + "\n" for i in range(600)))
    rc, out, err = run(capsys, str(many), "--model", model)
    assert rc == 0 and len(out.splitlines()) == 600 and "texts" in err
    rc, _, err = run(capsys, str(many), "--model", model, "--quiet")
    assert "texts" not in err


def test_no_model_is_a_clear_error(capsys, files, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRAMING_MODEL", raising=False)
    rc, _, err = run(capsys, str(files[1]))
    assert rc == 2 and "python scripts/train.py" in err
