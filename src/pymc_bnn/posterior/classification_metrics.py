"""Scores of classifiers' predictions against held-out labels: accuracy, log loss, Brier, ECE.

`proba` is P(y = 1) (n,) for binary or class probabilities (n, K) whose columns follow the
fitted class order, and `y_true` class indices 0 … K−1 (pass `classes` to score the original
labels). Every function returns the mean over observations (a float); lower is better except
accuracy and AUROC.

The scores raise `InvalidInputError` rather than score what they would misread: labels that are
not one per row, probabilities that are NaN, outside [0, 1] (logits) or whose rows do not sum
to 1, and labels that are not class indices 0 … K−1 without `classes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior.classification_uncertainty import check_class_sums
from pymc_bnn.validation import whole_number

# Equal-width confidence bins for ECE: 15, as in Guo et al. (2017), the usual reference point.
ECE_BINS = 15


def _codes(y_true, classes) -> np.ndarray:
    """y_true as class indices: unchanged without `classes`, else each label's position in it."""
    if classes is None:
        return np.asarray(y_true)
    lookup = {label: i for i, label in enumerate(np.asarray(classes).tolist())}
    try:
        return np.array([lookup[label] for label in np.asarray(y_true).tolist()])
    except KeyError as missing:
        raise InvalidInputError(
            f"y_true holds the label {missing} that is not among the fitted classes "
            f"{list(lookup)}; score only on labels the model knows"
        ) from None


def check_classification(y_true, proba, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """(class codes (n,), probabilities (n,) or (n, K) float64), or InvalidInputError.

    Refuses what the scores would otherwise misread: labels that are not one per row (a single
    label is broadcast), probabilities that are not probabilities (NaN, logits, rows that do not
    sum to 1), and labels that are not class indices when no `classes` are given.

    Parameters
    ----------
    y_true : array-like
        `(n,)` class indices, or labels with `classes`.
    proba : array-like
        P(y = 1) `(n,)` or class probabilities `(n, K)`.
    classes : sequence, optional
        The class labels in column order (e.g. `estimator.classes_`).

    Returns
    -------
    codes, proba : numpy.ndarray
        `(n,)` class indices and the probabilities as float64.

    Raises
    ------
    InvalidInputError
        On any of the above.

    Examples
    --------
    >>> check_classification(["yes", "no"], [[0.2, 0.8], [0.6, 0.4]], classes=["no", "yes"])[0]
    array([1, 0])
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim not in (1, 2) or (proba.ndim == 2 and proba.shape[1] < 2):
        raise InvalidInputError(
            f"proba must be P(y = 1) (n_obs,) or class probabilities (n_obs, n_classes), got "
            f"shape {proba.shape}")
    if not np.all(np.isfinite(proba)):
        raise InvalidInputError("proba contains NaN or infinite values; score finite "
                                "predictions only")
    if proba.size and (proba.min() < -1e-9 or proba.max() > 1 + 1e-9):
        raise InvalidInputError(
            f"proba must hold probabilities in [0, 1], got values from {proba.min():.4g} to "
            f"{proba.max():.4g}; pass predict_proba's output, not logits")
    if proba.ndim == 2:
        check_class_sums(proba, "proba")
    codes = _codes(y_true, classes)
    if codes.ndim != 1 or codes.shape[0] != proba.shape[0]:
        raise InvalidInputError(
            f"y_true must hold one label per row of proba ({proba.shape[0]}), got shape "
            f"{codes.shape}")
    n_classes = 2 if proba.ndim == 1 else proba.shape[1]
    if classes is None and codes.size:
        try:
            whole = np.asarray(codes, dtype=np.float64)
        except (TypeError, ValueError):
            whole = np.array([np.nan])
        if not (np.all(whole == np.round(whole)) and whole.min() >= 0
                and whole.max() < n_classes):
            raise InvalidInputError(
                f"y_true must hold class indices 0 … {n_classes - 1} (the columns of proba), "
                f"got values {sorted(set(np.asarray(codes).tolist()))[:5]}; to score the "
                "original labels pass classes= (the fitted labels in column order, e.g. "
                "estimator.classes_)")
        codes = whole.astype(np.int64)
    return codes, proba


def _two_columns(proba) -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    return np.column_stack([1.0 - proba, proba]) if proba.ndim == 1 else proba


# --------------------------------------------------------------------------- classification


def accuracy(y_true, proba, threshold: float = 0.5, *, classes=None) -> float:
    """Fraction of observations whose most probable class is the true one.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    threshold : float, default 0.5
        A binary `proba` above it predicts class 1.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> accuracy([0, 1, 1], [0.2, 0.9, 0.4])
    0.666...
    >>> accuracy(["no", "yes"], [[0.8, 0.2], [0.3, 0.7]], classes=["no", "yes"])
    1.0
    """
    codes, proba = check_classification(y_true, proba, classes)
    predicted = proba.argmax(axis=1) if proba.ndim == 2 else (proba > threshold).astype(int)
    return float(skm.accuracy_score(codes, predicted))


def log_loss(y_true, proba, *, classes=None) -> float:
    """Mean negative log predictive probability of the true class, in nats.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    float
        ≥ 0; log 2 ≈ 0.693 for a coin flip.

    Examples
    --------
    >>> log_loss([0, 1], [0.5, 0.5])
    0.693...
    """
    codes, proba = check_classification(y_true, proba, classes)
    labels = np.arange(proba.shape[1]) if proba.ndim == 2 else [0, 1]
    return float(skm.log_loss(codes, proba, labels=labels))


def brier_score(y_true, proba, *, classes=None) -> float:
    """Mean squared error of the probability vector against the one-hot outcome.

    Binary: mean (p − y)², in [0, 1]; multiclass: mean Σ_k (p_k − y_k)², in [0, 2]
    (scikit-learn's `brier_score_loss` conventions).

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    float

    Examples
    --------
    >>> brier_score([0, 1], [0.2, 0.6])
    0.1
    """
    codes, proba = check_classification(y_true, proba, classes)
    proba = _two_columns(proba)
    return float(skm.brier_score_loss(codes, proba, labels=np.arange(proba.shape[1])))


def auroc(y_true, proba, *, classes=None) -> float:
    """Area under the ROC curve; multiclass: the mean of one-vs-rest AUCs (macro).

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    float
        In [0, 1]; 0.5 is chance.

    Examples
    --------
    >>> auroc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    0.75
    """
    y, proba = check_classification(y_true, proba, classes)
    proba = _two_columns(proba)
    if proba.shape[1] == 2:
        return float(skm.roc_auc_score(y, proba[:, 1]))
    return float(skm.roc_auc_score(y, proba, multi_class="ovr",
                                   labels=np.arange(proba.shape[1])))


@dataclass(frozen=True)
class ReliabilityBins:
    """Top-class confidence against accuracy in equal-width bins (see `reliability_bins`).

    Attributes
    ----------
    edges : numpy.ndarray
        `(n_bins + 1,)` bin edges over [0, 1].
    count : numpy.ndarray
        `(n_bins,)` points per bin.
    confidence, accuracy : numpy.ndarray
        `(n_bins,)` mean top-class confidence and accuracy per bin, NaN where a bin is empty.

    Examples
    --------
    >>> bins = reliability_bins([0, 1, 1, 1], [0.1, 0.9, 0.8, 0.3], n_bins=2)
    >>> bins.count, bins.accuracy
    (array([0, 4]), array([ nan, 0.75]))
    >>> round(bins.ece, 3)  # |0.75 − mean confidence 0.825|
    0.075
    """

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: the bins' count-weighted mean ``|accuracy − confidence|``."""
        filled = self.count > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float(np.sum(self.count[filled] * gaps) / self.count.sum())


def reliability_bins(y_true, proba, n_bins: int = ECE_BINS, *, classes=None) -> ReliabilityBins:
    """Bin the top-class confidence max_k p_k into `n_bins` equal-width bins over [0, 1].

    Bin b holds confidences in ((b−1)/B, b/B] (a confidence of exactly 0 goes to the first);
    each bin's accuracy is the share of its points whose most probable class is the true one.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    n_bins : int, default 15
        Number of bins; 15 as in Guo et al. (2017), the usual reference point.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    ReliabilityBins

    Examples
    --------
    >>> bins = reliability_bins([0, 1, 1, 1], [0.1, 0.9, 0.8, 0.3], n_bins=2)
    >>> bins.count, bins.accuracy
    (array([0, 4]), array([ nan, 0.75]))
    >>> round(bins.ece, 3)
    0.075
    """
    n_bins = whole_number(n_bins, "n_bins", minimum=1)
    y, proba = check_classification(y_true, proba, classes)
    proba = _two_columns(proba)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, confidence, minlength=n_bins) / count
        mean_accuracy = np.bincount(which, correct, minlength=n_bins) / count
    return ReliabilityBins(edges, count, mean_confidence, mean_accuracy)


def expected_calibration_error(y_true, proba, n_bins: int = ECE_BINS, *, classes=None) -> float:
    """ECE = Σ_b (n_b / n) · ``|accuracy_b − confidence_b|`` over bins of the top-class confidence.

    The bins are `n_bins` equal-width bins over [0, 1], as in `reliability_bins`.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    n_bins : int, default 15
        Number of bins; 15 as in Guo et al. (2017).
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    float
        In [0, 1]; 0 is perfectly calibrated.

    Examples
    --------
    >>> round(expected_calibration_error([0, 1, 1, 1], [0.1, 0.9, 0.8, 0.3], n_bins=2), 3)
    0.075
    """
    return reliability_bins(y_true, proba, n_bins, classes=classes).ece


def classification_summary(y_true, proba, *, classes=None) -> dict[str, float]:
    """The scores the report and metrics.json show for a classifier.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` class indices 0 … K−1, or the original labels with `classes`.
    proba : array-like
        P(y = 1) `(n_obs,)` for a binary model, or class probabilities `(n_obs, n_classes)`
        whose columns follow the fitted class order.
    classes : sequence, optional
        The fitted class labels in column order; then `y_true` holds labels, not indices.

    Returns
    -------
    dict of str to float
        "accuracy", "log_loss" (nats), "brier" and "ece" (15 bins).

    Examples
    --------
    >>> scores = classification_summary([0, 1, 1], [0.2, 0.9, 0.6])
    >>> sorted(scores), scores["accuracy"]
    (['accuracy', 'brier', 'ece', 'log_loss'], 1.0)
    """
    return {"accuracy": accuracy(y_true, proba, classes=classes),
            "log_loss": log_loss(y_true, proba, classes=classes),
            "brier": brier_score(y_true, proba, classes=classes),
            "ece": expected_calibration_error(y_true, proba, classes=classes)}
