"""Checks that ``run_training`` makes before the base model loads: where the model will go and whether
the corpus can be split as configured. Each problem is one :class:`~framing.errors.FramingError`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .data import SplitConfig, grouped_split, is_seed_article
from .errors import ConfigError
from .output_paths import check_model_output_dir
from .run_state import check_work_root
from .training_args import TrainConfig

SPLITS = ("train", "validation", "test")


def check_output(output_dir: str, work_suffix: str) -> tuple[Path, Path]:
    """``output_dir`` (as a path) and its checkpoint folder, after checking that a model may replace the
    one and that the other holds only framing runs."""
    out = check_model_output_dir(output_dir)
    work_root = out.with_name(out.name + work_suffix)
    check_work_root(work_root)
    return out, work_root


def _describe(cfg: TrainConfig) -> str:
    data = f"data.files={cfg.data.files}" if cfg.data.files else "the bundled corpus"
    filters = [f"data.{k}={v}" for k, v in (("languages", cfg.data.languages), ("sources", cfg.data.sources)) if v]
    return data + (f" with {', '.join(filters)}" if filters else "")


def _check_split(records: Sequence[dict], split_cfg: SplitConfig, what: str) -> None:
    n_articles = len({r["article_id"] for r in records})
    try:
        splits = grouped_split(records, split_cfg)
    except ValueError as exc:
        raise ConfigError(f"split.folds={split_cfg.folds}: cannot split {what} ({len(records)} passages in "
                          f"{n_articles} articles): {exc}") from None
    for name in SPLITS:
        if not splits[name]:
            raise ConfigError(f"split.folds={split_cfg.folds}: the {name} split of {what} ({len(records)} "
                              f"passages in {n_articles} articles) is empty; add data or lower split.folds")


def check_training_data(records: Sequence[dict], cfg: TrainConfig, split_cfg: SplitConfig) -> None:
    """The loaded records can be split as ``cfg`` asks, for the main run and the seed hold-out run."""
    if not records:
        raise ConfigError(f"no passages to train on: {_describe(cfg)} holds no records")
    _check_split(records, split_cfg, _describe(cfg))
    if cfg.seed_evaluation == "separate_run":
        rest = [r for r in records if not is_seed_article(r)]
        if len(rest) < len(records):
            if not rest:
                raise ConfigError("seed_evaluation=separate_run: every passage belongs to a seed article, so "
                                  "nothing is left to train the hold-out model on; use seed_evaluation=none")
            _check_split(rest, split_cfg, "the corpus without the seed articles (seed_evaluation=separate_run)")
