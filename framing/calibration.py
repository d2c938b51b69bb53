"""Calibration: expected calibration error and temperature scaling (Guo et al., 2017).

The temperature is fitted on the validation split only (never on evaluation
data) by minimising the negative log-likelihood of ``softmax(logits / T)``; it is
stored in the model's config and applied by ``predict()``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

T_BOUNDS = (0.05, 20.0)


def probabilities(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``logits / temperature`` (rows sum to 1); the temperature must be finite and > 0."""
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """ECE with equal-width confidence bins: sum over bins of |accuracy - confidence| x bin share."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    if len(labels) == 0:
        return 0.0
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of the true labels at ``temperature``."""
    lp = log_softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)
    return float(-lp[np.arange(len(labels)), np.asarray(labels)].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in ``T_BOUNDS`` that minimises the NLL of ``labels`` (1.0 for no data)."""
    if len(labels) == 0:
        return 1.0
    res = minimize_scalar(lambda t: nll(logits, labels, t), bounds=T_BOUNDS, method="bounded")
    return float(res.x)
