"""Convergence by windows: the mean of an optimisation's last window against the one before.

ADVI (`vi_loop`, relative change of the ELBO) and the MAP loop (`map_loop`, change of the loss
per observation) judge convergence from these, on histories (steps, restarts).
"""

from __future__ import annotations

import numpy as np

# Windows over which a loop stopped at its step limit must have improved on its earlier best
# (by `tol` per observation) to count as still converging. Adam at a fixed step size circles a
# minimum: its window means go up and down by more than a strict `tol` (±0.005 nats per row on
# a 100-row sine regression, tol 1e-5) without getting lower, and such a fit is done.
PLATEAU_WINDOWS = 5


def tail_mean(elbos: np.ndarray, window: int) -> np.ndarray:
    """Mean value per restart over the last `window` steps, (restarts,); NaN before any step.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.windows import tail_mean
    >>> tail_mean(np.array([[1.0, 0.0], [3.0, 2.0]]), 1).tolist()
    [3.0, 2.0]
    """
    if len(elbos) == 0:
        return np.full(elbos.shape[1:], np.nan)
    return elbos[-window:].mean(axis=0)


def window_means(history: np.ndarray, window: int, *, maximise: bool):
    """(mean of the last `window` steps, mean of the window before) for the best restart.

    The best by the last window: highest when `maximise`, else lowest. None with fewer than two
    windows, (nan, nan) when no restart is finite. history: (steps, restarts).

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.windows import window_means
    >>> history = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 5.0], [4.0, 5.0]])
    >>> window_means(history, 2, maximise=True)  # restart 1 ends higher
    (5.0, 0.0)
    >>> window_means(history, 3, maximise=True) is None
    True
    """
    if len(history) < 2 * window:
        return None
    last = history[-window:].mean(axis=0)
    before = history[-2 * window:-window].mean(axis=0)
    finite = np.isfinite(last) & np.isfinite(before)
    if not finite.any():
        return float("nan"), float("nan")
    best = int(np.argmax(np.where(finite, last, -np.inf)) if maximise
               else np.argmin(np.where(finite, last, np.inf)))
    return float(last[best]), float(before[best])


def relative_change(elbos: np.ndarray, window: int) -> float:
    """The relative change of the best restart's mean, last window against the one before.

    abs(last − before) / abs(before), with `before` kept from 0.

    The best restart is the one with the highest last window (an ELBO); inf with fewer than
    two windows.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.windows import relative_change
    >>> relative_change(np.array([[-100.0], [-100.0], [-99.0], [-99.0]]), 2)
    0.01
    """
    means = window_means(elbos, window, maximise=True)
    if means is None:
        return float("inf")
    last, before = means
    return abs(last - before) / max(abs(before), 1e-12)


def plateaued(losses: np.ndarray, window: int, n_obs: int, tol: float,
              patience: int = PLATEAU_WINDOWS) -> bool:
    """Whether the best restart's loss stopped improving by `tol` per observation per window.

    The lowest of its last `patience` window means is less than `patience` × `tol` per
    observation below the lowest window mean before them: on average the loss improved by less
    than `tol` a window, the pace the window-to-window test asks for, whatever its ups and
    downs.

    Parameters
    ----------
    losses : numpy.ndarray
        `(steps, restarts)` the loop's history.
    window, patience : int
        Steps per window; windows that must show no improvement.
    n_obs : int
        Observations (the improvement is per observation).
    tol : float
        Nats per observation.

    Returns
    -------
    bool
        False with fewer than `patience` + 1 whole windows.

    Examples
    --------
    A loss that circles its minimum (up and down by 0.2 around 5) has plateaued; one that
    still falls by 0.01 a step has not:

    >>> import numpy as np
    >>> circling = 5 + 0.2 * np.sin(2 * np.pi * np.arange(1200.0) / 50)[:, None]
    >>> falling = 20 - 0.01 * np.arange(1200.0)[:, None]
    >>> plateaued(circling, 100, 10, 1e-5), plateaued(falling, 100, 10, 1e-5)
    (True, False)
    """
    k = len(losses) // window
    if k < patience + 1:
        return False
    means = losses[len(losses) - k * window:].reshape(k, window, -1).mean(axis=1)
    finite = np.isfinite(means).all(axis=0)
    if not finite.any():
        return False
    best = int(np.argmin(np.where(finite, means[-1], np.inf)))
    recent, before = means[-patience:, best], means[:-patience, best]
    return bool(before.min() - recent.min() < patience * tol * max(n_obs, 1))
