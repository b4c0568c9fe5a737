"""Figures for papers and reports: each function draws on an Axes (made if not given) and returns it.

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
            label="", vmin=None, vmax=None):
    """A filled contour map of `values` (n, n) over the grid xx, yy, with data points on top."""
    ax = _axes(ax)
    mesh = ax.contourf(xx, yy, values, levels=25, cmap=cmap, vmin=vmin, vmax=vmax)
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


def save(ax_or_fig, path, dpi: int = 130) -> None:
    """Write the figure to `path` (format from the suffix) and close it."""
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
