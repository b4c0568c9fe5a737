"""Scores of predictions against held-out targets; scikit-learn and SciPy compute what they have.

Classifiers take `proba` as P(y = 1) (n,) for binary or class probabilities (n, K) whose
columns follow the fitted class order, and `y_true` as class indices 0 … K−1 (pass `classes`
to score the original labels). Regression scores take user units. Every function returns the
mean over observations (a float); lower is better except accuracy, AUROC and coverage.

The classification scores raise `InvalidInputError` rather than score what they would misread:
labels that are not one per row, probabilities that are NaN, outside [0, 1] (logits) or whose
rows do not sum to 1, and labels that are not class indices 0 … K−1 without `classes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import logsumexp
from sklearn import metrics as skm

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior.uncertainty import check_class_sums, noise_distribution
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


# --------------------------------------------------------------------------- regression


def rmse(y_true, mean) -> float:
    """Root mean squared error of the predictive mean, in the target's units.

    Parameters
    ----------
    y_true, mean : array-like
        `(n_obs,)` targets and predictive means.

    Returns
    -------
    float

    Examples
    --------
    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.414...
    """
    return float(skm.root_mean_squared_error(y_true, mean))


def mae(y_true, mean) -> float:
    """Mean absolute error of the predictive mean (or median), in the target's units.

    Parameters
    ----------
    y_true, mean : array-like
        `(n_obs,)` targets and point predictions.

    Returns
    -------
    float

    Examples
    --------
    >>> mae([1.0, 2.0], [1.0, 4.0])
    1.0
    """
    return float(skm.mean_absolute_error(y_true, mean))


def _positive_sd(sd) -> np.ndarray:
    """`sd` as float64, or InvalidInputError where it is not > 0 (inf is kept: no variance)."""
    sd = np.asarray(sd, dtype=np.float64)
    if not np.all(sd > 0):  # NaN fails too
        raise InvalidInputError(
            "sd must be a positive predictive standard deviation in every row, got "
            f"{sd[~(sd > 0)][:3].tolist()}; pass uncertainty()'s 'sd' (the total predictive "
            "sd), not a variance or a log sd")
    return sd


def gaussian_nll(y_true, mean, sd) -> float:
    """Mean negative log density of y under Normal(mean, sd) per point, in nats.

    Parameters
    ----------
    y_true, mean, sd : array-like
        `(n_obs,)` targets, predictive means and predictive sds (target units).

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        Where `sd` is not positive (NaN, 0 or negative); an infinite sd is scored.

    Examples
    --------
    >>> round(gaussian_nll([0.0], [0.0], [1.0]), 4)  # log √(2π)
    0.9189
    """
    return float(-np.mean(stats.norm.logpdf(y_true, loc=mean, scale=_positive_sd(sd))))


def mixture_nll(y_true, draws: dict) -> float:
    """Mean negative log density of y under the predictive mixture over posterior draws, in nats.

    The density is mean_s p(y | θ_s), computed with logsumexp so tails do not underflow.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` targets.
    draws : dict of str to numpy.ndarray
        `Posterior.predictive_draws(X)` of a regression or count likelihood, each
        `(n_draws, n_obs)` in target units (see `noise_distribution` for the keys).

    Returns
    -------
    float

    Examples
    --------
    Two draws of a Normal: the mixture of N(-1, 1) and N(1, 1) at 0.

    >>> import numpy as np
    >>> draws = {"mean": np.array([[-1.0], [1.0]]), "scale": np.ones((2, 1))}
    >>> round(mixture_nll([0.0], draws), 4)  # = -log N(0 | 1, 1), both parts equal at 0
    1.4189
    """
    dist = noise_distribution(draws)
    y = np.asarray(y_true, dtype=np.float64)
    log_density = dist.logpmf(y) if hasattr(dist.dist, "pmf") else dist.logpdf(y)
    n_draws = log_density.shape[0]
    return float(-np.mean(logsumexp(log_density, axis=0) - np.log(n_draws)))


def interval_coverage(y_true, lower, upper) -> float:
    """Share of observations with lower ≤ y ≤ upper (compare with the interval's level).

    Parameters
    ----------
    y_true, lower, upper : array-like
        `(n_obs,)` targets and interval bounds.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> interval_coverage([0.0, 2.0], [-1.0, -1.0], [1.0, 1.0])
    0.5
    """
    y = np.asarray(y_true)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def interval_width(lower, upper) -> float:
    """Mean width upper − lower of the intervals, in the target's units.

    Narrower is better at equal coverage.

    Parameters
    ----------
    lower, upper : array-like
        `(n_obs,)` interval bounds.

    Returns
    -------
    float

    Examples
    --------
    >>> interval_width([-1.0, 0.0], [1.0, 1.0])
    1.5
    """
    return float(np.mean(np.asarray(upper) - np.asarray(lower)))


def coverage_by_level(y_true, summary) -> tuple[np.ndarray, np.ndarray]:
    """Nominal against observed coverage of a regression `predictive_summary` with several levels.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` targets.
    summary : xarray.Dataset
        `predictive_summary` computed with a list of levels, e.g. level=[0.1, 0.2, …, 0.9]:
        "level" `(n_levels,)`, "lower" and "upper" `(n_levels, n_obs)`.

    Returns
    -------
    levels, observed : numpy.ndarray
        `(n_levels,)` each.

    Examples
    --------
    >>> import xarray as xr
    >>> summary = xr.Dataset({"level": ("level", [0.5, 0.9]),
    ...                       "lower": (("level", "obs"), [[-0.5, -0.5], [-2.0, -2.0]]),
    ...                       "upper": (("level", "obs"), [[0.5, 0.5], [2.0, 2.0]])})
    >>> coverage_by_level([0.0, 1.0], summary)
    (array([0.5, 0.9]), array([0.5, 1. ]))
    """
    levels = np.atleast_1d(summary["level"].values)
    lower = np.atleast_2d(summary["lower"].values)
    upper = np.atleast_2d(summary["upper"].values)
    observed = [interval_coverage(y_true, lo, hi) for lo, hi in zip(lower, upper, strict=False)]
    return levels, np.asarray(observed)


def crps_gaussian(y_true, mean, sd) -> float:
    """Mean continuous ranked probability score of Normal(mean, sd) forecasts, in target units.

    Closed form (Gneiting & Raftery 2007): sd · [z(2Φ(z) − 1) + 2φ(z) − 1/√π],
    z = (y − mean)/sd.

    Parameters
    ----------
    y_true, mean, sd : array-like
        `(n_obs,)` targets, predictive means and sds.

    Returns
    -------
    float
        ≥ 0; lower is better.

    Raises
    ------
    InvalidInputError
        Where `sd` is not positive (NaN, 0 or negative); an infinite sd is scored.

    Examples
    --------
    >>> round(crps_gaussian([0.0], [0.0], [1.0]), 4)  # (√2 − 1)/√π
    0.2337
    """
    sd = _positive_sd(sd)
    z = (np.asarray(y_true, dtype=np.float64) - mean) / sd
    crps = sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(np.mean(crps))


def crps_ensemble(y_true, samples) -> float:
    """Mean CRPS of forecasts given by samples of y per observation, in target units.

    CRPS = E|X − y| − ½ E|X − X'| with X, X' independent draws of the forecast; the second term
    uses the sorted-sample identity E|X − X'| = 2/m² Σ_i (2i − m − 1) x_(i), O(m log m). With
    the predictive mixture's samples (`predictive_summary(..., n_samples=m)`) this scores the
    full predictive distribution, not a Gaussian approximation of it.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` targets.
    samples : array-like
        `(m, n_obs)` forecast samples.

    Returns
    -------
    float
        ≥ 0; lower is better.

    Raises
    ------
    InvalidInputError
        When `samples` is not `(m, n_obs)` for the `n_obs` targets.

    Examples
    --------
    >>> crps_ensemble([0.0], [[-1.0], [1.0]])  # E|X - y| = 1, E|X - X'| = 1
    0.5
    """
    samples = np.sort(np.asarray(samples, dtype=np.float64), axis=0)
    y = np.asarray(y_true, dtype=np.float64)
    if y.ndim != 1 or samples.ndim != 2 or samples.shape[1] != y.size:
        raise InvalidInputError(
            f"samples must be (m, n_obs) with one column per target, got shape "
            f"{samples.shape} for {y.size} targets; pass uncertainty(X, n_samples=m)['samples']")
    m = samples.shape[0]
    to_truth = np.abs(samples - y).mean(axis=0)
    ranks = 2 * np.arange(1, m + 1) - m - 1
    spread = 2.0 / m**2 * np.tensordot(ranks, samples, axes=(0, 0))
    return float(np.mean(to_truth - 0.5 * spread))


def regression_summary(y_true, summary) -> dict[str, float]:
    """Scores of a regression `predictive_summary` (one interval level) against y.

    Parameters
    ----------
    y_true : array-like
        `(n_obs,)` targets.
    summary : xarray.Dataset
        "mean", "sd", "lower", "upper" `(n_obs,)`, and optionally "samples" `(m, n_obs)`.

    Returns
    -------
    dict of str to float
        "rmse", "mae", "gaussian_nll" (Normal with the predictive sd), "coverage" and
        "interval_width" of [lower, upper], and "crps": from `samples` when present, else the
        Gaussian closed form with the predictive sd.

    Raises
    ------
    InvalidInputError
        A summary with several interval levels, or an sd that is not positive.

    Examples
    --------
    >>> import xarray as xr
    >>> summary = xr.Dataset({name: ("obs", values) for name, values in
    ...                       {"mean": [0.0, 1.0], "sd": [1.0, 1.0],
    ...                        "lower": [-2.0, -1.0], "upper": [2.0, 3.0]}.items()})
    >>> scores = regression_summary([0.0, 4.0], summary)
    >>> scores["rmse"], scores["coverage"], scores["interval_width"]
    (2.121..., 0.5, 4.0)
    """
    mean, sd = summary["mean"].values, summary["sd"].values
    lower, upper = summary["lower"].values, summary["upper"].values
    if lower.ndim != 1 or upper.ndim != 1:
        raise InvalidInputError(
            f"regression_summary scores one interval level, but the summary has intervals of "
            f"shape {lower.shape}; select one (summary.sel(level=0.9)) or use "
            "coverage_by_level for several")
    crps = (crps_ensemble(y_true, summary["samples"].values) if "samples" in summary
            else crps_gaussian(y_true, mean, sd))
    return {"rmse": rmse(y_true, mean), "mae": mae(y_true, mean),
            "gaussian_nll": gaussian_nll(y_true, mean, sd),
            "coverage": interval_coverage(y_true, lower, upper),
            "interval_width": interval_width(lower, upper), "crps": crps}
