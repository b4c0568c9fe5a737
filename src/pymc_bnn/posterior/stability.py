"""How stable is a fitted network: aligned weights, units, input relevance, representations.

Symmetry-aligned weight summaries, per-unit stability, input relevance with credible
intervals, and how alike the hidden representations of draws are. Which draws are measured (the
population's network or a group's, thinned within chains) is `pymc_bnn.posterior.network_draws`'s.

`stability(model, X)` (or `Posterior.stability`) returns an `xarray.DataTree` with named dims:

================  ==========================================================================
node              holds
================  ==========================================================================
`posterior`       the aligned draws w_i, b_i, w_skip, dims (chain, draw, …) as in the fit
`weights`         per weight a `statistic` dim: mean, sd, lower, upper, rhat, and the same
                  (mean_unaligned, sd_unaligned, rhat_unaligned) of the raw draws
`units`           per hidden unit (dim `unit`): snr, active_share, removal_effect,
                  removal_loss (given y), rank (1 = most stable)
`inputs`          relevance and effect draws (chain, draw, feature), their mean and interval
`representation`  linear CKA between draws, (layer, draw_a, draw_b), and its mean/interval
================  ==========================================================================

The root's attrs say how it was computed and, for a mean-field fit, that its sds are too small.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.model.network import bias_name, hidden_activations, split_skip_weights
from pymc_bnn.model.symmetry import Alignment, align_draws
from pymc_bnn.posterior.network_draws import (  # noqa: F401 (re-exports)
    NetworkDraws,
    network_draws,
)
from pymc_bnn.posterior.representation import cka_between_draws, linear_cka
from pymc_bnn.posterior.stacked_members import stacked_with
from pymc_bnn.validation import check_target, whole_number

__all__ = ["Alignment", "align_draws", "hidden_activations", "linear_cka", "network_draws",
           "stability"]

MEAN_FIELD_METHODS = ("advi", "pymc_advi")
MEAN_FIELD_NOTE = (
    "mean-field variational fit: its weight sds are known to be too small (the factorised "
    "Gaussian cannot represent correlated weights), so signal-to-noise ratios and intervals "
    "here overstate how well each weight is determined; fit with nuts or fullrank_advi to check"
)
LAPLACE_NOTE = (
    "Laplace fit: only the output layer has a posterior spread; the hidden layers sit at their "
    "MAP in every draw, so their units and representation look perfectly stable by "
    "construction (an ensemble, ensemble=True, compares its members' hidden layers; advi or "
    "nuts give the hidden layers a posterior)"
)
# A unit counts as active in a draw when the spread of its contribution to the next layer over
# the data (sd of its activation times the norm of its outgoing weights) is at least this share
# of the strongest unit's in its layer: a tenth leaves out saturated and pruned units only.
ACTIVE_SHARE_OF_MAX = 0.1
# Central differences with a step of 1e-4 input sds: truncation error ~1e-8 of the gradient,
# far below the spread over draws, and far above float64 rounding.
_RELATIVE_STEP = 1e-4


NO_HIDDEN_LAYER = (
    "this model has no hidden layer (a generalised linear model), so it has no learned "
    "representation whose stability could be measured; its weights' posterior is in "
    "posterior.idata (e.g. arviz.summary(posterior.idata))")


def stability(model, X, y=None, *, group=None, level: float = 0.9, max_draws: int = 500,
              cka_draws: int = 50, max_obs: int = 500, iterations: int = 3,
              random_seed: int = 0) -> xr.DataTree:
    """How stable the learned network is, from its posterior draws (any engine, any depth).

    Parameters
    ----------
    model : Posterior or a fitted BayesianMLPClassifier / BayesianMLPRegressor
        An estimator's inputs are standardised as in its fit, so gradients are per input sd.
    X : array (n_obs, n_inputs)
        Data to measure on, ideally held out: unit activity, removal effects, input gradients
        and hidden representations are computed on it.
    y : array (n_obs,), optional
        Targets for X: adds `removal_loss` per unit (change of log loss in nats for
        classifiers, of mean squared error for regression, when the unit is removed).
    group : label, optional
        For a grouped fit, analyse that group's network (default: the population).
    level : float, default 0.9
        Probability of the intervals: highest-density for posterior quantities (weights,
        relevance), central for the spread of CKA over pairs of draws.
    max_draws : int, default 500
        Draws used, thinned evenly within chains.
    cka_draws : int, default 50
        Draws compared pairwise by CKA.
    max_obs : int, default 500
        Rows of X (a seeded random subset) for activity and CKA.
    iterations : int, default 3
        Passes of `align_draws`.
    random_seed : int, default 0
        Seeds the subset of rows.

    Returns
    -------
    xarray.DataTree
        See the module docstring for its nodes.

    Raises
    ------
    InvalidInputError
        X or y that do not fit the model, X of fewer than 2 rows, or a group it does not have.
    InvalidSettingError
        A `level` outside (0, 1), `max_draws` below 1 or below the number of chains,
        `cka_draws` or `max_obs` below 2, or a model with no hidden layer.

    Examples
    --------
    >>> result = stability(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> list(result.children)
    ['posterior', 'weights', 'units', 'inputs', 'representation']
    >>> result["units"]["unit"].values.tolist()
    ['hidden_0[0]', 'hidden_0[1]', 'hidden_0[2]']
    >>> result["inputs"]["relevance_mean"].dims, result.attrs["mean_field"]
    (('feature',), 1)
    """
    posterior, X, y, classes, scales = _inputs(model, X, y)
    if not 0 < level < 1:
        raise InvalidSettingError(f"level must be between 0 and 1, got {level}")
    max_draws = whole_number(max_draws, "max_draws", minimum=1)
    for name, value in (("cka_draws", cka_draws), ("max_obs", max_obs)):
        if whole_number(value, name) < 2:  # CKA compares pairs, over rows centred by their mean
            raise InvalidSettingError(
                f"{name} must be at least 2, got {value}: CKA compares pairs of draws on "
                "rows centred by their mean; the default is "
                f"{50 if name == 'cka_draws' else 500}")
    if len(X) < 2:  # as for max_obs: activity and CKA are spreads over rows
        raise InvalidInputError(
            f"stability needs at least 2 rows of X, got {len(X)}: unit activity and CKA "
            "compare rows centred by their mean; pass more (ideally held-out) rows")
    spec = posterior.spec
    if not spec.hidden:
        raise InvalidSettingError(NO_HIDDEN_LAYER)
    stacking = posterior.settings.get("stacking") or {}
    stacked_draws = int(posterior.n_draws)
    posterior = posterior.network_part()  # a stacked fit: its network's draws
    draws = network_draws(posterior, group=group, max_draws=max_draws)
    n_chains, n_draws = draws.weights[0].shape[:2]
    flat = lambda a: a.reshape(-1, *a.shape[2:])  # noqa: E731  (C, D, ...) -> (S, ...)
    alignment = align_draws(spec, [flat(w) for w in draws.weights],
                            None if draws.biases is None else [flat(b) for b in draws.biases],
                            iterations=iterations)
    coords = {"chain": np.arange(n_chains), "draw": np.arange(n_draws),
              "feature": list(posterior.feature_names),
              "output": _output_names(posterior, spec.n_outputs),
              **{f"hidden_{i}": np.arange(h) for i, h in enumerate(spec.hidden)}}
    aligned = _as_dataset(spec, alignment.weights, alignment.biases, n_chains, coords)
    raw = _as_dataset(spec, [flat(w) for w in draws.weights],
                      None if draws.biases is None else [flat(b) for b in draws.biases],
                      n_chains, coords)
    network = _Network(posterior, alignment, {k: flat(v) for k, v in draws.params.items()})
    rng = np.random.default_rng(random_seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), int(max_obs)), replace=False))
    hidden = hidden_activations(spec, X[rows], alignment.weights, alignment.biases)
    units = _unit_table(spec, alignment, hidden, network, X, y, classes)
    inputs = _input_relevance(network, X, scales, coords, n_chains, level)
    cka = cka_between_draws(hidden, int(cka_draws), level)
    weights = _weight_table(aligned, raw, level)
    mean_field = posterior.method in MEAN_FIELD_METHODS
    attrs = {
        "method": posterior.method, "network": draws.network, "level": float(level),
        "grouped": int(posterior.groups is not None),
        # a stacked fit: the network's weight and all its draws (NaN and 0 otherwise)
        "stacking_weight": float(stacking["weights"][stacking["network"]]) if stacking
        else float("nan"),
        "stacked_draws": stacked_draws if stacking else 0,
        # the other members' names, comma-separated (reports say them in words)
        "stacked_with": ",".join(stacked_with(stacking)) if stacking else "",
        "n_chains": int(n_chains), "n_draws": int(n_draws), "n_obs": int(len(X)),
        "alignment_iterations": int(iterations),
        "rhat_max": _nanmax(weights.sel(statistic="rhat")),
        "rhat_max_unaligned": _nanmax(weights.sel(statistic="rhat_unaligned")),
        "cka_mean": float(cka["cka_all_mean"]),
        "mean_field": int(mean_field),
        "note": (MEAN_FIELD_NOTE if mean_field
                 else LAPLACE_NOTE if posterior.method == "laplace" else ""),
        "input_scale": ("standardised as in the estimator's fit" if scales is None
                        else "per input standard deviation of X"),
    }
    return xr.DataTree.from_dict({"/": xr.Dataset(attrs=attrs), "posterior": aligned,
                                  "weights": weights, "units": units, "inputs": inputs,
                                  "representation": cka})


# --------------------------------------------------------------------------- inputs


def _output_names(posterior, n_outputs: int) -> list:
    """The "output" coordinate: the draws' own (a categorical network's classes), else 0 … n-1.

    `build_model` and the classifiers label a categorical network's outputs by class in the
    posterior's draws; the weights and relevance of an output are read by that name here too,
    not by its position among the classes.
    """
    coord = posterior.idata.posterior.coords.get("output")
    if coord is not None and coord.size == n_outputs:
        return [v.item() if isinstance(v, np.generic) else v for v in coord.values]
    return list(range(n_outputs))


def _inputs(model, X, y):
    """(posterior, X float64, y encoded or None, classes for log loss, input sds or None)."""
    posterior = getattr(model, "posterior_", model)
    if not hasattr(posterior, "spec") or not hasattr(posterior, "idata"):
        raise InvalidInputError(f"stability needs a Posterior or a fitted pymc-bnn estimator, "
                                f"got {type(model).__name__}; fit it first")
    scales = None
    if posterior is not model:  # an estimator: its own encoding and standardisation, per sd
        X = model.posterior_inputs(X)
    else:
        X = check_features(X, n_features=posterior.spec.n_inputs)
        sd = X.std(axis=0)
        scales = np.where(sd > 0, sd, 1.0)
    classes = None
    if y is not None:
        y = check_target(y, n_obs=X.shape[0])
        if posterior.likelihood.is_classifier:
            classes = (list(model.classes_) if posterior is not model
                       else posterior.preprocessing.get("classes"))
            unknown = sorted({str(v) for v in y if v not in set(classes)})
            if unknown:
                raise InvalidInputError(f"y has labels the model was not fitted on: "
                                        f"{', '.join(unknown[:5])}; pass labels from {classes}")
        else:
            y = np.asarray(y, dtype=np.float64)
    return posterior, X, y, classes, scales


# --------------------------------------------------------------------------- network


class _Network:
    """The aligned draws as an ungrouped Posterior, and a function that edits its weights.

    `full` is the Posterior, `edited` the same with edited weights: predictions go through
    the same path as `Posterior.mean_draws`.
    """

    def __init__(self, posterior, alignment: Alignment, params: dict):
        self.posterior, self.alignment, self.params = posterior, alignment, params
        self.full = self.edited(alignment.weights, alignment.biases)

    def edited(self, weights, biases):
        """A Posterior holding these draws (weights as for `align_draws`) as one chain."""
        import arviz as az

        spec = self.posterior.spec
        draws = {name: w[None] for name, w in zip(spec.weight_names, weights, strict=False)}
        if biases is not None:
            draws.update({bias_name(i): b[None] for i, b in enumerate(biases)})
        draws.update({name: v[None] for name, v in self.params.items()})
        return replace(self.posterior, idata=az.from_dict({"posterior": draws}), groups=None)


def _as_dataset(spec, weights, biases, n_chains, coords) -> xr.Dataset:
    variables = {}
    for slot, w in zip(spec.weight_slots, weights, strict=False):
        variables[slot.name] = (("chain", "draw", *slot.dims),
                                w.reshape(n_chains, -1, *w.shape[1:]))
    if biases is not None:
        for i, b in enumerate(biases):
            variables[bias_name(i)] = (("chain", "draw", spec.layer_dims(i)[1]),
                                       b.reshape(n_chains, -1, b.shape[-1]))
    used = {d for dims, _ in variables.values() for d in dims}
    return xr.Dataset(variables, coords={k: v for k, v in coords.items() if k in used})


# --------------------------------------------------------------------------- summaries


_STATISTICS = ["mean", "sd", "lower", "upper", "rhat", "mean_unaligned", "sd_unaligned",
               "rhat_unaligned"]


def _weight_table(aligned: xr.Dataset, raw: xr.Dataset, level: float) -> xr.Dataset:
    """Per weight: mean, sd, HDI bounds and R-hat of the aligned draws, and of the raw ones.

    The raw draws' mean, sd and R-hat are for contrast (R-hat is NaN with one chain, as from
    a VI fit).
    """
    import arviz as az

    def rhat(ds):
        if ds.sizes["chain"] < 2:
            return xr.full_like(ds.isel(chain=0, draw=0, drop=True), np.nan)
        return az.rhat(ds)

    hdi = az.hdi(aligned, prob=level)
    parts = [aligned.mean(("chain", "draw")), aligned.std(("chain", "draw")),
             hdi.sel(ci_bound="lower", drop=True), hdi.sel(ci_bound="upper", drop=True),
             rhat(aligned), raw.mean(("chain", "draw")), raw.std(("chain", "draw")), rhat(raw)]
    table = xr.concat(parts, dim=xr.DataArray(_STATISTICS, dims="statistic"),
                      coords="minimal", compat="override")
    return table.transpose("statistic", ...)


def _unit_table(spec, alignment: Alignment, hidden, network: _Network, X, y, classes):
    """Per hidden unit: signal-to-noise, activity, the effect of removing it, and a rank.

    Signal-to-noise of its aligned weights, share of draws in which it is active on X, effect
    of removing it on the predictions at X (and on the loss, given y), and a rank by
    signal-to-noise (1 = most stable).
    """
    layers, _ = split_skip_weights(spec, alignment.weights)
    full_mean = network.full.mean_draws(X).mean(axis=0)
    records = []
    for layer, activations in enumerate(hidden):
        outgoing = layers[layer + 1]  # (S, H, fan_out)
        contribution = activations.std(axis=1) * np.linalg.norm(outgoing, axis=2)  # (S, H)
        strongest = contribution.max(axis=1, keepdims=True)
        active = (contribution >= ACTIVE_SHARE_OF_MAX * strongest) & (strongest > 0)
        for unit in range(spec.hidden[layer]):
            pieces = [layers[layer][:, :, unit], outgoing[:, unit, :]]
            if alignment.biases is not None:
                pieces.append(alignment.biases[layer][:, unit, None])
            vector = np.concatenate(pieces, axis=1)  # (S, n_weights of the unit)
            noise = float(np.sqrt(vector.var(axis=0).sum()))
            unit_snr = float(np.linalg.norm(vector.mean(axis=0)) / noise) if noise > 0 else np.inf
            edited = list(alignment.weights)
            edited[layer + 1] = outgoing.copy()
            edited[layer + 1][:, unit, :] = 0.0
            removed = network.edited(edited, alignment.biases).mean_draws(X).mean(axis=0)
            records.append((f"hidden_{layer}[{unit}]", layer, unit, unit_snr,
                            float(active[:, unit].mean()),
                            _mean_change(removed, full_mean),
                            np.nan if y is None else _loss(y, removed, classes)
                            - _loss(y, full_mean, classes)))
    names, layer_of, index, snr, share, effect, loss = map(list, zip(*records, strict=False))
    order = np.argsort(-np.asarray(snr), kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    table = xr.Dataset(
        {"snr": ("unit", snr), "active_share": ("unit", share),
         "removal_effect": ("unit", effect), "rank": ("unit", rank)},
        coords={"unit": names, "layer": ("unit", layer_of), "index": ("unit", index)})
    if y is not None:
        table["removal_loss"] = ("unit", loss)
        table["removal_loss"].attrs["units"] = ("nats of log loss"
                                                if classes is not None else "squared error")
    table["removal_effect"].attrs["units"] = "mean absolute change of the predictive mean"
    return table


def _mean_change(removed, full) -> float:
    """Mean over rows of |Δ| of the predictive mean (half the L1 change over classes)."""
    change = np.abs(removed - full)
    return float(change.sum(axis=-1).mean() / 2 if change.ndim == 2 else change.mean())


def _loss(y, mean, classes) -> float:
    """Log loss (nats) of predicted probabilities, or mean squared error of predicted means."""
    from pymc_bnn.posterior import metrics

    if classes is not None:
        return metrics.log_loss(y, np.clip(mean, 1e-12, 1 - 1e-12) if mean.ndim == 1 else mean,
                                classes=classes)
    return float(np.mean((y - mean) ** 2))


def _input_relevance(network: _Network, X, scales, coords, n_chains, level) -> xr.Dataset:
    """Per draw: the relevance and effect of each input, with their means and HDIs.

    Relevance is the mean over rows of |∂ predictive mean / ∂ x_i|, times the input's sd;
    effect (the same without the absolute value: the average direction), by central
    differences; with their means and HDIs.
    """
    import arviz as az

    scales = np.ones(X.shape[1]) if scales is None else scales
    relevance, effect = [], []
    for i, scale in enumerate(scales):
        step = _RELATIVE_STEP * scale
        up, down = X.copy(), X.copy()
        up[:, i] += step
        down[:, i] -= step
        slope = (network.full.mean_draws(up) - network.full.mean_draws(down)) / (2 * step)
        slope = slope * scale
        magnitude = np.abs(slope).sum(axis=-1) / 2 if slope.ndim == 3 else np.abs(slope)
        relevance.append(magnitude.mean(axis=1))
        effect.append(slope.mean(axis=1))
    shape = lambda a: a.reshape(n_chains, -1, *a.shape[1:])  # noqa: E731
    relevance = shape(np.stack(relevance, axis=1))  # (C, D, feature)
    effect = shape(np.stack(effect, axis=1))  # (C, D, feature[, class])
    dims = ("chain", "draw", "feature", "class")[: effect.ndim]
    draws = xr.Dataset({"relevance": (dims[:3], relevance), "effect": (dims, effect)},
                       coords={k: coords[k] for k in ("chain", "draw", "feature")})
    hdi = az.hdi(draws, prob=level)
    out = draws.copy()
    for name in ("relevance", "effect"):
        out[f"{name}_mean"] = draws[name].mean(("chain", "draw"))
        out[f"{name}_lower"] = hdi[name].sel(ci_bound="lower", drop=True)
        out[f"{name}_upper"] = hdi[name].sel(ci_bound="upper", drop=True)
    order = np.argsort(-out["relevance_mean"].values, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    out["rank"] = ("feature", rank)
    return out


def _nanmax(values: xr.Dataset) -> float:
    found = [float(np.nanmax(v.values)) for v in values.data_vars.values()
             if np.isfinite(v.values).any()]
    return max(found) if found else float("nan")
