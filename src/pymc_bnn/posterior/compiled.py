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

Chunks of rows are spread over the CPU devices (one per core), so the cores work at once.

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
import os

import numpy as np

from pymc_bnn._runtime.jax_setup import import_jax
from pymc_bnn.model.likelihoods import Likelihood
from pymc_bnn.model.network import (
    NetworkSpec,
    forward_draws_last,
    forward_linearised,
    forward_over_draws,
    forward_shared_hidden,
    split_skip_weights,
    uses_draws_last,
)
from pymc_bnn.validation import refuse_nonfinite

# Floats held at once per chunk of the float64 per-draw pass (draws × rows × widest layer):
# ~128 MB.
CHUNK_FLOATS = 16_000_000
# The fused float32 pass: (draws × rows × widest layer) per chunk, ~128 MB.
JAX_CHUNK_FLOATS = 32_000_000


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


def mean_of(draws: dict):
    """The predictive mean per draw from `predictive_params` output (see `mean_draws`).

    Two class probabilities give P(class 1); more give every class's.

    Parameters
    ----------
    draws : dict
        `predictive_params` output: "probs" `(S, n, K)` or "mean" `(S, n)`.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> probs = np.array([[[0.8, 0.2], [0.4, 0.6]]])  # one draw, two rows
    >>> mean_of({"probs": probs})
    array([[0.2, 0.6]])
    """
    if "probs" in draws:
        probs = draws["probs"]
        return probs[..., 1] if probs.shape[-1] == 2 else probs
    return draws["mean"]


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


def arranged_draws(spec: NetworkSpec, weights: list, biases: list | None, *,
                   draws_last: bool = True) -> tuple[str, list, list | None]:
    """The layout a fused pass evaluates these draws in, and the draws arranged for it.

    - "shared_hidden": the hidden layers are one set per block of consecutive draws (a
      last-layer Laplace fit, one block per restart or ensemble member; `shared_blocks`): the
      hidden layers are evaluated once per block (`forward_shared_hidden`);
    - "draws_last": a small network (`uses_draws_last`), unless `draws_last` is False;
    - "draws_first": the rest (`forward_over_draws`).

    Parameters
    ----------
    spec : NetworkSpec
    weights, biases : lists of numpy.ndarray
        Draws of each layer, (S, fan_in, fan_out) and (S, fan_out).
    draws_last : bool, default True
        Whether the caller's pass can take the draws-last layout.

    Returns
    -------
    (layout, weights, biases)

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()  # an ADVI fit: every draw its own
    >>> arranged_draws(fitted.spec, weights, biases)[0]
    'draws_last'
    >>> one_hidden = [np.repeat(weights[0][:1], 50, axis=0), weights[1]]
    >>> layout, arranged, _ = arranged_draws(fitted.spec, one_hidden, None)
    >>> layout, arranged[0].shape, arranged[1].shape  # one block of 50 draws
    ('shared_hidden', (1, 2, 3), (1, 50, 3, 1))
    """
    blocks = shared_blocks(spec, weights, biases)
    if blocks is not None:
        n_hidden = len(spec.hidden)
        layers, skip = split_skip_weights(spec, weights)

        def by_block(a):
            a = np.asarray(a)
            return a.reshape(blocks, a.shape[0] // blocks, *a.shape[1:])

        per_block = slice(None, None, layers[0].shape[0] // blocks)
        arranged = [np.asarray(w)[per_block] for w in layers[:n_hidden]]
        arranged += [by_block(layers[-1]), *([] if skip is None else [by_block(skip)])]
        arranged_biases = None if biases is None else (
            [np.asarray(b)[per_block] for b in biases[:n_hidden]] + [by_block(biases[-1])])
        return "shared_hidden", arranged, arranged_biases
    if draws_last and uses_draws_last(spec):
        return ("draws_last", *to_draws_last(weights, biases))
    return "draws_first", weights, biases


def shared_blocks(spec: NetworkSpec, weights: list, biases: list | None) -> int | None:
    """How many equal blocks of consecutive draws share their hidden layers, or None.

    None where there are no hidden layers, where the hidden layers change from draw to draw
    (ADVI, NUTS) or where the blocks are of unequal lengths (a thinned posterior).

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=1, hidden=(2,))
    >>> hidden = np.repeat(np.arange(2.0).reshape(2, 1, 1) * np.ones((1, 1, 2)), 4, axis=0)
    >>> shared_blocks(spec, [hidden, np.zeros((8, 2, 1))], None)  # 2 blocks of 4 draws
    2
    >>> shared_blocks(spec, [np.random.default_rng(0).normal(size=(8, 1, 2)),
    ...                      np.zeros((8, 2, 1))], None) is None
    True
    """
    n_hidden = len(spec.hidden)
    if not n_hidden:
        return None
    layers, _ = split_skip_weights(spec, weights)
    hidden = [*layers[:n_hidden], *([] if biases is None else biases[:n_hidden])]
    n_draws = layers[0].shape[0]
    if n_draws < 2:
        return None
    changes = np.zeros(n_draws - 1, dtype=bool)
    for a in hidden:
        flat = np.asarray(a).reshape(n_draws, -1)
        changes |= np.any(flat[1:] != flat[:-1], axis=1)
    starts = np.flatnonzero(changes) + 1
    blocks = starts.size + 1
    if n_draws % blocks or n_draws // blocks < 2:
        return None
    if not np.array_equal(starts, np.arange(1, blocks) * (n_draws // blocks)):
        return None
    return blocks


def forward_in_layout(spec: NetworkSpec, layout: str, X, weights, biases):
    """(eta, draws axis) of draws arranged by `arranged_draws`, traced in a jitted pass.

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()
    >>> eta, axis = forward_in_layout(fitted.spec, "draws_first", tiny_data.X_test, weights,
    ...                               biases)
    >>> eta.shape, axis
    ((50, 18, 1), 0)
    """
    if layout == "draws_last":
        return forward_draws_last(spec, X, weights, biases), 1  # (n, S, out)
    if layout == "shared_hidden":
        return forward_shared_hidden(spec, X, weights, biases), 0
    return forward_over_draws(spec, X, weights, biases), 0


def row_floats(spec: NetworkSpec, layout: str, weights: list) -> int:
    """Floats a fused pass holds per row of X, for `chunk_rows`.

    Examples
    --------
    >>> weights, biases = fitted.parameter_draws()  # 50 draws of a 2→3→1 network
    >>> row_floats(fitted.spec, "draws_first", weights)  # draws × the widest layer
    150
    """
    widest = max(spec.widths)
    if layout == "shared_hidden":
        blocks, per_block = weights[spec.n_layers - 1].shape[:2]
        # the hidden layers once per block; every draw's outputs (and the work on them)
        return blocks * widest + 8 * blocks * per_block * max(2, spec.n_outputs)
    return weights[0].shape[-1 if layout == "draws_last" else 0] * widest


def to_draws_last(weights, biases):
    """Weights (S, fan_in, fan_out) -> (fan_in, fan_out, S), biases (S, fan_out) -> (fan_out, S).

    Transposed here, in NumPy, because inside the jitted function it is 5x slower.

    Parameters
    ----------
    weights : list of numpy.ndarray
    biases : list of numpy.ndarray or None

    Returns
    -------
    weights, biases

    Examples
    --------
    >>> weights, biases = to_draws_last([np.zeros((50, 2, 3))], [np.zeros((50, 3))])
    >>> weights[0].shape, biases[0].shape
    ((2, 3, 50), (3, 50))
    """
    return ([np.moveaxis(w, 0, -1) for w in weights],
            None if biases is None else [np.moveaxis(b, 0, -1) for b in biases])


def padded(rows: np.ndarray, size: int) -> np.ndarray:
    """`rows` with zero rows appended up to `size`: every call has one shape, no recompiling.

    Parameters
    ----------
    rows : numpy.ndarray
        `(n, n_inputs)`, n ≤ size.
    size : int

    Returns
    -------
    numpy.ndarray
        `(size, n_inputs)`.

    Examples
    --------
    >>> padded(np.ones((3, 2)), 8).shape
    (8, 2)
    """
    if rows.shape[0] == size:
        return rows
    return np.concatenate([rows, np.zeros((size - rows.shape[0], rows.shape[1]))])


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


def preprocessing_parts(preprocessing: dict) -> tuple[dict, str]:
    """(numbers, JSON of the rest) of a preprocessing record.

    The jitted passes take a fit's numbers (target mean and sd, count offset) as arguments and
    compile only per the rest (e.g. class labels), so refits on new data reuse the compiled
    prediction.

    Parameters
    ----------
    preprocessing : dict

    Returns
    -------
    numbers : dict
        The numeric entries, as floats.
    rest : str
        The others as sorted JSON.

    Examples
    --------
    >>> preprocessing_parts({"y_mean": 2.0, "y_scale": 0.5, "classes": [0, 1]})
    ({'y_mean': 2.0, 'y_scale': 0.5}, '{"classes": [0, 1]}')
    """
    numbers = {k: float(v) for k, v in preprocessing.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    rest = {k: v for k, v in preprocessing.items() if k not in numbers}
    return numbers, json.dumps(rest, sort_keys=True)


# Likelihoods whose predictive is the standardised one moved by y_mean and scaled by y_scale
# (`Gaussian`, `Heteroscedastic`, `StudentT`): the float32 passes run on the standardised scale
# and the move is made after, in float64 (`standardised_pass`).
LOCATION_SCALE = frozenset({"gaussian", "heteroscedastic", "student_t"})


def standardised_pass(likelihood, numbers: dict) -> tuple[dict, tuple[float, float] | None]:
    """The numbers for a float32 pass on the standardised scale, and the move back after it.

    A target far from zero against its spread (1e6 + noise of sd 1) would lose its spread in
    float32 sums of the user-unit means (an sd off by 26% at 1e6, every mean off by 448 at
    1e9); on the standardised scale nothing is lost, and `y_mean + y_scale * value` is done in
    float64.

    Parameters
    ----------
    likelihood : Likelihood
    numbers : dict
        The preprocessing record's numbers (`preprocessing_parts`).

    Returns
    -------
    numbers : dict
        With y_mean 0 and y_scale 1 where the likelihood is a location-scale one.
    move : (y_mean, y_scale) or None
        What to apply to means and interval ends (and `y_scale` to sds) after the pass; None:
        the numbers are unchanged.

    Examples
    --------
    >>> from pymc_bnn.model.likelihoods import Bernoulli, Gaussian
    >>> standardised_pass(Gaussian(), {"y_mean": 1e6, "y_scale": 2.0})
    ({'y_mean': 0.0, 'y_scale': 1.0}, (1000000.0, 2.0))
    >>> standardised_pass(Bernoulli(), {})
    ({}, None)
    """
    located = getattr(likelihood, "name", None) in LOCATION_SCALE
    if located and {"y_mean", "y_scale"} <= numbers.keys():
        return ({**numbers, "y_mean": 0.0, "y_scale": 1.0},
                (float(numbers["y_mean"]), float(numbers["y_scale"])))
    return numbers, None


def predictive_mean(likelihood, eta, preprocessing):
    """`predictive_mean` with `mean_of`'s rule: two class probabilities give P(class 1).

    Parameters
    ----------
    likelihood : Likelihood
        With a `predictive_mean` method.
    eta : array
        The pre-link output.
    preprocessing : dict

    Returns
    -------
    array

    Examples
    --------
    >>> from pymc_bnn.model.likelihoods import Bernoulli
    >>> predictive_mean(Bernoulli(), np.zeros((2, 3, 1)), {})  # logit 0: P(y = 1) = 1/2
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    values = likelihood.predictive_mean(eta, preprocessing)
    if likelihood.is_classifier and values.ndim == eta.ndim and values.shape[-1] == 2:
        return values[..., 1]
    return values


def devices() -> list:
    """The CPU devices chunks are spread over: one per core at most.

    Examples
    --------
    >>> 1 <= len(devices()) <= max(1, os.cpu_count() or 1)
    True
    """
    import_jax()
    import jax

    return jax.local_devices()[: max(1, os.cpu_count() or 1)]


def run_chunks(function, X: np.ndarray, size: int, args: tuple, dtype=np.float32) -> dict:
    """`function(X chunk, *args)` over chunks of `size` rows, the chunks spread over `devices`.

    Every call is dispatched before any result is read, so the devices (cores) run chunks at
    the same time; each chunk is padded to `size` rows (one compiled shape). Every output has
    the rows first; they are assembled along that axis.

    Parameters
    ----------
    function : callable
        Jitted; returns a dict of arrays (or a tuple, assembled the same way).
    X : numpy.ndarray
        `(n_obs, n_inputs)`.
    size : int
        Rows per chunk.
    args : tuple
        The other arguments (pytrees of arrays), put on each device once.
    dtype : numpy dtype, default numpy.float32

    Returns
    -------
    dict or tuple of numpy.ndarray, float64

    Examples
    --------
    >>> import jax
    >>> out = run_chunks(jax.jit(lambda X, c: {"s": X.sum(axis=1) + c}), np.ones((5, 2)), 4,
    ...                  (np.float32(1.0),))
    >>> out["s"]
    array([3., 3., 3., 3., 3.])
    """
    import jax

    targets = devices()[: -(-X.shape[0] // size)]  # no more devices than chunks
    placed = [jax.device_put(_as(args, dtype), device) for device in targets]
    pending = []
    for i, start in enumerate(range(0, X.shape[0], size)):
        device = i % len(targets)
        chunk = jax.device_put(np.asarray(padded(X[start:start + size], size), dtype=dtype),
                               targets[device])
        with np.errstate(over="ignore"):
            pending.append((min(size, X.shape[0] - start), function(chunk, *placed[device])))
    parts = [jax.tree_util.tree_map(lambda a, n=n: np.asarray(a, dtype=np.float64)[:n], result)
             for n, result in pending]
    return jax.tree_util.tree_map(lambda *pieces: np.concatenate(pieces), *parts)


def _as(tree, dtype):
    import jax

    return jax.tree_util.tree_map(lambda a: np.ascontiguousarray(a, dtype=dtype), tree)
