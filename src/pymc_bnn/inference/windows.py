"""Convergence by windows: the mean of an optimisation's last window against the one before.

ADVI (`vi_loop`, relative change of the ELBO, and for minibatch and streamed fits the change
against its own noise) and the MAP loop (`map_loop`, change of the loss per observation) judge
convergence from these, on histories (steps, restarts).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Windows over which a loop stopped at its step limit must have improved on its earlier best
# (by `tol` per observation) to count as still converging. Adam at a fixed step size circles a
# minimum: its window means go up and down by more than a strict `tol` (±0.005 nats per row on
# a 100-row sine regression, tol 1e-5) without getting lower, and such a fit is done.
PLATEAU_WINDOWS = 5
# The noise rule of minibatch and streamed ADVI (`window_trend`): the ELBO's trend is fitted
# over this many windows, cut into this many batches each (10 of 100 steps at the default
# window of 1,000). Two windows were measured to be too few: their difference is so noisy on a
# streamed fit that "within 2 standard errors" stopped fits still rising by 0.03-0.05 of the
# ELBO a window, at a cost of 0.01-0.02 nats of held-out NLL (benchmarks/README.md, Scale).
TREND_WINDOWS = 4
NOISE_BATCHES = 10


class WindowChange(NamedTuple):
    """The best restart's last two window means, their relative change, and its trend.

    Attributes
    ----------
    before, last : float
        Mean ELBO of the window before the last and of the last window (nats).
    relative : float
        abs(last − before) over the ELBO's size: abs(before) (kept from 0), or `size` where
        that is larger.
    trend, trend_se : float
        The ELBO's rise per window over the last `TREND_WINDOWS` windows and its standard
        error (`window_trend`), nats; NaN with fewer windows.
    size : float
        The ELBO's size the relative change was taken against where not abs(before): a
        log-likelihood ℓ above 0 (a close regression fit) leaves the ELBO, ℓ − KL, near 0
        nats while both its terms are large, and the size is then ℓ + (ℓ − before), their
        sizes' sum (`vi_loop`); NaN where abs(before) was used.
    restart : int
        Which restart these windows are of (the best by its last window's mean).

    Examples
    --------
    >>> WindowChange(before=-100.0, last=-99.0, relative=0.01, trend=0.8, trend_se=0.5).last
    -99.0
    """

    before: float
    last: float
    relative: float
    trend: float
    trend_se: float
    size: float = float("nan")
    restart: int = 0

    def against(self, size: float) -> WindowChange:
        """These windows with the relative change taken against a larger `size`.

        Where `size` is not larger than abs(before) (or NaN), these windows unchanged.

        Examples
        --------
        >>> windows = WindowChange(before=15.0, last=15.3, relative=0.02, trend=0.3, trend_se=0.1)
        >>> round(windows.against(1000.0).relative, 5), windows.against(10.0) == windows
        (0.0003, True)
        """
        if not size > abs(self.before):  # False for NaN too
            return self
        return self._replace(relative=abs(self.last - self.before) / max(size, 1e-12),
                             size=size)

    def settled(self, tol: float, noise_multiple: float | None = None) -> str | None:
        """Which stopping rule these windows meet: "tol", "trend_tol", "noise", or None (go on).

        A full-batch fit (`noise_multiple` None): "tol" when the relative change of the two
        window means is under `tol`. A minibatch or streamed fit, whose window means are
        noisy: the fitted trend, not the change of two means, is judged, so a chance dip of
        that change under `tol` does not stop a fit still rising; "trend_tol" when abs(trend)
        is under `tol` × abs(last), "noise" when under `noise_multiple` standard errors of
        itself; None until there are windows enough for a trend.

        Examples
        --------
        >>> WindowChange(-100.0, -99.95, 5e-4, 0.8, 0.5).settled(1e-3)
        'tol'
        >>> WindowChange(-100.0, -99.95, 5e-4, 0.8, 0.5).settled(1e-3, noise_multiple=2.0)
        'noise'
        >>> WindowChange(-100.0, -99.95, 5e-4, 0.05, 0.01).settled(1e-3, noise_multiple=2.0)
        'trend_tol'
        >>> WindowChange(-100.0, -99.95, 5e-4, 3.0, 0.5).settled(1e-3, noise_multiple=2.0)
        """
        if noise_multiple is None:
            return "tol" if self.relative < tol else None
        if not (np.isfinite(self.trend) and np.isfinite(self.trend_se)):
            return None
        if abs(self.trend) < tol * abs(self.last):
            return "trend_tol"
        return "noise" if abs(self.trend) < noise_multiple * self.trend_se else None


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
    found = _last_two(history, window, maximise)
    if found is None:
        return None
    last, before, _ = found
    return last, before


def _last_two(history: np.ndarray, window: int, maximise: bool):
    """(last window mean, the one before, which restart) of the best restart, as `window_means`.

    None with fewer than two windows; (nan, nan, 0) when no restart is finite.
    """
    if len(history) < 2 * window:
        return None
    last = history[-window:].mean(axis=0)
    before = history[-2 * window:-window].mean(axis=0)
    finite = np.isfinite(last) & np.isfinite(before)
    if not finite.any():
        return float("nan"), float("nan"), 0
    best = int(np.argmax(np.where(finite, last, -np.inf)) if maximise
               else np.argmin(np.where(finite, last, np.inf)))
    return float(last[best]), float(before[best]), best


def window_trend(values: np.ndarray, window: int, windows: int = TREND_WINDOWS,
                 batches: int = NOISE_BATCHES) -> tuple[float, float]:
    """The rise per window of one restart's last `windows` window means, and its standard error.

    The rise is the least-squares slope of the window means against their order. Successive
    optimiser steps are correlated (Adam's state carries over), so the noise is not taken step
    by step: each window is cut into `batches` batch means (Flegal & Jones 2010), whose
    variance is estimated from their second differences within a window (mean square of
    b[i+1] − 2 b[i] + b[i-1], over 6), which a linear drift inside the window does not touch:
    a trend is not mistaken for noise. Correlation left between neighbouring batches makes
    this estimate smaller, never larger, so a rule "stop when the trend is within its noise"
    errs towards running on. Simulated (400 runs each, 4 windows of 1,000 steps), the trend's
    size was under 2 standard errors in 92% of runs of independent noise, 93% of AR(1) noise with
    correlation 0.9 from step to step, and 58% with 0.99 (correlated over ~100 steps, a batch).

    Parameters
    ----------
    values : numpy.ndarray
        `(steps,)` one restart's history; its last `windows` × `window` values are used.
    window : int
        Steps per window.
    windows : int
        Windows the slope is fitted over (at least 2).
    batches : int
        Batches per window (fewer when a window has under 2 steps per batch; at least 3).

    Returns
    -------
    (float, float)
        Nats per window; (nan, nan) with too few steps or non-finite values.

    Examples
    --------
    Independent noise of sd 1 over 4 windows of 1,000 steps: each window mean has sd
    1/√1000 = 0.032, and the slope of 4 means has sd 0.032/√5 = 0.014:

    >>> import numpy as np
    >>> noise = np.random.default_rng(4).normal(0.0, 1.0, 4000)
    >>> trend, se = window_trend(noise, 1000)
    >>> round(se, 3), abs(trend) < 2 * se
    (0.013, True)

    A climb of 0.0002 a step (0.2 a window) under the same noise: the same standard error,
    the trend found:

    >>> trend, se = window_trend(noise + 0.0002 * np.arange(4000), 1000)
    >>> round(trend, 2), round(se, 3)
    (0.2, 0.013)
    """
    values = np.asarray(values, dtype=np.float64)[-windows * window:]
    batches = min(batches, window // 2)
    if (windows < 2 or batches < 3 or len(values) < windows * window
            or not np.isfinite(values).all()):
        return float("nan"), float("nan")
    size = window // batches
    # (window, batch, step): the last `batches` × `size` steps of each window
    kept = values.reshape(windows, window)[:, window - batches * size:]
    batch_means = kept.reshape(windows, batches, size).mean(axis=2)
    batch_var = float(np.mean(np.diff(batch_means, n=2, axis=1) ** 2) / 6)
    order = np.arange(windows) - (windows - 1) / 2
    sum_squares = float(order @ order)
    trend = float(order @ batch_means.mean(axis=1)) / sum_squares
    return trend, float(np.sqrt(batch_var / batches / sum_squares))


def window_change(elbos: np.ndarray, window: int, size: float = float("nan")
                  ) -> WindowChange | None:
    """The best restart's (highest last window) `WindowChange`; None with fewer than two windows.

    Its trend is fitted over the last `TREND_WINDOWS` windows (`window_trend`).

    Parameters
    ----------
    elbos : numpy.ndarray
        `(steps, restarts)` the ELBO of every step.
    window : int
        Steps per window.
    size : float
        The ELBO's size (nats) to take the relative change against where it is larger than
        abs(before) (`WindowChange.size`); NaN: abs(before).

    Examples
    --------
    >>> import numpy as np
    >>> change = window_change(np.array([[-100.0], [-100.0], [-99.0], [-99.0]]), 2)
    >>> change.before, change.last, change.relative, change.trend  # too few steps for a trend
    (-100.0, -99.0, 0.01, nan)
    >>> window_change(np.zeros((3, 1)), 2) is None
    True

    An ELBO near 0 whose terms are large: a move of 0.3 nats is 2% of 15 but 0.03% of 1,000:

    >>> near_zero = np.array([[15.0], [15.0], [15.3], [15.3]])
    >>> round(window_change(near_zero, 2).relative, 3)
    0.02
    >>> round(window_change(near_zero, 2, size=1000.0).relative, 5)
    0.0003
    """
    found = _last_two(elbos, window, maximise=True)
    if found is None:
        return None
    last, before, best = found
    trend, trend_se = window_trend(elbos[:, best], window)
    return WindowChange(before=before, last=last,
                        relative=abs(last - before) / max(abs(before), 1e-12),
                        trend=trend, trend_se=trend_se, restart=best).against(size)


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
