"""An ELBO trace read: how much it still rose at the end, its window means and trend in words.

`elbo_still_rising` measures the rise over the last tenth of the steps against its noise;
`window_means_words` and `trend_words` put ADVI's stopping rules' numbers in words, the same in
the VI engine's warnings and in `pymc_bnn.posterior.convergence`'s judgement of the fit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["elbo_still_rising", "trend_words", "window_means_words"]


def elbo_still_rising(elbo) -> tuple[float, float] | None:
    """How much the ELBO rose over the last tenth of the steps, and the noise of that rise.

    Parameters
    ----------
    elbo : array-like
        `(n_steps,)` ELBO per step (nats, higher is better).

    Returns
    -------
    (float, float) or None
        (mean of the last tenth − mean of the tenth before, its standard error), nats; None
        with fewer than 20 finite steps.

    Examples
    --------
    >>> rise, noise = elbo_still_rising(-1000.0 / np.arange(1.0, 201.0))
    >>> round(rise, 2), noise < 0.1
    (0.62, True)
    """
    elbo = np.asarray(elbo, dtype=np.float64).ravel()
    elbo = elbo[np.isfinite(elbo)]
    tenth = elbo.size // 10
    if tenth < 2:
        return None
    last, before = elbo[-tenth:], elbo[-2 * tenth:-tenth]
    noise = float(np.sqrt(last.var(ddof=1) / tenth + before.var(ddof=1) / tenth))
    return float(last.mean() - before.mean()), noise


def window_means_words(before: float, last: float, size: float | None = None) -> str:
    """The two window means ADVI's relative change compares, in words.

    What the report and ADVI's step-limit warning show beside the relative change: near 0
    nats (a regression's ELBO can be) a small move is a large relative change, and the means
    show it. `size`, where the change was taken against the ELBO's size rather than its value
    (`pymc_bnn.inference.windows.WindowChange.size`), is named too.

    Examples
    --------
    >>> print(window_means_words(-812.25, -809.75))
    mean ELBO -812.2 → -809.8 nats
    >>> print(window_means_words(14.6, 14.75, size=420.4))
    mean ELBO 14.6 → 14.8 nats, of a size of 420 nats (log-likelihood + KL)
    """
    words = f"mean ELBO {before:,.1f} → {last:,.1f} nats"
    if size is not None and np.isfinite(size):
        words += f", of a size of {size:,.0f} nats (log-likelihood + KL)"
    return words


def trend_words(trend: float, standard_error: float, windows: int) -> str:
    """A minibatch fit's ELBO trend against its noise, in words (ADVI's noise rule).

    Parameters
    ----------
    trend, standard_error : float
        The rise per window fitted over the last `windows` windows and its standard error,
        nats (`pymc_bnn.inference.windows.window_trend`).
    windows : int
        Windows it was fitted over.

    Examples
    --------
    >>> print(trend_words(0.7, 1.4, 4))
    ELBO trend +0.7 nats a window over the last 4 windows: 0.5 standard errors (1.4 nats)
    """
    ratio = abs(trend) / standard_error if standard_error > 0 else float("inf")
    return (f"ELBO trend {trend:+,.2g} nats a window over the last {windows} windows: "
            f"{ratio:.2g} standard errors ({standard_error:,.2g} nats)")
