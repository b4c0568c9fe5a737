"""Scores of regressors' predictions against held-out targets: errors, NLL, intervals, CRPS.

The scores take user units and return the mean over observations (a float); lower is better
except coverage.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import logsumexp
from sklearn import metrics as skm

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior.mixture_reference import noise_distribution


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
