"""Scores of predictions against held-out targets; scikit-learn computes what it already has."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def accuracy(y_true, proba, threshold: float = 0.5) -> float:
    """Fraction correct. proba: P(y=1) (n,) for binary, or class probabilities (n, k)."""
    proba = np.asarray(proba)
    predicted = proba.argmax(axis=1) if proba.ndim == 2 else (proba > threshold).astype(int)
    return float(skm.accuracy_score(y_true, predicted))


def log_loss(y_true, proba) -> float:
    """Mean negative log predictive probability of the true class (nats)."""
    proba = np.asarray(proba)
    labels = np.arange(proba.shape[1]) if proba.ndim == 2 else [0, 1]
    return float(skm.log_loss(y_true, proba, labels=labels))


def classification_summary(y_true, proba) -> dict[str, float]:
    """The scores the report and metrics.json show for a classifier."""
    return {"accuracy": accuracy(y_true, proba), "log_loss": log_loss(y_true, proba)}
