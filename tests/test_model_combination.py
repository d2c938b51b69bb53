"""scripts/soup.py and scripts/ensemble.py on tiny trained models: a soup or an ensemble of one model
with itself must score exactly as that model does, and two different seeds combine without error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import script_env, tiny_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def second_seed(tmp_path_factory, tiny_model_dir, synthetic_corpus, trained_tiny) -> Path:
    """The same tiny recipe as ``trained_tiny`` with another training seed."""
    from framing.trainer import run_training

    out = tmp_path_factory.mktemp("seed2") / "model"
    run_training(tiny_config(tiny_model_dir, synthetic_corpus, out, "seed_evaluation=separate_run",
                             "training.seed=7"))
    return out


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True,
                          text=True, env=script_env(), timeout=600)


def _macro(metrics: dict) -> dict:
    return {name: s["model"]["macro_f1"] for name, s in metrics["sets"].items()}


def test_ensemble_of_one_model_twice_scores_as_that_model(trained_tiny, tmp_path):
    model = str(trained_tiny[0])
    res = _run("ensemble.py", model, model, "--json", str(tmp_path / "e.json"))
    assert res.returncode == 0, res.stderr[-2000:]
    ens = json.loads((tmp_path / "e.json").read_text())
    assert {"validation", "test"} <= set(ens["sets"])
    ref = _run("evaluate.py", model, "--precision", "auto", "--no-baselines", "--json", str(tmp_path / "m.json"))
    assert ref.returncode == 0, ref.stderr[-2000:]
    alone = _macro(json.loads((tmp_path / "m.json").read_text()))
    assert ens["sets"]["test"]["model"]["macro_f1"] == pytest.approx(alone["test"])
    assert "macro-F1 per set: ensemble vs each member" in res.stdout


def test_soup_and_ensemble_of_two_seeds(trained_tiny, second_seed, tmp_path):
    a, b = str(trained_tiny[0]), str(second_seed)
    ens = _run("ensemble.py", a, b)
    assert ens.returncode == 0, ens.stderr[-2000:]
    soup = _run("soup.py", a, b, "-o", str(tmp_path / "soup"))
    assert soup.returncode == 0, soup.stderr[-2000:]
    metrics = json.loads((tmp_path / "soup" / "metrics.json").read_text())
    assert metrics["soup_of"] == [a, b] and metrics["temperature"] > 0
    assert (tmp_path / "soup" / "model.safetensors").is_file()


def test_combining_needs_two_models(trained_tiny):
    for script, extra in (("ensemble.py", []), ("soup.py", ["-o", "x"])):
        res = _run(script, str(trained_tiny[0]), *extra)
        assert res.returncode == 2 and "at least two models" in res.stderr


def test_ablation_summary_goes_into_the_model_card(trained_tiny, tmp_path):
    import shutil

    run = tmp_path / "abl" / "tiny-s42"
    shutil.copytree(trained_tiny[0], run)
    res = _run("ablation.py", "--summarize-only", "--variant", "tiny=", "--seeds", "42", "43",
               "--out", str(tmp_path / "abl"), "--card", str(run))
    assert res.returncode == 0, res.stderr[-2000:]
    table = (tmp_path / "abl" / "ablation.md").read_text()
    assert "| tiny | 42 |" in table  # the missing seed 43 is not invented
    card = (run / "README.md").read_text()
    assert "## Seed variation and recipe" in card and "| tiny | 42 |" in card
    assert json.loads((run / "metrics.json").read_text())["ablation"]["markdown"] == table.strip()
    plain = (trained_tiny[0] / "README.md").read_text()
    assert "## Seed variation and recipe" not in plain
