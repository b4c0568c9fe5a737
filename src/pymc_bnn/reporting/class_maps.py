"""A classifier's predictions over a 2-D grid: probability and uncertainty maps, one per group.

Each map is a filled contour (`surface`) with the data's points on top, coloured as in
`pymc_bnn.reporting.class_scatter`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.reporting.canvas import axes_for
from pymc_bnn.reporting.class_scatter import class_styles


def surface(xx, yy, values, *, X=None, y=None, ax=None, title="", cmap="RdBu_r",
            label="", vmin=None, vmax=None, levels=25):
    """A filled contour map of `values` (n, n) over the grid xx, yy, with data points on top.

    Parameters
    ----------
    xx, yy : numpy.ndarray
        `(n, n)` the grid, as from `pymc_bnn.datasets.grid_2d`.
    values : numpy.ndarray
        `(n, n)`.
    X, y : array-like, optional
        Data points `(m, 2)` and their class labels, drawn on top.
    ax : matplotlib Axes, optional
    title, label : str
        The Axes' title and the colour bar's label.
    cmap : str, default "RdBu_r"
    vmin, vmax : float, optional
        The colour scale's ends.
    levels : int or array-like, default 25
        Number of colour steps, or their edges (shared edges put maps on one scale).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymc_bnn.datasets import grid_2d
    >>> points, xx, yy = grid_2d(n=20)
    >>> ax = surface(xx, yy, xx * yy, label="x0 · x1", title="A saddle")
    >>> ax.get_title(), len(ax.figure.axes)  # the map and its colour bar
    ('A saddle', 2)
    """
    ax = axes_for(ax)
    mesh = ax.contourf(xx, yy, values, levels=levels, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if X is not None and y is not None:
        for mask, color, _ in class_styles(y):
            ax.scatter(X[mask, 0], X[mask, 1], s=8, color=color, edgecolors="white", lw=0.3)
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    return ax


def probability_map(xx, yy, proba, **kwargs):
    """Posterior-predictive mean P(y=1) over a grid; proba (n, n).

    Parameters
    ----------
    xx, yy : numpy.ndarray
        `(n, n)` the grid.
    proba : numpy.ndarray
        `(n, n)` P(y = 1), on the colour scale [0, 1].
    **kwargs
        As for `surface` (X, y, ax, title, ...).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymc_bnn.datasets import grid_2d
    >>> points, xx, yy = grid_2d(n=20)
    >>> proba = fitted.predict(points)["mean"].values.reshape(xx.shape)
    >>> ax = probability_map(xx, yy, proba, X=tiny_data.X_train, y=tiny_data.y_train)
    >>> ax.get_title()
    'Posterior predictive mean probability'
    """
    kwargs.setdefault("title", "Posterior predictive mean probability")
    return surface(xx, yy, proba, cmap="RdBu_r", label="P(y = 1)", vmin=0.0, vmax=1.0, **kwargs)


def uncertainty_map(xx, yy, std, **kwargs):
    """Posterior sd of P(y=1) over a grid: how much the network's weights disagree.

    Parameters
    ----------
    xx, yy : numpy.ndarray
        `(n, n)` the grid.
    std : numpy.ndarray
        `(n, n)` the sd over draws of P(y = 1) (`Posterior.predict`'s "std").
    **kwargs
        As for `surface`.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymc_bnn.datasets import grid_2d
    >>> points, xx, yy = grid_2d(n=20)
    >>> sd = fitted.predict(points)["std"].values.reshape(xx.shape)
    >>> uncertainty_map(xx, yy, sd).figure.axes[1].get_ylabel()  # the colour bar
    'sd of P(y = 1)'
    """
    kwargs.setdefault("title", "Uncertainty: sd of P(y = 1) over the posterior")
    return surface(xx, yy, std, cmap="viridis", label="sd of P(y = 1)", **kwargs)


def uncertainty_maps(xx, yy, total, aleatoric, epistemic, *, X=None, y=None, n_classes: int = 2,
                     ax=None):
    """Total, aleatoric and epistemic uncertainty over a 2-D grid, side by side (nats).

    Total and aleatoric share the scale [0, log K]; epistemic has its own, usually much
    smaller, scale.

    Parameters
    ----------
    xx, yy : numpy.ndarray
        `(n, n)` the grid.
    total, aleatoric, epistemic : numpy.ndarray
        `(n, n)` predictive entropy, expected entropy and mutual information (see
        `pymc_bnn.posterior.uncertainty`).
    X, y : array-like, optional
        Data points drawn on every map.
    n_classes : int, default 2
        K, the number of classes: total and aleatoric are drawn on [0, log K].
    ax : sequence of 3 matplotlib Axes, optional
        Where to draw the total, aleatoric and epistemic maps, e.g. a row of a figure of
        one's own; default a new figure of three.

    Returns
    -------
    matplotlib Figure
        The figure of the three maps (and their colour bars).

    Raises
    ------
    InvalidInputError
        When total or aleatoric exceed log K: entropies of more than `n_classes` classes.
    InvalidSettingError
        When `ax` is not three Axes.

    Examples
    --------
    >>> from pymc_bnn.datasets import grid_2d
    >>> points, xx, yy = grid_2d(n=20)
    >>> summary = fitted.uncertainty(points)
    >>> maps = [summary[name].values.reshape(xx.shape)
    ...         for name in ("predictive_entropy", "expected_entropy", "mutual_information")]
    >>> fig = uncertainty_maps(xx, yy, *maps)
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['Total: predictive entropy', 'Aleatoric: expected entropy', 'Epistemic: mutual information']

    Into a figure of one's own, here the second row:

    >>> import matplotlib.pyplot as plt
    >>> own, grid = plt.subplots(2, 3, figsize=(15, 9), layout="constrained")
    >>> uncertainty_maps(xx, yy, *maps, ax=grid[1]) is own
    True
    """
    if ax is not None:
        ax = list(np.ravel(ax))
        if len(ax) != 3:
            raise InvalidSettingError(
                f"ax must be 3 Axes, one per map (total, aleatoric, epistemic), got {len(ax)}; "
                "pass a row of three, e.g. plt.subplots(1, 3)[1], or leave ax out")
    top = float(np.log(n_classes))
    largest = max(float(np.nanmax(values, initial=0.0)) for values in (total, aleatoric))
    if largest > top + 1e-6:  # drawn on [0, log K], everything above would be one colour
        raise InvalidInputError(
            f"the entropies reach {largest:.4g} nats, above log {n_classes} = {top:.4g} nats, "
            f"the most {n_classes} classes allow; pass n_classes=K, the classifier's number of "
            f"classes (at least {int(np.ceil(np.exp(largest) - 1e-6))} here)")
    if ax is None:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    else:
        fig, axes = ax[0].figure, ax
    panels = [
        (total, "Total: predictive entropy", "magma", 0.0, top),
        (aleatoric, "Aleatoric: expected entropy", "magma", 0.0, top),
        (epistemic, "Epistemic: mutual information", "viridis", 0.0, None),
    ]
    for ax, (values, title, cmap, vmin, vmax) in zip(axes, panels, strict=False):
        surface(xx, yy, values, X=X, y=y, ax=ax, title=title, cmap=cmap, label="nats",
                vmin=vmin, vmax=vmax)
    return fig


def group_surfaces(xx, yy, proba_by_group, *, data_by_group=None, titles=None, ncols: int = 4,
                   suptitle: str = ""):
    """A grid of small probability maps, one per group; returns the Figure.

    Parameters
    ----------
    xx, yy : numpy.ndarray
        `(n, n)` the grid.
    proba_by_group : array-like
        `(n_groups, n, n)` P(y = 1) on the grid.
    data_by_group : list of (X, y), optional
        Points `(m, 2)` and classes `(m,)` drawn on each map, every class in its own colour
        (`class_styles` over all groups' labels, so a class has one colour on every map).
    titles : list of str, optional
        One per group.
    ncols : int, default 4
        Maps per row.
    suptitle : str, default ""

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> from pymc_bnn.datasets import grid_2d
    >>> points, xx, yy = grid_2d(n=20)
    >>> data = tiny_grouped
    >>> proba = [grouped_posterior.predict(points, groups=[group] * len(points))["mean"]
    ...          .values.reshape(xx.shape) for group in data.group_labels]
    >>> fig = group_surfaces(xx, yy, proba, titles=list(data.group_labels), ncols=3)
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['g00', 'g01', 'g02']
    """
    n_groups = len(proba_by_group)
    if data_by_group is not None:  # styles from every group's classes: one colour per class
        styles = class_styles(np.concatenate([np.asarray(y) for _, y in data_by_group]))
        bounds = np.cumsum([0] + [len(y) for _, y in data_by_group])
    nrows = int(np.ceil(n_groups / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.3 * ncols, 2.3 * nrows + 0.4),
                             layout="constrained", squeeze=False, sharex=True, sharey=True)
    mesh = None
    for g, ax in enumerate(axes.flat):
        if g >= n_groups:
            ax.set_axis_off()
            continue
        mesh = ax.contourf(xx, yy, proba_by_group[g], levels=np.linspace(0, 1, 21),
                           cmap="RdBu_r", vmin=0.0, vmax=1.0)
        if data_by_group is not None:
            X = np.asarray(data_by_group[g][0])
            for mask, color, _ in styles:
                here = mask[bounds[g]:bounds[g + 1]]
                if here.any():
                    ax.scatter(X[here, 0], X[here, 1], s=9, color=color, edgecolors="black",
                               lw=0.4)
        ax.set(aspect="equal", xticks=[], yticks=[])
        if titles is not None:
            ax.set_title(titles[g], fontsize=9)
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, label="P(y = 1)", shrink=0.6)
    if suptitle:
        fig.suptitle(suptitle)
    return fig

