"""Figures for papers and reports: each function draws on an Axes (made if not given), returns it.

Works headless: matplotlib falls back to its Agg backend when there is no display, and `save`
closes what it writes so long runs do not pile up figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError

CLASS_COLORS = ("#1f77b4", "#d62728")
# after the two classes of CLASS_COLORS, the rest of matplotlib's tab10 (C0 and C3 are those two)
_MORE_CLASS_COLORS = ("C2", "C1", "C4", "C5", "C6", "C7", "C8", "C9")


def _axes(ax, figsize=(5.5, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def class_styles(y, names=None) -> list[tuple[np.ndarray, str, str]]:
    """One `(mask, colour, legend name)` per class in `y`, for scatter plots.

    Every class gets its own entry, whatever its labels (0/1, 1/2, text, more than two), so no
    point is left out of a figure. Whole-number labels 0 … 9 take slot k for label k, so class 1
    keeps its colour and name where class 0 is absent (a test split, one group); other labels
    take their sorted position. Slots 0 and 1 are `CLASS_COLORS`, later ones the rest of tab10
    (cycled past ten classes).

    Parameters
    ----------
    y : array-like
        `(n,)` class labels.
    names : sequence of str, optional
        The legend's names, by slot: `names[k]` for label k (0 … 9), else for the k-th label
        in sorted order; default "class 0", "class 1", … for numbers and the labels
        themselves for text.

    Returns
    -------
    list of (numpy.ndarray, str, str)
        The boolean mask `(n,)` of each class's points, its colour and its name.

    Raises
    ------
    InvalidInputError
        When `names` does not name every class.

    Examples
    --------
    >>> [(int(mask.sum()), colour, name) for mask, colour, name in class_styles([1, 2, 2])]
    [(1, '#d62728', 'class 1'), (2, 'C2', 'class 2')]
    """
    y = np.asarray(y)
    classes = np.unique(y)
    numeric = classes.dtype.kind in "iuf" and classes.size > 0
    colours = CLASS_COLORS + _MORE_CLASS_COLORS
    whole = numeric and classes.min() >= 0 and bool(np.all(classes == np.round(classes)))
    # by value only while every value has its own colour (labels 0 and 10 must not share one)
    by_value = whole and classes.max() < len(colours)
    slots = classes.astype(int) if by_value else np.arange(classes.size)
    if names is None:  # 1.0 is "class 1"
        names = {slot: f"class {int(c)}" if whole else str(c) if isinstance(c, str)
                 else f"class {c}" for slot, c in zip(slots, classes, strict=True)}
    elif slots.size and len(names) <= slots.max():
        raise InvalidInputError(
            f"labels names {len(names)} class(es) but the data's classes "
            f"({', '.join(str(c) for c in classes[:10])}) need {slots.max() + 1} names; give "
            "one per class (labels[k] for class k, else in sorted order), or leave labels out")
    return [(y == c, colours[slot % len(colours)], str(names[slot]))
            for slot, c in zip(slots, classes, strict=True)]


def scatter_classes(X, y, *, ax=None, title="Training data", labels=None):
    """Points coloured by class.

    Parameters
    ----------
    X : numpy.ndarray
        `(n, 2)`.
    y : array-like
        `(n,)` class labels: 0/1, text, any number of classes.
    ax : matplotlib Axes, optional
        Drawn on; a new figure's by default.
    title : str, default "Training data"
    labels : sequence of str, optional
        The legend's names of the classes, in sorted order; default "class 0", "class 1", …
        (text labels name themselves).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = scatter_classes(tiny_data.X_train, tiny_data.y_train, labels=("lower", "upper"))
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['lower', 'upper']
    """
    ax = _axes(ax)
    for mask, color, name in class_styles(y, labels):
        ax.scatter(X[mask, 0], X[mask, 1], s=12, color=color, label=name, alpha=0.8,
                   edgecolors="none")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


def elbo_trace(elbo, *, ax=None, title="ELBO during optimisation"):
    """ELBO per step (nats). Smoothed over a window of 1% of the steps to show the trend.

    Parameters
    ----------
    elbo : array-like
        `(n_steps,)`, e.g. `Posterior.elbo`.
    ax : matplotlib Axes, optional
    title : str, default "ELBO during optimisation"

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = elbo_trace(fitted.elbo)
    >>> ax.get_ylabel(), [text.get_text() for text in ax.get_legend().get_texts()]
    ('ELBO (nats)', ['per step', 'mean of 5 steps'])
    """
    ax = _axes(ax, figsize=(6.5, 3.8))
    elbo = np.asarray(elbo, dtype=float)
    steps = np.arange(1, elbo.size + 1)
    ax.plot(steps, elbo, color="0.75", lw=0.6, label="per step")
    window = max(1, elbo.size // 100)
    if window > 1:
        smooth = np.convolve(elbo, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], smooth, color="C0", lw=1.5, label=f"mean of {window} steps")
    finite = elbo[np.isfinite(elbo)]
    if finite.size:
        low = np.percentile(finite, 1)
        ax.set_ylim(low - 0.05 * abs(low), finite.max() + 0.05 * abs(finite.max()) + 1)
    ax.set(xlabel="step", ylabel="ELBO (nats)", title=title)
    ax.legend(loc="lower right", frameon=False)
    return ax


def predicted_labels(X, y_true, proba, *, ax=None, title="Predicted labels on the test set",
                     classes=None):
    """Test points coloured by predicted class; misclassified points ringed in black.

    Parameters
    ----------
    X : numpy.ndarray
        `(n, 2)`.
    y_true : array-like
        `(n,)` class indices, or labels with `classes`.
    proba : array-like
        `(n,)` P(y = 1) (above 0.5 predicts 1), or class probabilities `(n, K)` (the largest
        predicts), e.g. `predict_proba`'s output.
    ax : matplotlib Axes, optional
    title : str
    classes : sequence, optional
        The class labels in column order (e.g. `estimator.classes_`); they name the legend.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidInputError
        Labels that are not class indices without `classes`, or probabilities that are not.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    >>> ax = predicted_labels(X, [0, 1, 1], [0.2, 0.9, 0.3])
    >>> ax.get_legend().get_texts()[-1].get_text()
    'misclassified (1)'
    """
    from pymc_bnn.posterior.metrics import check_classification

    codes, proba = check_classification(y_true, proba, classes)
    predicted = (proba > 0.5).astype(int) if proba.ndim == 1 else proba.argmax(axis=1)
    n_classes = 2 if proba.ndim == 1 else proba.shape[1]
    names = [str(c) for c in classes] if classes is not None else [str(k) for k in range(n_classes)]
    colours = CLASS_COLORS + _MORE_CLASS_COLORS
    ax = _axes(ax)
    for k in range(n_classes):
        mask = predicted == k
        if mask.any() or n_classes == 2:  # two classes: both always in the legend
            ax.scatter(X[mask, 0], X[mask, 1], s=14, color=colours[k % len(colours)],
                       label=f"predicted {names[k]}", edgecolors="none", alpha=0.85)
    wrong = predicted != codes
    ax.scatter(X[wrong, 0], X[wrong, 1], s=50, facecolors="none", edgecolors="black", lw=1.0,
               label=f"misclassified ({int(wrong.sum())})")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


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
    ax = _axes(ax)
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


def prior_functions(x, draws, *, ax=None, n_lines: int = 30, interval: float = 0.9,
                    title="Functions the prior implies", xlabel="$x$", ylabel="network output",
                    seed: int = 0):
    """Sampled functions along one input direction: `n_lines` draws plus the central interval.

    The shaded band holds the central `interval` of the draws at each x; a band that fills the
    whole plausible range, or lines that jump like steps, say the prior is too wide for the
    data's scale.

    Parameters
    ----------
    x : array-like
        `(n,)` the coordinate along the path (sorted).
    draws : array-like
        `(S, n)` one function per draw, e.g. `prior_predictive(bnn, X_path)["mean"]` or its
        "probs"[..., 1].
    ax : matplotlib Axes, optional
    n_lines : int, default 30
        Draws drawn as lines (chosen with `seed`).
    interval : float, default 0.9
        The band's probability.
    title, xlabel, ylabel : str
    seed : int, default 0

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    Draws of tanh(w·x) with w ~ Normal(0, 1) stand in here for
    `prior_predictive(bnn, X_path, include_output=True)["output"][..., 0]`:

    >>> import numpy as np
    >>> x = np.linspace(-3, 3, 50)
    >>> draws = np.tanh(np.random.default_rng(0).normal(size=(100, 1)) * x)
    >>> ax = prior_functions(x, draws, n_lines=10)
    >>> len(ax.lines)  # 10 draws and the median
    11
    """
    ax = _axes(ax, figsize=(6.5, 4.0))
    x = np.asarray(x, dtype=float)
    draws = np.asarray(draws, dtype=float)
    tail = (1.0 - interval) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    ax.fill_between(x, low, high, color="C0", alpha=0.2, lw=0,
                    label=f"central {interval:.0%} of {draws.shape[0]} draws")
    rng = np.random.default_rng(seed)
    shown = rng.choice(draws.shape[0], size=min(n_lines, draws.shape[0]), replace=False)
    for i, s in enumerate(shown):
        ax.plot(x, draws[s], color="C0", lw=0.7, alpha=0.6,
                label="single draws" if i == 0 else None)
    ax.plot(x, np.median(draws, axis=0), color="black", lw=1.4, label="median")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", frameon=False)
    return ax


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
    from pymc_bnn.posterior.metrics import ECE_BINS, reliability_bins

    bins = reliability_bins(y_true, proba, ECE_BINS if n_bins is None else n_bins,
                            classes=classes)
    ax = _axes(ax, figsize=(5.2, 5.0))
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
        When `x` or `X_train` has more than one column: the bands run along one input.

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
    if X_train is not None:
        X_train = _one_input(X_train, "X_train")
    ax = _axes(ax, figsize=(7.0, 4.2))
    order = np.argsort(x)
    x, mean = x[order], np.asarray(mean)[order]
    aleatoric_sd, total_sd = np.asarray(aleatoric_sd)[order], np.asarray(total_sd)[order]
    ax.fill_between(x, mean - n_sd * total_sd, mean + n_sd * total_sd, color="C0", alpha=0.2,
                    lw=0, label=f"± {n_sd:g} sd total (noise + weights)")
    ax.fill_between(x, mean - n_sd * aleatoric_sd, mean + n_sd * aleatoric_sd, color="C0",
                    alpha=0.35, lw=0, label=f"± {n_sd:g} sd aleatoric (noise)")
    ax.plot(x, mean, color="C0", lw=1.6, label="predictive mean")
    if X_train is not None and y_train is not None:
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
    ax = _axes(ax, figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], ls="--", color="0.4", lw=1, label="perfect coverage")
    ax.plot(nominal, observed, "o-", color="C0", label="observed")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="nominal level", ylabel="observed coverage",
           title=title, aspect="equal")
    ax.legend(loc="upper left", frameon=False)
    return ax


def save(ax_or_fig, path, dpi: int = 130) -> None:
    r"""Write the figure to `path` (format from the suffix) atomically and close it.

    Parameters
    ----------
    ax_or_fig : matplotlib Axes or Figure
    path : str or os.PathLike
        .png, .pdf, .svg, ... (a format matplotlib writes; no suffix writes PNG)
    dpi : int, default 130

    Raises
    ------
    InvalidSettingError
        When matplotlib cannot write the suffix's format; the figure is left open, to save
        under another name.

    Examples
    --------
    >>> save(coverage_curve([0.5, 0.9], [0.5, 0.88]), "figures/coverage.png", dpi=50)
    >>> open("figures/coverage.png", "rb").read(4)
    b'\x89PNG'
    >>> save(coverage_curve([0.5, 0.9], [0.5, 0.88]), "figures/coverage.txt")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: cannot save figures/coverage.txt: ...
    """
    import io
    from pathlib import Path

    from pymc_bnn._runtime.outputs import PNG_SOFTWARE, write_bytes_atomic

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    buffer = io.BytesIO()
    kind = Path(path).suffix.lstrip(".").lower() or "png"
    formats = fig.canvas.get_supported_filetypes()
    if kind not in formats:
        raise InvalidSettingError(
            f"cannot save {path}: matplotlib writes no {kind!r} figures; use one of the "
            f"suffixes {', '.join(sorted(formats))}, e.g. {Path(path).with_suffix('.png')}")
    # a PNG says it is pymc-bnn's, so a later run may replace it (`_runtime.outputs`)
    marked = {"metadata": {"Software": PNG_SOFTWARE}} if kind == "png" else {}
    fig.savefig(buffer, format=kind, dpi=dpi, **marked)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())


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


def accuracy_by_group(accuracies: dict, labels, *, ax=None,
                      title="Held-out accuracy per group"):
    """Dots per group for each method. accuracies: {method: (n_groups,) values in [0, 1]}.

    Parameters
    ----------
    accuracies : dict
        Method → `(n_groups,)` accuracies.
    labels : sequence
        The groups, in the same order.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = accuracy_by_group({"partial": [0.9, 0.8], "none": [0.7, 0.6]}, ["north", "south"])
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['partial (mean 0.850)', 'none (mean 0.650)']
    """
    ax = _axes(ax, figsize=(7.0, 3.8))
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(accuracies.items()):
        values = np.asarray(values, dtype=float)
        ax.plot(x, values, "o-", lw=0.8, ms=5, color=f"C{k}",
                label=f"{name} (mean {values.mean():.3f})")
    ax.set_xticks(x, [str(label) for label in labels], rotation=90 if len(labels) > 12 else 0)
    ax.set(xlabel="group", ylabel="accuracy", title=title)
    ax.legend(loc="lower right", frameon=False)
    return ax


def learning_curves(labels_used, curves, *, ax=None, title="Learning curves",
                    ylabel="held-out accuracy"):
    """Mean score vs labels used per strategy, with a band of ±1 sd over repeats.

    The legend gives each strategy's area under the mean curve (mean over rounds) and the
    repeat count.

    Parameters
    ----------
    labels_used : array-like
        `(n_rounds,)`.
    curves : dict
        Strategy name → `(n_repeats, n_rounds)` scores.
    ax : matplotlib Axes, optional
    title, ylabel : str

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidInputError
        When a strategy's repeats do not each hold one score per round of `labels_used`.

    Examples
    --------
    >>> ax = learning_curves([10, 20, 30], {"bald": [[0.7, 0.8, 0.9], [0.7, 0.9, 0.9]],
    ...                                     "random": [[0.7, 0.75, 0.8], [0.7, 0.75, 0.8]]})
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['bald (area 0.817, 2 repeats)', 'random (area 0.750, 2 repeats)']
    """
    ax = _axes(ax, figsize=(6.5, 4.2))
    labels_used = np.asarray(labels_used)
    for i, (name, scores) in enumerate(curves.items()):
        repeats = list(scores) if np.ndim(next(iter(scores), 0)) else [scores]  # or one repeat
        lengths = {len(row) for row in repeats}
        if lengths != {labels_used.size}:
            raise InvalidInputError(
                f"curves[{name!r}] must hold one score per round of labels_used "
                f"({labels_used.size} rounds of labels_used) in every repeat, got repeats of "
                f"{', '.join(str(n) for n in sorted(lengths))} scores; leave out the repeats "
                "that stopped early (ActiveLearningRun.interrupted)")
        scores = np.atleast_2d(np.asarray(scores, dtype=float))
        mean, sd = scores.mean(axis=0), scores.std(axis=0)
        color = "0.35" if name == "random" else f"C{i}"
        ax.plot(labels_used, mean, color=color, lw=1.8, marker="o", ms=3.5,
                label=f"{name} (area {mean.mean():.3f}, {scores.shape[0]} repeats)")
        if scores.shape[0] > 1:
            ax.fill_between(labels_used, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
    ax.set(xlabel="labels used", ylabel=ylabel, title=title)
    ax.legend(loc="lower right", frameon=False)
    return ax


def labelled_points(X_pool, y_pool, labelled, *, ax=None, title="Points chosen for labelling"):
    """The pool in light grey and the labelled points coloured by class.

    Parameters
    ----------
    X_pool : numpy.ndarray
        `(n, 2)`.
    y_pool : array-like
        `(n,)` class labels.
    labelled : sequence of int
        Pool indices in the order they were labelled (e.g. `ActiveLearningRun.labelled`).
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = labelled_points(tiny_data.X_train, tiny_data.y_train, labelled=[0, 5, 9])
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['pool', 'labelled, class 0', 'labelled, class 1']
    """
    ax = _axes(ax)
    ax.scatter(X_pool[:, 0], X_pool[:, 1], s=6, color="0.85", edgecolors="none", label="pool")
    labelled = np.asarray(labelled, dtype=int)
    is_labelled = np.zeros(len(X_pool), dtype=bool)
    is_labelled[labelled] = True
    # colours from every pool class, so a class keeps its colour whichever were labelled
    for mask, color, name in class_styles(y_pool):
        chosen = mask & is_labelled
        ax.scatter(X_pool[chosen, 0], X_pool[chosen, 1], s=22, color=color,
                   edgecolors="black", lw=0.4, label=f"labelled, {name}")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def class_frequency_check(classes, observed, replicated, *, ax=None,
                          title="Observed and replicated class shares"):
    """Observed share of each class against the shares in data sets replicated from the posterior.

    Bars: observed; points and lines: the replicated median and central 90%.

    Parameters
    ----------
    classes : sequence
        `(K,)` names.
    observed : array-like
        `(K,)` shares.
    replicated : array-like
        `(S, K)` shares, one row per replicated data set
        (`pymc_bnn.reporting.predictive_checks.replicate_class_shares`).
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> replicated = np.random.default_rng(0).dirichlet([30, 10], size=200)
    >>> ax = class_frequency_check(["no", "yes"], [0.7, 0.3], replicated)
    >>> [label.get_text() for label in ax.get_xticklabels()]
    ['no', 'yes']
    """
    ax = _axes(ax, figsize=(max(4.5, 0.9 * len(classes) + 2.5), 4.0))
    replicated = np.asarray(replicated, dtype=float)
    where = np.arange(len(classes))
    ax.bar(where, observed, width=0.6, color="0.8", label="observed")
    low, mid, high = np.quantile(replicated, [0.05, 0.5, 0.95], axis=0)
    ax.errorbar(where, mid, yerr=[mid - low, high - mid], fmt="o", color="C0", capsize=4,
                label="replicated (median, 90%)")
    ax.set_xticks(where, [str(c) for c in classes], rotation=30 if len(classes) > 4 else 0)
    ax.set(ylabel="share of rows", title=title)
    ax.legend(loc="best", frameon=False)
    return ax


def replicated_distribution(y, replicated, *, discrete: bool = False, ax=None,
                            title="Observed and replicated values"):
    """Histogram of the observed target over the pooled values replicated from the posterior.

    Parameters
    ----------
    y : array-like
        `(n,)` observed.
    replicated : array-like
        `(S, n)` draws from the posterior predictive.
    discrete : bool, default False
        One bar per whole number (counts) instead of equal-width bins.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ax = replicated_distribution(rng.poisson(3, 100), rng.poisson(3, (50, 100)),
    ...                              discrete=True)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['replicated', 'observed']
    """
    ax = _axes(ax, figsize=(6.0, 4.0))
    y = np.asarray(y, dtype=float)
    replicated = np.asarray(replicated, dtype=float).ravel()
    pooled = np.concatenate([y, replicated])
    if discrete:
        top = int(np.quantile(pooled, 0.995)) + 1
        bins = np.arange(-0.5, top + 1.5)
    else:
        bins = np.histogram_bin_edges(np.clip(pooled, *np.quantile(pooled, [0.005, 0.995])), 30)
    ax.hist(replicated, bins=bins, density=True, color="C0", alpha=0.35, label="replicated")
    ax.hist(y, bins=bins, density=True, histtype="step", color="k", lw=1.5, label="observed")
    ax.set(xlabel="target", ylabel="density", title=title)
    ax.legend(loc="best", frameon=False)
    return ax


def uncertainty_split(parts: dict, *, unit: str = "nats", ax=None,
                      title="Predictive uncertainty on the data"):
    """Histograms of the total predictive uncertainty per row and of its parts.

    Parameters
    ----------
    parts : dict
        Name → `(n,)` values, e.g. {"total": entropy, "aleatoric": expected entropy,
        "epistemic": mutual information}.
    unit : str, default "nats"
        Their unit, for the axis label.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> summary = fitted.uncertainty(tiny_data.X_test)
    >>> ax = uncertainty_split({"total": summary["predictive_entropy"],
    ...                         "aleatoric": summary["expected_entropy"],
    ...                         "epistemic": summary["mutual_information"]})
    >>> ax.get_xlabel()
    'uncertainty per row (nats)'
    """
    ax = _axes(ax, figsize=(6.0, 4.0))
    values = np.concatenate([np.asarray(v, dtype=float) for v in parts.values()])
    bins = np.histogram_bin_edges(values[np.isfinite(values)], 30)
    for i, (name, v) in enumerate(parts.items()):
        ax.hist(v, bins=bins, histtype="step", lw=1.5, color=f"C{i}", label=name)
    ax.set(xlabel=f"uncertainty per row ({unit})", ylabel="rows", title=title)
    ax.legend(loc="best", frameon=False)
    return ax
