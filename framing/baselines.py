"""Baselines scored beside the model on the same splits: majority class and TF-IDF + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from .labels import LABEL2ID, LABELS


def _xy(records: Sequence[dict]) -> tuple[list[str], np.ndarray]:
    return [r["text"] for r in records], np.array([LABEL2ID[r["label"]] for r in records])


def _full_proba(model: Pipeline, texts: list[str]) -> np.ndarray:
    """Class probabilities with a column for every label, even one absent from training."""
    out = np.zeros((len(texts), len(LABELS)))
    out[:, model.classes_] = model.predict_proba(texts)
    return out


def majority_baseline(train: Sequence[dict]) -> Pipeline:
    """Always predicts the most frequent training label."""
    x, y = _xy(train)
    return make_pipeline(DummyClassifier(strategy="most_frequent")).fit(x, y)


def tfidf_baseline(train: Sequence[dict], ngram_range: Sequence[int] = (2, 5), max_features: int = 200000,
                   c: float = 10.0, seed: int = 42) -> Pipeline:
    """Character n-gram TF-IDF (word-boundary aware) + class-balanced logistic regression."""
    x, y = _xy(train)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(ngram_range), max_features=max_features,
                          sublinear_tf=True, lowercase=True)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
    return make_pipeline(vec, clf).fit(x, y)


def baseline_probabilities(model: Pipeline, records: Sequence[dict]) -> np.ndarray:
    """Probabilities of a fitted baseline for ``records`` (columns in ``LABELS`` order)."""
    return _full_proba(model, [r["text"] for r in records])
