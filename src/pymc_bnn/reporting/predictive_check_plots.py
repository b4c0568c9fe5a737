"""Predictive checks as figures: the data a prior or a posterior implies, against the data.

Functions the prior implies along one input, replicated class shares and values against the
observed ones, and the predictive uncertainty per row split into its parts.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.reporting.canvas import axes_for


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
    ax = axes_for(ax, figsize=(6.5, 4.0))
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


# The widest class-share figure (inches: a page's text width and a little) and the class count
# past which its names turn upright and shrink so that they no longer overlap.
MAX_WIDTH_IN = 12.0
MANY_CLASSES = 12


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

    Many classes keep a page's width (`MAX_WIDTH_IN`), their names upright:

    >>> many = np.random.default_rng(0).dirichlet(np.ones(40), size=200)
    >>> ax = class_frequency_check([f"class {k}" for k in range(40)], np.full(40, 0.025), many)
    >>> ax.figure.get_size_inches()[0], ax.get_xticklabels()[0].get_rotation()
    (np.float64(12.0), 90.0)
    """
    n = len(classes)
    # 0.9 in per class up to a page's width; past that the bars narrow and the names turn
    ax = axes_for(ax, figsize=(min(MAX_WIDTH_IN, max(4.5, 0.9 * n + 2.5)), 4.0))
    replicated = np.asarray(replicated, dtype=float)
    where = np.arange(n)
    ax.bar(where, observed, width=0.6, color="0.8", label="observed")
    low, mid, high = np.quantile(replicated, [0.05, 0.5, 0.95], axis=0)
    ax.errorbar(where, mid, yerr=[mid - low, high - mid], fmt="o", color="C0",
                capsize=4 if n <= MANY_CLASSES else 1, markersize=6 if n <= MANY_CLASSES else 3,
                label="replicated (median, 90%)")
    ax.set_xticks(where, [str(c) for c in classes],
                  rotation=0 if n <= 4 else 30 if n <= MANY_CLASSES else 90,
                  fontsize=None if n <= MANY_CLASSES else 6)
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
    ax = axes_for(ax, figsize=(6.0, 4.0))
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
    ax = axes_for(ax, figsize=(6.0, 4.0))
    values = np.concatenate([np.asarray(v, dtype=float) for v in parts.values()])
    bins = np.histogram_bin_edges(values[np.isfinite(values)], 30)
    for i, (name, v) in enumerate(parts.items()):
        ax.hist(v, bins=bins, histtype="step", lw=1.5, color=f"C{i}", label=name)
    ax.set(xlabel=f"uncertainty per row ({unit})", ylabel="rows", title=title)
    ax.legend(loc="best", frameon=False)
    return ax

