"""The one compiled numeric path from draws to predictions, and its dtype policy.

Every prediction a user sees is computed here, by jitted JAX functions cached per network,
likelihood and layout, over chunks of rows padded to a few fixed shapes (so new data sizes reuse
the compiled code and memory stays bounded):

- `moments_over_draws`: the mean and sd over draws of the predictive mean (the predictive
  probability for classifiers), fused in one pass. This is `Posterior.predict`, and through it
  every probability the estimators and the CLI report.
- `pymc_bnn.posterior.fused`: the same pass with every other per-row number of `uncertainty()`
  (entropies, the aleatoric/epistemic split, interval ends) computed in it; its means and sds
  are `reduce_moments`'s, so they are `Posterior.predict`'s bit for bit.
- `outputs_over_draws`: the per-draw values (network output or predictive mean) in float64,
  for the rest (samples of the predictive mixture, linearised fits, diagnostics) and as the
  reference the fused pass is tested against.

Chunks of rows are spread over the CPU devices (one per core), so the cores work at once
(`device_chunks`); `draw_layout` arranges the draws for a pass, and `predictive_means` gives
the per-draw predictive mean a pass reduces.

Dtype policy (stated here only): the network and every reduction over draws run in float32,
whose rounding (~1e-7 relative) is far below the Monte Carlo error of any number of draws:
`predict`'s mean and sd, and all of `uncertainty()` (entropies and their split to ~1e-6
relative; Normal and Student-t mixture quantiles to a CDF error of 4e-6, about 4e-5
predictive sd, the t CDF read from per-draw tables made in float64; count intervals the same
whole numbers, solved in float64 from the float32 per-draw parameters). Float64 is used where
float32 overflows (`moments_over_draw_sets` redoes those rows; `uncertainty()` redoes the call),
for samples of the mixture, for a full-network Laplace fit (linearised) and for
`outputs_over_draws`. A float32 probability is 0
or 1 once its logit passes about ±16.6 (float64: ±36.7). Grouped fits use the same functions
with each group's draws of the weights (`Posterior.draw_sets`).
"""

from __future__ import annotations

import functools
import json

import numpy as np

from pymc_bnn._runtime.jax_setup import import_jax
from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.model.batched_forward import (
    forward_draws_last,
    forward_linearised,
    forward_over_draws,
    uses_draws_last,
)
from pymc_bnn.model.likelihoods import Likelihood
from pymc_bnn.model.network import NetworkSpec
from pymc_bnn.posterior.device_chunks import padded, run_chunks
from pymc_bnn.posterior.draw_layout import (
    arranged_draws,
    forward_in_layout,
    row_floats,
    to_draws_last,
)
from pymc_bnn.posterior.predictive_means import (
    mean_of,
    predictive_mean,
    preprocessing_parts,
    standardised_pass,
)
from pymc_bnn.validation import refuse_nonfinite

# Floats held at once per chunk of the float64 per-draw pass (draws × rows × widest layer):
# ~128 MB.
CHUNK_FLOATS = 16_000_000
# The fused float32 pass: (draws × rows × widest layer) per chunk, ~128 MB.
JAX_CHUNK_FLOATS = 32_000_000

# split out of this module: how draws are arranged, the predictive mean's numbers, the chunks'
# dispatch over devices
__getattr__ = moved_names(__name__, {
    "shared_blocks": "pymc_bnn.posterior.draw_layout",
    "LOCATION_SCALE": "pymc_bnn.posterior.predictive_means",
    "devices": "pymc_bnn.posterior.device_chunks",
})


def moments_over_draws(spec: NetworkSpec, likelihood: Likelihood, preprocessing: dict,
                       X: np.ndarray, weights: list, biases: list | None,
                       params: dict, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd over draws of the predictive mean at X, in float32, fused.

    Parameters
    ----------
    spec, likelihood, preprocessing
        The fit's network, likelihood and preprocessing record.
    X : ndarray (n_obs, n_inputs)
        Checked inputs.
    weights, biases : lists of ndarray
        Draws of each layer, (S, fan_in, fan_out) and (S, fan_out).
    params : dict
        Draws (S, ...) of the likelihood's own variables; read only for a likelihood without
        `predictive_mean` (a user's own).
    dtype : numpy dtype, default numpy.float32
        The dtype of the pass (see the module's dtype policy).

    Returns
    -------
    (mean, sd) : ndarray (n_obs,) or (n_obs, n_classes), float64 holding float32 values
        Infinite where float32 overflowed (the caller redoes those rows in float64).

    Examples
    --------
    What `Posterior.predict` computes:

    >>> X = tiny_data.X_test
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> mean, sd = moments_over_draws(fitted.spec, fitted.likelihood, fitted.preprocessing,
    ...                               X, weights, biases, params={})
    >>> mean.shape, bool(np.allclose(mean, fitted.predict(X)["mean"]))
    ((18,), True)
    """
    numbers, rest = preprocessing_parts(preprocessing)
    fused = hasattr(likelihood, "predictive_mean")
    numbers, move = standardised_pass(likelihood, numbers) if fused else (numbers, None)
    layout, weights, biases = arranged_draws(spec, weights, biases, draws_last=fused)
    args = (weights, biases, {} if fused else params, numbers)
    try:
        moments = moments_function(spec, likelihood, rest, layout)  # type: ignore[arg-type]
    except TypeError:  # a user's likelihood object that is not hashable: compile uncached
        moments = moments_function.__wrapped__(spec, likelihood, rest, layout)
    size = chunk_rows(X.shape[0], 1, row_floats(spec, layout, weights), JAX_CHUNK_FLOATS)
    mean, sd = run_chunks(moments, X, size, args, dtype=dtype)
    if move is not None:  # back to the user's units, in float64 (inf: the caller's float64 pass)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, sd = move[0] + move[1] * mean, move[1] * sd
    return mean, sd


def moments_over_draw_sets(spec: NetworkSpec, likelihood: Likelihood, preprocessing: dict,
                           X: np.ndarray, draw_sets, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """`moments_over_draws` for every set of rows that shares draws, assembled in row order.

    Parameters
    ----------
    spec, likelihood, preprocessing
        As for `moments_over_draws`.
    X : ndarray (n_obs, n_inputs)
        Checked inputs.
    draw_sets : iterable of (rows, weights, biases)
        `Posterior.draw_sets`: one set for an ordinary fit, one per group for a grouped one.
    params : dict
        The likelihood's own draws (`Posterior.likelihood_param_draws`).

    Returns
    -------
    (mean, std)
        Each (n_obs, ...) float64. A row whose float32 pass overflowed (extreme inputs) is
        redone in float64 (`outputs_over_draws`, `moments_of`).

    Examples
    --------
    >>> from pymc_bnn.posterior import compiled
    >>> X, codes, labels = fitted.checked_inputs([[0.0, 1.0], [1.0, 0.0]])
    >>> mean, std = compiled.moments_over_draw_sets(
    ...     fitted.spec, fitted.likelihood, fitted.preprocessing, X,
    ...     fitted.draw_sets(codes, labels), {})
    >>> bool(np.allclose(mean, fitted.predict(X)["mean"].values))
    True
    """
    parts = []
    for rows, weights, biases in draw_sets:
        part_mean, part_std = moments_over_draws(spec, likelihood, preprocessing, X[rows],
                                                 weights, biases, params)
        overflow = ~np.isfinite(part_mean + part_std).reshape(len(rows), -1).all(axis=1)
        if overflow.any():  # float32 overflowed on extreme inputs: redo in float64
            draws = outputs_over_draws(spec, X[rows], weights, biases, likelihood=likelihood,
                                       preprocessing=preprocessing)  # all rows: errors name them
            part_mean[overflow], part_std[overflow] = moments_of(draws[:, overflow])
        parts.append((rows, part_mean, part_std))
    mean = np.empty((X.shape[0], *parts[0][1].shape[1:]))
    std = np.empty_like(mean)
    for rows, part_mean, part_std in parts:
        mean[rows], std[rows] = part_mean, part_std
    return mean, std


def outputs_over_draws(spec: NetworkSpec, X: np.ndarray, weights: list, biases: list | None, *,
                       likelihood: Likelihood | None = None, preprocessing: dict | None = None,
                       points: tuple | None = None) -> np.ndarray:
    """Per-draw values at X in float64: the network output, or its predictive mean.

    Parameters
    ----------
    spec : NetworkSpec
    X : ndarray (n_obs, n_inputs)
        Checked inputs.
    weights, biases : lists of ndarray
        Draws of each layer, (S, fan_in, fan_out) and (S, fan_out).
    likelihood, preprocessing : optional
        Given: the likelihood's `predictive_mean` of the output per draw ((S, n_obs) or
        (S, n_obs, n_classes)); else the pre-link output (S, n_obs, n_outputs).
    points : (weights, biases), optional
        Each draw's expansion point: the network linearised there (`forward_linearised`, a
        full-network Laplace fit's predictive).

    Returns
    -------
    ndarray, float64, draws first.

    Raises
    ------
    InvalidInputError
        A non-finite output, naming the rows.

    Examples
    --------
    >>> X = tiny_data.X_test
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> outputs_over_draws(fitted.spec, X, weights, biases).shape  # the pre-link output
    (50, 18, 1)
    >>> p = outputs_over_draws(fitted.spec, X, weights, biases, likelihood=fitted.likelihood,
    ...                        preprocessing=fitted.preprocessing)
    >>> p.shape, bool(((0 <= p) & (p <= 1)).all())  # P(y = 1) per draw
    ((50, 18), True)
    """
    import_jax()
    import jax

    n_draws = weights[0].shape[0]
    draws_last = points is None and uses_draws_last(spec)
    if draws_last:
        weights, biases = to_draws_last(weights, biases)
    as_mean = likelihood is not None
    numbers, rest = preprocessing_parts(preprocessing or {})
    key = (spec, draws_last, likelihood, rest if as_mean else None, points is not None)
    out = None
    with jax.enable_x64(True):
        def as64(a):
            return jax.numpy.asarray(np.ascontiguousarray(a, dtype=np.float64))

        args = ([as64(w) for w in weights],
                None if biases is None else [as64(b) for b in biases],
                {k: as64(v) for k, v in numbers.items()},
                None if points is None else jax.tree_util.tree_map(as64, points))
        try:
            network = forward_function(*key)  # type: ignore[arg-type]
        except TypeError:  # a likelihood object that is not hashable: compile uncached
            network = forward_function.__wrapped__(*key)
        # the linearised pass holds the tangents too: half the rows per chunk
        floats = CHUNK_FLOATS if points is None else CHUNK_FLOATS // 2
        size = chunk_rows(X.shape[0], n_draws, max(spec.widths), floats)
        for start in range(0, X.shape[0], size):
            values = np.asarray(network(as64(padded(X[start:start + size], size)), *args))
            if draws_last:
                values = np.moveaxis(values, 1, 0)  # (n, S, ...) -> (S, n, ...)
            if out is None:
                out = np.empty((n_draws, X.shape[0], *values.shape[2:]))
            n_rows = min(size, X.shape[0] - start)
            out[:, start:start + n_rows] = values[:, :n_rows]
    assert out is not None  # X has at least one row (checked by the caller)
    refuse_nonfinite({"output": out}, obs_axis=1, what="network outputs")
    return out


def moments_of(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd over the first axis (draws) of float64 values, safe from overflow.

    Each column is divided by its largest magnitude first, so values near the top of float64's
    range (a target on a 1e300 scale) give a finite sd where squaring them would overflow.

    Examples
    --------
    >>> mean, sd = moments_of(np.array([[1e300], [3e300]]))
    >>> print(f"{mean[0]:.3g} {sd[0]:.3g}")  # draws.std() would overflow to inf
    2e+300 1e+300
    """
    scale = np.max(np.abs(draws), axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    scaled = draws / scale
    return scaled.mean(axis=0) * scale, scaled.std(axis=0) * scale


@functools.lru_cache(maxsize=32)
def moments_function(spec: NetworkSpec, likelihood: Likelihood, preprocessing_json: str,
                      layout: str):
    """A jitted f(X, weights, biases, params, numbers) -> (mean, sd) of the predictive mean.

    Likelihoods without `predictive_mean` (a user's own) go through `predictive_params` and
    need `params`. Cached per (spec, likelihood, non-numeric preprocessing, layout) so repeated
    predictions never recompile; the numeric preprocessing comes in as `numbers` (see
    `preprocessing_parts`).

    Parameters
    ----------
    spec : NetworkSpec
    likelihood : Likelihood
        Hashable (every built-in one is).
    preprocessing_json : str
        The non-numeric part of the preprocessing record, as `preprocessing_parts` gives it.
    layout : {"draws_first", "draws_last", "shared_hidden"}
        How the weights come (see `arranged_draws`).

    Returns
    -------
    callable
        Jitted.

    Examples
    --------
    >>> X = tiny_data.X_test
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> numbers, rest = preprocessing_parts(fitted.preprocessing)
    >>> moments = moments_function(fitted.spec, fitted.likelihood, rest, "draws_first")
    >>> mean, sd = moments(X, weights, biases, {}, numbers)
    >>> mean.shape, moments is moments_function(fitted.spec, fitted.likelihood, rest,
    ...                                         "draws_first")
    ((18,), True)
    """
    import jax

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()

    rest = json.loads(preprocessing_json)

    def moments(X, weights, biases, params, numbers):
        preprocessing = {**rest, **numbers}
        eta, axis = forward_in_layout(spec, layout, X, weights, biases)
        values = (predictive_mean(likelihood, eta, preprocessing)
                  if hasattr(likelihood, "predictive_mean")  # a user's own: draws first
                  else mean_of(likelihood.predictive_params(eta, params, preprocessing)))
        return reduce_moments(values, axis)

    return jax.jit(moments)


def reduce_moments(values, axis: int):
    """Mean and sd over the draws `axis` of traced per-draw values.

    Every compiled pass reduces with this one function, so `Posterior.predict` and
    `uncertainty()` give the same numbers.

    Examples
    --------
    >>> [m.tolist() for m in reduce_moments(np.array([[1.0, 2.0], [3.0, 6.0]]), 0)]
    [[2.0, 4.0], [1.0, 2.0]]
    """
    return values.mean(axis=axis), values.std(axis=axis)


def chunk_rows(n_obs: int, n_draws: int, width: int, floats: int | None = None) -> int:
    """Rows per call of a jitted pass.

    Memory-bounded (`floats` per chunk), and a power of two when fewer rows are asked for, so
    data sets of different sizes share a few compiled shapes.

    Parameters
    ----------
    n_obs : int
        Rows wanted.
    n_draws : int
        Draws per row.
    width : int
        The widest layer.
    floats : int, optional
        Floats per chunk; default `JAX_CHUNK_FLOATS`.

    Returns
    -------
    int

    Examples
    --------
    >>> chunk_rows(5, n_draws=50, width=3), chunk_rows(1000, n_draws=50, width=3)
    (8, 1024)
    >>> chunk_rows(10**6, n_draws=1000, width=100)  # memory-bound
    320
    """
    size = max(1, (floats or JAX_CHUNK_FLOATS) // max(1, n_draws * width))
    return min(size, max(8, 1 << (n_obs - 1).bit_length()))


@functools.lru_cache(maxsize=32)
def forward_function(spec: NetworkSpec, draws_last: bool, likelihood: Likelihood | None,
                      preprocessing_json: str | None, linearised: bool = False):
    """Jitted f(X, weights, biases, numbers, points) -> eta, or its predictive mean.

    Parameters
    ----------
    spec : NetworkSpec
    draws_last : bool
        eta is (n, S, out) draws-last, else (S, n, out).
    likelihood : Likelihood or None
        Given: its `predictive_mean` of eta ((n, S[, K]) or (S, n[, K])).
    preprocessing_json : str or None
        The non-numeric preprocessing (see `preprocessing_parts`).
    linearised : bool, default False
        The network linearised at `points` (`forward_linearised`), else points None.

    Returns
    -------
    callable
        Jitted, cached per arguments.

    Examples
    --------
    >>> X = tiny_data.X_test
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> network = forward_function(fitted.spec, False, None, None)
    >>> network(X, weights, biases, {}, None).shape
    (50, 18, 1)
    """
    import jax

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()
    if linearised:
        def network(spec, X, weights, biases, points):
            return forward_linearised(spec, X, points, weights, biases)
    else:
        def network(spec, X, weights, biases, points):
            return (forward_draws_last if draws_last else forward_over_draws)(
                spec, X, weights, biases)
    if likelihood is None:
        return jax.jit(lambda X, weights, biases, numbers, points: network(
            spec, X, weights, biases, points))
    rest = json.loads(preprocessing_json or "{}")
    return jax.jit(lambda X, weights, biases, numbers, points: predictive_mean(
        likelihood, network(spec, X, weights, biases, points), {**rest, **numbers}))
