"""The real base model (multilingual-e5-small, built offline) end to end: a few training steps, then predict()."""

from __future__ import annotations

import json

import pytest

from framing import LABELS, predict, score_article

from .conftest import tiny_config


@pytest.mark.slow
def test_real_base_model_trains_and_predicts(tmp_path, tiny_model_dir, synthetic_corpus):
    from framing.base_model import E5_SMALL
    from framing.trainer import run_training

    out = tmp_path / "e5-run"
    cfg = tiny_config(tiny_model_dir, synthetic_corpus, out, f"base_model={E5_SMALL}", "training.max_steps=3",
                      "training.batch_size=8", "training.max_length=48", "training.precision=auto",
                      "seed_evaluation=none", "evaluation.real_data=[]")
    metrics = run_training(cfg)
    config = json.loads((out / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    assert set(metrics["sets"]) == {"validation", "test"}
    assert metrics["training"]["encoder"]["parameters"] > 117e6
    p = predict("Putin said NATO had deceived Russia by expanding to the east.", model=str(out))
    assert p.label in LABELS and abs(sum(p.scores.values()) - 1) < 1e-6
    art = score_article("Headline\n\nFirst paragraph.\n\nSecond paragraph.", model=str(out))
    assert len(art.passages) == 3
