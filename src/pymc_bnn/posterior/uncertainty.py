"""Predictive uncertainty from posterior draws: how much is noise in the data, how much ignorance.

`predictive_summary` gives, per point and as an xarray Dataset, a classifier's entropy split
(total = aleatoric + epistemic, in nats: `pymc_bnn.posterior.classification_uncertainty`) or a
regressor's variance split (Var[y] = mean_s Var[y | θ_s] + Var_s E[y | θ_s]:
`pymc_bnn.posterior.regression_uncertainty`), with credible intervals. The two modules' names,
and the mixture's quantiles, also import from here (`__all__`).
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.posterior.classification_uncertainty import (
    check_class_sums,
    entropy_decomposition,
    expected_entropy,
    member_decomposition,
    mutual_information,
    predictive_entropy,
    summarise_class_draws,
    variation_ratio,
)
from pymc_bnn.posterior.fused import summary_values
from pymc_bnn.posterior.mixture_reference import mixture_quantile, noise_distribution
from pymc_bnn.posterior.regression_uncertainty import (
    regression_moments,
    sample_mixture,
    summarise_regression_draws,
)
from pymc_bnn.validation import refuse_nonfinite, whole_number

# Floats per (draws × obs) working array while summarising one chunk of observations: ~64 MB.
# A chunk holds a few such arrays at once (probabilities, cdf and pdf of the mixture, ...).
_CHUNK_FLOATS = 8_000_000


# --------------------------------------------------------------------------- the summary


def _levels(level) -> np.ndarray:
    try:
        levels = np.atleast_1d(np.asarray(level, dtype=np.float64))
    except (TypeError, ValueError):
        levels = np.array([np.nan])
    if levels.ndim != 1 or levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
        raise InvalidSettingError(
            f"level must be a probability strictly between 0 and 1 (or a list of them), got "
            f"{level!r}; e.g. level=0.9 for a central 90% interval"
        )
    return levels


def as_class_probabilities(mean: np.ndarray) -> np.ndarray:
    """`Posterior.predict`'s mean as class probabilities (n_obs, n_classes).

    A binary fit's mean is P(class 1) (n_obs,): the columns are 1 − p and p.

    Examples
    --------
    >>> as_class_probabilities(np.array([0.25, 1.0]))
    array([[0.75, 0.25],
           [0.  , 1.  ]])
    """
    return np.column_stack([1.0 - mean, mean]) if mean.ndim == 1 else mean


def with_class_labels(summary, classes: np.ndarray):
    """`predictive_summary`'s classifier output in the labels a model was fitted with.

    The `class` coordinate becomes `classes` and `predicted_class` holds labels instead of codes
    (what the estimators' and the CLI's `uncertainty` return).

    Examples
    --------
    >>> import xarray as xr
    >>> summary = xr.Dataset({"predicted_class": ("obs", [1, 0])}, coords={"class": [0, 1]})
    >>> labelled = with_class_labels(summary, np.array(["no", "yes"]))
    >>> labelled["predicted_class"].values.tolist(), labelled["class"].values.tolist()
    (['yes', 'no'], ['no', 'yes'])
    """
    codes = np.asarray(summary["predicted_class"].values, dtype=np.int64)
    summary = summary.assign_coords({"class": classes})
    summary["predicted_class"] = (summary["predicted_class"].dims, classes[codes])
    return summary


def predictive_summary(posterior, X, *, level=0.9, max_draws: int | None = None,
                       n_samples: int = 0, random_seed: int = 0, groups=None, **unknown):
    """Per-point predictive summary with the uncertainty split into aleatoric and epistemic.

    Observations are processed in chunks, so memory stays bounded for any n_obs × draws. Also
    `Posterior.uncertainty(X, ...)` and the estimators' `uncertainty`.

    Classifiers, dims ("obs", "class"), class coords = the fitted labels: `probability` (mean
    over draws of the network's class probabilities), `probability_lower`/`_upper` (central
    credible interval of that probability over draws), `predicted_class` (label of the
    largest mean probability), `predictive_entropy` (total), `expected_entropy` (aleatoric),
    `mutual_information` (epistemic), all nats, and `variation_ratio`.

    Regression and counts, dim "obs", user units: `mean`, `sd` with `aleatoric_sd` (noise)
    and `epistemic_sd` (weights) parts (variances add, see `regression_moments`), and
    `lower`/`upper`, exact quantiles of the predictive mixture over draws.

    Parameters
    ----------
    posterior : Posterior
        A fitted posterior.
    X : array-like
        `(n_obs, n_features)`.
    level : float or list of float or None, default 0.9
        Central interval probability, or several (a `level` dim). None: no intervals (no
        `lower`/`upper`, no `probability_lower`/`_upper`), which spares a regressor the
        quantiles of its predictive mixture.
    max_draws : int, optional
        Thin the posterior evenly to this many draws.
    n_samples : int, default 0
        Regression: > 0 adds `samples` ("sample", "obs") from the predictive mixture.
    random_seed : int, default 0
        Seeds those samples.
    groups : sequence, optional
        Each row's group, for a grouped fit.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    InvalidSettingError
        An unknown option or a bad `max_draws` / `n_samples`.

    Examples
    --------
    >>> summary = predictive_summary(fitted, tiny_data.X_test)
    >>> summary["probability"].dims, summary["probability"].shape
    (('obs', 'class'), (18, 2))
    >>> total = summary["predictive_entropy"]
    >>> parts = summary["expected_entropy"] + summary["mutual_information"]
    >>> bool(np.allclose(total, parts))  # total = aleatoric + epistemic, nats
    True
    >>> "probability_lower" in predictive_summary(fitted, tiny_data.X_test, level=None)
    False
    """
    import xarray as xr

    if unknown:  # reached through Posterior.uncertainty(**options) and the estimators' too
        raise InvalidSettingError(
            f"uncertainty() got unknown option(s) {', '.join(map(repr, sorted(unknown)))}; it "
            "takes level, max_draws, n_samples, random_seed and groups"
        )
    if max_draws is not None:
        max_draws = whole_number(max_draws, "max_draws", minimum=1)
    n_samples = whole_number(n_samples, "n_samples", minimum=0)
    X = check_features(X, n_features=posterior.spec.n_inputs)
    levels = None if level is None else _levels(level)
    n_draws = min(posterior.n_draws, max_draws or posterior.n_draws)
    # One fused float32 pass (`pymc_bnn.posterior.fused`) gives every number at once; samples
    # of the mixture, a linearised fit and float32 overflow take the float64 path below.
    values = None if n_samples else summary_values(
        posterior, X, levels, max_draws, None if groups is None else list(groups))
    if values is None:
        values = _float64_values(posterior, X, levels, max_draws, int(n_samples), random_seed,
                                 groups)
    refuse_nonfinite({k: v for k, v in values.items() if k not in ("sd", "aleatoric_sd")},
                     obs_axis={k: _dims(k).index("obs") for k in values})
    if "aleatoric_sd" in values and not np.isfinite(values["aleatoric_sd"]).all():
        # a Student-t draw with df ≤ 2 has no finite variance: the answer, not an overflow
        warn_caller("the noise has no finite variance in some draws (a Student-t with df ≤ 2, "
                    "heavy tails), so sd and aleatoric_sd are infinite there; the intervals "
                    "(level=) and the mean stay finite: use them to describe the spread")
    coords: dict[str, np.ndarray | list] = {"obs": np.arange(X.shape[0])}
    if levels is not None:
        coords["level"] = levels
    if "probability" in values:
        n_classes = values["probability"].shape[-1]
        classes = list(posterior.preprocessing.get("classes", range(n_classes)))
        coords["class"] = classes
        values["predicted_class"] = np.asarray(classes)[values["probability"].argmax(axis=-1)]
    dataset = xr.Dataset({k: (_dims(k), v) for k, v in values.items()}, coords=coords)
    if levels is not None and np.ndim(level) == 0:
        dataset = dataset.squeeze("level")
    if levels is not None:  # no attribute without intervals (netCDF has no None)
        dataset.attrs["level"] = float(levels[0]) if np.ndim(level) == 0 else levels.tolist()
    dataset.attrs.update(n_draws=int(n_draws), units="nats for entropies; user units otherwise")
    return dataset


def _float64_values(posterior, X, levels, max_draws, n_samples: int, random_seed: int,
                    groups) -> dict:
    """`predictive_summary`'s values from float64 per-draw values, chunk by chunk.

    The means and probabilities are `Posterior.predict`'s; the reference the fused pass is
    tested against, and the path for samples of the mixture and linearised fits.
    """
    n_draws = min(posterior.n_draws, max_draws or posterior.n_draws)
    n_outputs = max(2, posterior.spec.n_outputs)
    rows = max(1, _CHUNK_FLOATS // (n_draws * n_outputs))
    rng = np.random.default_rng(random_seed)
    parts = []
    for start in range(0, X.shape[0], rows):
        chunk = slice(start, start + rows)
        options = {} if groups is None else {"groups": list(groups)[chunk]}  # keeps tuple labels
        draws = posterior.predictive_draws(X[chunk], max_draws=max_draws, **options)
        parts.append(summarise_class_draws(draws["probs"], levels) if "probs" in draws
                     else summarise_regression_draws(draws, levels, n_samples, rng))
    values = {k: np.concatenate([p[k] for p in parts], axis=_dims(k).index("obs"))
              for k in parts[0]}
    # The reported probabilities and means are `Posterior.predict`'s, bit for bit the ones the
    # estimators and the CLI show (the entropies and intervals need every draw, from above).
    mean = posterior.predict(X, max_draws=max_draws,
                             **({} if groups is None else {"groups": list(groups)}))["mean"].values
    if "predictive_entropy" in values:
        values["probability"] = as_class_probabilities(mean)
    else:
        values["mean"] = mean
    return values


_DIMS = {"probability": ("obs", "class"), "probability_lower": ("level", "obs", "class"),
         "probability_upper": ("level", "obs", "class"), "lower": ("level", "obs"),
         "upper": ("level", "obs"), "samples": ("sample", "obs")}


def _dims(name: str) -> tuple[str, ...]:
    return _DIMS.get(name, ("obs",))


__all__ = ["check_class_sums", "entropy_decomposition", "expected_entropy", "member_decomposition",
           "mixture_quantile", "mutual_information", "noise_distribution", "predictive_entropy",
           "predictive_summary", "regression_moments", "sample_mixture", "variation_ratio",
           "with_class_labels"]
