"""How fits went and how they compare: the ELBO per step, accuracy per group, learning curves."""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.reporting.canvas import axes_for


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
    ax = axes_for(ax, figsize=(6.5, 3.8))
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
    ax = axes_for(ax, figsize=(7.0, 3.8))
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
    ax = axes_for(ax, figsize=(6.5, 4.2))
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

