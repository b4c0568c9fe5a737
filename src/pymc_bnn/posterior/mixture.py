"""Quantiles of the predictive mixture over posterior draws, in compiled (JAX) code.

At one row the predictive distribution of y is the equal-weight mixture over draws s of the
likelihood's distribution with draw s's parameters; its quantiles (the interval ends of
`uncertainty()`) have no closed form. `mixture_quantiles` finds them for every row and level at
once in jitted float64 code, with no loop over rows:

- Normal and Student-t: the quantile lies between the smallest and largest per-draw quantile;
  from the mean of those, safeguarded Halley steps on the mixture CDF (Newton's or bisection
  when Halley's leaves the bracket) until ``|F − q| < tol`` on every row (3 steps and a check,
  typically). The Student-t iteration runs on the host with SciPy's CDF (see
  `_student_t_quantiles`); each draw's own t quantile is computed once per draw, not per row.
- Poisson and negative binomial: the smallest whole k with F(k) ≥ q, found by walking k upward
  from a bound below every draw's bulk (0 for small counts), adding each draw's probability
  mass by its recurrence (a multiplication per draw and step instead of an incomplete gamma or
  beta function).

The answers are those of `mixture_quantile` (SciPy's distributions, in
`pymc_bnn.posterior.mixture_reference`; it and `noise_distribution` also import from here) to
within the tolerance; tests/posterior/test_mixture.py compares them.
"""

from __future__ import annotations

import functools

import numpy as np

from pymc_bnn._runtime.jax_setup import import_jax
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.posterior.mixture_reference import mixture_quantile, noise_distribution

# A count walk starts at min over draws of (mean − _START_SDS·sd), clipped at 0: the mass of a
# Poisson or negative binomial below 8 sd under its mean is far below the 1e-10 of a quantile.
_START_SDS = 8.0
# ... and ends, whatever the rounding of the running sums, above every draw's bulk.
_END_SDS = 40.0
# Longest walk over k (steps); rows with a longer one (counts in the millions) are bisected.
_MAX_WALK = 50_000
# Rows walked at once: the walk's arrays (draws × rows, float64) then stay near the cache (16 MB
# at 1,000 draws) instead of streaming through memory at every step, each run of rows stops at
# its own largest count, and no run is padded by more than the next power of two of its rows.
_COUNT_COLUMNS = 2048
# log of the smallest normal float64 (about 1e-308) with a margin: a draw whose starting mass is
# below exp of this cannot be carried by multiplication alone (it would underflow to 0).
_LOG_TINY = -700.0


def mixture_quantiles(draws: dict, probabilities, *, tol: float = 1e-10,
                      max_iter: int = 200) -> np.ndarray:
    """Quantiles of the equal-weight mixture over draws, per row, in compiled code.

    Parameters
    ----------
    draws : dict of str to array-like
        `Posterior.predictive_draws(X)` of a regression or count likelihood, each
        `(n_draws, n_obs)` (keys as in `pymc_bnn.posterior.uncertainty.noise_distribution`):
        {"mean", "scale"} Normal, {"mean", "scale", "df"} Student-t, {"mean"} Poisson,
        {"mean", "alpha"} negative binomial.
    probabilities : float or array-like of float
        `(n_q,)` probabilities in (0, 1).
    tol : float, default 1e-10
        Largest ``|mixture CDF − q|`` accepted (continuous likelihoods).
    max_iter : int, default 200
        Newton/bisection steps at most (continuous likelihoods).

    Returns
    -------
    numpy.ndarray
        `(n_q, n_obs)`, float64: whole numbers for counts.

    Raises
    ------
    InvalidSettingError
        For keys of no pymc-bnn likelihood.

    Examples
    --------
    The median of an even mixture of N(-1, 1) and N(1, 1) is 0 by symmetry; its 95% point
    is where the mean of the two Normal CDFs is 0.95:

    >>> import numpy as np
    >>> from scipy import stats
    >>> draws = {"mean": np.array([[-1.0], [1.0]]), "scale": np.ones((2, 1))}
    >>> median, upper = mixture_quantiles(draws, [0.5, 0.95])
    >>> float(median[0]), round(float(stats.norm.cdf(upper[0], [-1, 1]).mean()), 10)
    (0.0, 0.95)
    >>> mixture_quantiles({"mean": np.array([[4.0]])}, [0.05, 0.95])[:, 0]  # Poisson(4)
    array([1., 8.])
    """
    keys = set(draws) - {"probs"}
    qs = np.atleast_1d(np.asarray(probabilities, dtype=np.float64))
    mean = np.asarray(draws["mean"], dtype=np.float64)
    import_jax()
    import jax

    with jax.enable_x64(True):
        n_obs = mean.shape[1]
        if keys == {"mean", "scale"}:
            scale = np.broadcast_to(np.asarray(draws["scale"], dtype=np.float64), mean.shape)
            standard = _standard_quantiles(qs, None, mean.shape)
            solve = _normal_solver(int(max_iter))
            out = solve(_padded(mean, 0.0), _padded(scale, 1.0), standard, qs, float(tol))
        elif keys == {"mean", "scale", "df"}:
            out = _student_t_quantiles(draws, qs, tol=tol, max_iter=max_iter)
        elif keys in ({"mean"}, {"mean", "alpha"}):
            alpha = (None if "alpha" not in keys else
                     np.broadcast_to(np.asarray(draws["alpha"], dtype=np.float64), mean.shape))
            # each run of rows is walked on the next CPU device: the walks are dispatched
            # before any is read, so the cores (and the host's set-up of the next run) overlap
            from pymc_bnn.posterior.device_chunks import devices

            targets = devices()
            runs = [_padded_count_quantiles(mean, alpha, qs, cols, targets[i % len(targets)])
                    for i, cols in enumerate(_column_chunks(n_obs))]
            out = np.concatenate([np.asarray(run) for run in runs], axis=1)
        else:
            raise InvalidSettingError(
                f"no predictive distribution is known for draws with keys {sorted(draws)}; "
                "expected those of a pymc-bnn likelihood (mean/scale[/df], mean[/alpha])")
        return np.asarray(out, dtype=np.float64)[:, :n_obs]


def _column_chunks(n_obs: int) -> list[slice]:
    """Rows (columns of the draws) in runs of `_COUNT_COLUMNS`, walked one run at a time."""
    return [slice(start, min(start + _COUNT_COLUMNS, n_obs))
            for start in range(0, n_obs, _COUNT_COLUMNS)]


def _padded_count_quantiles(mean: np.ndarray, alpha: np.ndarray | None, qs: np.ndarray,
                            cols, device=None):
    """`_count_quantiles` of the columns `cols` (a slice or indices), padded and cut back.

    With a JAX `device`, the walk runs there and the result may still be computing (a JAX
    array): read it with `numpy.asarray`.
    """
    mean = mean[:, cols]
    quantiles = _count_quantiles(_padded(mean, 1.0),
                                 None if alpha is None else _padded(alpha[:, cols], 1.0), qs,
                                 device)
    return quantiles[:, :mean.shape[1]]


def _padded(values: np.ndarray, fill: float) -> np.ndarray:
    """(S, n) values with columns of `fill` appended up to a power of two (at least 8) rows.

    The jitted solvers then see a few shapes only, so new data sizes reuse compiled code.
    """
    n_obs = values.shape[1]
    size = max(8, 1 << (n_obs - 1).bit_length())
    if size == n_obs:
        return values
    return np.concatenate([values, np.full((values.shape[0], size - n_obs), fill)], axis=1)


def _standard_quantiles(qs: np.ndarray, df, shape) -> np.ndarray:
    """Each draw's standard quantile (n_q, n_draws or 1, n_obs or 1): ndtri(q), or the t one.

    A Student-t's df is one number per draw (the same on every row), so its quantile function
    runs once per draw, not per draw and row.
    """
    from scipy import special

    if df is None:
        return special.ndtri(qs)[:, None, None]
    df = np.broadcast_to(np.asarray(df, dtype=np.float64), shape)
    if np.all(df == df[:, :1]):
        df = df[:, :1]
    return special.stdtrit(df[None], qs[:, None, None])


@functools.lru_cache(maxsize=4)
def _normal_solver(max_iter: int):
    """Jitted f(mean, scale, standard, qs, tol) -> (n_q, n_obs): safeguarded Halley steps."""
    import jax
    import jax.numpy as jnp
    from jax.scipy import special

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()

    def solve(mean, scale, standard, qs, tol):
        per_draw = mean[None] + scale[None] * standard  # (n_q, S, n)
        low, high = per_draw.min(axis=1), per_draw.max(axis=1)
        x = jnp.clip(per_draw.mean(axis=1), low, high)
        q = qs[:, None]

        def step(state):
            i, x, low, high, done = state
            z = (x[:, None, :] - mean[None]) / scale[None]
            density = jnp.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
            error = special.ndtr(z).mean(axis=1) - q
            done = done | (jnp.abs(error) < tol)
            x, low, high = _halley_step(jnp, x, low, high, error,
                                        (density / scale[None]).mean(axis=1),
                                        (-z * density / (scale * scale)[None]).mean(axis=1))
            return i + 1, jnp.where(done, state[1], x), low, high, done

        def going(state):
            i, *_, done = state
            return (i < max_iter) & ~jnp.all(done)

        state = (0, x, low, high, jnp.zeros(x.shape, dtype=bool))
        return jax.lax.while_loop(going, step, state)[1]

    return jax.jit(solve)


def _halley_step(xp, x, low, high, error, pdf, pdf_slope):
    """One safeguarded step towards F(x) = q: (x, low, high) after it, on every row.

    `error` = F(x) − q, `pdf` = F'(x), `pdf_slope` = F''(x). The bracket shrinks to the side
    that holds the root; Halley's step (cubic convergence) is taken when it stays inside it,
    else Newton's, else the bracket's midpoint.
    """
    below = error < 0
    low, high = xp.where(below, x, low), xp.where(below, high, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        newton = x - error / pdf
        halley = x - 2 * error * pdf / (2 * pdf * pdf - error * pdf_slope)
    moved = (low + high) / 2
    for candidate in (newton, halley):  # the last one inside the bracket wins
        inside = xp.isfinite(candidate) & (candidate > low) & (candidate < high)
        moved = xp.where(inside, candidate, moved)
    return moved, low, high


def _student_t_quantiles(draws: dict, qs: np.ndarray, *, tol: float,
                         max_iter: int) -> np.ndarray:
    """`mixture_quantiles` of Student-t draws: the same Halley iteration, on the host.

    The t CDF is SciPy's `stdtr`: JAX's incomplete beta function is several times slower on
    CPU and accurate to about 5e-10 only, too coarse for a 1e-10 tolerance. A row leaves the
    iteration once it has converged.
    """
    from scipy import special

    mean = np.asarray(draws["mean"], dtype=np.float64)
    scale = np.broadcast_to(np.asarray(draws["scale"], dtype=np.float64), mean.shape)
    df = np.broadcast_to(np.asarray(draws["df"], dtype=np.float64), mean.shape)
    standard = _standard_quantiles(qs, df, mean.shape)  # (n_q, S, 1 or n)
    out = np.empty((qs.size, mean.shape[1]))
    log_norm = (special.gammaln((df + 1) / 2) - special.gammaln(df / 2)
                - 0.5 * np.log(df * np.pi))
    for j, q in enumerate(qs):
        per_draw = mean + scale * standard[j]
        low, high = per_draw.min(axis=0), per_draw.max(axis=0)
        x = np.clip(per_draw.mean(axis=0), low, high)
        todo = np.arange(mean.shape[1])
        m, s, d, c = mean, scale, df, log_norm
        for _ in range(max_iter):
            z = (x[todo] - m) / s
            error = special.stdtr(d, z).mean(axis=0) - q
            going = np.abs(error) >= tol
            if not going.any():
                break
            todo, error, z = todo[going], error[going], z[:, going]
            m, s, d, c = m[:, going], s[:, going], d[:, going], c[:, going]
            density = np.exp(c - (d + 1) / 2 * np.log1p(z * z / d))
            slope = -(d + 1) * z / (d + z * z) * density
            x[todo], low[todo], high[todo] = _halley_step(
                np, x[todo], low[todo], high[todo], error, (density / s).mean(axis=0),
                (slope / (s * s)).mean(axis=0))
        out[j] = x
    return out


def _count_quantiles(mean: np.ndarray, alpha, qs: np.ndarray, device=None):
    """The smallest whole k with mixture F(k) ≥ q, (n_q, n_obs), Poisson or negative binomial.

    The walk runs on `device` (a JAX device, or the default one), and its result is returned
    without waiting for it (`numpy.asarray` reads it).

    Rows whose walk would be very long (counts in the millions) are left to
    `pymc_bnn.posterior.uncertainty.mixture_quantile` (bisection with SciPy's CDFs); rows
    with draws that are not finite get NaN (which `uncertainty()` refuses, naming them).
    """
    with np.errstate(invalid="ignore", over="ignore"):
        variance = mean if alpha is None else mean + mean * mean / alpha
        sd = np.sqrt(variance)
        start = np.maximum(0.0, np.floor((mean - _START_SDS * sd).min(axis=0)))  # (n,)
        end = np.ceil((mean + _END_SDS * sd).max(axis=0)) + 20  # (n,)
    finite = np.isfinite(end)
    elsewhere = ~(finite & (end - start <= _MAX_WALK))
    if elsewhere.any():
        out = np.full((qs.size, mean.shape[1]), np.nan)
        long = elsewhere & finite
        if long.any():
            out[:, long] = _bisected(mean[:, long], None if alpha is None else alpha[:, long],
                                     qs)
        walked = np.flatnonzero(~elsewhere)
        if walked.size:
            out[:, walked] = _padded_count_quantiles(mean, alpha, qs, walked)
        return out
    log_mass = _log_mass(start, mean, alpha)  # (S, n) at k = start
    before = _cdf_below(start, mean, alpha)  # (S, n): P(y < start), exact
    # rows where the quantile is below `start` after all (never for real draws): walk from 0
    low_row = (before.mean(axis=0)[None] >= qs[:, None]).any(axis=0) & (start > 0)
    if low_row.any():
        start = np.where(low_row, 0.0, start)
        log_mass = _log_mass(start, mean, alpha)
        before = np.where(low_row, 0.0, before)
    carried = bool((log_mass > _LOG_TINY).all())
    walk = _count_walker(alpha is not None, carried)
    args = (mean, alpha, qs, start, end, before, log_mass)
    if device is not None:
        import jax

        args = jax.device_put(args, device)
    return walk(*args)


def _bisected(mean: np.ndarray, alpha, qs: np.ndarray) -> np.ndarray:
    """`pymc_bnn.posterior.uncertainty.mixture_quantile` of these count draws, per q."""
    draws = {"mean": mean} if alpha is None else {"mean": mean, "alpha": alpha}
    dist = noise_distribution(draws)
    return np.stack([mixture_quantile(dist, q) for q in qs])


def _log_mass(k: np.ndarray, mean: np.ndarray, alpha) -> np.ndarray:
    """The log of P(y = k) per draw (S, n) at k (n,); the terms in k only where k > 0."""
    from scipy import special

    rows = np.flatnonzero(k > 0)
    at = k[rows]
    if alpha is None:
        out = -mean
        if rows.size:
            out[:, rows] += at * np.log(mean[:, rows]) - special.gammaln(at + 1)
        return out
    p = alpha / (alpha + mean)
    out = alpha * np.log(p)
    if rows.size:
        a = alpha[:, rows]
        out[:, rows] += (special.gammaln(at + a) - special.gammaln(a)
                         - special.gammaln(at + 1) + at * np.log1p(-p[:, rows]))
    return out


def _cdf_below(k: np.ndarray, mean: np.ndarray, alpha) -> np.ndarray:
    """P(y < k) = P(y ≤ k − 1) per draw (S, n), exact; 0 where k = 0 (no function call)."""
    from scipy import special

    out = np.zeros(mean.shape)
    rows = np.flatnonzero(k > 0)
    if rows.size == 0:
        return out
    below = k[rows] - 1
    if alpha is None:
        out[:, rows] = special.pdtr(below, mean[:, rows])
    else:
        a = alpha[:, rows]
        out[:, rows] = special.nbdtr(below, a, a / (a + mean[:, rows]))
    return out


@functools.lru_cache(maxsize=8)
def _count_walker(negative_binomial: bool, carried: bool):
    """Jitted walk over k: add each draw's mass, note the first k where the mixture reaches q.

    `carried`: every draw's starting mass is a normal float, so each step multiplies it by the
    ratio P(k + 1)/P(k); otherwise the mass is kept as a log and exponentiated each step.
    """
    import jax
    import jax.numpy as jnp

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()

    def walk(mean, alpha, qs, start, end, before, log_mass):
        q = qs[:, None]
        if negative_binomial:
            log_ratio_const = jnp.log(mean / (alpha + mean))  # log(1 − p)
        else:
            log_ratio_const = jnp.log(mean)

        def log_ratio(k):  # log P(k + 1) − log P(k), per draw (S, n)
            if negative_binomial:
                return jnp.log((k + alpha) / (k + 1)) + log_ratio_const
            return log_ratio_const - jnp.log(k + 1)

        def ratio(k):
            if negative_binomial:
                return (k + alpha) / (k + 1) * (mean / (alpha + mean))
            return mean / (k + 1)

        def step(state):
            k, cdf, mass, found, answer = state
            cdf = cdf + (mass if carried else jnp.exp(mass))
            reached = ~found & (cdf.mean(axis=0)[None] >= q)
            answer = jnp.where(reached, k[None], answer)
            found = found | reached
            mass = mass * ratio(k[None]) if carried else mass + log_ratio(k[None])
            return k + 1, cdf, mass, found, answer

        def going(state):
            k, _, _, found, _ = state
            return ~jnp.all(found | (k > end)[None])

        mass = jnp.exp(log_mass) if carried else log_mass
        answer = jnp.broadcast_to(end, (qs.shape[0], end.shape[0]))
        state = (start, before, mass, jnp.zeros(answer.shape, dtype=bool), answer)
        return jax.lax.while_loop(going, step, state)[4]

    return jax.jit(walk)


__all__ = ["mixture_quantile", "mixture_quantiles", "noise_distribution"]
