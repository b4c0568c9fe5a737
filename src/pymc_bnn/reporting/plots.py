"""Figures for papers and reports: each function draws on an Axes (made if not given), returns it.

Works headless: matplotlib falls back to its Agg backend when there is no display, and `save`
closes what it writes so long runs do not pile up figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

CLASS_COLORS = ("#1f77b4", "#d62728")


def _axes(ax, figsize=(5.5, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def scatter_classes(X, y, *, ax=None, title="Training data", labels=("class 0", "class 1")):
    """Points coloured by class. X: (n, 2); y: (n,) in {0, 1}."""
    ax = _axes(ax)
    y = np.asarray(y)
    for k, color in enumerate(CLASS_COLORS):
        mask = y == k
        ax.scatter(X[mask, 0], X[mask, 1], s=12, color=color, label=labels[k], alpha=0.8,
                   edgecolors="none")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


def elbo_trace(elbo, *, ax=None, title="ELBO during optimisation"):
    """ELBO per step (nats). Smoothed over a window of 1% of the steps to show the trend."""
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


def predicted_labels(X, y_true, proba, *, ax=None, title="Predicted labels on the test set"):
    """Test points coloured by predicted class; misclassified points ringed in black."""
    ax = _axes(ax)
    predicted = (np.asarray(proba) > 0.5).astype(int)
    for k, color in enumerate(CLASS_COLORS):
        mask = predicted == k
        ax.scatter(X[mask, 0], X[mask, 1], s=14, color=color, label=f"predicted {k}",
                   edgecolors="none", alpha=0.85)
    wrong = predicted != np.asarray(y_true)
    ax.scatter(X[wrong, 0], X[wrong, 1], s=50, facecolors="none", edgecolors="black", lw=1.0,
               label=f"misclassified ({int(wrong.sum())})")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False)
    return ax


def surface(xx, yy, values, *, X=None, y=None, ax=None, title="", cmap="RdBu_r",
            label="", vmin=None, vmax=None, levels=25):
    """A filled contour map of `values` (n, n) over the grid xx, yy, with data points on top.

    `levels`: number of colour steps, or their edges (shared edges put maps on one scale).
    """
    ax = _axes(ax)
    mesh = ax.contourf(xx, yy, values, levels=levels, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if X is not None and y is not None:
        y = np.asarray(y)
        for k, color in enumerate(CLASS_COLORS):
            mask = y == k
            ax.scatter(X[mask, 0], X[mask, 1], s=8, color=color, edgecolors="white", lw=0.3)
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    return ax


def probability_map(xx, yy, proba, **kwargs):
    """Posterior-predictive mean P(y=1) over a grid; proba (n, n)."""
    kwargs.setdefault("title", "Posterior predictive mean probability")
    return surface(xx, yy, proba, cmap="RdBu_r", label="P(y = 1)", vmin=0.0, vmax=1.0, **kwargs)


def uncertainty_map(xx, yy, std, **kwargs):
    """Posterior sd of P(y=1) over a grid: how much the network's weights disagree."""
    kwargs.setdefault("title", "Uncertainty: sd of P(y = 1) over the posterior")
    return surface(xx, yy, std, cmap="viridis", label="sd of P(y = 1)", **kwargs)


def prior_functions(x, draws, *, ax=None, n_lines: int = 30, interval: float = 0.9,
                    title="Functions the prior implies", xlabel="$x$", ylabel="network output",
                    seed: int = 0):
    """Sampled functions along one input direction: `n_lines` draws plus the central interval.

    x: (n,) the coordinate along the path (sorted); draws: (S, n) one function per draw, e.g.
    `prior_predictive(bnn, X_path)["mean"]` or its "probs"[..., 1]. The shaded band holds the
    central `interval` of the draws at each x; a band that fills the whole plausible range, or
    lines that jump like steps, say the prior is too wide for the data's scale.
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


def uncertainty_maps(xx, yy, total, aleatoric, epistemic, *, X=None, y=None, n_classes: int = 2):
    """Total, aleatoric and epistemic uncertainty over a 2-D grid, side by side (nats).

    total, aleatoric, epistemic: (n, n) predictive entropy, expected entropy and mutual information
    (see `pymc_bnn.posterior.uncertainty`). Total and aleatoric share the scale [0, log K];
    epistemic has its own, usually much smaller, scale. Returns the Figure (three Axes).
    """
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    top = float(np.log(n_classes))
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

    proba: P(y=1) (n,) or class probabilities (n, K); bins as in
    `pymc_bnn.posterior.metrics.reliability_bins`. Bars below the diagonal: overconfident there.
    """
    from pymc_bnn.posterior.metrics import ECE_BINS, reliability_bins

    bins = reliability_bins(y_true, proba, n_bins or ECE_BINS, classes=classes)
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

    x, mean, aleatoric_sd, total_sd: (n,) along one input (sorted here); where the outer band
    is much wider than the inner one, the model is unsure of the function, not of the noise.
    """
    ax = _axes(ax, figsize=(7.0, 4.2))
    order = np.argsort(np.asarray(x))
    x, mean = np.asarray(x)[order], np.asarray(mean)[order]
    aleatoric_sd, total_sd = np.asarray(aleatoric_sd)[order], np.asarray(total_sd)[order]
    ax.fill_between(x, mean - n_sd * total_sd, mean + n_sd * total_sd, color="C0", alpha=0.2,
                    lw=0, label=f"± {n_sd:g} sd total (noise + weights)")
    ax.fill_between(x, mean - n_sd * aleatoric_sd, mean + n_sd * aleatoric_sd, color="C0",
                    alpha=0.35, lw=0, label=f"± {n_sd:g} sd aleatoric (noise)")
    ax.plot(x, mean, color="C0", lw=1.6, label="predictive mean")
    if X_train is not None and y_train is not None:
        ax.scatter(np.ravel(X_train), y_train, s=8, color="black", alpha=0.6, label="data")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def coverage_curve(nominal, observed, *, ax=None, title="Interval coverage"):
    """Observed share of targets inside the central intervals against their nominal level.

    nominal, observed: (L,) e.g. from `pymc_bnn.posterior.metrics.coverage_by_level`. Points below
    the diagonal: intervals too narrow (overconfident); above: too wide.
    """
    ax = _axes(ax, figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], ls="--", color="0.4", lw=1, label="perfect coverage")
    ax.plot(nominal, observed, "o-", color="C0", label="observed")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="nominal level", ylabel="observed coverage",
           title=title, aspect="equal")
    ax.legend(loc="upper left", frameon=False)
    return ax


def save(ax_or_fig, path, dpi: int = 130) -> None:
    """Write the figure to `path` (format from the suffix) atomically and close it."""
    import io
    from pathlib import Path

    from pymc_bnn._runtime.outputs import write_bytes_atomic

    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or "png", dpi=dpi)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())


def group_surfaces(xx, yy, proba_by_group, *, data_by_group=None, titles=None, ncols: int = 4,
                   suptitle: str = ""):
    """A grid of small probability maps, one per group; returns the Figure.

    proba_by_group: (n_groups, n, n) P(y = 1) on the grid xx, yy; data_by_group: optional
    list of (X (m, 2), y (m,)) points drawn on each map; titles: one per group.
    """
    n_groups = len(proba_by_group)
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
            X, y = data_by_group[g]
            for k, color in enumerate(CLASS_COLORS):
                mask = np.asarray(y) == k
                ax.scatter(X[mask, 0], X[mask, 1], s=9, color=color, edgecolors="black", lw=0.4)
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
    """Dots per group for each method. accuracies: {method: (n_groups,) values in [0, 1]}."""
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

    labels_used: (n_rounds,); curves: {strategy name: (n_repeats, n_rounds) scores}. The legend
    gives each strategy's area under the mean curve (mean over rounds) and the repeat count.
    """
    ax = _axes(ax, figsize=(6.5, 4.2))
    labels_used = np.asarray(labels_used)
    for i, (name, scores) in enumerate(curves.items()):
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

    X_pool: (n, 2); y_pool: (n,) in {0, 1}; labelled: pool indices in the order they were labelled.
    """
    ax = _axes(ax)
    ax.scatter(X_pool[:, 0], X_pool[:, 1], s=6, color="0.85", edgecolors="none", label="pool")
    labelled = np.asarray(labelled, dtype=int)
    y_labelled = np.asarray(y_pool)[labelled]
    for k, color in enumerate(CLASS_COLORS):
        mask = y_labelled == k
        ax.scatter(X_pool[labelled[mask], 0], X_pool[labelled[mask], 1], s=22, color=color,
                   edgecolors="black", lw=0.4, label=f"labelled, class {k}")
    ax.set(xlabel="$x_0$", ylabel="$x_1$", title=title, aspect="equal")
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def class_frequency_check(classes, observed, replicated, *, ax=None,
                          title="Observed and replicated class shares"):
    """Observed share of each class against the shares in data sets replicated from the posterior.

    classes: (K,) names; observed: (K,) shares; replicated: (S, K) shares, one row per replicated
    data set. Bars: observed; points and lines: the replicated median and central 90%.
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

    y: (n,) observed; replicated: (S, n) draws from the posterior predictive. `discrete`: one bar
    per whole number (counts) instead of equal-width bins.
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

    parts: name -> (n,) values, e.g. {"total": entropy, "aleatoric": expected entropy,
    "epistemic": mutual information}; unit: their unit, for the axis label.
    """
    ax = _axes(ax, figsize=(6.0, 4.0))
    values = np.concatenate([np.asarray(v, dtype=float) for v in parts.values()])
    bins = np.histogram_bin_edges(values[np.isfinite(values)], 30)
    for i, (name, v) in enumerate(parts.items()):
        ax.hist(v, bins=bins, histtype="step", lw=1.5, color=f"C{i}", label=name)
    ax.set(xlabel=f"uncertainty per row ({unit})", ylabel="rows", title=title)
    ax.legend(loc="best", frameon=False)
    return ax
