"""Figures of `pymc_bnn.posterior.stability` results.

Each function draws on an Axes (made if not given) and returns it, as in
`pymc_bnn.reporting.plots`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.reporting.canvas import axes_for
from pymc_bnn.validation import whole_number


def default_weight_names(result) -> list[str]:
    """The weights a reader can interpret alone.

    The last hidden layer's outgoing weights and the skip path (the earlier layers' weights only
    mean something unit by unit).

    Parameters
    ----------
    result : xarray.DataTree
        From `pymc_bnn.posterior.stability.stability`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> default_weight_names(result)
    ['w_1']
    """
    names = [name for name in result["weights"].data_vars if name.startswith("w_")]
    layers = sorted(int(n[2:]) for n in names if n[2:].isdigit())
    return [f"w_{layers[-1]}"] + (["w_skip"] if "w_skip" in names else [])


def aligned_weight_intervals(result, var_names=None, *, max_weights: int = 30, ax=None,
                             title="Aligned weights"):
    """Forest plot of the aligned weights against the unaligned ones.

    Per weight, the mean and HDI of the aligned draws (blue) over the unaligned draws' mean ± the
    same-level normal interval (grey), for the `max_weights` weights with the largest
    ``|mean| / sd``.

    Parameters
    ----------
    result : xarray.DataTree
        From `stability`.
    var_names : str or list of str, optional
        Weights of `result["weights"]` (e.g. "w_1"); default `default_weight_names`.
    max_weights : int, default 30
        The most weights shown.
    ax : matplotlib Axes, optional
    title : str, default "Aligned weights"

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InvalidInputError
        A name in `var_names` that is not a weight of the result.

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> ax = aligned_weight_intervals(result)
    >>> sorted(label.get_text() for label in ax.get_yticklabels())  # w_1 has 3 weights
    ['w_1[0, 0]', 'w_1[1, 0]', 'w_1[2, 0]']
    """
    table = result["weights"]
    level = float(result.attrs.get("level", 0.9))
    z = float(norm.ppf(0.5 + level / 2))
    if isinstance(var_names, str):  # one name, as ArviZ takes it
        var_names = [var_names]
    unknown = [name for name in var_names or () if name not in table.data_vars]
    if unknown:
        raise InvalidInputError(
            f"no weights named {', '.join(map(repr, unknown))} in this stability result; "
            f"var_names takes {', '.join(map(str, table.data_vars))}")
    rows = []
    for name in var_names or default_weight_names(result):
        stats = table[name]
        flat = stats.stack(weight=[d for d in stats.dims if d != "statistic"])
        for i in range(flat.sizes["weight"]):
            cell = flat.isel(weight=i)
            index = ", ".join(str(v) for v in cell["weight"].item())
            get = lambda s, cell=cell: float(cell.sel(statistic=s))  # noqa: E731
            rows.append((f"{name}[{index}]", get("mean"), get("sd"), get("lower"), get("upper"),
                         get("mean_unaligned"), get("sd_unaligned")))
    rows.sort(key=lambda r: -abs(r[1]) / r[2] if r[2] > 0 else -np.inf)
    rows = rows[:max_weights][::-1]
    ax = axes_for(ax, figsize=(6.0, 0.9 + 0.24 * len(rows)))
    y = np.arange(len(rows))
    raw_mean = np.array([r[5] for r in rows])
    raw_sd = np.array([r[6] for r in rows])
    ax.errorbar(raw_mean, y - 0.18, xerr=z * raw_sd, fmt="o", ms=3, color="0.6", lw=1,
                label=f"unaligned (mean ± {level:.0%} normal)")
    mean = np.array([r[1] for r in rows])
    ax.errorbar(mean, y + 0.18, xerr=[mean - [r[3] for r in rows], [r[4] for r in rows] - mean],
                fmt="o", ms=4, color="C0", lw=1.5, label=f"aligned ({level:.0%} HDI)")
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.set(xlabel="weight", title=title)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def unit_stability(result, *, label_units: int | None = 12, ax=None,
                   title="Hidden units: stability and importance"):
    """Per hidden unit: how stable it is against how much it matters.

    Signal-to-noise of its aligned weights (x) against the mean change of the predictions when
    it is removed (y), coloured by the share of draws it is active in.

    Parameters
    ----------
    result : xarray.DataTree
        From `stability`.
    label_units : int or None, default 12
        Name only this many units, those whose removal changes the predictions most (the ones a
        reader asks about); the rest are points. None names every unit (a (32, 32) network's
        64 names overlap).
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> ax = unit_stability(result, label_units=2)
    >>> ax.get_xlabel(), len(ax.texts)  # the two units that matter most are named
    ("signal-to-noise of the unit's aligned weights", 2)
    """
    units = result["units"]
    ax = axes_for(ax, figsize=(6.0, 4.5))
    points = ax.scatter(units["snr"], units["removal_effect"], c=units["active_share"],
                        cmap="viridis", vmin=0, vmax=1, s=40, edgecolors="k", linewidths=0.4)
    ax.figure.colorbar(points, ax=ax, label="share of draws active")
    if label_units is not None:
        label_units = whole_number(label_units, "label_units", minimum=0)
    effect = np.asarray(units["removal_effect"].values, dtype=float)
    shown = np.argsort(-np.nan_to_num(effect, nan=-np.inf), kind="stable")
    shown = shown if label_units is None else shown[:label_units]
    for k in shown:
        ax.annotate(str(units["unit"].values[k]), (units["snr"].values[k], effect[k]),
                    fontsize=7, xytext=(3, 2), textcoords="offset points")
    ax.set(xlabel="signal-to-noise of the unit's aligned weights",
           ylabel="mean |Δ prediction| when removed", title=title)
    return ax


def input_relevance(result, *, max_inputs: int = 20, ax=None,
                    title="Input relevance (posterior)"):
    """Per input: how relevant it is, the most relevant on top.

    Posterior mean and HDI of the mean ``|gradient|`` of the prediction (per input sd), the
    `max_inputs` most relevant, the most relevant on top.

    Parameters
    ----------
    result : xarray.DataTree
        From `stability`.
    max_inputs : int, default 20
        The most inputs shown.
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> sorted(label.get_text() for label in input_relevance(result).get_yticklabels())
    ['x0', 'x1']
    """
    max_inputs = whole_number(max_inputs, "max_inputs", minimum=1)
    inputs = result["inputs"]
    order = np.argsort(inputs["rank"].values)[:max_inputs][::-1]
    names = [str(v) for v in inputs["feature"].values[order]]
    mean = inputs["relevance_mean"].values[order]
    lower, upper = inputs["relevance_lower"].values[order], inputs["relevance_upper"].values[order]
    # the names take ~0.07 in per character at 8 pt: widen the figure so the axis keeps ~3.5 in
    # for its label, which a long name otherwise pushes off the figure's right edge
    longest = max((len(name) for name in names), default=0)
    ax = axes_for(ax, figsize=(max(5.5, 3.8 + 0.07 * longest), 0.9 + 0.26 * len(order)))
    y = np.arange(len(order))
    ax.errorbar(mean, y, xerr=[mean - lower, upper - mean], fmt="o", ms=4, color="C0", lw=1.5)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(left=0)
    level = float(result.attrs.get("level", 0.9))
    ax.set(xlabel=f"mean |∂ prediction / ∂ input| per input sd ({level:.0%} HDI)", title=title)
    return ax


def cka_matrix(result, layer=None, *, ax=None):
    """Linear CKA between pairs of draws of one hidden layer.

    Parameters
    ----------
    result : xarray.DataTree
        From `stability`.
    layer : str or int, optional
        A layer's name or index; default: every layer, side by side, and an array of Axes is
        returned.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes, or an array of them

    Raises
    ------
    InvalidInputError
        A layer that is not one of the result's hidden layers.

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> axes = cka_matrix(result)
    >>> len(axes), axes[0].get_title().startswith("hidden_0: mean CKA")
    (1, True)
    """
    cka = result["representation"]
    layers = [str(v) for v in cka["layer"].values]
    if layer is None and ax is None:
        fig, axes = plt.subplots(1, len(layers), figsize=(4.2 * len(layers), 3.8),
                                 layout="constrained", squeeze=False)
        for name, each in zip(layers, axes[0], strict=False):
            cka_matrix(result, name, ax=each)
        return axes[0]
    if isinstance(layer, int) and -len(layers) <= layer < len(layers):
        layer = layers[layer]
    name = layers[0] if layer is None else layer
    if name not in layers:
        raise InvalidInputError(
            f"no hidden layer {layer!r} in this stability result; layer takes one of "
            f"{', '.join(layers)} or its index 0 … {len(layers) - 1}")
    ax = axes_for(ax, figsize=(4.5, 3.8))
    image = ax.imshow(cka["cka"].sel(layer=name).values, vmin=0, vmax=1, cmap="magma")
    ax.figure.colorbar(image, ax=ax, label="linear CKA")
    # the compared draws are spread over all of them: tick them by their own index, not 0 … m−1
    draws = cka["draw_a"].values
    ticks = np.unique(np.linspace(0, len(draws) - 1, min(6, len(draws))).round().astype(int))
    ax.set_xticks(ticks, [str(d) for d in draws[ticks]])
    ax.set_yticks(ticks, [str(d) for d in draws[ticks]])
    mean = float(cka["cka_mean"].sel(layer=name))
    label = f"draw ({len(draws)} compared, evenly spaced)"
    ax.set(xlabel=label, ylabel=label, title=f"{name}: mean CKA {mean:.2f}")
    return ax
