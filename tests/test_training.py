"""Training end to end with the tiny model: outputs, model card, reproducibility, resume, config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from framing.labels import LABELS
from framing.training_args import ConfigError, load_config

from .conftest import interrupted_run, script_env, tiny_config

ROOT = Path(__file__).resolve().parents[1]


def test_model_directory_has_everything(trained_tiny):
    out, metrics = trained_tiny
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "metrics.json",
                 "confusion_matrix.png", "training_config.yaml", "README.md", "modeling.py"):
        assert (out / name).is_file(), name
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["id2label"] == {str(i): lab for i, lab in enumerate(LABELS)}
    assert cfg["label2id"] == {lab: i for i, lab in enumerate(LABELS)}
    assert cfg["calibration_temperature"] == pytest.approx(metrics["calibration"]["temperature"])
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.parent.glob(".model.*")), "temporary directories left behind"


def test_every_evaluation_set_is_scored_with_baselines(trained_tiny):
    _, metrics = trained_tiny
    assert set(metrics["sets"]) == {"validation", "test", "seed", "seed:en", "real:real_synthetic"}
    for name, s in metrics["sets"].items():
        m = s["model"]
        assert set(s["baselines"]) == {"majority", "tfidf_logreg"}
        assert 0 <= m["macro_f1"] <= 1 and 0 <= m["ece"] <= 1 and "ece_uncalibrated" in m
        assert set(m["per_class"]) == set(LABELS)
        assert sum(map(sum, m["confusion_matrix"])) == m["n"]
        assert sum(v["n"] for v in m["per_language"].values()) == m["n"]
    assert metrics["sets"]["seed"]["model"]["n"] == 20  # 2 seed articles x 5 passages x (en + de)
    assert metrics["seed_holdout_run"]["train_passages"] > 0
    saved = json.loads((trained_tiny[0] / "metrics.json").read_text())
    assert saved["sets"]["test"]["model"]["macro_f1"] == metrics["sets"]["test"]["model"]["macro_f1"]


def test_model_card_metadata(trained_tiny):
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results

    out, metrics = trained_tiny
    card = ModelCard.load(out / "README.md")
    data = card.data.to_dict()
    assert data["pipeline_tag"] == "text-classification" and data["library_name"] == "transformers"
    assert data["license"] == "mit" and data["language"] == ["de", "en", "ru"]
    assert data["base_model"] and data["datasets"] and data["metrics"] == ["accuracy", "f1"]
    _, results = model_index_to_eval_results(data["model-index"])
    f1 = {r.dataset_split: r.metric_value for r in results if r.metric_type == "f1"}
    assert f1["test"] == pytest.approx(metrics["sets"]["test"]["model"]["macro_f1"], abs=1e-4)
    for section in ("## Model description", "## Label scheme", "## Intended uses", "## Out-of-scope uses",
                    "## How to use", "## Training data", "## Evaluation", "## Calibration",
                    "## Limitations and biases", "## Environmental cost"):
        assert section in card.text


def test_saved_model_loads_the_usual_way(trained_tiny):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    import framing  # noqa: F401  (registers the head)

    out, _ = trained_tiny
    model = AutoModelForSequenceClassification.from_pretrained(out).eval()
    tok = AutoTokenizer.from_pretrained(out)
    assert type(model).__name__ == "FramingForSequenceClassification" and model.config.pooling == "mean"
    batch = tok(["query: Putin spoke."], return_tensors="pt")
    with torch.no_grad():
        assert model(**batch).logits.shape == (1, 3)
    code = ("from transformers import AutoModelForSequenceClassification as A; import sys; "
            f"m = A.from_pretrained({str(out)!r}, trust_remote_code=True); "
            "assert 'framing' not in sys.modules; print(type(m).__name__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "FramingForSequenceClassification"


def test_same_config_same_metrics(tmp_path, tiny_model_dir, synthetic_corpus, trained_tiny):
    from framing.trainer import run_training

    cfg = tiny_config(tiny_model_dir, synthetic_corpus, tmp_path / "again", "seed_evaluation=separate_run")
    again = run_training(cfg)
    for name, s in trained_tiny[1]["sets"].items():
        assert again["sets"][name]["model"]["macro_f1"] == s["model"]["macro_f1"]
        assert again["sets"][name]["model"]["confusion_matrix"] == s["model"]["confusion_matrix"]


def test_resume_after_interruption(tmp_path, tiny_model_dir, synthetic_corpus, capsys):
    """A run killed after its first checkpoint resumes from it and ends as an uninterrupted run does."""
    from framing.trainer import run_training

    extra = ("training.max_steps=-1", "training.epochs=2", "seed_evaluation=none")
    full = run_training(tiny_config(tiny_model_dir, synthetic_corpus, tmp_path / "full", *extra))
    cfg = tiny_config(tiny_model_dir, synthetic_corpus, tmp_path / "cut", *extra)
    interrupted_run(cfg)
    assert not (tmp_path / "cut").exists()  # nothing half-written
    capsys.readouterr()
    resumed = run_training(cfg)
    assert "resuming from the last checkpoint" in capsys.readouterr().out
    assert resumed["sets"]["test"]["model"]["confusion_matrix"] == full["sets"]["test"]["model"]["confusion_matrix"]


def test_evaluate_script_reprints_the_report(trained_tiny):
    out, metrics = trained_tiny
    real = Path(json.loads((out / "metrics.json").read_text())["sets"]["real:real_synthetic"]["description"]
                .split("from ")[1].split(" (")[0])
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(out), str(real)],
                         capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert res.returncode == 0, res.stderr[-2000:]
    assert "== real_synthetic" in res.stdout and "tfidf_logreg" in res.stdout
    f1 = metrics["sets"]["real:real_synthetic"]["model"]["macro_f1"]
    assert f"{f1:.3f}" in res.stdout


def test_push_to_hub_offline_is_a_clear_error(trained_tiny):
    out, _ = trained_tiny
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "push_to_hub.py"), str(out), "someone/framing"],
                         capture_output=True, text=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 1
    assert "error:" in res.stderr and "Traceback" not in res.stderr


def test_config_overrides_and_errors(tmp_path):
    cfg = load_config(ROOT / "configs" / "default.yaml", ["training.epochs=2", "data.languages=[de, fr]",
                                                          "training.learning_rate=3e-5", "pooling=cls"])
    assert cfg.training.epochs == 2.0 and cfg.data.languages == ["de", "fr"] and cfg.pooling == "cls"
    assert cfg.training.learning_rate == 3e-5
    tiny = load_config(ROOT / "configs" / "tiny.yaml")
    assert tiny.training.max_steps == 4 and tiny.training.weight_decay == 0.01  # extends default.yaml
    with pytest.raises(ConfigError, match="unknown key training.epoch "):
        load_config(None, ["training.epoch=2"])
    with pytest.raises(ConfigError, match="training.batch_size: expected int"):
        load_config(None, ["training.batch_size=big"])
    with pytest.raises(ConfigError, match="pooling: 'max' is not one of"):
        load_config(None, ["pooling=max"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad)


def test_default_config_lists_every_field():
    """configs/default.yaml spells out the whole configuration (no hidden defaults)."""
    from framing.training_args import TrainConfig

    tree = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())
    defaults = TrainConfig().to_dict()

    def keys(d, prefix=""):
        return {prefix + k for k, v in d.items() for _ in [0]} | {
            x for k, v in d.items() if isinstance(v, dict) for x in keys(v, prefix + k + ".")}

    assert keys(tree) == keys(defaults)
    assert load_config(ROOT / "configs" / "default.yaml").to_dict() == defaults


def test_train_script_end_to_end(tmp_path, tiny_model_dir, synthetic_corpus):
    out = tmp_path / "script-run"
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--config", "configs/tiny.yaml",
                          f"base_model={tiny_model_dir}", f"data.files=[{synthetic_corpus}]", "split.folds=5",
                          "--set", f"output_dir={out}", "evaluation.real_data=[]"],
                         capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert res.returncode == 0, res.stderr[-3000:]
    assert "[main] epoch " in res.stdout and "validation macro-F1" in res.stdout and "== test" in res.stdout and "total wall time" in res.stdout
    assert (out / "README.md").is_file()


def test_train_script_reports_config_errors():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "training.nope=1"],
                         capture_output=True, text=True, cwd=ROOT, env=script_env())
    assert res.returncode == 2 and "unknown key training.nope" in res.stderr and "Traceback" not in res.stderr
