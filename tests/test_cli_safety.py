"""`framing predict`: output targets, namespaced fields, complete CSV, one JSONL reader, streaming, escaping
(issue 11, cases 2, 3, 6, 8 and "Also")."""

from __future__ import annotations

import csv
import io
import json
import os
import select
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from framing.cli import CHUNK, main
from framing.labels import LABELS

from .conftest import ROOT


@pytest.fixture(scope="module")
def model(small_trained) -> str:
    return str(small_trained)


@pytest.fixture
def corpus_jsonl(tmp_path) -> Path:
    """Corpus-format records: gold label, their own source and a field named like the old output's."""
    p = tmp_path / "gold.jsonl"
    rows = [{"id": "a-p00", "text": "Putin said NATO deceived Russia.", "label": "russian_position",
             "source": "authored", "line": 99, "scores": "gold"},
            {"id": "a-p01", "text": "Blinken warned of costs.", "label": "western_response", "source": "seed",
             "outlet": "only in row 2", "tags": ["x", "y"]}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main(["predict", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_predictions_never_overwrite_input_fields(capsys, model, corpus_jsonl):
    rc, out, _ = run(capsys, str(corpus_jsonl), "--model", model, "-q")
    rows = [json.loads(line) for line in out.splitlines()]
    originals = [json.loads(line) for line in corpus_jsonl.read_text().splitlines()]
    assert rc == 0 and len(rows) == 2
    for row, original in zip(rows, originals):
        assert {k: row[k] for k in original} == original  # every input field, unchanged
        assert row["pred_label"] in LABELS and set(row["pred_scores"]) == set(LABELS)
        assert row["pred_source"] == str(corpus_jsonl)
    assert [r["pred_line"] for r in rows] == [1, 2]


def test_input_field_named_like_an_output_field_is_refused(capsys, model, tmp_path):
    p = tmp_path / "scored.jsonl"
    p.write_text(json.dumps({"text": "Putin spoke.", "pred_label": "western_response"}) + "\n")
    rc, out, err = run(capsys, str(p), "--model", model, "-q")
    assert rc == 2 and out == "" and f"{p}:1: input field 'pred_label'" in err and "--prefix" in err
    rc, out, _ = run(capsys, str(p), "--model", model, "-q", "--prefix", "again_")
    row = json.loads(out)
    assert rc == 0 and row["pred_label"] == "western_response" and row["again_label"] in LABELS


def test_csv_output_keeps_every_field_of_every_row(capsys, model, corpus_jsonl):
    rc, out, _ = run(capsys, str(corpus_jsonl), "--model", model, "-q", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and len(rows) == 2
    assert rows[1]["outlet"] == "only in row 2" and rows[0]["outlet"] == ""
    assert json.loads(rows[1]["tags"]) == ["x", "y"] and rows[0]["scores"] == "gold"
    assert rows[0]["label"] == "russian_position" and rows[0]["line"] == "99"
    header = next(csv.reader(io.StringIO(out)))
    assert header[:7] == ["id", "text", "label", "source", "line", "scores", "outlet"]  # input fields first
    assert {f"pred_score_{lab}" for lab in LABELS} <= set(header)


def test_csv_input_keeps_its_columns_and_rejects_ragged_rows(capsys, model, tmp_path):
    good = tmp_path / "rows.csv"
    good.write_text('id,text,label\n1,"multi\nline text",neutral_report\n2,Biden warned.\n', encoding="utf-8")
    rc, out, _ = run(capsys, str(good), "--model", model, "-q")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and rows[0]["text"] == "multi\nline text" and rows[0]["label"] == "neutral_report"
    assert [r["pred_line"] for r in rows] == [2, 4] and rows[1]["label"] == ""
    bad = tmp_path / "ragged.csv"
    bad.write_text("id,text\n1,a\n2,b,extra\n")
    rc, _, err = run(capsys, str(bad), "--model", model, "-q")
    assert rc == 2 and f"{bad}:3: 3 fields, but the header has 2 columns" in err


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\u0085"])
def test_jsonl_with_unicode_line_breaks_inside_strings(capsys, model, tmp_path, sep):
    """Valid JSON may hold these raw; the CLI and the corpus reader accept them alike (one reader)."""
    from framing.records import read_jsonl

    rec = {"id": "a-p00", "article_id": "a", "para": 0, "lang": "en", "text": f"Putin{sep}spoke.",
           "label": "russian_position", "source": "authored"}
    p = tmp_path / "sep.jsonl"
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n" + json.dumps({**rec, "id": "a-p01"},
                                                                          ensure_ascii=False) + "\n")
    assert sep in p.read_text(encoding="utf-8")
    assert [r["text"] for r, _ in read_jsonl(p)] == [f"Putin{sep}spoke."] * 2
    rc, out, err = run(capsys, str(p), "--model", model, "-q")
    assert rc == 0, err
    assert [json.loads(line)["text"] for line in out.split("\n")[:-1]] == [f"Putin{sep}spoke."] * 2
    assert len(out.splitlines()) == 2  # the output escapes them: safe for any line splitter


def test_output_dash_is_standard_output(capsys, model, corpus_jsonl, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run(capsys, str(corpus_jsonl), "--model", model, "-q", "-o", "-")
    assert rc == 0 and len(out.splitlines()) == 2 and not (tmp_path / "-").exists()


def test_output_to_a_fifo_is_written_directly(capsys, model, corpus_jsonl, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", model, "-q", "-o", str(fifo))
    reader.join(timeout=60)
    assert rc == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, not a regular file
    assert len(got) == 1 and len(got[0].decode().splitlines()) == 2


def test_output_to_a_device_stays_a_device(capsys, model, corpus_jsonl, tmp_path):
    """-o /dev/null (reached through a link, so a regression cannot replace the real one)."""
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", model, "-q", "-o", str(link))
    assert rc == 0, err
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_through_a_symlink_replaces_its_target(capsys, model, corpus_jsonl, tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    rc, _, _ = run(capsys, str(corpus_jsonl), "--model", model, "-q", "-o", str(link))
    assert rc == 0 and link.is_symlink() and len(target.read_text().splitlines()) == 2


def test_directory_or_unwritable_output_is_refused_before_scoring(capsys, corpus_jsonl, tmp_path):
    """The model given does not exist: an error about the output proves nothing was loaded or scored."""
    missing_model = str(tmp_path / "no-model")
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", missing_model, "-o", str(tmp_path))
    assert rc == 2 and "is a directory" in err
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", missing_model, "-o", str(tmp_path / "new") + "/")
    assert rc == 2 and "names a directory" in err and not (tmp_path / "new").exists()
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", missing_model, "-o", str(blocker / "out.jsonl"))
    assert rc == 2 and "is not a directory" in err and blocker.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_output_folder_is_refused_before_scoring(capsys, corpus_jsonl, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        rc, _, err = run(capsys, str(corpus_jsonl), "--model", str(tmp_path / "no-model"), "-o",
                         str(locked / "out.jsonl"))
    finally:
        locked.chmod(0o700)
    assert rc == 2 and "no permission" in err


def test_existing_output_keeps_its_permission_bits(capsys, model, corpus_jsonl, tmp_path):
    target = tmp_path / "result.jsonl"
    target.write_text("old\n")
    target.chmod(0o600)
    rc, _, _ = run(capsys, str(corpus_jsonl), "--model", model, "-q", "-o", str(target))
    assert rc == 0 and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert len(target.read_text().splitlines()) == 2


def test_model_errors_are_one_line_and_exit_2(capsys, corpus_jsonl, small_trained, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in small_trained.iterdir():
        os.link(f, broken / f.name)
    (broken / "model.safetensors").unlink()
    (broken / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    rc, out, err = run(capsys, str(corpus_jsonl), "--model", str(broken))
    assert rc == 2 and out == "" and err.startswith("error: ") and "model.safetensors" in err
    assert len(err.strip().splitlines()) == 1
    (broken / "tokenizer.json").unlink()
    (broken / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "Nope"}}')
    os.link(small_trained / "model.safetensors", broken / "model.safetensors.ok")
    os.replace(broken / "model.safetensors.ok", broken / "model.safetensors")
    rc, out, err = run(capsys, str(corpus_jsonl), "--model", str(broken))
    assert rc == 2 and out == "" and err.startswith(f"error: {broken}: cannot load the model:")
    assert len(err.strip().splitlines()) == 1
    rc, _, err = run(capsys, str(corpus_jsonl), "--model", str(small_trained), "--device", "gpu")
    assert rc == 2 and "unknown device 'gpu'" in err


def test_table_escapes_control_characters(capsys, model, tmp_path):
    p = tmp_path / "evil.jsonl"
    p.write_text(json.dumps({"text": "red \x1b[31malert\x1b[0m bell\x07 \u202eevil"}) + "\n")
    rc, out, _ = run(capsys, str(p), "--model", model, "-q", "--format", "table")
    assert rc == 0 and "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[31malert" in out and "\\x07" in out and "\\u202e" in out


def test_jsonl_from_stdin_is_streamed(model, tmp_path):
    """The first results come out while standard input is still open (not read to the end)."""
    proc = subprocess.Popen([sys.executable, "-m", "framing.cli", "predict", "-", "--input-format", "jsonl",
                             "--model", model, "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    try:
        proc.stdin.write("".join(json.dumps({"text": f"Passage {i}"}) + "\n" for i in range(CHUNK + 1)).encode())
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "no output before the end of the input"
        first = json.loads(proc.stdout.readline())
        assert first["text"] == "Passage 0" and proc.poll() is None  # still waiting for more input
        proc.stdin.close()
        rest = proc.stdout.read().decode().splitlines()
        assert proc.wait(timeout=60) == 0 and len(rest) == CHUNK
    finally:
        proc.kill()
        proc.wait()
