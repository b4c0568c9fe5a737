"""Whether the predictive's probabilities and intervals can be trusted: calibration figures.

A classifier's reliability diagram, a regressor's interval coverage, and its predictive bands
along one input (noise inside noise and weights).
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.reporting.canvas import axes_for


def reliability_diagram(y_true, proba, *, n_bins: int | None = None, ax=None, classes=None,
                        title="Reliability diagram"):
    """Accuracy against top-class confidence per equal-width bin, with the ECE in the legend.

    Bins as in `pymc_bnn.posterior.metrics.reliability_bins`. Bars below the diagonal:
    overconfident there.

    Parameters
    ----------
    y_true : array-like
        `(n,)` class indices, or labels with `classes`.
    proba : array-like
        P(y=1) `(n,)` or class probabilities `(n, K)`.
    n_bins : int, optional
        Default `ECE_BINS` (15).
    ax : matplotlib Axes, optional
    classes : sequence, optional
        The class labels in column order.
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = reliability_diagram([0, 1, 1, 1], [0.1, 0.9, 0.8, 0.3], n_bins=2)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['perfect calibration', 'accuracy per bin (ECE = 0.075)', 'gap to mean confidence']
    """
    from pymc_bnn.posterior.classification_metrics import ECE_BINS, reliability_bins

    bins = reliability_bins(y_true, proba, ECE_BINS if n_bins is None else n_bins,
                            classes=classes)
    ax = axes_for(ax, figsize=(5.2, 5.0))
    width = np.diff(bins.edges)
    filled = bins.count > 0
    ax.bar(bins.edges[:-1][filled], bins.accuracy[filled], width=width[filled], align="edge",
           color="C0", edgecolor="white", alpha=0.85,
           label=f"accuracy per bin (ECE = {bins.ece:.3f})")
    ax.bar(bins.edges[:-1][filled], (bins.confidence - bins.accuracy)[filled],
           bottom=bins.accuracy[filled], width=width[filled], align="edge", color="C3",
           alpha=0.3, edgecolor="C3", hatch="//", label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], ls="--", color="0.4", lw=1, label="perfect calibration")
    for x, c, n in zip(bins.edges[:-1][filled], bins.accuracy[filled], bins.count[filled],
                       strict=False):
        ax.annotate(str(int(n)), (x + width[0] / 2, c), ha="center", va="bottom", fontsize=7,
                    color="0.3")
    ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="confidence (top-class probability)",
           ylabel="accuracy", title=title, aspect="equal")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    return ax


def regression_bands(x, mean, aleatoric_sd, total_sd, *, X_train=None, y_train=None,
                     n_sd: float = 2.0, ax=None, title="Predictive mean and uncertainty",
                     xlabel="$x$", ylabel="$y$"):
    """Mean ± n_sd·aleatoric sd (noise) inside mean ± n_sd·total sd (noise and weights).

    Where the outer band is much wider than the inner one, the model is unsure of the function,
    not of the noise.

    Parameters
    ----------
    x, mean, aleatoric_sd, total_sd : array-like
        `(n,)` along one input (sorted here), e.g. from a regressor's `uncertainty`: "mean",
        "aleatoric_sd", "sd"; `x` may be the `(n, 1)` column the regressor predicted on.
    X_train, y_train : array-like, optional
        Data drawn as points: the one input, `(m,)` or `(m, 1)`, and the target `(m,)`.
    n_sd : float, default 2.0
        Half-width of the bands, in sds.
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidInputError
        When `x` or `X_train` has more than one column (the bands run along one input), or
        `mean`, `aleatoric_sd`, `total_sd` are not one value per `x`, `y_train` one per row of
        `X_train`, or only one of `X_train` and `y_train` is given.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-3, 3, 50)
    >>> noise, weights = np.full(50, 0.2), 0.1 * np.abs(x)  # the function unsure far out
    >>> ax = regression_bands(x, np.sin(x), noise, np.sqrt(noise**2 + weights**2))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['± 2 sd total (noise + weights)', '± 2 sd aleatoric (noise)', 'predictive mean']
    """
    x = _one_input(x, "x")
    for name, values in (("mean", mean), ("aleatoric_sd", aleatoric_sd), ("total_sd", total_sd)):
        _refuse_other_length(values, name, x.size, "x has {n} values",
                             "pass the values predicted at x")
    if (X_train is None) != (y_train is None):  # one without the other drew no points
        given, missing = ("X_train", "y_train") if y_train is None else ("y_train", "X_train")
        raise InvalidInputError(
            f"regression_bands draws the training rows from X_train and y_train together, but "
            f"only {given} was given; pass {missing} too, or neither")
    if X_train is not None:
        X_train = _one_input(X_train, "X_train")
        y_train = np.asarray(y_train)
        y_train = y_train[:, 0] if y_train.shape[1:] == (1,) else y_train  # a column too
        _refuse_other_length(y_train, "y_train", X_train.size, "X_train has {n} rows",
                             "pass one target value per row")
    ax = axes_for(ax, figsize=(7.0, 4.2))
    order = np.argsort(x)
    x, mean = x[order], np.asarray(mean)[order]
    aleatoric_sd, total_sd = np.asarray(aleatoric_sd)[order], np.asarray(total_sd)[order]
    ax.fill_between(x, mean - n_sd * total_sd, mean + n_sd * total_sd, color="C0", alpha=0.2,
                    lw=0, label=f"± {n_sd:g} sd total (noise + weights)")
    ax.fill_between(x, mean - n_sd * aleatoric_sd, mean + n_sd * aleatoric_sd, color="C0",
                    alpha=0.35, lw=0, label=f"± {n_sd:g} sd aleatoric (noise)")
    ax.plot(x, mean, color="C0", lw=1.6, label="predictive mean")
    if X_train is not None:
        ax.scatter(X_train, y_train, s=8, color="black", alpha=0.6, label="data")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def _one_input(values, name: str) -> np.ndarray:
    """`(n,)` or an `(n, 1)` column as `(n,)`; more columns are refused."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        return values[:, 0]
    if values.ndim > 1:
        columns = f"{values.shape[1]} columns" if values.ndim == 2 else f"{values.ndim} dimensions"
        raise InvalidInputError(
            f"regression_bands draws along one input, but {name} has {columns} (shape "
            f"{values.shape}); pass the input to draw along, e.g. {name}[:, 0]")
    return values


def _refuse_other_length(values, name: str, n: int, against: str, fix: str) -> None:
    """Refuse `values` unless they are `(n,)`, naming both lengths (not matplotlib's error)."""
    if np.shape(values) != (n,):
        raise InvalidInputError(
            f"regression_bands needs one {name} per point: {against.format(n=n)}, but "
            f"{name} has shape {np.shape(values)}; {fix}")


def coverage_curve(nominal, observed, *, ax=None, title="Interval coverage"):
    """Observed share of targets inside the central intervals against their nominal level.

    Points below the diagonal: intervals too narrow (overconfident); above: too wide.

    Parameters
    ----------
    nominal, observed : array-like
        `(L,)`, e.g. from `pymc_bnn.posterior.metrics.coverage_by_level`.
    ax : matplotlib Axes, optional
    title : str, default "Interval coverage"

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = coverage_curve([0.5, 0.8, 0.9], [0.42, 0.7, 0.85])
    >>> ax.lines[1].get_ydata().tolist()
    [0.42, 0.7, 0.85]
    """
    ax = axes_for(ax, figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], ls="--", color="0.4", lw=1, label="perfect coverage")
    ax.plot(nominal, observed, "o-", color="C0", label="observed")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="nominal level", ylabel="observed coverage",
           title=title, aspect="equal")
    ax.legend(loc="upper left", frameon=False)
    return ax

