"""Convergence by windows: the mean of an optimisation's last window against the one before.

ADVI (`vi_loop`, relative change of the ELBO) and the MAP loop (`map_loop`, change of the loss
per observation) judge convergence from these, on histories (steps, restarts).
"""

from __future__ import annotations

import numpy as np


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
