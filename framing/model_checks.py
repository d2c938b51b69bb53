"""Checks of a saved framing model that turn corrupt or mismatched files into one named error.

:func:`validate_model_dir` (also importable from ``framing.inference``) calls :func:`check_config` on
``config.json`` and :func:`check_weights` on the weights before anything is
loaded; the predictor calls :func:`check_loaded` and :func:`check_finite` on what
``from_pretrained`` returned. Every problem is a
:class:`~framing.errors.ModelDirectoryError` naming the directory or file.
"""

from __future__ import annotations

import math
from pathlib import Path

from .errors import ModelDirectoryError
from .labels import LABELS

MODEL_TYPE = "framing-bert"  # FramingConfig.model_type (framing.modeling imports torch; this module does not)
MIN_SEQ_LENGTH = 3  # [CLS] + one token + [SEP]
POSITIVE_INT_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "max_position_embeddings")


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (library errors span many lines)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def check_temperature(value: object, where: str) -> float:
    """The calibration temperature as a float; it must be a finite number above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ModelDirectoryError(f"{where}: calibration_temperature must be a finite number > 0, got {value!r}")
    return float(value)


def _positive_int(cfg: dict, key: str, where: str, minimum: int = 1) -> None:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ModelDirectoryError(f"{where}: {key} must be an integer >= {minimum}, got {value!r}")


def check_config(path: Path, cfg: object) -> dict:
    """The parsed ``config.json`` of a framing model, or a named error: not an object, another
    ``model_type`` (never executed as remote code), bad sizes or a bad temperature."""
    where = f"{path / 'config.json'}"
    if not isinstance(cfg, dict):
        raise ModelDirectoryError(f"{where}: expected a JSON object, got {type(cfg).__name__}")
    if cfg.get("model_type") != MODEL_TYPE:
        raise ModelDirectoryError(f"{where}: model_type is {cfg.get('model_type')!r}; a framing model has "
                                  f"{MODEL_TYPE!r} (other model types are not loaded)")
    for key in POSITIVE_INT_KEYS:
        if key in cfg:
            _positive_int(cfg, key, where)
    for key in ("max_seq_length", "max_position_embeddings"):
        if key in cfg:
            _positive_int(cfg, key, where, MIN_SEQ_LENGTH)
    check_temperature(cfg.get("calibration_temperature", 1.0), where)
    id2label = cfg.get("id2label")
    if isinstance(id2label, dict) and not all(isinstance(v, str) for v in id2label.values()):
        raise ModelDirectoryError(f"{where}: id2label must map label ids to label names (strings)")
    if not isinstance(cfg.get("text_prefix", ""), str):
        raise ModelDirectoryError(f"{where}: text_prefix must be a string, got {cfg['text_prefix']!r}")
    return cfg


def _file_shapes(file: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    try:
        with safe_open(str(file), "pt") as fh:
            return {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except Exception as exc:  # safetensors raises its own SafetensorError (and OSError) on bad files
        raise ModelDirectoryError(f"{file}: corrupt or truncated safetensors file ({one_line(exc)})") from None


def _expected_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    import torch

    from .modeling import FramingConfig, FramingForSequenceClassification

    try:
        config = FramingConfig.from_pretrained(str(path))
        with torch.device("meta"):
            model = FramingForSequenceClassification(config)
    except Exception as exc:  # whatever the sizes in config.json make the model constructor raise
        raise ModelDirectoryError(f"{path / 'config.json'}: does not describe a loadable model "
                                  f"({one_line(exc)})") from None
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_weights(path: Path) -> None:
    """Every ``*.safetensors`` file is readable and, together, they hold exactly the tensors (names and
    shapes) that ``config.json`` describes; a mismatch names the file and the first tensor."""
    files = sorted(path.glob("*.safetensors"))
    if not files:
        return  # PyTorch .bin weights: left to from_pretrained
    found: dict[str, tuple[int, ...]] = {}
    owner: dict[str, Path] = {}
    for f in files:
        for k, shape in _file_shapes(f).items():
            found[k], owner[k] = shape, f
    expected = _expected_shapes(path)
    for k, shape in expected.items():
        if k not in found:
            raise ModelDirectoryError(f"{files[0]}: no tensor {k!r}, which config.json needs (weights and "
                                      f"config.json do not belong together)")
        if found[k] != shape:
            raise ModelDirectoryError(f"{owner[k]}: tensor {k!r} has shape {list(found[k])} but config.json "
                                      f"implies {list(shape)} (size mismatch)")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise ModelDirectoryError(f"{owner[extra[0]]}: tensor {extra[0]!r} is not part of the model config.json "
                                  f"describes ({len(extra)} unexpected tensors; size mismatch)")


def check_loaded(model, tokenizer, path: str) -> None:
    """What the predictor needs from a loaded model (or its config): a valid temperature and window,
    special tokens."""
    cfg = getattr(model, "config", model)
    check_temperature(getattr(cfg, "calibration_temperature", 1.0), path)
    for key in ("max_seq_length", "max_position_embeddings"):
        value = getattr(cfg, key, MIN_SEQ_LENGTH)
        if isinstance(value, bool) or not isinstance(value, int) or value < MIN_SEQ_LENGTH:
            raise ModelDirectoryError(f"{path}: {key} must be an integer >= {MIN_SEQ_LENGTH}, got {value!r}")
    for role in ("cls", "sep", "pad"):
        if getattr(tokenizer, f"{role}_token_id", None) is None:
            raise ModelDirectoryError(f"{path}: the tokenizer has no {role} token")


def check_finite(model, path: str) -> None:
    """Raise when a loaded weight holds NaN or infinity (a garbled weights file)."""
    import torch

    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelDirectoryError(f"{path}: weight {name!r} holds NaN or infinite values (corrupt weights file)")


def validate_model_dir(path: Path) -> None:
    """Raise :class:`ModelDirectoryError` unless ``path`` holds a complete framing model."""
    import json

    if not path.is_dir():
        raise ModelDirectoryError(f"{path}: not a directory")
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise ModelDirectoryError(f"{path}: no config.json; not a saved model directory")
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelDirectoryError(f"{path}: config.json is unreadable: {exc}") from None
    check_config(path, cfg)
    id2label = cfg.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise ModelDirectoryError(f"{path}: config.json has no id2label label map")
    names = [id2label.get(str(i)) for i in range(len(id2label))]
    if sorted(filter(None, names)) != sorted(LABELS) or len(names) != len(LABELS):
        raise ModelDirectoryError(f"{path}: label map {names} does not match the framing labels {list(LABELS)}")
    if cfg.get("num_labels", len(id2label)) != len(LABELS):
        raise ModelDirectoryError(f"{path}: num_labels is {cfg.get('num_labels')}, expected {len(LABELS)}")
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelDirectoryError(f"{path}: no weights (model.safetensors)")
    if not (path / "tokenizer.json").is_file() and not (path / "tokenizer_config.json").is_file():
        raise ModelDirectoryError(f"{path}: no tokenizer files (tokenizer.json)")
    check_weights(path)
