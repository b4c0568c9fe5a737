"""Rows in chunks padded to one shape, dispatched over the CPU devices at once and assembled.

How many rows a chunk holds is `compiled.chunk_rows`'s memory policy.
"""

from __future__ import annotations

import os

import numpy as np

from pymc_bnn._runtime.jax_setup import import_jax


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
