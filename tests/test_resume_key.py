"""Resuming covers the data, a finished run is never resumed, and the checkpoint folder goes away after a
successful run (issue 11, case 4 and "Also")."""

from __future__ import annotations

import json
import shutil

import pytest

from framing.run_state import (FINISHED_FILE, TRAINER_STATE, mark_finished, prepare_work_dir, records_fingerprint,
                               remove_work_dir)
from framing.training_args import TrainConfig

from .conftest import interrupted_run, make_records, small_config, write_jsonl

EPOCHS = ("training.max_steps=-1", "training.epochs=2", "evaluation.real_data=[]")


def test_edited_corpus_is_not_resumed(tmp_path, small_base_model, capsys):
    from framing.trainer import run_training

    corpus = write_jsonl(tmp_path / "corpus.jsonl", make_records(30))
    cfg = small_config(small_base_model, corpus, tmp_path / "model", *EPOCHS)
    interrupted_run(cfg)
    capsys.readouterr()
    edited = make_records(20)  # fewer records, and other labels
    for r in edited:
        r["label"] = "neutral_report" if r["label"] != "neutral_report" else "western_response"
    write_jsonl(corpus, edited)
    metrics = run_training(cfg)
    out = capsys.readouterr().out
    assert "resuming" not in out and "other data; starting afresh" in out
    assert metrics["training"]["corpus"]["passages"] == 120  # trained on the edited file
    # the same data again: an interrupted run does resume
    interrupted_run(cfg)
    capsys.readouterr()
    run_training(cfg)
    assert "resuming from the last checkpoint" in capsys.readouterr().out


def test_finished_run_starts_afresh(tmp_path, small_base_model, synthetic_corpus, capsys):
    from framing.trainer import run_training

    cfg = small_config(small_base_model, synthetic_corpus, tmp_path / "model", "keep_checkpoints=true",
                       "training.max_steps=3", "evaluation.real_data=[]")
    run_training(cfg)
    work = tmp_path / "model.work" / "main"
    assert json.loads((work / FINISHED_FILE).read_text())["global_step"] == 3
    capsys.readouterr()
    run_training(cfg)
    out = capsys.readouterr().out
    assert "holds a finished run; training afresh" in out and "resuming" not in out
    steps = [json.loads((c / TRAINER_STATE).read_text())["global_step"] for c in work.glob("checkpoint-*")]
    assert steps and max(steps) == 3  # never past max_steps


def test_records_fingerprint_covers_the_content():
    recs = make_records(4)
    assert records_fingerprint(recs) == records_fingerprint([dict(r) for r in recs])
    relabelled = [dict(r) for r in recs]
    relabelled[0]["label"] = "western_response" if recs[0]["label"] != "western_response" else "neutral_report"
    assert records_fingerprint(relabelled) != records_fingerprint(recs)
    assert records_fingerprint(recs[:-1]) != records_fingerprint(recs)
    assert records_fingerprint(recs[::-1]) != records_fingerprint(recs)


def test_incomplete_checkpoint_is_dropped_before_resuming(tmp_path):
    cfg, recs = TrainConfig(), make_records(2)
    work = tmp_path / "main"
    assert prepare_work_dir(work, cfg, recs) is False
    (work / "checkpoint-1").mkdir()
    (work / "checkpoint-1" / TRAINER_STATE).write_text('{"global_step": 1}')
    (work / "checkpoint-2").mkdir()
    (work / "checkpoint-2" / "model.safetensors").write_bytes(b"half")  # killed before trainer_state.json
    assert prepare_work_dir(work, cfg, recs) is True
    assert [p.name for p in work.glob("checkpoint-*")] == ["checkpoint-1"]
    assert prepare_work_dir(work, cfg, recs[:1]) is False  # other records: afresh
    assert not list(work.glob("checkpoint-*"))


def test_finished_or_half_removed_work_dir_is_not_resumed(tmp_path, monkeypatch):
    cfg, recs = TrainConfig(), make_records(2)
    work = tmp_path / "main"
    prepare_work_dir(work, cfg, recs)
    (work / "checkpoint-4").mkdir()
    (work / "checkpoint-4" / TRAINER_STATE).write_text("{}")
    mark_finished(work, 4)
    assert prepare_work_dir(work, cfg, recs) is False
    (work / "checkpoint-4").mkdir()
    (work / "checkpoint-4" / TRAINER_STATE).write_text("{}")
    monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        remove_work_dir(work)  # interrupted after the markers went, before the checkpoints did
    monkeypatch.undo()
    assert prepare_work_dir(work, cfg, recs) is False
