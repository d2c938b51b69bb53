"""Loading a model directory: every corrupt, mismatched or unsafe one is a named package error, never a
library traceback, NaN scores or a trust-remote-code prompt (issue 11, cases 5 and 8)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing import LABELS, predict
from framing.errors import DeviceError, FramingError, ModelDirectoryError
from framing.inference import Predictor

# The files of a trained model directory (checked against the real one below).
MODEL_FILES = ("README.md", "config.json", "confusion_matrix.png", "metrics.json", "model.safetensors",
               "modeling.py", "tokenizer.json", "tokenizer_config.json", "training_config.yaml")


def clone(src: Path, dst: Path, skip: str | None = None) -> Path:
    """Hard-link copy of a model directory (cheap); ``skip`` is left out so it can be rewritten."""
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name != skip:
            os.link(f, dst / f.name)
    return dst


def edit_config(d: Path, src: Path, change) -> None:
    cfg = json.loads((src / "config.json").read_text())
    change(cfg)
    (d / "config.json").write_text(json.dumps(cfg))


@pytest.mark.parametrize("raw", ["0", "-1.5", "null", "NaN", "Infinity", '"1.0"', "true"])
def test_calibration_temperature_is_validated(small_trained, tmp_path, raw):
    d = clone(small_trained, tmp_path / "m", skip="config.json")
    text = (small_trained / "config.json").read_text()
    cfg = json.loads(text)
    cfg["calibration_temperature"] = "@T@"
    (d / "config.json").write_text(json.dumps(cfg).replace('"@T@"', raw))
    with pytest.raises(ModelDirectoryError, match="calibration_temperature must be a finite number > 0") as err:
        predict("Putin spoke.", model=str(d))
    assert str(d) in str(err.value)


def test_in_memory_model_temperature_is_validated(small_trained):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    import framing.modeling  # noqa: F401

    model = AutoModelForSequenceClassification.from_pretrained(small_trained)
    model.config.calibration_temperature = 0.0
    with pytest.raises(ModelDirectoryError, match="calibration_temperature"):
        Predictor.from_model(model, AutoTokenizer.from_pretrained(small_trained))


def test_truncated_safetensors_names_the_file(small_trained, tmp_path):
    d = clone(small_trained, tmp_path / "m", skip="model.safetensors")
    raw = (small_trained / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelDirectoryError, match="corrupt or truncated safetensors") as err:
        Predictor(str(d))
    assert str(d / "model.safetensors") in str(err.value)


@pytest.mark.parametrize("content", ["[1, 2]", '"config"', "3", "null"])
def test_config_json_that_is_not_an_object(small_trained, tmp_path, content):
    d = clone(small_trained, tmp_path / "m", skip="config.json")
    (d / "config.json").write_text(content)
    with pytest.raises(ModelDirectoryError, match="config.json: expected a JSON object"):
        Predictor(str(d))


@pytest.mark.parametrize("change, message", [
    ({"hidden_size": 32}, "has shape .* but config.json implies"),
    ({"vocab_size": 50}, "has shape .* but config.json implies"),
    ({"num_hidden_layers": 3}, "no tensor 'bert.encoder.layer.2"),
    ({"num_hidden_layers": 1}, "is not part of the model"),
    ({"num_attention_heads": 3}, "does not describe a loadable model"),
])
def test_config_that_does_not_match_the_weights(small_trained, tmp_path, change, message):
    d = clone(small_trained, tmp_path / "m", skip="config.json")
    edit_config(d, small_trained, lambda c: c.update(change))
    with pytest.raises(ModelDirectoryError, match=message):
        Predictor(str(d))


def test_unknown_model_type_is_refused_without_running_or_asking(small_trained, tmp_path, monkeypatch, capfd):
    d = clone(small_trained, tmp_path / "m", skip="config.json")
    marker = tmp_path / "code-ran"
    (d / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    edit_config(d, small_trained, lambda c: c.update(
        model_type="mystery-bert", auto_map={"AutoConfig": "evil.Config",
                                             "AutoModelForSequenceClassification": "evil.Model"}))
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("asked whether to trust remote code"))
    with pytest.raises(ModelDirectoryError, match="model_type is 'mystery-bert'"):
        predict("Putin spoke.", model=str(d))
    assert not marker.exists()
    assert "custom code" not in capfd.readouterr().out


@pytest.mark.parametrize("device, message", [("cuda", "no CUDA GPU is available"), ("cuda:0", "no CUDA GPU"),
                                             ("gpu", "unknown device 'gpu'"), ("tpu-ish", "unknown device")])
def test_unavailable_device_fails_before_loading(small_trained, monkeypatch, device, message):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("framing.inference.Predictor", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(DeviceError, match=message):
        predict("Putin spoke.", model=str(small_trained), device=device)


def _write_weights(d: Path, src: Path, change) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(src / "model.safetensors")
    change(tensors)
    save_file(tensors, d / "model.safetensors", metadata={"format": "pt"})


def _overflow(t: dict) -> None:
    """Finite weights whose logits overflow: every pooled feature is exactly 1, every weight 1e38."""
    t["bert.encoder.layer.1.output.LayerNorm.weight"].fill_(0.0)
    t["bert.encoder.layer.1.output.LayerNorm.bias"].fill_(1.0)
    t["classifier.weight"].fill_(1e38)


@pytest.mark.parametrize("change, message", [(lambda t: t["classifier.weight"].fill_(float("nan")),
                                              "holds NaN or infinite"),
                                             (_overflow, "produced non-finite scores")])
def test_weights_that_give_non_finite_scores(small_trained, tmp_path, change, message):
    d = clone(small_trained, tmp_path / "m", skip="model.safetensors")
    _write_weights(d, small_trained, change)
    with pytest.raises(ModelDirectoryError, match=message):
        predict("Putin spoke.", model=str(d))


def test_model_file_list_is_current(small_trained):
    assert sorted(p.name for p in small_trained.iterdir()) == sorted(MODEL_FILES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(MODEL_FILES), action=st.sampled_from(["truncate", "remove", "garble"]))
def test_corrupted_model_directory_gives_only_package_errors(small_trained, tmp_path_factory, data, name, action):
    """Every file truncated, removed or garbled in turn: the model loads and scores validly, or the
    failure is a FramingError that names the model directory."""
    d = clone(small_trained, tmp_path_factory.mktemp("corrupt") / "m", skip=name)
    raw = (small_trained / name).read_bytes()
    if action == "truncate":
        (d / name).write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="length")])
    elif action == "garble":
        buf = bytearray(raw)
        # Mostly the first 4 KB (headers, JSON keys), sometimes anywhere.
        span = data.draw(st.sampled_from([min(len(raw), 4096), len(raw)]), label="span")
        for pos, byte in data.draw(st.lists(st.tuples(st.integers(0, span - 1), st.integers(0, 255)),
                                            min_size=1, max_size=8), label="edits"):
            buf[pos] = byte
        (d / name).write_bytes(bytes(buf))
    try:
        results = predict(["Putin said NATO deceived Russia.", "Die Gespräche " * 40], model=str(d))
    except FramingError as exc:
        assert str(d) in str(exc) and "\n" not in str(exc).strip()
        return
    for r in results:
        assert r.label in LABELS and math.isclose(sum(r.scores.values()), 1.0, abs_tol=1e-6)
        assert all(math.isfinite(v) and 0 <= v <= 1 for v in r.scores.values())
