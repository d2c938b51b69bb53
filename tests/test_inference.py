"""predict() and score_article(): results, windows, bad input, model resolution, threads, memory."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing import LABELS, predict, score_article
from framing.blank import is_blank
from framing.inference import (ModelDirectoryError, ModelNotFoundError, Prediction, load_predictor,
                               validate_model_dir)


@pytest.fixture(scope="module")
def model(trained_tiny) -> str:
    return str(trained_tiny[0])


def _valid(p: Prediction):
    assert p.label in LABELS and set(p.scores) == set(LABELS)
    assert math.isclose(sum(p.scores.values()), 1.0, abs_tol=1e-6)
    assert all(0 <= v <= 1 for v in p.scores.values())
    assert p.label == max(p.scores, key=p.scores.get)


def test_single_and_batch(model):
    one = predict("Putin said NATO deceived Russia.", model=model)
    assert isinstance(one, Prediction) and one.text == "Putin said NATO deceived Russia."
    _valid(one)
    many = predict(["a", "Die Gespräche beginnen in Genf.", "Переговоры в Женеве."], model=model, batch_size=2)
    assert [p.text for p in many] == ["a", "Die Gespräche beginnen in Genf.", "Переговоры в Женеве."]
    for p in many:
        _valid(p)
    # Same text, other batch shape: equal up to float rounding (oneDNN picks kernels by batch size).
    assert predict(("a",), model=model)[0].scores == pytest.approx(many[0].scores, abs=1e-6)
    assert predict([], model=model) == []


def test_batching_does_not_change_results(model):
    texts = [f"Passage number {i} " + "word " * (i * 7 % 40) for i in range(23)]
    a = predict(texts, model=model, batch_size=1)
    b = predict(texts, model=model, batch_size=16)
    for x, y in zip(a, b):
        assert x.label == y.label
        np.testing.assert_allclose(list(x.scores.values()), list(y.scores.values()), atol=2e-3)


@pytest.mark.parametrize("bad", [None, 5, 3.2, b"bytes", ["ok", None], ["ok", b"x"], {"text": "x"}])
def test_wrong_types_raise_type_error(model, bad):
    with pytest.raises(TypeError, match="str"):
        predict(bad, model=model)


def test_empty_passages(model):
    with pytest.raises(ValueError, match="empty"):
        predict("   \n\t", model=model)
    out = predict(["Putin spoke.", "", "  "], model=model)
    _valid(out[0])
    assert [p.empty for p in out] == [False, True, True]
    assert out[1].label is None and out[1].scores == {}
    with pytest.raises(ValueError, match="empty"):
        score_article(" ", model=model)
    with pytest.raises(TypeError):
        score_article(None, model=model)  # type: ignore[arg-type]


def test_long_passage_is_scored_in_overlapping_windows(model):
    pred = load_predictor(model)
    text = " ".join(f"Sentence {i} about the talks in Geneva." for i in range(60))
    ids = pred._encode([text])[0]
    assert len(ids) > pred.window * 3
    windows = pred._windows(ids)
    assert len(windows) > 3 and all(len(w) == pred.window for w in windows)
    assert windows[0][0] == ids[0] and windows[-1][-1] == ids[-1]  # the whole passage is covered
    starts = [i * pred.stride for i in range(len(windows) - 1)]
    assert all(windows[k] == ids[s:s + pred.window] for k, s in enumerate(starts))  # overlap = window - stride
    logits, n = pred.logits([text])
    assert n == [len(windows)]
    expected = pred._forward([(w, None) for w in windows], 8).mean(axis=0)  # equal-length windows: plain mean
    np.testing.assert_allclose(logits[0], expected, atol=1e-4)
    assert predict(text, model=model).windows == len(windows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=6))
def test_any_unicode_gives_valid_distributions(model, texts):
    for t, p in zip(texts, predict(texts, model=model)):
        if is_blank(t):
            assert p.empty
        else:
            _valid(p)


def test_lone_surrogates_control_characters_emoji_rtl(model):
    texts = ["broken \udc80 surrogate \ud800", "ctrl \x00\x01\x1b[31m", "emoji 🇺🇦🤝🇷🇺", "مرحبا بالعالم",
             "שלום עולם", "\u202eRTL override", "\ufeff\u200bzero width"]
    for p in predict(texts, model=model):
        _valid(p)
    art = score_article("Headline \udc80\n\nBody with emoji 🙂.\n\nمرحبا", model=model)
    assert len(art.passages) == 3


def test_score_article(model):
    text = ("Complete News World\r\n\r\nPutin demands guarantees\r\n\r\nPutin said NATO had deceived Russia.\r\n\r\n"
            "The talks will take place in Geneva on 10 January.\r\n\r\nSee also: weather\r\n\r\nSource link\r\n")
    art = score_article(text, model=model)
    assert [p.text for p in art.passages] == ["Putin demands guarantees", "Putin said NATO had deceived Russia.",
                                              "The talks will take place in Geneva on 10 January."]
    for p in art.passages:
        assert text[p.start:p.end] == p.text
        _valid(p)
    assert math.isclose(sum(art.label_share.values()), 1) and math.isclose(sum(art.length_weighted_share.values()), 1)
    assert art.dominant_frame == max(LABELS, key=lambda lab: (art.length_weighted_share[lab], art.label_share[lab]))
    assert predict(text, model=model, level="article").passages == art.passages
    only_boilerplate = score_article("Source link\n\nLeave a Reply", model=model)
    assert only_boilerplate.passages == [] and only_boilerplate.dominant_frame is None


def test_model_resolution_order(model, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FRAMING_MODEL", raising=False)
    with pytest.raises(ModelNotFoundError, match=r"python scripts/train.py"):
        predict("x")
    monkeypatch.setenv("FRAMING_MODEL", model)
    assert load_predictor().path == model
    default = tmp_path / "outputs" / "framing-e5-small"
    shutil.copytree(model, default)
    assert load_predictor().path == model  # the environment variable beats the default directory
    monkeypatch.delenv("FRAMING_MODEL")
    assert load_predictor().path == "outputs/framing-e5-small"
    monkeypatch.setenv("FRAMING_MODEL", str(tmp_path / "nowhere"))
    assert predict("x", model=model).label in LABELS  # explicit model= beats both
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        predict("x", model="./no/such/dir")


def test_model_is_loaded_once_per_process(model):
    assert load_predictor(model) is load_predictor(model)


@pytest.mark.parametrize("breakage, message", [
    (lambda d: (d / "config.json").unlink(), "no config.json"),
    (lambda d: _edit_config(d, lambda c: c.pop("id2label")), "no id2label"),
    (lambda d: _edit_config(d, lambda c: c.update(id2label={"0": "a", "1": "b"}, num_labels=2)), "does not match"),
    (lambda d: _edit_config(d, lambda c: c.update(num_labels=5)), "num_labels is 5"),
    (lambda d: (d / "model.safetensors").unlink(), "no weights"),
    (lambda d: [(d / n).unlink() for n in ("tokenizer.json", "tokenizer_config.json")], "no tokenizer"),
    (lambda d: (d / "config.json").write_text("{broken"), "unreadable"),
])
def test_broken_model_directory(model, tmp_path, breakage, message):
    d = tmp_path / "broken"
    shutil.copytree(model, d)
    breakage(d)
    with pytest.raises(ModelDirectoryError, match=message) as err:
        predict("x", model=str(d))
    assert str(d) in str(err.value)


def _edit_config(d: Path, change) -> None:
    cfg = json.loads((d / "config.json").read_text())
    change(cfg)
    (d / "config.json").write_text(json.dumps(cfg))


def test_validate_model_dir_accepts_a_good_one(model):
    validate_model_dir(Path(model))


def test_concurrent_calls_from_threads(model):
    texts = [f"Thread test passage {i}: Moscow and Washington trade accusations." * (1 + i % 3) for i in range(40)]
    expected = [p.scores for p in predict(texts, model=model)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda chunk: predict(chunk, model=model, batch_size=4),
                                [texts[i:i + 5] for i in range(0, 40, 5)]))
    got = [p.scores for chunk in results for p in chunk]
    for a, b in zip(got, expected):
        np.testing.assert_allclose(list(a.values()), list(b.values()), atol=2e-3)


def test_ten_megabyte_article_in_bounded_memory(model, tmp_path):
    """A 10 MB article (40,000 paragraphs) is scored completely, with peak RSS well under 2 GB."""
    code = f"""
import resource, sys
from framing import score_article
para = "The delegations met again in Geneva on Monday and discussed troop movements near the border. " * 3
text = "\\n\\n".join(f"{{i}} {{para}}" for i in range(36000))
assert len(text) > 10_000_000, len(text)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
art = score_article(text, model={model!r}, batch_size=64)
assert len(art.passages) == 36000 and all(p.label for p in art.passages)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, before // 1024)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    peak_mb, _ = map(int, res.stdout.split())
    assert peak_mb < 2048, peak_mb
