"""One compiled float32 pass from draws to every per-row number `uncertainty()` reports.

The network is evaluated once per chunk of rows, and in the same jitted program its draws are
reduced to the predictive mean and its sd over draws (exactly `compiled.moments_function`'s
reduction, so `Posterior.predict` and `uncertainty()` report the same numbers), the split of the
uncertainty into aleatoric and epistemic parts, and the interval ends:

- classifiers: entropies (nats), variation ratio, and quantiles over draws of each class's
  probability;
- Normal (gaussian, heteroscedastic) and Student-t likelihoods: quantiles of the predictive
  mixture by safeguarded Newton steps on the mixture CDF, started inside the bracket of the
  per-draw quantiles (one solver, `_mixture_quantiles`, given each family's CDF and density).
  A Student-t draw's CDF is read from a table of its standardised CDF made once per call on the
  host (`pymc_bnn.posterior.student_t_table`: df is one number per draw);
- counts (and a Student-t whose df varies by row, which no pymc-bnn likelihood has): the pass
  returns the per-draw parameters (float32) and
  `pymc_bnn.posterior.mixture.mixture_quantiles` solves for the quantiles in float64.

Chunks go to the CPU devices in turn (one per core), so the cores work on different rows at
once. See `pymc_bnn.posterior.compiled` for the dtype policy.
"""

from __future__ import annotations

import functools
import json

import numpy as np

from pymc_bnn.model.network import NetworkSpec

# A mixture's quantile is accepted where its float32 CDF is this close to q: a few times the
# rounding of a float32 mean of 1,000 CDF values (an error in y of about 4e-5 sd at the 5% and
# 95% ends of a Normal mixture). A Student-t table's own error (under 1e-7) is far below it.
CDF_TOLERANCE = 4e-6
# Safeguarded Newton steps at most: most rows stop after 4 to 6; rows whose steps fall back to
# halving a wide bracket (very unequal draws) take longer.
MAX_NEWTON_STEPS = 40
# Rows whose order statistics are found together: a block of (rows, classes, 1,000 draws) int32
# stays in cache through its 31 bisection passes (3x faster than passes over a whole chunk).
QUANTILE_BLOCK_ROWS = 16


def summary_function(spec: NetworkSpec, likelihood, preprocessing_json: str, layout: str,
                     tails: tuple):
    """A jitted f(X, weights, biases, params, numbers, table) -> dict of per-row arrays.

    `layout` is how the weights come (`pymc_bnn.posterior.draw_layout.arranged_draws`);
    `tails` are the interval ends' probabilities (a tuple of floats; empty for no intervals);
    `table` is a Student-t likelihood's `student_t_table` at them, else {}. Cached per arguments
    (see `_summary_function`). Keys: "mean", "std" (as `Posterior.predict`); classifiers add
    "predictive_entropy", "expected_entropy", "mutual_information", "variation_ratio" and, with
    tails, "probability_ends" `(n, n_tails, K)`; regression adds "aleatoric_var" and, with
    tails, "ends" `(n, n_tails)` (Normal, and Student-t with a table) or the per-draw
    parameters "draw_<name>" `(n, S)` (counts). Every array has the rows first.

    Examples
    --------
    >>> from pymc_bnn.posterior.predictive_means import preprocessing_parts
    >>> numbers, rest = preprocessing_parts(fitted.preprocessing)
    >>> weights, biases = fitted.parameter_draws()
    >>> f = summary_function(fitted.spec, fitted.likelihood, rest, "draws_first", (0.05, 0.95))
    >>> out = f(tiny_data.X_test, weights, biases, {}, numbers, {})
    >>> out["probability_ends"].shape  # (rows, tails, classes)
    (18, 2, 2)
    """
    return _summary_function(spec, likelihood, preprocessing_json, layout, tails)


@functools.lru_cache(maxsize=32)
def _summary_function(spec, likelihood, preprocessing_json, layout, tails):
    import jax
    import jax.numpy as jnp

    from pymc_bnn._runtime.jax_setup import use_compilation_cache
    from pymc_bnn.posterior.compiled import reduce_moments
    from pymc_bnn.posterior.draw_layout import forward_in_layout
    from pymc_bnn.posterior.predictive_means import predictive_mean

    use_compilation_cache()
    rest = json.loads(preprocessing_json)

    def summary(X, weights, biases, params, numbers, table):
        preprocessing = {**rest, **numbers}
        eta, axis = forward_in_layout(spec, layout, X, weights, biases)
        values = predictive_mean(likelihood, eta, preprocessing)
        mean, std = reduce_moments(values, axis)  # the same reduction as `predict`
        out = {"mean": mean, "std": std}
        if axis == 1:
            eta = jnp.moveaxis(eta, 1, 0)  # the rest works draws first
        draws = likelihood.predictive_params(eta, params, preprocessing)
        if "probs" in draws:
            out.update(_classification(jnp, draws["probs"], tails))
        else:
            out.update(_regression(jnp, draws, jnp.asarray(tails, dtype=eta.dtype), table))
        return out

    return jax.jit(summary)


def _classification(jnp, probs, tails: tuple) -> dict:
    """Entropies (nats), variation ratio and quantiles over draws of (S, n, K) probabilities."""
    from jax.scipy.special import xlogy

    probs = jnp.clip(probs, 0.0, 1.0)
    mean = probs.mean(axis=0)
    p_log_p = xlogy(probs, probs).sum(axis=-1)  # (S, n)
    n_classes = probs.shape[-1]
    votes = (probs.argmax(axis=-1)[..., None] == jnp.arange(n_classes)).mean(axis=0)
    out = {"predictive_entropy": -xlogy(mean, mean).sum(axis=-1),
           "expected_entropy": -p_log_p.mean(axis=0),
           "mutual_information": _mutual_information(jnp, probs, mean),
           "variation_ratio": 1.0 - votes.max(axis=-1)}
    if tails and n_classes == 2:  # P(class 0) = 1 − P(class 1): one class's order statistics,
        # the other's ends are its mirror (tails are L lower ends, then the L upper ones)
        ends = _quantiles_over_draws(jnp, probs[..., 1:], tails)  # (n, 2L, 1)
        n_levels = len(tails) // 2
        mirrored = 1.0 - jnp.concatenate([ends[:, n_levels:], ends[:, :n_levels]], axis=1)
        out["probability_ends"] = jnp.concatenate([mirrored, ends], axis=-1)
    elif tails:
        out["probability_ends"] = _quantiles_over_draws(jnp, probs, tails)
    return out


def _mutual_information(jnp, probs, mean):
    """mean_s KL(p_s ‖ mean) (n,) from (S, n, K) float32 probabilities, to float32's precision.

    Written as mean_s Σ_k m_k φ(p_sk/m_k − 1) with φ(x) = (1 + x) log(1 + x) − x ≥ 0 (the
    same number: Σ_s (p_sk − m_k) = 0), not as Σ p log p − Σ p log m: that difference of two
    sums of size ~log K cancels to a few 1e-8 nats in float32, which is 1e-3 of the small
    mutual information of draws that nearly agree. Near x = 0, φ is its Taylor series (terms to
    x⁷; the rest below 1e-7 of φ for |x| < 0.1), so φ keeps its relative precision there.
    A class whose mean is 0 has p = 0 in every draw and adds nothing; x ≤ S − 1 always.
    """
    from jax.scipy.special import xlogy

    safe = jnp.where(mean > 0, mean, 1.0)[None]
    x = jnp.where(mean[None] > 0, (probs - mean[None]) / safe, 0.0)
    series = x * x * (1 / 2 - x * (1 / 6 - x * (1 / 12 - x * (1 / 20 - x * (1 / 30
                                                                         - x / 42)))))
    phi = jnp.where(jnp.abs(x) < 0.1, series, xlogy(1 + x, 1 + x) - x)
    return jnp.maximum((safe * phi).sum(axis=-1).mean(axis=0), 0.0)


def _quantiles_over_draws(jnp, values, tails: tuple):
    """`numpy.quantile(values, tails, axis=0)` ("linear") of values in [0, 1], rows first.

    Each order statistic is found by bisection on the float's bit pattern (non-negative floats
    order as their int32 bits), counting the draws at or below: 31 compare-and-count passes
    find it exactly, several times faster than sorting or `top_k` on CPU. The passes run on
    blocks of `QUANTILE_BLOCK_ROWS` rows, all 31 on one block while it is in cache.
    """
    import jax

    n_rows = values.shape[1]
    last = jnp.moveaxis(values, 0, -1)  # (n, K, S)
    # float32 (the pass's dtype; the bit patterns below are int32), and no -0.0, whose bits
    # order below every positive float
    last = jnp.where(last > 0, last, 0.0).astype(jnp.float32)
    padding = -n_rows % QUANTILE_BLOCK_ROWS
    if padding:
        last = jnp.concatenate([last, jnp.zeros((padding, *last.shape[1:]), last.dtype)])
    blocks = last.reshape(-1, QUANTILE_BLOCK_ROWS, *last.shape[1:])
    ends = jax.lax.map(lambda block: _block_quantiles(jnp, block, tails), blocks)
    return ends.reshape(-1, *ends.shape[2:])[:n_rows]  # (n, T, K)


def _block_quantiles(jnp, last, tails: tuple):
    """`_quantiles_over_draws` of one block: `last` (rows, K, S) float32 ≥ 0 -> (rows, T, K)."""
    import jax

    n_draws = last.shape[-1]
    bits = jax.lax.bitcast_convert_type(last, jnp.int32)
    ends = []
    for q in tails:
        h = (n_draws - 1) * q
        low = int(np.floor(h))
        below = _order_statistic(jnp, bits, low)  # int32 bits (rows, K)
        at_most = (bits <= below[..., None]).sum(axis=-1)
        value = jax.lax.bitcast_convert_type(below, jnp.float32)
        above = jnp.where(bits > below[..., None], last, jnp.inf).min(axis=-1)
        following = jnp.where(at_most >= low + 2, value, above) if low + 1 < n_draws else value
        ends.append(value + np.float32(h - low) * (following - value))
    return jnp.stack(ends, axis=1)


def _order_statistic(jnp, bits, k: int):
    """The k-th smallest (0-based) over the last axis of int32 bit patterns, by bisection."""
    import jax

    def step(_, bounds):
        low, high = bounds
        middle = low + (high - low) // 2
        enough = (bits <= middle[..., None]).sum(axis=-1) >= k + 1
        return jnp.where(enough, low, middle + 1), jnp.where(enough, middle, high)

    start = (jnp.zeros(bits.shape[:-1], jnp.int32), bits.max(axis=-1))
    return jax.lax.fori_loop(0, 31, step, start)[1]


def _regression(jnp, draws: dict, tails, table: dict) -> dict:
    """Mean noise variance over draws and, with tails, the mixture quantiles or their inputs."""
    mean = draws["mean"]
    if "alpha" in draws:
        noise_var = mean + mean * mean / draws["alpha"]
    elif "scale" not in draws:  # Poisson
        noise_var = mean
    else:
        noise_var = draws["scale"] ** 2
        if "df" in draws:
            df = draws["df"]
            noise_var = jnp.where(df > 2, noise_var * df / jnp.where(df > 2, df - 2, 1.0),
                                  jnp.inf)
    out = {"aleatoric_var": noise_var.mean(axis=0)}
    if not tails.size:
        return out
    if set(draws) == {"mean", "scale"}:
        out["ends"] = _normal_mixture_quantiles(jnp, mean, draws["scale"], tails).T
    elif table:
        out["ends"] = _student_t_mixture_quantiles(jnp, mean, draws["scale"], table, tails).T
    else:
        out.update({f"draw_{k}": jnp.broadcast_to(v, mean.shape).T for k, v in draws.items()})
    return out


def _normal_mixture_quantiles(jnp, mean, scale, tails):
    """Quantiles (T, n) of the equal mixture over draws of Normal(mean, scale), (S, n) each."""
    from jax.scipy.special import ndtr, ndtri

    inverse_scale = 1.0 / scale

    def cdf_pdf(x):
        z = (x[:, None, :] - mean[None]) * inverse_scale[None]
        density = jnp.exp(-0.5 * z * z) * inverse_scale[None]
        return ndtr(z).mean(axis=1), density.mean(axis=1) / float(np.sqrt(2 * np.pi))

    per_draw = mean[None] + scale[None] * ndtri(tails)[:, None, None]  # (T, S, n)
    return _mixture_quantiles(jnp, per_draw, tails, cdf_pdf)


def _student_t_mixture_quantiles(jnp, mean, scale, table: dict, tails):
    """Quantiles (T, n) of the equal mixture over draws of location-scale Student-t draws.

    Each draw's standardised CDF comes from its `student_t_table` (one df per draw).
    """
    from pymc_bnn.posterior.student_t_table import student_t_cdf_pdf

    inverse_scale = 1.0 / scale

    def cdf_pdf(x):
        z = (x[:, None, :] - mean[None]) * inverse_scale[None]
        cdf, density = student_t_cdf_pdf(jnp, table, z)
        return cdf.mean(axis=1), (density * inverse_scale[None]).mean(axis=1)

    per_draw = mean[None] + scale[None] * table["standard"][:, :, None]  # (T, S, n)
    return _mixture_quantiles(jnp, per_draw, tails, cdf_pdf)


def _mixture_quantiles(jnp, per_draw, tails, cdf_pdf):
    """Quantiles (T, n) of an equal mixture over draws, from each draw's own (T, S, n) ones.

    `cdf_pdf(x)` gives the mixture's CDF and density at x `(T, n)`. The quantile lies between
    the smallest and largest per-draw quantile; from their mean, safeguarded Newton steps
    (bisection when a step leaves the bracket), as
    `pymc_bnn.posterior.mixture.mixture_quantiles` but in float32: a row stops once its mixture
    CDF is within `CDF_TOLERANCE` of q, and every row stops after `MAX_NEWTON_STEPS`.
    """
    import jax

    q = tails[:, None]  # (T, 1)
    low, high = per_draw.min(axis=1), per_draw.max(axis=1)
    x = jnp.clip(per_draw.mean(axis=1), low, high)

    def step(state):
        i, x, low, high, done = state
        cdf, pdf = cdf_pdf(x)
        error = cdf - q
        done = done | (jnp.abs(error) <= CDF_TOLERANCE)
        below = error < 0
        low, high = jnp.where(below, x, low), jnp.where(below, high, x)
        newton = x - error / pdf
        inside = jnp.isfinite(newton) & (newton > low) & (newton < high)
        moved = jnp.where(inside, newton, (low + high) / 2)
        return i + 1, jnp.where(done, x, moved), low, high, done

    def going(state):
        return (state[0] < MAX_NEWTON_STEPS) & ~jnp.all(state[4])

    start = (0, x, low, high, jnp.zeros(x.shape, dtype=bool))
    return jax.lax.while_loop(going, step, start)[1]


def summary_values(posterior, X, levels: np.ndarray | None, max_draws: int | None,
                   groups=None) -> dict | None:
    """`predictive_summary`'s values from the one fused pass; None where it does not apply.

    It does not apply to a full-network Laplace fit (its predictive is the linearised network),
    to a likelihood without `predictive_mean` (a user's own), or where float32 overflowed
    (extreme inputs or targets): the caller then takes the float64 path.

    Parameters
    ----------
    posterior : Posterior
    X : array-like
        `(n_obs, n_features)`, checked by `Posterior.checked_inputs` here.
    levels : numpy.ndarray or None
        `(L,)` central interval probabilities, or None for no intervals.
    max_draws : int, optional
    groups : sequence, optional

    Returns
    -------
    dict of str to numpy.ndarray or None
        Keys and dims as `predictive_summary`'s variables (before class labels are attached).

    Examples
    --------
    >>> values = summary_values(fitted, tiny_data.X_test, np.array([0.9]), None)
    >>> values["probability_lower"].shape, values["probability"].shape  # (L, n, K), (n, K)
    ((1, 18, 2), (18, 2))
    """
    from pymc_bnn.posterior.compiled import chunk_rows
    from pymc_bnn.posterior.device_chunks import run_chunks
    from pymc_bnn.posterior.draw_layout import arranged_draws, row_floats
    from pymc_bnn.posterior.mixture import mixture_quantiles
    from pymc_bnn.posterior.predictive_means import preprocessing_parts, standardised_pass
    from pymc_bnn.posterior.student_t_table import student_t_table

    spec, likelihood = posterior.spec, posterior.likelihood
    if posterior.linearised or not hasattr(likelihood, "predictive_mean"):
        return None
    X, codes, labels = posterior.checked_inputs(X, groups)
    tails = (np.zeros(0) if levels is None
             else np.concatenate([(1 - levels) / 2, (1 + levels) / 2]))
    numbers, rest = preprocessing_parts(posterior.preprocessing)
    numbers, move = standardised_pass(likelihood, numbers)  # user units after, in float64
    params = posterior.likelihood_param_draws(max_draws)
    df = _df_per_draw(likelihood, params, posterior.preprocessing, spec.n_outputs)
    table = {} if df is None or not tails.size else student_t_table(df, tails)
    out: dict[str, np.ndarray] = {}
    for rows, weights, biases in posterior.draw_sets(codes, labels, max_draws):
        layout, weights, biases = arranged_draws(spec, weights, biases)
        function = _summary_function(spec, likelihood, rest, layout, tuple(tails.tolist()))
        size = chunk_rows(len(rows), 1, row_floats(spec, layout, weights))
        part = run_chunks(function, X[rows], size, (weights, biases, params, numbers, table))
        for key, value in part.items():
            out.setdefault(key, np.empty((X.shape[0], *value.shape[1:])))[rows] = value
    # A Student-t draw with df ≤ 2 has no finite variance: an infinite noise variance is then
    # the answer (as SciPy's), not an overflow.
    no_finite_variance = df is not None and bool(np.any(df <= 2))
    if not all(np.isfinite(v).all() for k, v in out.items() if not k.startswith("draw_")
               and not (no_finite_variance and k == "aleatoric_var")):
        return None  # float32 overflowed somewhere: the float64 path redoes it all
    n_levels = 0 if levels is None else levels.size
    if likelihood.is_classifier:
        mean = out.pop("mean")
        if mean.ndim == 2:  # as `Posterior.predict`: float32 sums are 1 ± 1e-7
            mean = mean / mean.sum(axis=1, keepdims=True)
        values = {k: out[k] for k in ("predictive_entropy", "expected_entropy",
                                      "mutual_information", "variation_ratio")}
        values["probability"] = np.column_stack([1.0 - mean, mean]) if mean.ndim == 1 else mean
        if n_levels:
            ends = np.moveaxis(out["probability_ends"], 1, 0)  # (2L, n, K)
            values["probability_lower"], values["probability_upper"] = (
                ends[:n_levels], ends[n_levels:])
        return values
    if move is not None:
        shift, scale = np.float64(move[0]), np.float64(move[1])
        if any(k.startswith("draw_") for k in out):  # not reached: a location-scale family's
            return None                              # ends come from the pass; float64 path
        with np.errstate(over="ignore", invalid="ignore"):
            out["mean"], out["std"] = shift + scale * out["mean"], scale * out["std"]
            out["aleatoric_var"] = (scale * np.sqrt(out["aleatoric_var"])) ** 2
            if "ends" in out:
                out["ends"] = shift + scale * out["ends"]
            moved = [out[k] for k in ("mean", "ends") if k in out] + [out["std"] ** 2]
            if not (no_finite_variance or np.isfinite(out["aleatoric_var"]).all()):
                return None  # a target near 1e300: its variance overflows; the float64 path
            if not all(np.isfinite(v).all() for v in moved):
                return None
    epistemic_var = out["std"] ** 2
    values = {"mean": out["mean"], "sd": np.sqrt(out["aleatoric_var"] + epistemic_var),
              "aleatoric_sd": np.sqrt(out["aleatoric_var"]), "epistemic_sd": out["std"]}
    if n_levels:
        if "ends" in out:
            ends = out["ends"].T
        else:
            ends = mixture_quantiles({k[len("draw_"):]: v.T for k, v in out.items()
                                      if k.startswith("draw_")}, tails)
        values["lower"], values["upper"] = ends[:n_levels], ends[n_levels:]
    return values


def _df_per_draw(likelihood, params: dict, preprocessing: dict, n_outputs: int):
    """A Student-t likelihood's df per draw `(S,)`, or None: no df, or one that varies by row.

    The likelihood is asked for its parameters at two rows with different network outputs;
    a df that differs between them (a user's likelihood) is left to the float64 solve.
    """
    if not params:
        return None
    n_draws = next(iter(params.values())).shape[0]
    eta = np.broadcast_to(np.arange(2.0)[None, :, None], (n_draws, 2, n_outputs))
    draws = likelihood.predictive_params(eta, params, preprocessing)
    if "df" not in draws:
        return None
    df = np.broadcast_to(np.asarray(draws["df"], dtype=np.float64), (n_draws, 2))
    if not (np.all(df[:, 0] == df[:, 1]) and np.all(np.isfinite(df)) and np.all(df > 0)):
        return None
    return df[:, 0]


__all__ = ["summary_function"]
