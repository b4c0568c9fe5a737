"""Stacking of predictive distributions: one posterior that mixes a network and a linear model.

Why: on tables whose signal is mostly linear (a logistic or ridge regression's home ground) a
network's predictive is a little worse than a generalised linear model's, and on curved data
much better; neither wins everywhere. Stacking (Yao, Vehtari, Simpson and Gelman 2018, "Using
stacking to average Bayesian predictive distributions") keeps both and weights their predictive
distributions by the weights that maximise the held-out log score, Σᵢ log Σₖ wₖ pₖ(yᵢ), so the
mixture is at least as good as the better member on held-out rows, and often better than both.

How: every member's held-out densities come from K-fold cross-validation (the caller fits the
folds: `pymc_bnn.sklearn` does); `stacking_weights` hands them to ArviZ's `compare`
(``method="stacking"``); `stack_posteriors` turns the weighted members into one `Posterior` of
draws, so predictions, uncertainty, files and reports treat the mixture as they treat any fit.
The members' networks are embedded in one architecture: the network's, with a linear skip path
that is zero in the network's draws and holds the linear model's weights in the linear model's
draws (whose hidden-to-output weights are zero). A mixture's draws are draws of that network.
Gaussian members mix with heteroscedastic ones the same way: a Gaussian draw is the
heteroscedastic network whose log-noise-sd output has zero weights and the bias log σ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.data_groups import DATA_GROUPS
from pymc_bnn.model.network import bias_name
from pymc_bnn.posterior.posterior import Posterior
from pymc_bnn.posterior.stacked_members import (  # noqa: F401 (re-exported: their old home)
    stacked_models_words,
    stacked_with,
)


def log_predictive_density(posterior: Posterior, X, y, *, max_draws: int | None = None):
    """Each row's log posterior-predictive density of its target, log p(yᵢ | data), in nats.

    The density is the likelihood averaged over the posterior draws: for classes the mean
    probability of the observed class, for real or count targets the log of the average density
    (a log-sum-exp over draws), in the user's units.

    Parameters
    ----------
    posterior : Posterior
    X : array (n_obs, n_features)
        Inputs as the posterior takes them (an estimator's standardised inputs).
    y : array (n_obs,)
        Targets: class codes 0 … K−1 for classifiers, values in the user's units otherwise.
    max_draws : int, optional
        Draws used (thinned evenly); all by default.

    Returns
    -------
    ndarray (n_obs,)

    Examples
    --------
    >>> lpd = log_predictive_density(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> lpd.shape, bool((lpd <= 0).all())
    ((18,), True)
    """
    from scipy.special import logsumexp

    from pymc_bnn.posterior.mixture_reference import noise_distribution

    draws = posterior.predictive_draws(X, max_draws=max_draws)
    y = np.asarray(y)
    if "probs" in draws:
        probs = np.asarray(draws["probs"], dtype=np.float64)  # (S, n_obs, K), binary too
        chosen = np.take_along_axis(probs.mean(axis=0), y.astype(int)[:, None], axis=1)[:, 0]
        return np.log(np.clip(chosen, np.finfo(np.float64).tiny, None))
    dist = noise_distribution(draws)
    log_each = dist.logpmf(y) if hasattr(dist.dist, "pmf") else dist.logpdf(y)
    return logsumexp(log_each, axis=0) - np.log(log_each.shape[0])


def stacking_weights(held_out: dict[str, np.ndarray], *,
                     row_weights=None) -> dict[str, float]:
    """Stacking weights of models from their held-out log densities (ArviZ's `compare`).

    Parameters
    ----------
    held_out : dict of str to ndarray (n_obs,)
        Each model's log predictive density of every row, each row predicted by a fit that did
        not see it (K-fold cross-validation).
    row_weights : array-like (n_obs,), optional
        Each row's weight in the held-out score, Σᵢ vᵢ log Σₖ wₖ pₖ(yᵢ) (a fit's
        `sample_weight`: a row of weight 2 counts as two copies of it). ArviZ's `compare` takes
        no row weights, so this objective is maximised here (over the simplex, by L-BFGS on
        softmax coordinates); without them ArviZ's answer is used.

    Returns
    -------
    dict of str to float
        Non-negative weights summing to 1, in the order of `held_out`.

    Examples
    --------
    >>> import numpy as np
    >>> held_out = {"a": np.log([0.9, 0.9, 0.2]), "b": np.log([0.5, 0.5, 0.8])}
    >>> weights = stacking_weights(held_out)
    >>> round(weights["a"] + weights["b"], 6), 0 < weights["a"] < 1
    (1.0, True)

    A weight of 2 on the last row is that row twice:

    >>> twice = {name: np.r_[lpd, lpd[-1]] for name, lpd in held_out.items()}
    >>> weighted = stacking_weights(held_out, row_weights=[1, 1, 2])
    >>> abs(weighted["a"] - stacking_weights(twice)["a"]) < 1e-4
    True
    """
    import warnings

    from arviz_stats import compare
    from arviz_stats.utils import ELPDData

    names = list(held_out)
    if len(names) < 2:
        return dict.fromkeys(names, 1.0)
    if row_weights is not None:
        return dict(zip(names, _weighted_stacking(
            np.column_stack([np.asarray(held_out[n], dtype=np.float64) for n in names]),
            np.asarray(row_weights, dtype=np.float64)).tolist(), strict=True))
    results = {}
    for name in names:
        values = np.asarray(held_out[name], dtype=np.float64)
        results[name] = ELPDData(
            elpd=float(values.sum()), se=float(np.sqrt(values.size) * values.std()), p=0.0,
            n_samples=1, n_data_points=int(values.size), scale="log", warning=False,
            good_k=0.7, elpd_i=xr.DataArray(values, dims=["obs"]))
    with warnings.catch_warnings():  # e.g. its note that the models' p is 0 (it is not used)
        warnings.simplefilter("ignore")
        table = compare(results, method="stacking", round_to="none")
    weights = np.clip(np.array([float(table.loc[name, "weight"]) for name in names]), 0.0, None)
    return dict(zip(names, (weights / weights.sum()).tolist(), strict=True))


def _weighted_stacking(lpd: np.ndarray, row_weights: np.ndarray) -> np.ndarray:
    """The weights w that maximise Σᵢ vᵢ log Σₖ wₖ exp(lpdᵢₖ) on the simplex; `lpd` (n_obs, K).

    The objective is concave in w; on softmax coordinates (the first fixed at 0) L-BFGS finds
    its maximum from equal weights, with the gradient in closed form.
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    total = row_weights.sum()

    def loss_and_gradient(free):
        logits = np.r_[0.0, free]
        log_w = logits - logsumexp(logits)
        per_row = lpd + log_w  # log wₖ pₖ(yᵢ)
        mixture = logsumexp(per_row, axis=1)
        share = np.exp(per_row - mixture[:, None])  # each member's share of each row
        gradient = (row_weights @ share - total * np.exp(log_w))[1:]  # d/d logits
        return -(row_weights @ mixture) / total, -gradient / total

    # tolerances far below the defaults: a weight's error there (4e-4) is the size of the
    # differences a weight makes
    found = minimize(loss_and_gradient, np.zeros(lpd.shape[1] - 1), jac=True,
                     method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-10})
    return softmax(np.r_[0.0, found.x])


def draw_counts(weights, n_draws: int) -> np.ndarray:
    """How many of `n_draws` draws each member gives: proportional to its weight.

    Largest remainders, so the counts sum to `n_draws` and differ from weight × n_draws by less
    than one.

    Examples
    --------
    >>> draw_counts([0.25, 0.75], 10).tolist(), draw_counts([1 / 3] * 3, 10).tolist()
    ([3, 7], [4, 3, 3])
    """
    weights = np.asarray(weights, dtype=np.float64)
    exact = weights / weights.sum() * int(n_draws)
    counts = np.floor(exact).astype(int)
    short = int(n_draws) - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def stack_posteriors(members: dict[str, Posterior], weights: dict[str, float], *,
                     n_draws: int, random_seed: int = 0, settings: dict | None = None) -> Posterior:
    """One posterior whose draws are the members' in proportion to their weights.

    Parameters
    ----------
    members : dict of str to Posterior
        Fits of the same inputs, target and likelihood: at most one network architecture (any
        hidden widths) and any number of linear models (no hidden layer, no groups). Gaussian
        and heteroscedastic members may be mixed (with output biases): the result is
        heteroscedastic, each Gaussian draw's noise sd σ its log-sd output's bias log σ.
    weights : dict of str to float
        Each member's weight (`stacking_weights`); zero weights leave a member out.
    n_draws : int
        Draws of the result (one chain).
    random_seed : int, default 0
        Chooses which draws of a member are kept (evenly spread, from a random start).
    settings : dict, optional
        Added to the result's settings (e.g. the folds and held-out scores behind the weights).

    Returns
    -------
    Posterior
        The network's record with a linear skip path, its method, and `settings["stacking"]`
        holding the members' weights and draw counts; the training data groups
        (`observed_data`, `constant_data`) of the network's fit where it has them.

    Examples
    --------
    >>> stacked = stack_posteriors({"network": fitted, "linear": fitted_linear},
    ...                            {"network": 0.25, "linear": 0.75}, n_draws=40)
    >>> stacked.settings["stacking"]["draws"], stacked.spec.skip
    ({'network': 10, 'linear': 30}, True)

    Raises
    ------
    InvalidSettingError
        No positive weight; a grouped or linearised member; two network architectures;
        members whose targets were standardised or encoded differently; likelihoods that do
        not mix, or Gaussian and heteroscedastic members without output biases.
    """
    names = [name for name in members if weights.get(name, 0.0) > 0.0]
    if not names:
        raise InvalidSettingError("stacking needs at least one member with a positive weight")
    networks = {tuple(members[n].spec.hidden) for n in members if members[n].spec.hidden}
    for name, member in members.items():
        if member.groups is not None or member.linearised:
            raise InvalidSettingError(
                f"cannot stack {name!r}: grouped fits and full-network Laplace fits (predictions "
                "through a linearised network) are not draws of one network")
    if len(networks) > 1:
        raise InvalidSettingError(f"stacking takes one network architecture, got {networks}")
    base = max(members.values(), key=lambda p: len(p.spec.hidden))
    spec = base.spec if base.spec.skip or not base.spec.hidden else _with_skip(base.spec)
    _check_one_target(members)
    noisy = _heteroscedastic_member(members)
    model_record = base.record
    if noisy is not None:  # the result is heteroscedastic; Gaussian draws get a log-sd output
        spec = dataclasses.replace(spec, n_outputs=noisy.spec.n_outputs)
        model_record = dataclasses.replace(model_record, likelihood=noisy.likelihood,
                                           likelihood_params=noisy.likelihood_params)
    counts = dict(zip(names, draw_counts([weights[n] for n in names], n_draws).tolist(),
                      strict=True))
    rng = np.random.default_rng(random_seed)
    parts = [_embedded(members[n], spec, counts[n], rng) for n in names if counts[n] > 0]
    variables = {key: np.concatenate([part[key] for part in parts])[None]
                 for key in parts[0]}
    posterior = xr.Dataset({key: (_dims(key, spec, value.ndim), value)
                            for key, value in variables.items()},
                           coords={"chain": [0], "draw": np.arange(n_draws)})
    known = dict(base.idata["posterior"].coords)  # feature names and unit numbers, as fitted
    if noisy is not None:  # the outputs are the heteroscedastic member's (mean, log sd)
        known.pop("output", None)
        if "output" in noisy.idata["posterior"].coords:
            known["output"] = noisy.idata["posterior"].coords["output"]
    posterior = posterior.assign_coords({dim: known[dim].values for dim in posterior.dims
                                         if dim in known and dim not in ("chain", "draw")})
    idata = xr.DataTree.from_dict({"posterior": posterior})
    for name in DATA_GROUPS:  # the training rows, which every member was fitted to
        if name in base.idata.children:
            idata[name] = base.idata[name].copy()
    network = next((n for n in members if members[n].spec.hidden), None)
    record = {"stacking": {"weights": {n: float(weights.get(n, 0.0)) for n in members},
                           "draws": counts, "order": [n for n in names if counts[n] > 0],
                           "network": network, **(settings or {})}}
    return dataclasses.replace(base, record=dataclasses.replace(model_record, spec=spec),
                               idata=idata, settings={**base.settings, **record,
                                                      "draws": int(n_draws)},
                               timings=dict(base.timings), diagnostics=dict(base.diagnostics),
                               elbo=None, interrupted=False)


def _with_skip(spec):
    return dataclasses.replace(spec, skip=True)


def _check_one_target(members: dict[str, Posterior]) -> None:
    """Refuse members whose targets were encoded differently (standardisation, classes).

    Every member's draws are read through the result's preprocessing (the widest member's), so
    a member fitted to other rows would predict on another scale, or other classes.
    """
    encodings = {repr([member.preprocessing.get(key) for key in ("y_mean", "y_scale", "classes")])
                 for member in members.values()}
    if len(encodings) > 1:
        raise InvalidSettingError(
            "the members standardised the target differently (y_mean, y_scale) or have other "
            "classes, so their draws do not mean the same thing: fit every member on the same "
            "rows")


def _heteroscedastic_member(members: dict[str, Posterior]) -> Posterior | None:
    """The heteroscedastic member whose outputs the mixture takes (None: one likelihood).

    Refuses likelihoods that do not mix and members without output biases.
    """
    names = {member.likelihood.name for member in members.values()}
    if len(names) == 1:
        return None
    if names != {"gaussian", "heteroscedastic"}:
        raise InvalidSettingError(
            f"stacking mixes members of one likelihood, or Gaussian with heteroscedastic ones; "
            f"got {', '.join(sorted(names))}: fit every member with the same likelihood")
    if not all(member.spec.bias for member in members.values()):
        raise InvalidSettingError(
            "a Gaussian member joins heteroscedastic ones through the bias of the log noise sd "
            "output; fit every member with bias=True")
    return next(m for m in members.values() if m.likelihood.name == "heteroscedastic")


def _with_log_sd_output(values: np.ndarray, log_sd: np.ndarray | None = None) -> np.ndarray:
    """`(count, ..., 1)` → `(count, ..., 2)`: a second output of zeros or of `log_sd` (count,)."""
    second = (np.zeros_like(values) if log_sd is None else
              np.broadcast_to(log_sd.reshape(-1, *([1] * (values.ndim - 1))), values.shape))
    return np.concatenate([values, second], axis=-1)


def _embedded(member: Posterior, spec, count: int, rng) -> dict[str, np.ndarray]:
    """`count` draws of `member` as draws of `spec`'s network: (count, ...) per variable.

    A member of `spec`'s own architecture keeps its variables (a zero skip path where it has
    none); a linear model's weights go to the skip path, its bias to the output bias, and the
    network's weights are zero.
    """
    total = member.n_draws
    start = int(rng.integers(total))
    index = (start + np.floor(np.arange(count) * total / max(count, 1)).astype(int)) % total
    own, last = member.spec, len(spec.hidden)
    same = tuple(own.hidden) == tuple(spec.hidden)
    out = {}
    for layer in range(last + 1):
        name, shape = f"w_{layer}", (spec.widths[layer], spec.widths[layer + 1])
        out[name] = member.stacked(name, index) if same else np.zeros((count, *shape))
        if spec.bias:
            if same or layer == last:
                out[bias_name(layer)] = member.stacked(bias_name(len(own.hidden) if layer == last
                                                                 else layer), index)
            else:
                out[bias_name(layer)] = np.zeros((count, shape[1]))
    if spec.skip:
        out["w_skip"] = (member.stacked("w_skip", index) if own.skip
                         else member.stacked("w_0", index) if not own.hidden
                         else np.zeros((count, spec.n_inputs, spec.n_outputs)))
    if own.n_outputs == spec.n_outputs:
        for name in member.likelihood_params:
            out[name] = member.stacked(name, index)
        return out
    # a Gaussian member of a heteroscedastic mixture: the member's own output-layer arrays get
    # the log noise sd as a second output (zero weights, the bias log σ of each draw); its σ is
    # no variable of the mixture
    log_sd = np.log(member.stacked("sigma", index)).reshape(count)
    for name in (f"w_{last}", bias_name(last), "w_skip"):
        if name in out and out[name].shape[-1] < spec.n_outputs:
            out[name] = _with_log_sd_output(out[name], log_sd if name == bias_name(last)
                                            else None)
    return out


def _dims(name: str, spec, ndim: int) -> list[str]:
    """The posterior dims of variable `name` of `spec`'s network (chain, draw first)."""
    names = ["feature", *(f"hidden_{i}" for i in range(len(spec.hidden))), "output"]
    if name == "w_skip":
        return ["chain", "draw", "feature", "output"]
    if name.startswith("w_"):
        layer = int(name[2:])
        return ["chain", "draw", names[layer], names[layer + 1]]
    if name.startswith("b_"):
        return ["chain", "draw", names[int(name[2:]) + 1]]
    return ["chain", "draw", *(f"{name}_dim_{i}" for i in range(ndim - 2))]
