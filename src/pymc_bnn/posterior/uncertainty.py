"""Predictive uncertainty from posterior draws: how much is noise in the data, how much ignorance.

For a classifier with class probabilities p_s = p(y | x, θ_s) for draws s = 1 … S:

- predictive entropy (total)     H[mean_s p_s]
- expected entropy (aleatoric)   mean_s H[p_s]        noise the model believes is in the data
- mutual information (epistemic) total − aleatoric    disagreement between plausible networks

all in nats, per observation. The mutual information is I(y; θ | x) ≥ 0 (entropy is concave);
it is 0 when every draw is the same network, and it is what BALD-style active learning
acquires on. Probabilities always come from the network output (`Posterior.predictive_draws`),
never from thresholded 0/1 draws, which would mix both kinds of uncertainty into one.

For regression the same split holds for the variance (law of total variance):
Var[y] = mean_s Var[y | θ_s] (aleatoric: the likelihood's noise) + Var_s E[y | θ_s] (epistemic:
the weights). `predictive_summary` gives both splits, per point, as an xarray Dataset.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.posterior.fused import summary_values
from pymc_bnn.posterior.mixture import mixture_quantile, mixture_quantiles, noise_distribution
from pymc_bnn.validation import check_features, refuse_nonfinite, whole_number

# Floats per (draws × obs) working array while summarising one chunk of observations: ~64 MB.
# A chunk holds a few such arrays at once (probabilities, cdf and pdf of the mixture, ...).
_CHUNK_FLOATS = 8_000_000


def _as_probs(probs) -> np.ndarray:
    """Class probabilities as float64 (S, n, K), clipped into [0, 1].

    A 2-D array (S, n) is read as P(y = 1) of a binary classifier and expanded to K = 2.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2:
        probs = np.stack([1.0 - probs, probs], axis=-1)
    if probs.ndim != 3:
        raise InvalidInputError(
            f"probs must be (draws, obs, classes) or (draws, obs) for P(y = 1), got shape "
            f"{probs.shape}; pass Posterior.predictive_draws(X)['probs']"
        )
    low, high = probs.min(), probs.max()  # NaN propagates through both
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InvalidInputError("probs contains NaN/inf; check the posterior draws for divergence")
    check_class_sums(probs, "probs")
    # Rounding can push a probability a hair outside [0, 1], where its log is undefined.
    return np.clip(probs, 0.0, 1.0) if low < 0.0 or high > 1.0 else probs


# How far a draw's class probabilities may sum from 1: float32 draws are off by ~1e-7.
_SUM_TOLERANCE = 1e-4


def check_class_sums(probs: np.ndarray, name: str = "probs") -> None:
    """Refuse class probabilities (..., K) that do not sum to 1 over the last axis.

    Entropies and the mutual information are defined for distributions over the classes only;
    a single column (P(y = 1) as `(draws, obs, 1)`) or unnormalised scores give numbers with
    no meaning (a "total" above its bound log K), so they are refused, not summarised.

    Parameters
    ----------
    probs : numpy.ndarray
        `(..., n_classes)` finite probabilities.
    name : str, default "probs"
        The argument's name, for the message.

    Raises
    ------
    InvalidInputError
        When some row's sum is further than 1e-4 from 1.

    Examples
    --------
    >>> import numpy as np
    >>> check_class_sums(np.array([[[0.25, 0.75]]]))
    >>> check_class_sums(np.array([[[0.3]]]))
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: probs must sum to 1 over the classes (last axis) ...
    """
    sums = _sum_classes(probs)
    worst = float(np.max(np.abs(sums - 1.0))) if sums.size else 0.0
    if worst > _SUM_TOLERANCE:
        raise InvalidInputError(
            f"{name} must sum to 1 over the classes (last axis) for every draw and point, but "
            f"a sum is {float(sums.flat[np.argmax(np.abs(sums - 1.0))]):.4g}; pass class "
            "probabilities (a softmax, not logits or per-class sigmoids), with the classes "
            "last, and a binary classifier's P(y = 1) as (draws, obs), not (draws, obs, 1)"
        )


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy over the last axis in nats, with 0·log 0 = 0 (scipy's `entr`)."""
    return entr(probs).sum(axis=-1)


def _p_log_q(probs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Σ_k p_k log q_k over the last axis, with 0·log 0 = 0 (q_k = 0 only where p_k = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0·log 0 is NaN here, set to 0 next
        terms = probs * np.log(q)
    return _sum_classes(np.where(probs > 0.0, terms, 0.0))


def _sum_classes(values: np.ndarray) -> np.ndarray:
    """Sum over the (short) class axis, class by class.

    Faster than a NumPy reduction over a length-2 last axis, and always in the same order.
    """
    total = values[..., 0].copy()
    for k in range(1, values.shape[-1]):
        total += values[..., k]
    return total


def _mean_over_draws(probs: np.ndarray) -> np.ndarray:
    """Mean over axis 0, shifted so that it is exactly p_0 when every draw equals p_0."""
    return probs[0] + (probs - probs[0]).mean(axis=0)


def _decomposition(probs: np.ndarray, mean: np.ndarray):
    """(total, aleatoric, epistemic) from clipped probs (S, n, K) and their mean (n, K)."""
    p_log_p = _p_log_q(probs, probs)  # (S, n): minus each draw's entropy
    # KL(p_s || mean) = Σ p log p − Σ p log mean, per draw. Both sums are formed the same way,
    # so a draw equal to the mean gives exactly 0; rounding elsewhere stays ~1e-16 and the
    # mean over draws cannot go below 0 except by that rounding, which is clipped.
    kl_per_draw = p_log_p - _p_log_q(probs, mean)
    epistemic = np.maximum(kl_per_draw.mean(axis=0), 0.0)
    return _entropy(mean), -p_log_p.mean(axis=0), epistemic


def entropy_decomposition(probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total, aleatoric and epistemic uncertainty per observation, in nats.

    total = predictive entropy, aleatoric = expected entropy, epistemic = mutual information;
    total = aleatoric + epistemic up to rounding (~1e-15), and all lie in [0, log K].
    The mutual information is computed as the mean KL divergence of each draw from the mean,
    mean_s KL(p_s || mean p), not as total − aleatoric: it is exactly 0 when every draw is the
    same network, and never negative.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    total, aleatoric, epistemic : numpy.ndarray
        `(n_obs,)` each, nats.

    Raises
    ------
    InvalidInputError
        On another shape, NaN/inf probabilities, or classes that do not sum to 1.

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> total, aleatoric, epistemic = entropy_decomposition(probs)
    >>> total.round(4), aleatoric.round(4), epistemic.round(4)
    (array([0.6931, 0.6931]), array([0.3251, 0.6931]), array([0.3681, 0.    ]))
    """
    probs = _as_probs(probs)
    return _decomposition(probs, _mean_over_draws(probs))


def predictive_entropy(probs) -> np.ndarray:
    """Total uncertainty H[mean over draws of p] per observation, in nats.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, log K].

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> predictive_entropy(probs).round(4)
    array([0.6931, 0.6931])
    """
    return _entropy(_mean_over_draws(_as_probs(probs)))


def expected_entropy(probs) -> np.ndarray:
    """Aleatoric uncertainty: the mean over draws of H[p_s] per observation, in nats.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, log K].

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> expected_entropy(probs).round(4)
    array([0.3251, 0.6931])
    """
    probs = _as_probs(probs)
    return -_p_log_q(probs, probs).mean(axis=0)


def mutual_information(probs) -> np.ndarray:
    """Epistemic uncertainty I(y; θ | x) = predictive − expected entropy, in nats, ≥ 0.

    Also known as the BALD score (Houlsby et al. 2011).

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`; 0 where every draw is the same network.

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> mutual_information(probs).round(4)
    array([0.3681, 0.    ])
    """
    return entropy_decomposition(probs)[2]


def member_decomposition(probs, n_members: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split an ensemble's predictive entropy by member: total, expected and disagreement.

    With p_m the predictive of member m (the mean over its draws) and p the equally weighted
    mixture of the members: total = H[p] (the same as `predictive_entropy` over every draw),
    expected = mean_m H[p_m] (what each member is unsure of on its own) and disagreement =
    total − expected = I(y; member | x) ≥ 0 (the members' disagreement, in nats).

    Parameters
    ----------
    probs : array-like
        `(n_draws, n_obs, n_classes)` or `(n_draws, n_obs)` draws ordered member by member
        (n_draws = n_members × draws per member, as an ensemble posterior's chains are stacked).
    n_members : int
        Number of members, e.g. the chains of an ensemble posterior.

    Returns
    -------
    total, expected, disagreement : numpy.ndarray
        `(n_obs,)` each, nats.

    Raises
    ------
    InvalidSettingError
        When `n_members` is not a whole number ≥ 1, or the draws do not split into
        `n_members` equal members.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9], [0.9], [0.1], [0.1]])   # two members, two draws each
    >>> total, expected, disagreement = member_decomposition(probs, n_members=2)
    >>> round(float(total[0]), 4), round(float(expected[0]), 4), round(float(disagreement[0]), 4)
    (0.6931, 0.3251, 0.3681)
    """
    probs = _as_probs(probs)
    n_members = whole_number(n_members, "n_members", minimum=1)
    if probs.shape[0] % n_members:
        raise InvalidSettingError(
            f"{probs.shape[0]} draws do not split into {n_members} equal members; pass the "
            "number of chains of an ensemble posterior")
    per_member = probs.reshape(n_members, -1, *probs.shape[1:]).mean(axis=1)  # (M, n, K)
    return _decomposition(per_member, _mean_over_draws(per_member))


def variation_ratio(probs) -> np.ndarray:
    """1 − (share of draws whose most probable class is the modal one), per observation.

    0 means every draw picks the same class; it measures disagreement between draws' decisions,
    not the confidence of each (Freeman 1965; Gal 2016). Ties within a draw go to the lowest
    class index.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, 1 − 1/K].

    Examples
    --------
    >>> import numpy as np
    >>> variation_ratio(np.array([[0.9, 0.8], [0.2, 0.7], [0.6, 0.9]]))  # 3 draws, 2 obs
    array([0.333..., 0.       ])
    """
    return _variation_ratio(_as_probs(probs))


def _variation_ratio(probs: np.ndarray) -> np.ndarray:
    """`variation_ratio` of probabilities `_as_probs` has checked (S, n, K)."""
    votes = probs.argmax(axis=-1)  # (S, n)
    n_classes = probs.shape[-1]
    counts = np.stack([(votes == k).sum(axis=0) for k in range(n_classes)], axis=-1)
    return 1.0 - counts.max(axis=-1) / probs.shape[0]


# --------------------------------------------------------------------------- regression


def regression_moments(draws: dict) -> dict[str, np.ndarray]:
    """Predictive mean and sd, with the sd split by the law of total variance.

    aleatoric_sd² = mean over draws of the noise variance (Student-t: scale²·df/(df−2),
    infinite when df ≤ 2), epistemic_sd² = variance over draws of the per-draw mean, sd² = their
    sum (the sds themselves do not add).

    Parameters
    ----------
    draws : dict of str to array-like
        `Posterior.predictive_draws(X)` of a regression or count likelihood, each
        `(n_draws, n_obs)` (keys as in `noise_distribution`).

    Returns
    -------
    dict of str to numpy.ndarray
        "mean", "sd", "aleatoric_sd", "epistemic_sd", each `(n_obs,)`, target units.

    Raises
    ------
    InvalidInputError
        When a moment is not finite (inputs far outside the training range).

    Examples
    --------
    >>> import numpy as np
    >>> moments = regression_moments({"mean": np.array([[-1.0], [1.0]]),
    ...                               "scale": np.array([[1.0], [1.0]])})
    >>> {name: value.round(4).tolist() for name, value in moments.items()}
    {'mean': [0.0], 'sd': [1.4142], 'aleatoric_sd': [1.0], 'epistemic_sd': [1.0]}
    """
    unit = 1.0
    if "scale" in draws:  # location-scale: work in units of the largest value, so a target
        # on a 1e300 scale does not overflow when squared
        unit = float(max(np.max(np.abs(draws["mean"])), np.max(np.abs(draws["scale"])))) or 1.0
        # a power of two: dividing by it is exact, so ordinary scales give the same numbers
        unit = 2.0 ** int(np.frexp(unit)[1]) if np.isfinite(unit) else 1.0
        draws = {**draws, "mean": np.asarray(draws["mean"], dtype=np.float64) / unit,
                 "scale": np.asarray(draws["scale"], dtype=np.float64) / unit}
    dist = noise_distribution(draws)
    mean = np.asarray(draws["mean"], dtype=np.float64)
    noise_var = np.broadcast_to(dist.var(), mean.shape)
    if "df" in draws:  # SciPy's t variance is NaN (undefined) for df ≤ 1 and inf for df ≤ 2:
        # either way E[y²] diverges, so the variance is infinite (as the fused pass has it)
        noise_var = np.where(np.broadcast_to(np.asarray(draws["df"]), mean.shape) <= 2,
                             np.inf, noise_var)
    aleatoric = noise_var.mean(axis=0)
    epistemic = mean.var(axis=0)
    moments = {"mean": mean.mean(axis=0) * unit, "sd": np.sqrt(aleatoric + epistemic) * unit,
               "aleatoric_sd": np.sqrt(aleatoric) * unit,
               "epistemic_sd": np.sqrt(epistemic) * unit}
    if "df" in draws and np.any(np.asarray(draws["df"]) <= 2):  # a true infinite variance
        refuse_nonfinite({k: moments[k] for k in ("mean", "epistemic_sd")})
    else:
        refuse_nonfinite(moments)
    return moments


def sample_mixture(dist, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of y per observation from the predictive mixture over posterior draws.

    Each sample picks a posterior draw at random, then y from that draw's noise distribution.

    Parameters
    ----------
    dist : scipy.stats frozen distribution
        Over `(n_draws, n_obs)`, as from `noise_distribution`.
    n_samples : int
        Samples per observation.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        `(n_samples, n_obs)`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> dist = stats.norm(loc=np.array([[-100.0, 0.0], [100.0, 0.0]]), scale=1.0)
    >>> samples = sample_mixture(dist, 1000, np.random.default_rng(0))
    >>> samples.shape, bool(np.all(np.abs(np.abs(samples[:, 0]) - 100) < 5))
    ((1000, 2), True)
    """
    n_draws, n_obs = np.broadcast_shapes(*(np.shape(a) for a in dist.args),
                                         *(np.shape(v) for v in dist.kwds.values()))
    chosen = rng.integers(n_draws, size=(n_samples, n_obs))
    columns = np.arange(n_obs)
    params = {k: np.broadcast_to(v, (n_draws, n_obs))[chosen, columns]
              for k, v in dist.kwds.items()}
    return dist.dist(**params).rvs(random_state=rng)


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


def _classification_chunk(probs: np.ndarray, levels: np.ndarray | None) -> dict:
    """Entropies, variation ratio and (unless `levels` is None) intervals of one chunk's draws.

    The probabilities themselves are `Posterior.predict`'s, filled in by the caller; the mean
    over draws is formed once here, for the entropies.
    """
    probs = _as_probs(probs)
    total, aleatoric, epistemic = _decomposition(probs, _mean_over_draws(probs))
    out = {"predictive_entropy": total, "expected_entropy": aleatoric,
           "mutual_information": epistemic, "variation_ratio": _variation_ratio(probs)}
    if levels is None:
        return out
    tails = np.concatenate([(1 - levels) / 2, (1 + levels) / 2])
    if probs.shape[-1] == 2:  # P(class 0) = 1 − P(class 1): sort one class, not two
        ends = np.quantile(probs[..., 1], tails, axis=0)  # (2L, n)
        n_levels = len(levels)
        flipped = 1.0 - np.concatenate([ends[n_levels:], ends[:n_levels]])
        bounds = np.stack([flipped, ends], axis=-1)
    else:
        bounds = np.quantile(probs, tails, axis=0)  # (2L, n, K)
    return {"probability_lower": bounds[: len(levels)],
            "probability_upper": bounds[len(levels):], **out}


def _regression_chunk(draws: dict, levels: np.ndarray | None, n_samples: int, rng) -> dict:
    """Moments, interval ends (unless `levels` is None) and samples of one chunk's draws."""
    out = regression_moments(draws)
    if levels is not None:  # every level's two ends in one compiled solve: (2L, n)
        ends = mixture_quantiles(draws, np.concatenate([(1 - levels) / 2, (1 + levels) / 2]))
        out["lower"], out["upper"] = ends[: len(levels)], ends[len(levels):]
    if n_samples:
        out["samples"] = sample_mixture(noise_distribution(draws), n_samples, rng)
    return out


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
        parts.append(_classification_chunk(draws["probs"], levels) if "probs" in draws
                     else _regression_chunk(draws, levels, n_samples, rng))
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


__all__ = ["check_class_sums", "entropy_decomposition", "expected_entropy", "mixture_quantile",
           "mutual_information", "noise_distribution", "predictive_entropy", "predictive_summary",
           "regression_moments", "sample_mixture", "variation_ratio", "with_class_labels"]
