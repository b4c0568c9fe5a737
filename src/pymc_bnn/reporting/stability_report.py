"""The "How stable is this network?" report section, from a stability result.

The result is `pymc_bnn.posterior.stability`'s; `pymc-bnn report` and `pymc-bnn stability`
use the section.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.reporting.html import Cell, Figure, Section, Table, figure_png

SECTION_TITLE = "How stable is this network?"


def measured_network(attrs) -> str:
    """Which network a stability result measured, in words.

    Examples
    --------
    >>> measured_network({"network": "population", "grouped": 0})
    'the network'
    >>> measured_network({"network": "population", "grouped": 1})
    'the population network'
    >>> measured_network({"network": "group g01", "grouped": 1})
    'the network of group g01'
    """
    network = attrs["network"]
    if network == "population":
        return "the population network" if attrs.get("grouped") else "the network"
    return f"the network of {network}"


def stacking_note(attrs) -> str:
    """What a stacked fit's stability measured: the network's share of the draws.

    Examples
    --------
    >>> note = stacking_note({"n_chains": 1, "n_draws": 57, "stacked_draws": 100,
    ...                       "stacking_weight": 0.57})
    >>> note.split(": ")[1].split(";")[0]
    "measured on the network's 57 of its 100 draws (stacking weight 0.57)"
    """
    from pymc_bnn.posterior.stacked_members import stacked_models_words

    # the other members' names; results measured before the record was kept: the GLM
    names = (attrs.get("stacked_with") or "linear").split(",")
    others = stacked_models_words(names)
    return (f"stacked with {others}: measured on the network's "
            f"{attrs['n_chains'] * attrs['n_draws']:,} of its {attrs['stacked_draws']:,} draws "
            f"(stacking weight {attrs['stacking_weight']:.2f}); "
            + ("the linear model's draws have no hidden layer and are left out"
               if names == ["linear"] else f"the draws of {others} are left out"))


def stability_section(result, *, source: str = "") -> Section:
    """Paragraphs, tables and figures that read `result` (from `stability`) for a person.

    Parameters
    ----------
    result : xarray.DataTree
        From `pymc_bnn.posterior.stability.stability`.
    source : str, default ""
        Where the rows came from, for the text.

    Returns
    -------
    Section

    Examples
    --------
    >>> from pymc_bnn.posterior.stability import stability
    >>> section = stability_section(stability(fitted, tiny_data.X_test), source="test rows")
    >>> section.title, len(section.tables), len(section.figures)
    ('How stable is this network?', 2, 4)
    """
    from pymc_bnn.reporting import stability_plots as plots

    attrs = result.attrs
    level = float(attrs["level"])
    inputs, units, cka = result["inputs"], result["units"], result["representation"]
    paragraphs = [
        f"Measured on {attrs['n_obs']:,} rows{f' of {source}' if source else ''} with "
        f"{attrs['n_chains'] * attrs['n_draws']:,} posterior draws ({attrs['n_chains']} "
        f"chain(s)) of {measured_network(attrs)}, fitted with {attrs['method'] or '?'}. "
        "Hidden units were first aligned across draws (permutations, and sign flips for odd "
        "activations), which changes no prediction, so the weight summaries below describe "
        "one unit each.",
    ]
    if attrs.get("stacked_draws"):
        paragraphs.append(stacking_note(attrs) + ".")
    if np.isfinite(attrs["rhat_max"]):
        paragraphs.append(
            f"Largest weight R-hat: {attrs['rhat_max']:.3f} after alignment, "
            f"{attrs['rhat_max_unaligned']:.3f} before (below 1.01–1.05 means the chains agree "
            "on that weight).")
    top = np.argsort(inputs["rank"].values)[:3]
    paragraphs.append(
        "Most relevant inputs (mean |gradient| of the prediction per input sd, "
        f"{level:.0%} interval): " + "; ".join(
            f"{inputs['feature'].values[i]} {inputs['relevance_mean'].values[i]:.3g} "
            f"[{inputs['relevance_lower'].values[i]:.3g}, "
            f"{inputs['relevance_upper'].values[i]:.3g}]" for i in top) + ".")
    stable = int((units["active_share"].values >= 0.9).sum())
    paragraphs.append(
        f"{stable} of {units.sizes['unit']} hidden units are active in at least 90% of the "
        f"draws. Representations of two draws agree with linear CKA "
        f"{float(cka['cka_all_mean']):.2f} on average ({level:.0%} of pairs between "
        f"{float(cka['cka_all_lower']):.2f} and {float(cka['cka_all_upper']):.2f}; 1 is the "
        "same representation up to rotation and scale).")
    if attrs.get("note"):
        paragraphs.append(f"Caution: {attrs['note']}.")
    order = np.argsort(units["rank"].values)
    unit_rows: list[list[Cell]] = [
        ["unit", "rank", "signal-to-noise", "share active", "mean |Δ prediction|",
         *(["Δ loss"] if "removal_loss" in units else [])]]
    for i in order:
        unit_rows.append([str(units["unit"].values[i]), int(units["rank"].values[i]),
                          float(units["snr"].values[i]), float(units["active_share"].values[i]),
                          float(units["removal_effect"].values[i]),
                          *([float(units["removal_loss"].values[i])]
                            if "removal_loss" in units else [])])
    input_rows: list[list[Cell]] = [["input", "relevance", "lower", "upper", "average effect"]]
    for i in np.argsort(inputs["rank"].values)[:20]:
        effect = inputs["effect_mean"].values[i]
        input_rows.append([str(inputs["feature"].values[i]),
                           float(inputs["relevance_mean"].values[i]),
                           float(inputs["relevance_lower"].values[i]),
                           float(inputs["relevance_upper"].values[i]),
                           float(effect) if np.ndim(effect) == 0 else "per class"])
    cka_axes = plots.cka_matrix(result)
    figures = [
        Figure(figure_png(plots.input_relevance(result)),
               "How much the prediction moves per input sd, as a posterior distribution: an "
               "interval far from zero is an input the network relies on in every draw.",
               "Input relevance"),
        Figure(figure_png(plots.unit_stability(result)),
               "Units on the right have well-determined weights; units high up change the "
               "predictions when removed. Stable, important units sit top right.",
               "Hidden units"),
        Figure(figure_png(plots.aligned_weight_intervals(result)),
               "Weights into the output after alignment (blue) and before (grey): before, "
               "units that swap places or signs across draws smear every interval over zero.",
               "Aligned weights"),
        Figure(figure_png(cka_axes[0]),
               "Linear CKA between the hidden representations of pairs of draws on the data: "
               "bright means the draws compute the same features.", "Representation similarity"),
    ]
    return Section(SECTION_TITLE, paragraphs,
                   tables=[Table(unit_rows, caption="Hidden units, most stable first (rank by "
                                                    "signal-to-noise)."),
                           Table(input_rows, caption=f"Inputs, most relevant first; "
                                                     f"{level:.0%} HDI.")],
                   figures=figures)


def report_section(model, held_out) -> Section:
    r"""The section of `pymc-bnn report`, measured on the held-out rows.

    Grouped fits are measured on their population network.

    Parameters
    ----------
    model : Posterior or fitted estimator
    held_out : tuple or None
        (X, y, source, ...), or None for a pointer to DATA.

    Returns
    -------
    Section

    Examples
    --------
    Without held-out rows, a pointer to them; with them (X, y, source), it is
    `stability_section(stability(model, X, y), source=source)`:

    >>> report_section(classifier, None).paragraphs[0].startswith("Pass DATA")
    True
    """
    if held_out is None:
        return Section(SECTION_TITLE, [
            "Pass DATA (held-out rows with the model's features) to `pymc-bnn report` to see "
            "aligned weight summaries, which hidden units and inputs the network relies on, and "
            "how alike the representations of posterior draws are."])
    from pymc_bnn.posterior.stability import NO_HIDDEN_LAYER, stability
    from pymc_bnn.posterior.stacked_members import stacked_models_words, stacked_with

    posterior = getattr(model, "posterior_", model)
    if not posterior.spec.hidden:
        return Section(SECTION_TITLE, [NO_HIDDEN_LAYER[0].upper() + NO_HIDDEN_LAYER[1:] + "."])
    record = posterior.groups
    if record and record["pooling"] == "none":
        return Section(SECTION_TITLE, [
            "This fit has one network per group and no shared one; measure a group's network "
            "with pymc_bnn.posterior.stability.stability(model, X, group=label)."])
    if not posterior.has_network_draws():
        return Section(SECTION_TITLE, [
            "This fit stacks the network with the linear model, and the stacking gave the "
            "network weight 0: the linear model alone predicts, so there is no network to "
            "measure. Fit with stack_linear=False (pymc-bnn fit --no-stack-linear) to measure "
            "the network alone."])
    X, y, source, *_ = held_out
    if len(X) < 2:  # the rest of the report stands on one row; this section cannot
        return Section(SECTION_TITLE, [
            f"{source} has {len(X)} row; measuring how stable the network is needs at least 2 "
            "(unit activity and CKA compare rows)."])
    section = stability_section(stability(model, X, y), source=source)
    if stacking := posterior.settings.get("stacking"):
        weight = stacking["weights"][stacking["network"]]
        names = stacked_with(stacking)
        section.paragraphs.insert(0, (
            f"This fit stacks the network (weight {weight:.2f}) with "
            f"{stacked_models_words(names)}; measured on the network's draws"
            + (" (the linear model's have no hidden units)." if names == ["linear"]
               else " alone.")))
    return section
