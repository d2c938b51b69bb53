"""scripts/train.py never destroys what is not a framing model, and rejects bad arguments before the model
loads: each case prints one `error: ...` line and exits 2 (issue 11, cases 1 and 8)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from framing.errors import ConfigError, FramingError, OutputPathError

from .conftest import ROOT, make_records, small_config, write_jsonl


@pytest.fixture(scope="module")
def train_script():
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_model_load(monkeypatch):
    """Fail the test if the base model is resolved or built (validation must come first)."""
    def boom(*a, **k):
        raise AssertionError("the base model was loaded before the arguments were checked")

    monkeypatch.setattr("framing.trainer.resolve", boom)
    monkeypatch.setattr("framing.trainer.build_model", boom)


def _args(base: Path, corpus: Path, out, *extra: str) -> list[str]:
    return ["--config", str(ROOT / "configs" / "tiny.yaml"), f"base_model={base}", f"data.files=[{corpus}]",
            "split.folds=5", "evaluation.real_data=[]", "seed_evaluation=none", f"output_dir={out}", *extra]


def _run(train_script, capsys, args) -> tuple[int, str]:
    rc = train_script.main(args)
    err = capsys.readouterr().err
    return rc, err


def test_folder_that_is_not_a_model_is_left_alone(train_script, capsys, tmp_path, synthetic_corpus, no_model_load):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.pdf").write_bytes(b"%PDF-1.7 years of work")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, folder))
    assert rc == 2 and err.startswith("error: ") and "is not a framing model directory" in err
    assert "thesis.pdf" in err and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "thesis.pdf"]
    assert (folder / "thesis.pdf").read_bytes() == b"%PDF-1.7 years of work"


def test_output_dir_that_is_a_file_is_left_alone(train_script, capsys, tmp_path, synthetic_corpus, no_model_load):
    target = tmp_path / "model"
    target.write_text("not a model\n")
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, target))
    assert rc == 2 and "is a file, not a model directory" in err
    assert target.read_text() == "not a model\n"


@pytest.mark.parametrize("out", [".", "..", "", "CWD"])
def test_current_or_parent_directory_is_refused(train_script, capsys, tmp_path, monkeypatch, synthetic_corpus,
                                                no_model_load, out):
    work = tmp_path / "here"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, str(work) if out == "CWD" else out))
    assert rc == 2 and err.startswith("error: ") and "output_dir" in err and "Traceback" not in err
    assert (work / "keep.txt").read_text() == "mine"


def test_model_dir_with_foreign_files_is_refused(train_script, capsys, tmp_path, small_trained, synthetic_corpus,
                                                 no_model_load):
    target = tmp_path / "model"
    shutil.copytree(small_trained, target)
    (target / "notes.txt").write_text("my notes")
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, target))
    assert rc == 2 and "also holds notes.txt" in err
    assert (target / "notes.txt").read_text() == "my notes"


def test_foreign_checkpoint_folder_is_refused(train_script, capsys, tmp_path, synthetic_corpus, no_model_load):
    work = tmp_path / "model.work" / "main"
    work.mkdir(parents=True)
    (work / "results.xlsx").write_bytes(b"data")
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, tmp_path / "model"))
    assert rc == 2 and "not framing checkpoints" in err and (work / "results.xlsx").exists()


@pytest.mark.parametrize("override, message", [
    ("training.learning_rate=-1e-5", "training.learning_rate must be a finite number > 0"),
    ("training.head_learning_rate=.nan", "training.head_learning_rate must be a finite number > 0"),
    ("split.folds=1", "split.folds must be at least 2"),
    ("split.validation_folds=0", "split.validation_folds must be at least 1"),
    ("training.max_steps=0", "training.max_steps must be -1"),
    ("data.languages=[xx]", "no passages to train on"),
])
def test_bad_settings_stop_before_the_model_loads(train_script, capsys, tmp_path, synthetic_corpus, no_model_load,
                                                  override, message):
    rc, err = _run(train_script, capsys, _args(tmp_path, synthetic_corpus, tmp_path / "m", override))
    assert rc == 2 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_empty_and_too_small_corpus(train_script, capsys, tmp_path, no_model_load):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    rc, err = _run(train_script, capsys, _args(tmp_path, empty, tmp_path / "m"))
    assert rc == 2 and "no passages to train on" in err and str(empty) in err
    small = write_jsonl(tmp_path / "small.jsonl", make_records(n_articles=3))
    rc, err = _run(train_script, capsys, _args(tmp_path, small, tmp_path / "m"))
    assert rc == 2 and "split.folds=5: cannot split" in err and "3 articles" in err


def test_api_raises_the_package_errors(tmp_path, synthetic_corpus, small_base_model, no_model_load):
    from framing.trainer import run_training

    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    with pytest.raises(OutputPathError):
        run_training(small_config(small_base_model, synthetic_corpus, folder))
    with pytest.raises(ConfigError):
        run_training(small_config(small_base_model, write_jsonl(tmp_path / "s.jsonl", make_records(2)),
                                  tmp_path / "m"))
    assert issubclass(OutputPathError, FramingError) and issubclass(ConfigError, ValueError)


def test_previous_model_is_replaced_and_checkpoints_removed(tmp_path, small_trained, small_base_model,
                                                            synthetic_corpus):
    from framing.trainer import run_training

    target = tmp_path / "model"
    shutil.copytree(small_trained, target)
    run_training(small_config(small_base_model, synthetic_corpus, target, "training.seed=7",
                              "evaluation.real_data=[]"))
    assert yaml.safe_load((target / "training_config.yaml").read_text())["training"]["seed"] == 7
    assert not (tmp_path / "model.work").exists()  # checkpoints removed after success
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary or .old folders
    run_training(small_config(small_base_model, synthetic_corpus, target, "keep_checkpoints=true",
                              "evaluation.real_data=[]"))
    assert list((tmp_path / "model.work" / "main").glob("checkpoint-*"))


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_signal_during_the_swap_is_held_until_it_is_done(tmp_path, monkeypatch, signame):
    """A signal that arrives between moving the old model away and moving the new one in is delivered only
    after the swap: the output directory is never missing."""
    import os
    import signal

    from framing.output_paths import replace_dir

    class Stop(BaseException):
        pass

    def stop(signum, frame):
        raise Stop()

    sig = getattr(signal, signame)
    previous = signal.signal(sig, stop)
    out, new = tmp_path / "model", tmp_path / ".model.new"
    out.mkdir()
    (out / "config.json").write_text("old")
    new.mkdir()
    (new / "config.json").write_text("new")
    real_replace, calls = os.replace, []

    def replace_then_signal(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:  # the old model has just been moved away
            os.kill(os.getpid(), sig)

    monkeypatch.setattr(os, "replace", replace_then_signal)
    try:
        with pytest.raises(Stop):
            replace_dir(new, out)
    finally:
        signal.signal(sig, previous)
    assert len(calls) == 2 and (out / "config.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_backend_exports_beside_a_model_do_not_block_replacing_it(tmp_path, small_trained):
    """onnx/ and its lock file are caches derived from the weights: retraining into the folder may
    replace them; anything else foreign is still refused."""
    from framing.errors import OutputPathError
    from framing.output_paths import check_model_output_dir

    target = tmp_path / "model"
    shutil.copytree(small_trained, target)
    (target / "onnx").mkdir()
    (target / "onnx" / "model.onnx").write_bytes(b"x")
    (target / ".onnx.lock").write_text("")
    assert check_model_output_dir(target) == target
    (target / "notes").mkdir()
    with pytest.raises(OutputPathError, match="notes/"):
        check_model_output_dir(target)
