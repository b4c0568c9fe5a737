"""Rows padded to a few sizes and weighted out of the likelihood, so nearby data sizes share code.

Without minibatches `jax_model.compile_model` pads a model's rows to one of a few sizes
(`padded_rows`: at most 1.5 times the rows, e.g. 129–192 rows become 192) and weights each row's
log-likelihood by the data argument `ROW_WEIGHT` (1 for a real row, 0 for a copy added as
padding), where the rows enter the model only through data on its observation dim
(`rows_weightable`).
"""

from __future__ import annotations

import numpy as np

# The data argument that weights each row's log-likelihood: 1 for a real row, 0 for padding.
ROW_WEIGHT = "_row_weight"
# Rows are padded to the next of 2^k and 3·2^(k-1) from _MIN_ROWS up to _GEOMETRIC_UNTIL rows
# (at most 50% more rows per evaluation, where compiling costs more than the extra rows do:
# benchmarks/row_padding.py), above it to the next multiple of a step (_STEPS: rows up to which
# it is used, the step): at most 25% more rows, 12.5% above 4,096 rows.
_MIN_ROWS = 16
_GEOMETRIC_UNTIL = 1024
_STEPS = ((2048, 256), (None, 512))


def rows_weightable(model, obs_dim: str | None, n_obs: int, data: dict) -> bool:
    """Whether the rows enter `model` only through data on its observation dim, first axis.

    Then each row's log-likelihood can be weighted (and padding rows given weight 0): every
    observed variable has the observation dim first, no `total_size` (its rescaling counts
    the rows) and a data container on that dim as its value; no potential (it could sum over
    rows) and no Deterministic has that dim; and every data container of `n_obs` rows or
    with that dim has it first.

    Parameters
    ----------
    model : pymc.Model
    obs_dim : str or None
        The observation dim (`jax_model.observation_dim`).
    n_obs : int
        The model's rows.
    data : dict
        The model's data containers, name → value (`jax_model.model_data`).

    Returns
    -------
    bool

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import model_data
    >>> rows_weightable(tiny_model.model, "obs", 42, model_data(tiny_model.model))
    True
    >>> rows_weightable(tiny_model.model, None, 42, model_data(tiny_model.model))
    False
    """
    from pymc.variational.minibatch_rv import MinibatchRandomVariable
    from pytensor.graph.traversal import graph_inputs

    if obs_dim is None or n_obs < 1 or model.potentials:
        return False
    dims = model.named_vars_to_dims
    on_rows = {v for v in model.data_vars if dims.get(v.name, (None,))[0] == obs_dim}
    for rv in model.observed_RVs:
        if (dims.get(rv.name, (None,))[0] != obs_dim
                or isinstance(rv.owner.op, MinibatchRandomVariable)  # total_size
                # the value: a data container on the rows (PyMC may cast it to the RV's type)
                or not set(graph_inputs([model.rvs_to_values[rv]])) <= on_rows):
            return False
    if any(obs_dim in dims.get(v.name, ()) for v in model.deterministics):
        return False
    for name, value in data.items():  # a container with the rows elsewhere than first
        first = dims.get(name, (None,))[0]
        if first != obs_dim and (obs_dim in dims.get(name, ())
                                 or (np.ndim(value) > 0 and np.shape(value)[0] == n_obs)):
            return False
    return True


def padded_rows(n_rows: int) -> int:
    """The row count a data set of `n_rows` rows is padded to, so sizes share a few shapes.

    The next of 2^k and 3·2^(k-1) (at least 16) up to 1,024 rows, where compiling a program
    costs more than evaluating the extra rows; above, the next multiple of 256 up to 2,048 rows
    and of 512 beyond, where the rows' cost grows.

    Parameters
    ----------
    n_rows : int
        Rows of the data.

    Returns
    -------
    int
        At least `n_rows`: at most 1.5 × `n_rows` up to 1,024 rows, 1.25 × up to 4,096,
        1.125 × above.

    Examples
    --------
    >>> [padded_rows(n) for n in (1, 16, 17, 25, 33, 100, 1000, 1025, 2100, 10_000)]
    [16, 16, 24, 32, 48, 128, 1024, 1280, 2560, 10240]
    """
    if n_rows > _GEOMETRIC_UNTIL:
        step = next(step for until, step in _STEPS if until is None or n_rows <= until)
        return -(-n_rows // step) * step
    size = _MIN_ROWS
    while size < n_rows:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def pad_rows(array, size: int) -> np.ndarray:
    """`array` with its first axis padded to `size` by copies of its last row.

    Copies of a real row keep every padded value finite wherever the real ones are, so a
    weight or mask that drops them leaves no NaN in a gradient (0 · inf would be NaN).

    Parameters
    ----------
    array : array-like
        `(n, ...)`, n ≥ 1 and at most `size`.
    size : int
        Rows wanted.

    Returns
    -------
    numpy.ndarray
        `(size, ...)`.

    Examples
    --------
    >>> pad_rows(np.array([[1.0, 2.0], [3.0, 4.0]]), 3)
    array([[1., 2.],
           [3., 4.],
           [3., 4.]])
    """
    array = np.asarray(array)
    return np.pad(array, [(0, size - array.shape[0])] + [(0, 0)] * (array.ndim - 1), mode="edge")



def zero_padding(weight, n_real: int) -> np.ndarray:
    """`weight` (rows first) with every row past the first `n_real` weighted 0.

    What makes the copies `pad_rows` adds count for nothing in a log-likelihood.

    Examples
    --------
    >>> zero_padding(np.ones(4), 3)
    array([1., 1., 1., 0.])
    """
    weight = np.asarray(weight)
    kept = np.arange(weight.shape[0]) < n_real
    return weight * kept.reshape(-1, *([1] * (weight.ndim - 1)))

def row_arguments(values: tuple, batched: tuple, n_obs: int, n_rows: int, weighted: bool) -> tuple:
    """The data `values` (the model's containers, in order) as the compiled functions' arguments.

    The per-row ones (`batched`) padded from `n_obs` to `n_rows` rows, then the rows' weights
    (1 for each real row, 0 for each added one) where the model is `weighted`.

    Parameters
    ----------
    values : tuple
        The model's data containers' values, in order.
    batched : tuple of bool
        Per value: does it have one row per observation?
    n_obs, n_rows : int
        Real rows, and rows wanted.
    weighted : bool
        Append the rows' weights.

    Returns
    -------
    tuple of numpy.ndarray

    Examples
    --------
    >>> X, scale, weight = row_arguments((np.ones((3, 2)), np.float64(2.0)), (True, False),
    ...                                  3, 4, True)
    >>> X.shape, float(scale), weight
    ((4, 2), 2.0, array([1., 1., 1., 0.]))
    """
    padding = n_rows - n_obs
    out = tuple(pad_rows(v, n_rows) if (padding and b) else np.asarray(v)
                for v, b in zip(values, batched, strict=False))
    if weighted:
        out += (np.concatenate([np.ones(n_obs), np.zeros(padding)]),)
    return out
