"""A regressor's predictive uncertainty from its draws: moments split by source, samples.

The variance splits by the law of total variance: Var[y] = mean_s Var[y | θ_s] (aleatoric: the
likelihood's noise) + Var_s E[y | θ_s] (epistemic: the weights).
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.posterior.mixture import mixture_quantiles
from pymc_bnn.posterior.mixture_reference import noise_distribution
from pymc_bnn.validation import refuse_nonfinite


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


def summarise_regression_draws(draws: dict, levels: np.ndarray | None, n_samples: int,
                               rng) -> dict:
    """Moments, interval ends (unless `levels` is None) and samples of one chunk's draws.

    Parameters
    ----------
    draws : dict of str to numpy.ndarray
        `Posterior.predictive_draws(X)` of a regression or count likelihood, each
        `(n_draws, n_obs)`.
    levels : numpy.ndarray or None
        `(L,)` central interval probabilities, or None for no intervals.
    n_samples : int
        Samples of the predictive mixture per observation (0: none).
    rng : numpy.random.Generator
        Source of those samples.

    Returns
    -------
    dict of str to numpy.ndarray
        `regression_moments`' four `(n_obs,)`; with levels "lower" and "upper" `(L, n_obs)`;
        with samples "samples" `(n_samples, n_obs)`.

    Examples
    --------
    >>> import numpy as np
    >>> draws = {"mean": np.array([[-1.0], [1.0]]), "scale": np.array([[1.0], [1.0]])}
    >>> out = summarise_regression_draws(draws, np.array([0.9]), 3, np.random.default_rng(0))
    >>> sorted(out), out["lower"].shape, out["samples"].shape
    (['aleatoric_sd', 'epistemic_sd', 'lower', 'mean', 'samples', 'sd', 'upper'], (1, 1), (3, 1))
    """
    out = regression_moments(draws)
    if levels is not None:  # every level's two ends in one compiled solve: (2L, n)
        ends = mixture_quantiles(draws, np.concatenate([(1 - levels) / 2, (1 + levels) / 2]))
        out["lower"], out["upper"] = ends[: len(levels)], ends[len(levels):]
    if n_samples:
        out["samples"] = sample_mixture(noise_distribution(draws), n_samples, rng)
    return out
