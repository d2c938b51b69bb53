"""Fault injection: SIGINT or SIGTERM at a random point of a real training run (scripts/train.py in a
subprocess). Afterwards the output directory is absent, the previous model, or the complete new one, and no
temporary folder is left beside it (issue 11, tests)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from framing.inference import validate_model_dir

from .conftest import ROOT, script_env

FULL_RUN_LINES = 45  # about what a complete small run prints (stdout and stderr together)


def _digest(d: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(d.iterdir())}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_training_leaves_old_or_complete_new_model(tmp_path, small_base_model, small_trained,
                                                               synthetic_corpus, sig):
    seed = int(os.environ.get("FRAMING_FAULT_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    out = tmp_path / "model"
    had_previous = rng.random() < 0.5
    if had_previous:
        shutil.copytree(small_trained, out)
        before = _digest(out)
    after_line, delay = rng.randint(1, FULL_RUN_LINES), rng.uniform(0, 0.5)
    where = f"seed {seed}: {sig.name} after output line {after_line} + {delay:.2f} s, previous={had_previous}"
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--config", "configs/tiny.yaml",
           f"base_model={small_base_model}", f"data.files=[{synthetic_corpus}]", "split.folds=5",
           "evaluation.real_data=[]", "seed_evaluation=none", "evaluation.baselines=false", "training.max_steps=2",
           "training.max_length=32", "training.seed=7", f"output_dir={out}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**script_env(), "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        lines = 0
        while lines < after_line and proc.stdout.readline():
            lines += 1
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(sig)
        log = proc.communicate(timeout=300)[0].decode(errors="replace")
    finally:
        proc.kill()
        proc.wait()
    assert not list(tmp_path.glob(".model.*")), f"{where}: temporary folders left: {list(tmp_path.iterdir())}"
    if not out.exists():
        assert not had_previous, f"{where}: the previous model is gone\n{log[-3000:]}"
        return
    if had_previous and _digest(out) == before:
        return  # the previous model, untouched
    validate_model_dir(out)  # a complete new model: every file, matching weights
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in small_trained.iterdir()), where
    assert yaml.safe_load((out / "training_config.yaml").read_text())["training"]["seed"] == 7, where
    if had_previous:
        assert _digest(out)["model.safetensors"] != before["model.safetensors"], f"{where}: old and new mixed"
