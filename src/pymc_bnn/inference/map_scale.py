"""The MAP's prior scale chosen on held-out rows: what the output layer's evidence cannot see.

`laplace` tunes the output layer's prior scale by its marginal likelihood, but the hidden
layers' scale s sets the functions the MAP can reach at all, and the last-layer evidence has no
Occam factor for them (it drives s up without bound). No single s serves every table: a
regression that needs a wiggly function underfits at s = 1, while on a noisy one a MAP at s ≥ 2
fits the noise and its noise sd collapses. `choose_map_scale` fits one MAP per candidate scale
on 80% of the rows, all candidates in one vectorised loop (`map_loop`), scores each on the
other 20% by the plug-in log-likelihood of its MAP, and keeps the smallest scale within one
standard error of the best (the "one standard error" rule of cross-validation: Breiman et al.
1984; Hastie, Tibshirani and Friedman, "The Elements of Statistical Learning", 7.10), so noise
in a small held-out set does not buy a wider prior than the data support. A candidate whose
MAP fell to the all-zero point of the network (a constant function, which ignores every
feature) is not the simpler fit that rule is after: it is kept only when no candidate that uses
the features is within one standard error of the best.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn.errors import InferenceError

# The candidate scales s (weights Normal(0, s/sqrt(fan_in)), biases Normal(0, s)): from a
# nearly linear MAP to one that can follow a few periods of a sine on standardised inputs.
CANDIDATE_SCALES = (0.5, 1.0, 2.0, 4.0, 8.0)
HELD_OUT_FRACTION = 0.2
# Fewer held-out rows than this cannot tell the candidates apart: the model's own scale is kept.
MIN_HELD_OUT_ROWS = 10
# Steps of the candidates' fits at most (all in one loop): enough to tell an underfitting scale
# from one that follows the data, and a scale whose noise sd collapses keeps its loss falling
# and would otherwise run to the fit's own step limit.
HELD_OUT_STEPS = 1000
# compiled model key → jitted pointwise log-likelihood, the least recently used going first
_PROGRAMS: OrderedDict = OrderedDict()


@dataclass(frozen=True)
class ScaleChoice:
    """Which prior scale the held-out rows chose, and why.

    Attributes
    ----------
    scale : float
        The chosen s.
    scales : tuple of float
        The candidates.
    held_out_loss : tuple of float
        Each candidate's mean negative log-likelihood per held-out row (nats; inf where its
        fit failed).
    standard_error : tuple of float
        The standard error of each candidate's difference from the best one (nats per row).
    held_out_rows : int
        Rows scored.
    interrupted : bool
        The fits were stopped by Ctrl-C (the choice is from the iterates reached).
    constant : tuple of bool
        Which candidates' MAPs are constant functions (`laplace_map.constant_maps`); empty
        where not checked.

    Examples
    --------
    >>> choice = ScaleChoice(scale=2.0, scales=(1.0, 2.0, 4.0), held_out_loss=(0.9, 0.31, 0.3),
    ...                      standard_error=(0.1, 0.02, 0.0), held_out_rows=40,
    ...                      interrupted=False)
    >>> choice.to_dict()["scale"]
    2.0
    """

    scale: float
    scales: tuple[float, ...]
    held_out_loss: tuple[float, ...]
    standard_error: tuple[float, ...]
    held_out_rows: int
    interrupted: bool
    constant: tuple[bool, ...] = ()

    def to_dict(self) -> dict:
        """A JSON-able record (the fit's diagnostics keep it)."""
        return {"scale": self.scale, "scales": list(self.scales),
                "held_out_loss": list(self.held_out_loss),
                "standard_error": list(self.standard_error),
                "held_out_rows": self.held_out_rows, "interrupted": self.interrupted,
                "constant": list(self.constant)}


def one_standard_error_choice(scales, row_losses,
                              constant=None) -> tuple[int, np.ndarray, np.ndarray]:
    """The smallest candidate whose mean loss is within one standard error of the best.

    Parameters
    ----------
    scales : sequence of float
        `(k,)` candidates, any order.
    row_losses : array-like
        `(k, n_rows)` each candidate's loss on each held-out row; a candidate with any
        non-finite loss is never chosen.
    constant : array-like of bool, optional
        `(k,)` candidates whose fit is a constant function: passed over for the smallest
        candidate within one standard error that is not, where there is one.

    Returns
    -------
    (int, numpy.ndarray, numpy.ndarray)
        The index chosen, each candidate's mean loss `(k,)` (inf where not finite) and the
        standard error of its paired difference from the best `(k,)`.

    Examples
    --------
    The best mean is at 4, but 2 is within one standard error of it; 1 is not:

    >>> losses = np.array([[1.0, 1.2, 0.8, 1.0], [0.3, 0.5, 0.1, 0.3], [0.2, 0.6, 0.1, 0.1]])
    >>> index, mean, se = one_standard_error_choice([1.0, 2.0, 4.0], losses)
    >>> index, mean.round(3).tolist()
    (1, [1.0, 0.3, 0.25])

    Where the candidate at 2 is a constant function, the next one within reach is kept:

    >>> one_standard_error_choice([1.0, 2.0, 4.0], losses, constant=[False, True, False])[0]
    2
    """
    losses = np.asarray(row_losses, dtype=np.float64)
    finite = np.isfinite(losses).all(axis=1)
    if not finite.any():
        raise InferenceError(
            "the MAP fit at every candidate prior scale gave a NaN/inf loss on the held-out "
            "rows; lower learning_rate (e.g. learning_rate=0.001) or give map_scale a number")
    mean = np.where(finite, losses.mean(axis=1), np.inf)
    best = int(np.argmin(mean))
    n = losses.shape[1]
    difference = np.where(finite[:, None], losses - losses[best], 0.0)
    se = np.where(finite, difference.std(axis=1, ddof=1) / np.sqrt(n), np.inf)
    within = finite & (mean <= mean[best] + se)
    if constant is not None and (within & ~np.asarray(constant, dtype=bool)).any():
        within &= ~np.asarray(constant, dtype=bool)
    order = np.argsort(np.asarray(scales, dtype=np.float64))
    index = int(next(i for i in order if within[i]))
    return index, mean, se


def held_out_rows(n_obs: int, seed: int,
                  copies: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(fit rows, held-out rows), a random `HELD_OUT_FRACTION` split; None when too few rows.

    `copies` (n_obs,) labels identical rows alike (whole numbers ≥ 0, as `row_copies` gives):
    copies of a row are held out together, or a held-out row's copy among the fit rows would
    reward the scale that fits it most closely (rows repeated 3 times chose the largest scale:
    90% intervals covering 0.53). Without copies the split is the plain permutation's.

    Examples
    --------
    >>> fit_rows, held_out = held_out_rows(100, seed=0)
    >>> fit_rows.size, held_out.size, np.intersect1d(fit_rows, held_out).size
    (80, 20, 0)
    >>> held_out_rows(30, seed=0) is None
    True
    >>> fit_rows, held_out = held_out_rows(100, 0, copies=np.arange(100) % 50)  # rows twice
    >>> held_out.size, np.intersect1d(fit_rows % 50, held_out % 50).size
    (20, 0)
    """
    n_held_out = int(round(HELD_OUT_FRACTION * n_obs))
    if n_held_out < MIN_HELD_OUT_ROWS:
        return None
    rng = np.random.default_rng([seed, 15])
    if copies is None or np.unique(copies).size == n_obs:
        order = rng.permutation(n_obs)
        return np.sort(order[n_held_out:]), np.sort(order[:n_held_out])
    labels = rng.permutation(np.unique(copies))
    sizes = np.bincount(copies)[labels]  # rows per label (labels are 0 … k−1, row_copies')
    taken = labels[:max(1, int(np.searchsorted(np.cumsum(sizes), n_held_out)) + 1)]
    held = np.isin(copies, taken)
    if held.all():  # one row repeated throughout: nothing left to fit
        return None
    return np.flatnonzero(~held), np.flatnonzero(held)


def row_copies(data: tuple, batched: tuple, n_obs: int) -> np.ndarray:
    """(n_obs,) labels that are equal for identical rows of `data` (every per-row entry).

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
    >>> row_copies((X, np.array([0, 0, 1])), (True, True), 3).tolist()
    [0, 0, 1]
    """
    columns = [np.asarray(d)[:n_obs].reshape(n_obs, -1).astype(np.float64)
               for d, per_row in zip(data, batched, strict=True) if per_row]
    return np.unique(np.column_stack(columns), axis=0, return_inverse=True)[1].reshape(-1)


def rows_data(compiled_one_row, data: tuple, rows: np.ndarray) -> tuple:
    """`data`'s `rows`, one per entry, as the arguments of the one-row model mapped over rows.

    Where the model weights its rows, they are padded to `padded_rows(len(rows))` with weight
    0 (the same compiled program then serves every subset of nearby size); the padding copies
    a real row, so its log-likelihood is finite.

    Parameters
    ----------
    compiled_one_row : CompiledModel
        `compile_model(model, batch_size=1)`.
    data : tuple
        Every row's data (`data_arguments`), in the compiled model's order.
    rows : numpy.ndarray
        Indices of the rows wanted.

    Returns
    -------
    tuple
        Per-row entries `(n, 1, ...)`, n ≥ `len(rows)`, the others as they are.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> one = compile_model(tiny_model.model, batch_size=1)
    >>> X, y, weight = rows_data(one, data_arguments(compile_model(tiny_model.model),
    ...                                              tiny_model.model), np.arange(20))
    >>> X.shape, float(weight.sum())  # 20 rows padded to 24, the 4 added ones with weight 0
    ((24, 1, 2), 20.0)
    """
    import jax.numpy as jnp

    from pymc_bnn.inference import jax_model, row_padding

    weighted = compiled_one_row.weighted
    size = row_padding.padded_rows(rows.size) if (weighted and jax_model.PAD_ROWS) else rows.size
    index = row_padding.pad_rows(rows, size)
    out = [np.asarray(x)[index][:, None] if b else x
           for x, b in zip(data, compiled_one_row.batched, strict=True)]
    if weighted:
        w = compiled_one_row.data_names.index(row_padding.ROW_WEIGHT)
        out[w] = row_padding.zero_padding(out[w], rows.size)
    return tuple(jnp.asarray(x) for x in out)


def pointwise_loglik(compiled_one_row, data: tuple, rows: np.ndarray, z) -> np.ndarray:
    """Each of `rows`' log-likelihood (nats) at each iterate: `(k, len(rows))`.

    Parameters
    ----------
    compiled_one_row : CompiledModel
        `compile_model(model, batch_size=1)`.
    data : tuple
        Every row's data, in the compiled model's order.
    rows : numpy.ndarray
        The rows to score.
    z : array-like
        `(k, D)` iterates.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> one = compile_model(tiny_model.model, batch_size=1)
    >>> data = data_arguments(compile_model(tiny_model.model), tiny_model.model)
    >>> values = pointwise_loglik(one, data, np.arange(5), np.zeros((2, one.size)))
    >>> values.shape, bool(np.allclose(values, np.log(0.5)))  # output 0: P(y = 1) = 1/2
    ((2, 5), True)
    """
    import jax.numpy as jnp

    # padded rows (dropped below): nearby sizes share one program
    scored = rows_data(compiled_one_row, data, rows)
    return np.asarray(_pointwise_program(compiled_one_row)(jnp.asarray(z), scored),
                      dtype=np.float64)[:, :rows.size]


def _pointwise_program(compiled_one_row):
    """The jitted (iterates × rows) log-likelihood of a model, kept per model structure."""
    import jax

    def build():
        axes = tuple(0 if b else None for b in compiled_one_row.batched)
        per_row = jax.vmap(compiled_one_row.loglik, in_axes=(None, axes))
        return jax.jit(jax.vmap(per_row, in_axes=(0, None)))

    return lru_get(_PROGRAMS, compiled_one_row.key, build)


__all__ = ["CANDIDATE_SCALES", "HELD_OUT_FRACTION", "HELD_OUT_STEPS", "MIN_HELD_OUT_ROWS",
           "ScaleChoice",
           "held_out_rows", "one_standard_error_choice", "pointwise_loglik", "rows_data"]
