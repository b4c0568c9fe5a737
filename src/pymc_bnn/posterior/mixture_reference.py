"""The predictive mixture in SciPy: each draw's distribution of y, the mixture's quantile per row.

`noise_distribution` gives the likelihood's distribution of y under every draw as one SciPy
frozen distribution over `(n_draws, n_obs)`; `mixture_quantile` finds a quantile of their
equal-weight mixture at every row on the host (safeguarded Newton steps on the mixture CDF, or
bisection over the whole numbers for counts). The compiled quantiles of
`pymc_bnn.posterior.mixture` are checked against these, and leave them the count rows whose walk
would be very long.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError


def noise_distribution(draws: dict):
    """The likelihood's distribution of y per draw, as a SciPy frozen distribution.

    Parameters
    ----------
    draws : dict of str to array-like
        `Posterior.predictive_draws(X)` of a regression or count likelihood, each
        `(n_draws, n_obs)` in target units: {"mean", "scale"} Normal; {"mean", "scale", "df"}
        Student-t (mean = location); {"mean"} Poisson; {"mean", "alpha"} negative binomial
        (variance mean + mean²/alpha).

    Returns
    -------
    scipy.stats frozen distribution
        Over `(n_draws, n_obs)`.

    Raises
    ------
    InvalidSettingError
        For keys of no pymc-bnn likelihood.

    Examples
    --------
    >>> import numpy as np
    >>> dist = noise_distribution({"mean": np.array([[2.0, 5.0]])})
    >>> dist.dist.name, dist.mean()
    ('poisson', array([[2., 5.]]))
    """
    from scipy import stats

    keys = set(draws) - {"probs"}
    mean = np.asarray(draws["mean"], dtype=np.float64)
    if keys == {"mean", "scale"}:
        return stats.norm(loc=mean, scale=draws["scale"])
    if keys == {"mean", "scale", "df"}:
        return stats.t(df=draws["df"], loc=mean, scale=draws["scale"])
    if keys == {"mean"}:
        return stats.poisson(mu=mean)
    if keys == {"mean", "alpha"}:
        alpha = np.asarray(draws["alpha"], dtype=np.float64)
        return stats.nbinom(n=alpha, p=alpha / (alpha + mean))
    raise InvalidSettingError(
        f"no predictive distribution is known for draws with keys {sorted(draws)}; expected "
        "those of a pymc-bnn likelihood (mean/scale[/df], mean[/alpha])"
    )


def _is_discrete(dist) -> bool:
    return hasattr(dist.dist, "pmf")


def mixture_quantile(dist, q: float, *, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """Quantile q of the equal-weight mixture over draws of `dist`, per observation.

    The quantile lies between the smallest and largest per-draw quantile; inside that bracket a
    safeguarded Newton step on the mixture CDF (bisection when Newton leaves the bracket)
    converges to ``|F − q| < tol`` in a handful of iterations. Discrete distributions: bisection
    over the integers (the smallest k with F(k) ≥ q), between 0 and a bound found by doubling.
    An observation leaves the iteration once it has converged, and later steps evaluate the
    distribution at the others only (most converge in 4 or 5 steps).

    Parameters
    ----------
    dist : scipy.stats frozen distribution
        Over `(n_draws, n_obs)`, as from `noise_distribution`.
    q : float
        Probability in (0, 1).
    tol : float, default 1e-10
        Largest ``|mixture CDF − q|`` accepted (continuous only).
    max_iter : int, default 200
        Newton/bisection steps at most (continuous only).

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`.

    Examples
    --------
    The median of an even mixture of N(-1, 1) and N(1, 1) is 0 by symmetry:

    >>> import numpy as np
    >>> from scipy import stats
    >>> dist = stats.norm(loc=np.array([[-1.0], [1.0]]), scale=1.0)
    >>> mixture_quantile(dist, 0.5).round(8)
    array([0.])
    """
    n_obs = int(np.broadcast_shapes(*(np.shape(a) for a in (*dist.args,
                                                             *dist.kwds.values())))[-1])
    if _is_discrete(dist):
        return _integer_mixture_quantile(dist, q, n_obs)
    per_draw = dist.ppf(q)
    low, high = per_draw.min(axis=0), per_draw.max(axis=0)
    x = (low + high) / 2
    todo = np.arange(n_obs)  # the observations not converged yet, and their distribution
    for _ in range(max_iter):
        error = dist.cdf(x[todo]).mean(axis=0) - q
        going = np.abs(error) >= tol
        if not going.any():
            break
        todo, error, dist = todo[going], error[going], _observations(dist, going, len(going))
        at, lo, hi = x[todo], low[todo], high[todo]
        lo, hi = np.where(error < 0, at, lo), np.where(error < 0, hi, at)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = at - error / dist.pdf(at).mean(axis=0)
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        x[todo], low[todo], high[todo] = np.where(inside, newton, (lo + hi) / 2), lo, hi
    return x


def _integer_mixture_quantile(dist, q: float, n_obs: int) -> np.ndarray:
    """The smallest whole k ≥ 0 with mixture CDF(k) ≥ q, per observation, by bisection."""
    high = np.ones(n_obs)
    short = np.flatnonzero(dist.cdf(high).mean(axis=0) < q)
    while short.size:  # double the bound where the mixture has not reached q yet
        high[short] *= 2
        part = _observations(dist, short, n_obs)
        short = short[part.cdf(high[short]).mean(axis=0) < q]
    low = np.zeros(n_obs)  # invariant: CDF(high) ≥ q, and CDF(k) < q for every k < low
    todo = np.flatnonzero(high > low)
    while todo.size:
        part = _observations(dist, todo, n_obs)
        mid = np.floor((low[todo] + high[todo]) / 2)
        above = part.cdf(mid).mean(axis=0) >= q
        high[todo] = np.where(above, mid, high[todo])
        low[todo] = np.where(above, low[todo], mid + 1)
        todo = todo[high[todo] > low[todo]]
    return high


def _observations(dist, index, n_obs: int):
    """`dist` (over `(n_draws, n_obs)`) at the observations `index` (positions or a mask)."""
    def take(value):
        value = np.asarray(value)
        return value[..., index] if value.ndim and value.shape[-1] == n_obs else value

    return dist.dist(*map(take, dist.args), **{k: take(v) for k, v in dist.kwds.items()})


__all__ = ["mixture_quantile", "noise_distribution"]
