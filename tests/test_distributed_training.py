"""Data-parallel training: ``accelerate launch`` with 2 CPU processes (gloo) on the tiny model.

The launches use the shipped ``configs/accelerate/cpu-2proc.yaml`` (accelerate's
multi-process path, CUDA hidden, so the processes train on the CPU with gloo).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from framing.errors import ConfigError

from .conftest import interrupted_run, script_env, tiny_config

pytest.importorskip("accelerate")

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch",
          "--config_file", str(ROOT / "configs" / "accelerate" / "cpu-2proc.yaml")]
# Enough training for the tiny random model to learn the synthetic corpus's cues (about 0.9 macro-F1 on
# the test split in one process; an untrained model scores about 0.16).
LEARN = ("training.max_steps=60", "training.learning_rate=3e-3", "training.head_learning_rate=1e-2",
         "training.freeze_word_embeddings=false", "training.warmup_ratio=0")
F1_FLOOR = 0.7
LAUNCH_TIMEOUT_S = 900  # generous: a loaded CI machine; a quiet one needs well under a minute


def _overrides(tiny_model_dir: Path, corpus: Path, out: Path, *extra: str) -> list[str]:
    """The same fields as ``conftest.tiny_config``, as command-line overrides of configs/tiny.yaml."""
    return ["--config", str(ROOT / "configs" / "tiny.yaml"), f"base_model={tiny_model_dir}",
            f"data.files=[{corpus}]", f"output_dir={out}", "split.folds=5",
            f"evaluation.real_data=[{corpus.parent / 'real'}]", *extra]


def launch_two(*overrides: str) -> subprocess.CompletedProcess:
    """``accelerate launch`` scripts/train.py in 2 CPU processes of one thread each."""
    env = {**script_env(), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([*LAUNCH, str(ROOT / "scripts" / "train.py"), *overrides], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=LAUNCH_TIMEOUT_S)


def _rescore_test_f1(out: Path, cfg) -> float:
    """The saved model's test macro-F1, scored again in this (single) process."""
    from framing.data import grouped_split, load_corpus
    from framing.evaluation import classification_metrics, label_ids, record_logits
    from framing.inference import Predictor
    from framing.training_args import split_config

    test = grouped_split(load_corpus(cfg.data.files), split_config(cfg))["test"]
    logits = record_logits(Predictor(str(out), "cpu", "fp32"), test, 64)
    return classification_metrics(label_ids(test), logits.argmax(axis=-1))["macro_f1"]


def test_two_processes_write_once_and_learn_like_one(tmp_path, tiny_model_dir, synthetic_corpus):
    """2 processes: exit 0, one complete model directory written once by rank 0, world size recorded,
    metrics equal to scoring the saved model in one process, and it learns the task as 1 process does."""
    from framing.inference import predict
    from framing.trainer import run_training

    extra = (*LEARN, "seed_evaluation=held_out", "evaluation.baselines=false")
    cfg_one = tiny_config(tiny_model_dir, synthetic_corpus, tmp_path / "one", *extra)
    one = run_training(cfg_one)
    out = tmp_path / "two"
    res = launch_two(*_overrides(tiny_model_dir, synthetic_corpus, out, *extra))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert res.stdout.count("training on 2 data-parallel processes (gloo), 2 on this machine") == 1
    assert res.stdout.count("model written to") == 1  # only rank 0 reports and writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]  # no temporary or checkpoint folders
    for name in ("model.safetensors", "config.json", "tokenizer.json", "metrics.json", "training_config.yaml",
                 "confusion_matrix.png", "README.md"):
        assert (out / name).is_file(), name

    metrics = json.loads((out / "metrics.json").read_text())
    tr = metrics["training"]
    assert (tr["world_size"], tr["distributed_backend"], tr["global_batch_size"], tr["per_process_batch_size"],
            tr["threads_per_process"]) == (2, "gloo", 8, 4, 1)
    assert one["training"]["world_size"] == 1 and one["training"]["per_process_batch_size"] == 8
    assert metrics["training"]["split_summary"] == one["training"]["split_summary"]  # the same seed hold-out split
    assert metrics["sets"]["seed"]["model"]["n"] == one["sets"]["seed"]["model"]["n"] > 0
    assert "2 data-parallel processes x 4" in (out / "README.md").read_text()

    two_f1 = metrics["sets"]["test"]["model"]["macro_f1"]
    assert _rescore_test_f1(out, cfg_one) == pytest.approx(two_f1, abs=1e-9)  # rank 0 scored the whole set
    one_f1 = one["sets"]["test"]["model"]["macro_f1"]
    assert one_f1 >= F1_FLOOR and two_f1 >= F1_FLOOR, (one_f1, two_f1)
    assert abs(one_f1 - two_f1) <= 0.2, (one_f1, two_f1)

    labels = [p.label for p in predict(["Moscow insists: troops border treaty (1.1)",
                                        "Washington warns: sanctions alliance gas (2.2)"], model=str(out))]
    assert labels == ["russian_position", "western_response"]


def test_two_processes_resume_an_interrupted_run(tmp_path, tiny_model_dir, synthetic_corpus):
    """A run cut after its first checkpoint resumes from it in 2 processes and finishes its epochs; with
    seed_evaluation=separate_run rank 0 scores the first model alone while the other process waits."""
    extra = ("training.max_steps=-1", "training.epochs=2", "seed_evaluation=separate_run",
             "evaluation.baselines=false")
    out = tmp_path / "model"
    interrupted_run(tiny_config(tiny_model_dir, synthetic_corpus, out, *extra))
    assert list((tmp_path / "model.work" / "seed-holdout").glob("checkpoint-*"))  # cut in the first of 2 runs

    res = launch_two(*_overrides(tiny_model_dir, synthetic_corpus, out, *extra))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert res.stdout.count("resuming from the last checkpoint") == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["world_size"] == 2 and metrics["training"]["epochs_run"] == pytest.approx(2.0)
    assert metrics["seed_holdout_run"]["epochs"] == pytest.approx(2.0) and "seed:en" in metrics["sets"]
    assert not (tmp_path / "model.work").exists()


def test_batch_size_is_global():
    from framing.distributed import per_process_batch

    assert per_process_batch(16, 1) == 16 and per_process_batch(16, 2) == 8 and per_process_batch(16, 8) == 2
    with pytest.raises(ConfigError, match=r"training\.batch_size=16 .* 3 processes"):
        per_process_batch(16, 3)


def test_threads_are_shared_among_local_processes(monkeypatch):
    import torch

    from framing.distributed import World, share_cpu_threads, threads, use_all_local_threads

    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "cpu_cores", lambda: 8)
    try:
        torch.set_num_threads(8)
        assert share_cpu_threads(World(rank=1, size=2, local_rank=1, local_size=2)) == 4
        assert share_cpu_threads(World(rank=0, size=4, local_size=4)) == 2
        assert share_cpu_threads(World()) == 2  # one process: left as it is
        torch.set_num_threads(1)  # OMP_NUM_THREADS=1: never raised
        assert share_cpu_threads(World(size=2, local_size=2)) == 1
        assert use_all_local_threads(World(size=2, local_size=2), 1) == 2  # rank 0 evaluating alone
        assert use_all_local_threads(World(size=2, local_size=2), 8) == 8  # at most the cores
    finally:
        torch.set_num_threads(before)


def test_a_single_process_is_a_world_of_one(monkeypatch):
    from framing.distributed import World, barrier, broadcast, init_world, main_first, on_main

    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    world = init_world(cuda=False)
    assert world == World() and world.is_main and not world.distributed and world.describe() == "1 process"
    barrier(world)
    with main_first(world):
        pass
    assert broadcast({"a": 1}, world) == {"a": 1} and on_main(world, "add", lambda: 1 + 1) == 2
