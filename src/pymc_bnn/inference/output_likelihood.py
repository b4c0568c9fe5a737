"""The model's log-likelihood as a function of the network's output, and its curvature there.

The `laplace` engine needs the likelihood of the rows at a given network output η (n_obs, K):
its curvature in η for the generalised Gauss-Newton matrix (`pymc_bnn.inference.ggn`), each
row's value for leave-one-out (`pymc_bnn.inference.loo`) and the output layer's exact posterior.
Rather than a formula per likelihood, the model's own `likelihood.observe` is replayed on a data
container that stands in for the output (`_OUTPUT`) and compiled to JAX, so any likelihood —
a user's own included — works. `row_loglik` keeps the rows an argument, so one compiled program
serves every row count of a model structure (rows padded to a few sizes, weighted 0).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

_OUTPUT = "network_output"  # the data container that stands in for the network's output


def output_loglik(bnn, offsets: dict, *, pointwise: bool = False):
    """loglik(eta, z) (nats): the model's log-likelihood as a function of the network output.

    Built by replaying `bnn.likelihood.observe` on a data container that stands in for the
    output, so any likelihood works.

    Parameters
    ----------
    bnn : BNNModel
        The model; its data are the rows.
    offsets : dict
        Name → indices into z of the likelihood's own variables (e.g. a noise sd); others
        are ignored.
    pointwise : bool, default False
        Each row's log-likelihood `(n_obs,)` instead of their sum (`row_loglik`'s).

    Returns
    -------
    callable
        `loglik(eta, z)`, eta `(n_obs, K)` and z `(D,)`; JAX-traceable.

    Examples
    --------
    >>> import numpy as np
    >>> loglik = output_loglik(tiny_model, offsets={})  # Bernoulli: no variables of its own
    >>> eta = np.zeros((42, 1))  # output 0: P(y = 1) = 1/2 for every row
    >>> bool(np.isclose(loglik(eta, np.zeros(9)), 42 * np.log(0.5)))
    True
    """
    if pointwise:
        rows = row_loglik(bnn, offsets)
        return functools.partial(_with_rows, rows.loglik, rows.rows)
    compiled, values_of, data = _output_model(bnn, offsets, batch_size=None)

    def loglik(eta, z):
        return compiled.loglik(values_of(z), tuple(eta if name == _OUTPUT else data[name]
                                                   for name in compiled.data_names))

    return loglik


@dataclass(frozen=True)
class RowLoglik:
    """Each row's log-likelihood as a function of the network output, the data an argument.

    One compiled function serves every data set of the same model structure, whatever its
    number of rows.

    Attributes
    ----------
    loglik : callable
        `loglik(eta (n, K), z (D,), rows) -> (n,)` (nats), JAX-traceable; `rows` is a dict
        like `rows` below, for the same n.
    rows : dict
        Name → array: the model's data, those named in `per_row` with one entry per row.
    per_row : tuple of str
        The names in `rows` whose first axis is the row.
    key : tuple
        The structure: equal keys mean the same `loglik`, whatever the rows.

    Examples
    --------
    Made by `row_loglik`:

    >>> import numpy as np
    >>> rows = row_loglik(tiny_model, offsets={})
    >>> rows.per_row, rows.rows["y_data"].shape  # the rows' weights: 1 each
    (('y_data', '_row_weight'), (42,))
    """

    loglik: object
    rows: dict
    per_row: tuple
    key: tuple

    def padded(self, size: int) -> dict:
        """`rows` with `size` rows, the added ones weighted 0 (they add exactly nothing).

        Rows padded to a few sizes let data sets of nearby sizes share one compiled program
        (`row_padding.padded_rows`). The padding copies the last row, so its log-likelihood is
        finite and 0 times it is 0, not NaN.

        Examples
        --------
        >>> rows = row_loglik(tiny_model, offsets={})
        >>> padded = rows.padded(48)
        >>> padded["y_data"].shape, float(padded["_row_weight"].sum())  # 42 real rows
        ((48,), 42.0)
        """
        from pymc_bnn.inference.row_padding import ROW_WEIGHT, pad_rows, zero_padding

        n = next(self.rows[name].shape[0] for name in self.per_row)
        out = {name: pad_rows(value, size) if name in self.per_row else value
               for name, value in self.rows.items()}
        out[ROW_WEIGHT] = zero_padding(out[ROW_WEIGHT], n)
        return out


def row_loglik(bnn, offsets: dict) -> RowLoglik:
    """Each row's log-likelihood `(n_obs,)` as a function of the output, its data an argument.

    The model compiled for one-row batches, mapped over the rows. Rows enter only through
    the arguments, so padding them (`RowLoglik.padded`: the added rows weighted 0) keeps one
    compiled program for several row counts.

    Parameters
    ----------
    bnn : BNNModel
        The model; its data are the rows.
    offsets : dict
        Name → indices into z of the likelihood's own variables.

    Returns
    -------
    RowLoglik

    Examples
    --------
    The Bernoulli log-likelihood at output 0 is log 1/2 in every row:

    >>> import numpy as np
    >>> rows = row_loglik(tiny_model, offsets={})
    >>> values = rows.loglik(np.zeros((42, 1)), np.zeros(9), rows.rows)
    >>> values.shape, bool(np.allclose(values, np.log(0.5)))
    ((42,), True)
    """
    import jax

    compiled, values_of, data = _output_model(bnn, offsets, batch_size=1)
    per_row = tuple(name for name, b in zip(compiled.data_names, compiled.batched, strict=True)
                    if b and name != _OUTPUT)
    axes = {name: 0 if name in per_row else None for name in compiled.data_names
            if name != _OUTPUT}

    def one_row(eta_row, row_data, values):
        args = tuple(eta_row[None] if name == _OUTPUT
                     else row_data[name][None] if name in per_row else row_data[name]
                     for name in compiled.data_names)
        return compiled.loglik(values, args)

    def loglik(eta, z, rows):
        return jax.vmap(one_row, in_axes=(0, axes, None))(eta, rows, values_of(z))

    key = (compiled.key, tuple((name, tuple(int(i) for i in offsets[name]))
                               for name in compiled.value_names))
    return RowLoglik(loglik=loglik, rows={name: data[name] for name in axes},
                     per_row=per_row, key=key)


def _with_rows(loglik, rows, eta, z):
    return loglik(eta, z, rows)


def _output_model(bnn, offsets: dict, batch_size):
    """(compiled, values_of, data): the likelihood replayed on a stand-in for the output.

    `values_of(z)` picks the likelihood's own variables from z; `data` holds the model's data
    by name (the output's stand-in excluded from use: it is the argument).
    """
    import jax.numpy as jnp
    import pymc as pm

    from pymc_bnn.inference.jax_model import compile_model, model_data
    from pymc_bnn.inference.row_padding import ROW_WEIGHT
    from pymc_bnn.model.build import SAMPLE_WEIGHT

    data = model_data(bnn.model)
    y = data["y_data"]
    with pm.Model(coords={"obs": np.arange(y.shape[0]),
                          "output": np.arange(bnn.spec.n_outputs)}) as model:
        eta = pm.Data(_OUTPUT, np.zeros((y.shape[0], bnn.spec.n_outputs)), dims=("obs", "output"))
        weight = ({"weight": pm.Data(SAMPLE_WEIGHT, data[SAMPLE_WEIGHT], dims="obs")}
                  if SAMPLE_WEIGHT in data else {})  # the user's rows' weights, as in the model
        bnn.likelihood.observe(eta, pm.Data("y_data", y, dims="obs"), **weight)
    # the rows are the caller's (eta), not padded: every row counts, with weight 1
    compiled = compile_model(model, batch_size=batch_size, pad=False)
    own = {**model_data(model), ROW_WEIGHT: np.ones(y.shape[0])}
    rows = [jnp.asarray(offsets[name]) for name in compiled.value_names]

    def values_of(z):
        return jnp.concatenate([z[r] for r in rows]) if rows else jnp.zeros(0)

    # host arrays: a device copy of each would compile a transfer program per row count
    return compiled, values_of, {name: np.asarray(data.get(name, own[name]))
                                 for name in compiled.data_names}


def output_curvature_roots(loglik, eta, z) -> np.ndarray:
    """(n_obs, K, K) factors R_n with R_n' R_n = Λ_n, each row's output curvature.

    Λ_n is the negative Hessian of row n's log-likelihood in its output (its negative
    eigenvalues, e.g. Student-t's, clipped to 0: the GGN stays positive semi-definite). Rows are
    independent, so K Hessian-vector products with one-hot directions give every row's block at
    once.

    Parameters
    ----------
    loglik : callable
        `loglik(eta, z)`, summed over rows (`output_loglik`).
    eta : jax.Array
        `(n_obs, K)` the network output.
    z : jax.Array
        `(D,)` the model's other values.

    Returns
    -------
    numpy.ndarray
        `(n_obs, K, K)`.

    Examples
    --------
    A Gaussian likelihood with sd 0.5 has curvature 1/0.5² = 4 in every row, so R_n = 2:

    >>> import jax.numpy as jnp
    >>> y = jnp.array([0.0, 1.0, 1.0])
    >>> def loglik(eta, z):
    ...     return -0.5 * jnp.sum((y - eta[:, 0]) ** 2) / z[0] ** 2
    >>> output_curvature_roots(loglik, jnp.zeros((3, 1)), jnp.array([0.5]))[:, 0, 0].tolist()
    [2.0, 2.0, 2.0]
    """
    import jax
    import jax.numpy as jnp

    K = eta.shape[1]

    def blocks_at(eta, z):  # (n, K, K): [n, i, k], one compiled program for every column
        gradient = jax.grad(lambda e: loglik(e, z))
        return jnp.stack([-jax.jvp(gradient, (eta,), (jnp.zeros_like(eta).at[:, k].set(1.0),))[1]
                          for k in range(K)], axis=-1)

    return curvature_roots(np.asarray(jax.jit(blocks_at)(eta, z)))


def curvature_roots(blocks: np.ndarray) -> np.ndarray:
    """(n, K, K) factors R_n with R_n' R_n = Λ_n from the blocks Λ_n (negative parts clipped).

    Examples
    --------
    >>> import numpy as np
    >>> curvature_roots(np.array([[[4.0]], [[-1.0]]]))[:, 0, 0].tolist()  # -1 clipped to 0
    [2.0, 0.0]
    """
    blocks = 0.5 * (blocks + np.swapaxes(blocks, 1, 2))
    values, vectors = np.linalg.eigh(blocks)
    return np.sqrt(np.clip(values, 0.0, None))[:, :, None] * np.swapaxes(vectors, 1, 2)


def row_curvature_program(rows: RowLoglik, K: int):
    """Jitted (eta (n, K), z (D,), rows) -> (n, K, K): each row's output curvature Λ_n.

    The rows are an argument, so one program serves every row count of a model structure
    (`RowLoglik.padded`); `curvature_roots` factors its blocks.

    Examples
    --------
    The Bernoulli curvature at output 0 is p (1 − p) = 1/4 in every row:

    >>> import numpy as np
    >>> rows = row_loglik(tiny_model, offsets={})
    >>> blocks = row_curvature_program(rows, 1)(np.zeros((42, 1)), np.zeros(9), rows.rows)
    >>> blocks.shape, bool(np.allclose(blocks, 0.25))
    ((42, 1, 1), True)
    """
    import jax
    import jax.numpy as jnp

    def blocks_at(eta, z, data):
        gradient = jax.grad(lambda e: jnp.sum(rows.loglik(e, z, data)))
        return jnp.stack([-jax.jvp(gradient, (eta,), (jnp.zeros_like(eta).at[:, k].set(1.0),))[1]
                          for k in range(K)], axis=-1)

    return jax.jit(blocks_at)


__all__ = ["RowLoglik", "curvature_roots", "output_curvature_roots", "output_loglik",
           "row_curvature_program", "row_loglik"]
