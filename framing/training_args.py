"""The training configuration: YAML under ``configs/``, overridable from the command line.

A config file holds the sections below; every field has a default here, so a
file needs only what differs. Overrides use dotted keys with YAML values, e.g.
``training.epochs=2`` or ``data.languages=[de,fr]``. Unknown keys and
ill-typed values are errors that name the key.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

from .context import CONTEXT_MODES
from .errors import ConfigError

SEED_EVALUATION = ("separate_run", "held_out", "none")
PRECISIONS = ("auto", "bf16", "fp32")
CLASS_WEIGHTING = ("none", "balanced")


@dataclass
class DataConfig:
    files: list[str] = field(default_factory=list)  # annotated JSONL; empty = the bundled corpus
    languages: list[str] = field(default_factory=list)  # keep only these (empty = all)
    sources: list[str] = field(default_factory=list)  # keep only these sources (empty = all)


@dataclass
class SplitSection:
    seed: int = 42
    folds: int = 10
    test_folds: int = 1
    validation_folds: int = 1
    validation_source: str = "authored-v2"  # draw validation only from this source's articles ("" = from all)


@dataclass
class TrainingSection:
    seed: int = 42
    max_length: int = 256
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5  # encoder
    head_learning_rate: float = 1e-3  # pooling head and classifier
    epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides epochs (smoke tests)
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    class_weighting: str = "balanced"
    early_stopping_patience: int = 2
    speaker_loss_weight: float = 0.0  # > 0: an auxiliary head learns who is voiced (records' speaker tags)
    freeze_word_embeddings: bool = True
    precision: str = "auto"
    group_by_length: bool = True
    dataloader_workers: int = 0


@dataclass
class EvaluationSection:
    real_data: list[str] = field(default_factory=lambda: ["../shared/data"])  # dirs or files; missing = skipped
    ece_bins: int = 15
    baselines: bool = True
    tfidf_ngram_range: list[int] = field(default_factory=lambda: [2, 5])
    tfidf_max_features: int = 200000
    logreg_c: float = 10.0


@dataclass
class ModelCardSection:
    license: str = "mit"
    model_name: str = "framing-multilingual-e5-small"
    repo_id: str = ""  # Hub repository the card refers to (optional)


@dataclass
class TrainConfig:
    base_model: str = "intfloat/multilingual-e5-small"
    pooling: str = "mean"
    text_prefix: str = "query: "
    output_dir: str = "outputs/framing-e5-small"
    context: str = "previous"  # previous: headline + previous passage as a second segment | none
    context_tokens: int = 64  # at most this many context tokens
    seed_evaluation: str = "held_out"
    resume: bool = True
    keep_checkpoints: bool = False  # keep OUTPUT_DIR.work/ after a successful run (it is removed otherwise)
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitSection = field(default_factory=SplitSection)
    training: TrainingSection = field(default_factory=TrainingSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    card: ModelCardSection = field(default_factory=ModelCardSection)

    def validate(self) -> "TrainConfig":
        checks = [("pooling", self.pooling, ("mean", "cls")),
                  ("seed_evaluation", self.seed_evaluation, SEED_EVALUATION),
                  ("training.precision", self.training.precision, PRECISIONS),
                  ("training.class_weighting", self.training.class_weighting, CLASS_WEIGHTING),
                  ("context", self.context, CONTEXT_MODES)]
        for key, value, allowed in checks:
            if value not in allowed:
                raise ConfigError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
        t = self.training
        for key in ("batch_size", "eval_batch_size", "max_length"):
            if getattr(t, key) <= 0:
                raise ConfigError(f"training.{key} must be positive, got {getattr(t, key)}")
        if t.max_length > 512:
            raise ConfigError(f"training.max_length: {t.max_length} exceeds the encoder's 512 positions")
        if t.speaker_loss_weight < 0:
            raise ConfigError(f"training.speaker_loss_weight must be >= 0, got {t.speaker_loss_weight}")
        if self.context_tokens < 0:
            raise ConfigError(f"context_tokens must be >= 0, got {self.context_tokens}")
        if not 0 <= t.warmup_ratio < 1:
            raise ConfigError(f"training.warmup_ratio must be in [0, 1), got {t.warmup_ratio}")
        self._validate_ranges()
        return self

    def _validate_ranges(self) -> None:
        """Numbers that the libraries would reject late (after the model loads) or accept wrongly."""
        t, s, e = self.training, self.split, self.evaluation
        positive = [("training.learning_rate", t.learning_rate), ("training.head_learning_rate", t.head_learning_rate),
                    ("training.epochs", t.epochs), ("evaluation.logreg_c", e.logreg_c)]
        for key, value in positive:
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{key} must be a finite number > 0, got {value}")
        if not (math.isfinite(t.weight_decay) and t.weight_decay >= 0):
            raise ConfigError(f"training.weight_decay must be a finite number >= 0, got {t.weight_decay}")
        at_least = [("split.folds", s.folds, 2), ("split.test_folds", s.test_folds, 1),
                    ("split.validation_folds", s.validation_folds, 1),
                    ("training.early_stopping_patience", t.early_stopping_patience, 0),
                    ("training.dataloader_workers", t.dataloader_workers, 0), ("evaluation.ece_bins", e.ece_bins, 1),
                    ("evaluation.tfidf_max_features", e.tfidf_max_features, 1)]
        for key, value, low in at_least:
            if value < low:
                raise ConfigError(f"{key} must be at least {low}, got {value}")
        if s.test_folds + s.validation_folds >= s.folds:
            raise ConfigError(f"split: {s.test_folds} test + {s.validation_folds} validation folds leave no "
                              f"training fold out of split.folds={s.folds}")
        if t.max_steps == 0 or t.max_steps < -1:
            raise ConfigError(f"training.max_steps must be -1 (train for training.epochs) or positive, "
                              f"got {t.max_steps}")
        ngram = e.tfidf_ngram_range
        if len(ngram) != 2 or not 1 <= ngram[0] <= ngram[1]:
            raise ConfigError(f"evaluation.tfidf_ngram_range must be [low, high] with 1 <= low <= high, got {ngram}")
        if not self.output_dir.strip():
            raise ConfigError("output_dir must not be empty")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(value: Any, typ: Any, key: str) -> Any:
    origin = get_origin(typ)
    if dataclasses.is_dataclass(typ):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return _build(typ, value, key + ".")
    if origin is list:
        if value is None:
            return []
        if not isinstance(value, list):
            value = [value]
        (item,) = get_args(typ) or (Any,)
        return [_coerce(v, item, key) for v in value]
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if typ is float and isinstance(value, str):
        try:
            return float(value)  # YAML reads 5e-5 as a string
        except ValueError:
            pass
    if typ is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if typ is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    if typ is Any:
        return value
    raise ConfigError(f"{key}: expected {getattr(typ, '__name__', typ)}, got {value!r}")


def _build(cls: type, values: dict, prefix: str = "") -> Any:
    hints = get_type_hints(cls)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]} (known: {', '.join(sorted(hints))})")
    kwargs = {k: _coerce(v, hints[k], prefix + k) for k, v in values.items()}
    return cls(**kwargs)


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted}: {k} is not a section")
    node[keys[-1]] = value


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` -> (key, YAML-parsed value)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key=value")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {key}: cannot parse value {raw!r}: {exc}") from None
    return key.strip(), value


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_tree(p: Path, depth: int = 0) -> dict:
    try:
        tree = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML: {exc}") from None
    if not isinstance(tree, dict):
        raise ConfigError(f"{p}: a config must be a mapping of keys to values")
    parent = tree.pop("extends", None)
    if parent:
        if depth > 8:
            raise ConfigError(f"{p}: 'extends' chain is too deep")
        tree = _merge(_read_tree(p.parent / parent, depth + 1), tree)
    return tree


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config (``None`` = all defaults) and apply ``key=value`` overrides.

    A config may start with ``extends: other.yaml`` (relative to its own folder) to
    change only a few fields of another one.
    """
    tree: dict = _read_tree(Path(path)) if path is not None else {}
    for text in overrides or []:
        _set_dotted(tree, *parse_override(text))
    return _build(TrainConfig, tree).validate()


def load_dataclass(cls: type, path: str | Path | None = None, overrides: list[str] | None = None) -> Any:
    """Any config dataclass ``cls`` from YAML and ``key=value`` overrides, checked like :func:`load_config`."""
    tree: dict = _read_tree(Path(path)) if path is not None else {}
    for text in overrides or []:
        _set_dotted(tree, *parse_override(text))
    return _build(cls, tree)


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    """Write the resolved config as YAML (the exact settings a model was trained with)."""
    from .io_utils import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True))


def split_config(cfg: TrainConfig):
    """The ``framing.data.SplitConfig`` that ``cfg`` describes (training and re-evaluation use the same)."""
    from .data import SplitConfig

    return SplitConfig(cfg.split.seed, cfg.split.folds, cfg.split.test_folds, cfg.split.validation_folds,
                       holdout_seed_articles=cfg.seed_evaluation == "held_out",
                       validation_source=cfg.split.validation_source)


def config_fingerprint(cfg: TrainConfig, records_hash: str = "") -> str:
    """A short hash of everything that changes training (used to decide whether to resume):
    the config and ``records_hash``, the content hash of the records trained on."""
    import hashlib

    d = cfg.to_dict()
    d.pop("resume", None)
    d.pop("keep_checkpoints", None)
    d.pop("card", None)
    d["evaluation"] = None
    d["records_hash"] = records_hash
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
