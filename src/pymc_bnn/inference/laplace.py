"""The Laplace approximation: a MAP network and a Gaussian over its output layer.

The prior scale is chosen by the marginal likelihood.

1. MAP: the model's own log-density (its likelihood and the priors of the likelihood's own
   variables, from `jax_model`) with the network's Normal prior at scale s, minimised by Adam
   (`map_loop`) from several random starts for small models, as `advi` does.
2. Curvature: the exact Hessian of the log-likelihood with respect to the output layer (the last
   weight matrix, its bias and the skip path). The network output is linear in these, so this
   Hessian *is* the generalised Gauss-Newton matrix, and the Gaussian over them gives the
   linearised (GLM) predictive exactly: pushing its draws through the network is the same as
   pushing them through the network linearised at the MAP (Immer et al. 2021; the last-layer
   Laplace that Daxberger et al. 2021, "Laplace Redux", recommend as a default). A few Newton
   steps on the output layer finish the MAP there (the problem is convex in it).
3. Prior scale: the Laplace estimate of the marginal likelihood p(y | s) of the output layer is
   maximised over the prior precision alpha = 1/s^2 (closed form per eigenvalue, MacKay's
   evidence framework); the network is refitted at the new scale (warm start) for a few rounds.
   The whole network's prior uses the same s (with fan-in scaling, as `NormalPrior` does).

4. Draws: from that Gaussian, or for the categorical likelihood (`output_layer="auto"`) from
   the output layer's exact posterior by NUTS, whitened by the Gaussian (`output_sampler`):
   there the Gaussian's predictive is underconfident.

Hidden layers and the likelihood's own variables (e.g. a noise sd) are kept at their MAP values:
their draws are all equal. `ensemble=True` keeps every restart as a member (one chain each) with
its own Gaussian, equally weighted: a deep ensemble with a Laplace posterior per member.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, fields

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn.errors import InferenceError, InvalidSettingError
from pymc_bnn.inference import ggn, loo, map_loop, noise_sd, output_likelihood
from pymc_bnn.inference.jax_model import (
    compile_model,
    constrained_draws,
    data_arguments,
    model_data,
    pad_rows,
    padded_rows,
    to_idata,
)
from pymc_bnn.inference.laplace_map import (
    constant_maps,
    held_out_scale,
    log_joint,
    map_objective,
    random_starts,
    steps_batch,
)
from pymc_bnn.inference.laplace_predictive import LAPLACE_GROUP, glm_predictive  # noqa: F401
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.inference.output_layer import (
    best_prior_precision,
    log_determinant,
    log_evidence,
    refine_output_layer,
)
from pymc_bnn.inference.output_sampler import sample_output_layer
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.model.network import SKIP_WEIGHT, bias_name, weight_name
from pymc_bnn.posterior.posterior import LINEARISED_GROUP

# The jitted log joint that the evidence is evaluated with, per model structure and prior
# (called outside any jit it would run op by op: one small compile per operation per process).
_LOG_JOINTS: OrderedDict[tuple, object] = OrderedDict()
# Models smaller than this (parameters × observations) get 4 restarts by default (see vi.py).
_CHEAP_RESTARTS = 200_000
_DEFAULT_RESTARTS = 4
# Deep ensembles gain little past about 5 members (Lakshminarayanan et al. 2017, Fig. 3).
_ENSEMBLE_MEMBERS = 5
# The sampled output layer keeps the output's Jacobian (n_obs × outputs × output-layer size
# numbers) up to this size (160 MB), else evaluates the whole network at each sampler step.
_MAX_JACOBIAN = 20_000_000


@dataclass(frozen=True)
class LaplaceSettings:
    """Options of the `laplace` engine.

    Parameters
    ----------
    steps : int
        Maximum Adam steps for the first MAP fit (later rounds get half). Default 10,000.
    learning_rate : float
        Adam's step size. Default 0.01 (inputs and targets are standardised).
    tol : float
        Stop a MAP fit when the mean loss over `window` steps changes by less than this many
        nats per observation from the window before. Default 1e-5.
    window : int
        Steps per convergence window. Default 200.
    restarts : int or None
        Random starts; None: 4 for small networks (parameters × rows ≤ 200,000), else 1 (and
        1 for a network without hidden layers, whose log posterior has one mode); with
        `ensemble`, 5. With `map_scale="holdout"` the first start is the chosen candidate's
        MAP and None means that start alone.
    prior_scale : "marglik" or float
        "marglik" (default): the MAP is fitted with prior scale `map_scale`, and the output
        layer's prior precision is then chosen by its marginal likelihood (post hoc, as
        laplace-torch's `optimize_prior_precision` does); for a network without hidden layers
        (a GLM, where the output layer is the whole network) MAP and precision alternate
        (`rounds`) to the exact evidence maximum. A number fixes s for both. Either way this
        replaces the model's own Normal scale: weights Normal(0, s/sqrt(fan_in)), biases
        Normal(0, s).
    map_scale : float, "holdout" or None
        The prior scale s of the MAP fit under "marglik". None (default): the model's own
        prior's sigma. "holdout": the scale among `map_scale.CANDIDATE_SCALES` whose MAP,
        fitted on 80% of the rows, predicts the other 20% best (the smallest within one
        standard error of the best, passing over a MAP fallen to the constant function of
        all-zero weights where another scale within reach uses the features), then the MAP on
        every row at that scale; the estimators'
        regressors use it (`pymc_bnn.sklearn.LAPLACE_REGRESSION_OPTIONS`); the classifiers
        build their networks with sigma = 4 (`pymc_bnn.sklearn.LAPLACE_PRIOR`): under a narrow
        prior the MAP of a tanh network can settle in a nearly linear function. The output
        layer's evidence alone cannot choose the hidden layers' scale: re-fitting at its
        choice drives s up without bound, because it sees no Occam factor for the hidden
        weights.
    rounds : int
        Maximum MAP / marginal-likelihood rounds for a network without hidden layers; they stop
        once s moves by less than 0.1%. Default 10.
    ensemble : bool
        Keep every restart as an equally weighted member (one chain each). Default False: the
        restart with the highest marginal likelihood.
    newton_steps : int
        Newton steps on the output layer after each MAP fit. Default 5.
    minibatch_size : int or None
        Rows per Adam step of the MAP fit. None (default): every row up to 4,096 rows, else
        1,024 (a full-batch step on 10,000 rows costs ten times as much and the MAP needs as
        many steps). The Newton steps, the curvature and the marginal likelihood always use
        every row.
    chunk_steps : int
        Adam steps per compiled chunk (progress and Ctrl-C act between chunks). Default 250.
    hessian : "last_layer", "full" or "auto"
        Which parameters get the Gaussian. "last_layer" (default): the output layer, the
        hidden layers fixed at the MAP. "full": every weight and bias, from the whole
        network's generalised Gauss-Newton matrix (`ggn`); its evidence sees every
        parameter, so MAP and prior scale alternate (`rounds`), and predictions go through
        the network linearised at the MAP. "auto": "full" up to 5,000 parameters where the
        GGN has at most 2,000 non-zero eigenvalues, else "last_layer".
    output_layer : "auto", "gaussian" or "sampled"
        How the output layer's draws are made (last-layer only). "gaussian": from the Laplace
        Gaussian. "sampled": from the output layer's exact posterior given the hidden layers
        at the MAP, by NUTS whitened by the Laplace Gaussian (`output_sampler`): a classifier's
        likelihood there is one-sided (rows classified with near certainty bound the posterior
        but add no curvature), so the Gaussian spreads mass where the data rule it out and
        under-states the predictive's confidence. "auto" (default): "sampled" for the
        categorical likelihood (several classes), "gaussian" for the rest: for a Gaussian
        likelihood the Gaussian is the exact posterior, and for the Bernoulli one the
        evidence's prior scale is still too wide for exact draws (the training rows are
        separable in the MAP's hidden units, so the output layer's evidence keeps rising with
        the scale) and the Gaussian's extra spread happens to offset it (benchmarks/README.md).
    temperature : "loo" or float
        The output layer's covariance is multiplied by this (its log posterior divided by it
        where the output layer is sampled) (a cold posterior below 1). 1
        (default): the Laplace posterior as it is. "loo": the value on a grid from 0.01 to 4
        with the best leave-one-out log predictive density of the training rows
        (`pymc_bnn.inference.loo`: where the classes are nearly separable, the evidence's prior
        leaves the predictive far wider than the held-out data want; but the rows also
        shaped the hidden layers, so it leans cold: README, defaults). Last-layer only.
    noise_sd : "map" or "evidence"
        The Gaussian likelihood's noise sd. "map" (default): the MAP's, which divides the
        residual sum of squares by every row and so comes out too small where the network
        follows the rows (towards 0 where it interpolates them). "evidence": MacKay's
        σ² = RSS / (n − γ) at the MAP, γ the parameters the data determine (from the whole
        network's GGN; `noise_sd`), then the output layer again at it; the estimators'
        regressors use it. Networks too large for the whole GGN (over 5,000 parameters, or a
        rank over 2,000) keep the MAP's. Last-layer only.

    Examples
    --------
    >>> settings = LaplaceSettings(hessian="full", restarts=2)
    >>> settings.prior_scale, settings.steps, settings.temperature
    ('marglik', 10000, 1.0)

    `settings_from_options` makes one from `fit`'s options, checked.
    """

    steps: int = 10_000
    learning_rate: float = 0.01
    tol: float = 1e-5
    window: int = 200
    restarts: int | None = None
    prior_scale: str | float = "marglik"
    map_scale: float | str | None = None
    rounds: int = 10
    ensemble: bool = False
    newton_steps: int = 5
    chunk_steps: int = 250
    minibatch_size: int | None = None
    hessian: str = "last_layer"
    output_layer: str = "auto"
    temperature: str | float = 1.0
    noise_sd: str = "map"


def settings_from_options(options: dict) -> LaplaceSettings:
    """`LaplaceSettings` from engine options, each checked where every engine's options are.

    The checks are `pymc_bnn.inference.options`', so `run` called directly refuses what `fit`
    refuses.

    Parameters
    ----------
    options : dict
        Option name → value (the fields of `LaplaceSettings`, and `callback`, which is dropped).

    Returns
    -------
    LaplaceSettings

    Raises
    ------
    InvalidSettingError
        An unknown option or a bad value.

    Examples
    --------
    >>> settings = settings_from_options({"steps": 2000.0, "temperature": "loo"})
    >>> settings.steps, settings.temperature, settings.hessian
    (2000, 'loo', 'last_layer')
    >>> settings_from_options({"temperature": "cold"})
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: temperature must be 'loo' or a positive number, ...
    """
    checked = check_engine_options("laplace", options)
    checked.pop("callback", None)  # an argument of run, not a setting
    return LaplaceSettings(**checked)


@dataclass(frozen=True)
class ParameterLayout:
    """Where the network's parameters sit in the flat unconstrained vector z (D,).

    Attributes
    ----------
    network : numpy.ndarray
        Indices of every weight and bias.
    base_precision : numpy.ndarray
        Their prior precision at s = 1 (fan_in for fan-in-scaled weights, else 1), so the
        prior precision is base / s^2.
    model_precision : numpy.ndarray
        What the model's own prior says (base / sigma^2).
    last : numpy.ndarray
        Indices of the output layer (last weights, last bias, skip path).
    last_base_precision : numpy.ndarray
        Their base prior precision.
    last_names : tuple of str
        Those variables, in order.

    Examples
    --------
    See `parameter_layout`, which makes one.

    >>> import numpy as np
    >>> layout = ParameterLayout(network=np.arange(3), base_precision=np.ones(3),
    ...                          model_precision=np.ones(3), last=np.array([2]),
    ...                          last_base_precision=np.ones(1), last_names=("w_0",))
    >>> layout.last_names
    ('w_0',)
    """

    network: np.ndarray
    base_precision: np.ndarray
    model_precision: np.ndarray
    last: np.ndarray
    last_base_precision: np.ndarray
    last_names: tuple[str, ...]


def parameter_layout(bnn, compiled) -> ParameterLayout:
    """The `ParameterLayout` of `bnn`'s network in the compiled model's flat vector.

    Parameters
    ----------
    bnn : BNNModel
        Built by `build_model` with a Normal prior of fixed scale, ungrouped or completely
        pooled.
    compiled : CompiledModel
        `compile_model(bnn.model)`.

    Returns
    -------
    ParameterLayout

    Raises
    ------
    InvalidSettingError
        Another prior, a learned scale, a grouped network, or a model without the network's
        variables.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> layout = parameter_layout(tiny_model, compile_model(tiny_model.model))
    >>> layout.network, layout.last, layout.last_names
    (array([0, 1, 2, 3, 4, 5, 6, 7, 8]), array([6, 7, 8]), ('w_1',))
    >>> layout.base_precision  # fan-in: 2 inputs, then 3 hidden units
    array([2., 2., 2., 2., 2., 2., 3., 3., 3.])
    """
    spec, prior = bnn.spec, bnn.prior
    if getattr(prior, "name", None) != "normal" or getattr(prior, "learn_scale", None) is not None:
        raise InvalidSettingError(
            "the laplace engine needs a Normal prior with a fixed scale (it chooses the scale "
            "itself by the marginal likelihood); build the model with prior='normal' or "
            f"NormalPrior(sigma=...), or use method='advi' for the {getattr(prior, 'name', prior)}"
            " prior")
    if bnn.groups is not None and bnn.groups.get("pooling") not in (None, "complete"):
        raise InvalidSettingError(
            "the laplace engine does not fit grouped (hierarchical) networks yet; use "
            "method='advi' or 'nuts' with groups, or pooling='complete'")
    offsets, start = {}, 0
    for name, shape in zip(compiled.value_names, compiled.value_shapes, strict=False):
        size = int(np.prod(shape))
        offsets[name] = np.arange(start, start + size)
        start += size
    network, base, last, last_base, last_names = [], [], [], [], []
    final = spec.n_layers - 1
    scaling = bool(prior.fan_in_scaling)
    for slot in spec.weight_slots:
        names = [(slot.name, float(slot.shape[0]) if scaling else 1.0)]
        if spec.bias and slot.name != SKIP_WEIGHT:
            names.append((bias_name(slot.prior_layer), 1.0))
        for name, precision in names:
            if name not in offsets:
                raise InvalidSettingError(
                    f"the model has no free variable {name!r}: the laplace engine needs the "
                    "network built by build_model")
            network.append(offsets[name])
            base.append(np.full(offsets[name].size, precision))
            if name in (weight_name(final), bias_name(final), SKIP_WEIGHT):
                last.append(offsets[name])
                last_base.append(base[-1])
                last_names.append(name)
    base_precision = np.concatenate(base)
    return ParameterLayout(network=np.concatenate(network), base_precision=base_precision,
                           model_precision=base_precision / float(prior.sigma) ** 2,
                           last=np.concatenate(last),
                           last_base_precision=np.concatenate(last_base),
                           last_names=tuple(last_names))


def run(bnn, *, draws: int, random_seed: int, progress: bool, callback=None,
        **options) -> EngineResult:
    """Fit the Laplace approximation of `bnn` (a `BNNModel` with a Normal prior).

    Ctrl-C at any moment after the MAP fit (curvature, draws) is recorded and flags the
    result `interrupted` too.

    Parameters
    ----------
    bnn : BNNModel
        Built with a Normal prior of fixed scale (see `parameter_layout`).
    draws : int
        Draws over all members.
    random_seed : int
        Seeds the restarts, minibatches and draws.
    progress : bool
        Show a progress bar.
    callback : callable, optional
        `callback(info)`: called between chunks of the MAP fit with {"step", "loss"};
        raising KeyboardInterrupt there stops the fit like Ctrl-C.
    **options
        The fields of `LaplaceSettings`.

    Returns
    -------
    EngineResult
        Draws whose output layer (or, with hessian="full", whole network) is Gaussian and
        whose other variables sit at the MAP, plus a `laplace` group (MAP, the Gaussian, prior
        scale, log marginal likelihood) that `glm_predictive` reads.

    Raises
    ------
    InvalidSettingError
        A bad option, a model `parameter_layout` refuses, or a `pm.Potential` (added to the
        model by the user) on a parameter the Gaussian covers: its curvature would be left out.

    Examples
    --------
    A fit takes seconds, so it is not run here:

    >>> from pymc_bnn import fit
    >>> posterior = fit(tiny_model, "laplace", draws=100, progress=False)  # doctest: +SKIP
    >>> posterior.diagnostics["prior_scale"] > 0  # doctest: +SKIP
    True

    Its options are checked first:

    >>> run(tiny_model, draws=100, random_seed=0, progress=False, hessian="diagonal")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: hessian must be one of 'last_layer', 'full', 'auto', ...
    """
    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    settings = settings_from_options(options)
    with ctrl_c_deferred() as pressed:
        return _run(bnn, settings, draws=draws, random_seed=random_seed, progress=progress,
                    callback=callback, pressed=pressed)


def _run(bnn, settings, *, draws, random_seed, progress, callback, pressed) -> EngineResult:
    import jax
    import jax.numpy as jnp

    t0 = time.perf_counter()
    compiled = compile_model(bnn.model)
    layout = parameter_layout(bnn, compiled)
    data = tuple(jnp.asarray(d) for d in data_arguments(compiled, bnn.model))
    restarts = settings.restarts
    if restarts is None and settings.ensemble:
        restarts = _ENSEMBLE_MEMBERS
    if restarts is None:  # a GLM (no hidden layer) has one mode: one start finds it
        cheap = compiled.size * max(compiled.n_obs, 1) <= _CHEAP_RESTARTS
        restarts = _DEFAULT_RESTARTS if cheap and bnn.spec.hidden else 1
    z = random_starts(compiled, layout, restarts, np.random.default_rng(random_seed))
    tuned = settings.prior_scale == "marglik"
    scale0 = float(settings.prior_scale if not tuned else (
        bnn.prior.sigma if settings.map_scale in (None, "holdout") else settings.map_scale))
    full = ggn.uses_full_hessian(settings.hessian, layout.network.size, compiled.n_obs,
                                 bnn.spec.n_outputs)
    if full and settings.temperature != 1.0:
        raise InvalidSettingError(
            "temperature scales the output layer's Gaussian and needs hessian='last_layer' "
            f"(this fit uses the whole network's); drop temperature={settings.temperature!r}")
    if full and settings.output_layer == "sampled":
        raise InvalidSettingError(
            "output_layer='sampled' samples the output layer with the hidden layers at the MAP "
            "and needs hessian='last_layer' (this fit uses the whole network's Gaussian); use "
            "output_layer='auto' or hessian='last_layer'")
    _refuse_potentials_on(bnn, _network_names(bnn) if full else layout.last_names)
    sampled = not full and (settings.output_layer == "sampled" or (
        settings.output_layer == "auto" and getattr(bnn.likelihood, "name", None)
        == "categorical"))
    # the evidence can choose the MAP's scale only where it sees every network parameter
    alternate = tuned and (full or not bnn.spec.hidden)
    offsets = _value_offsets(compiled)
    alpha = np.full(restarts, 1.0 / scale0**2)
    parts = tuple(tuple(np.asarray(v).tolist()) for v in (
        layout.network, layout.base_precision, layout.model_precision))
    prior_swap, negative_log_joint = log_joint(compiled.loglik, compiled.prior_logp, *parts)

    n_obs = max(compiled.n_obs, 1)
    batch = steps_batch(settings.minibatch_size, n_obs)
    objective, map_data = map_objective(bnn, compiled, data, n_obs, batch, prior_swap,
                                        negative_log_joint, random_seed)
    history, trace, compile_s, fit_s, steps_run = [], [], 0.0, 0.0, 0
    interrupted = converged = False
    scale_choice = None
    if tuned and settings.map_scale == "holdout":
        scale_choice, held_out = held_out_scale(
            bnn, compiled, layout, data, settings, prior_swap, random_seed, progress, callback)
        if scale_choice is not None:
            scale0 = scale_choice.scale
            compile_s += held_out.compile_s
            fit_s += held_out.fit_s
            # The fit on every row starts from the chosen scale's MAP on 80% of them (after
            # Ctrl-C too: the press is still pending, so that fit stops after its first chunk).
            # The candidates' random starts stand in for the default restarts; restarts asked
            # for (or an ensemble's members) start at random beside it.
            asked = settings.restarts is not None or settings.ensemble
            restarts = 1 if scale_choice.interrupted or not asked else restarts
            z[0] = held_out.z[scale_choice.scales.index(scale0)]
            z = z[:restarts]
            alpha = np.full(restarts, 1.0 / scale0**2)
    # minibatch steps draw from the real rows, so their count is part of the program; full
    # batches weight them (a row count that shares the padded size shares the program)
    cache_key = ("laplace", compiled.key, tuple(layout.network), float(bnn.prior.sigma), batch,
                 n_obs if batch else None)
    prep_s = time.perf_counter() - t0
    curvature = None
    for round_ in range(settings.rounds if alternate else 1):
        outcome = map_loop.minimise(
            objective, z, alpha, map_data, cache_key=cache_key,
            steps=settings.steps if round_ == 0 else max(settings.steps // 2, 1),
            learning_rate=settings.learning_rate, tol=settings.tol, window=settings.window,
            chunk_steps=settings.chunk_steps, progress=progress, n_obs=n_obs,
            callback=None if callback is None else _shifted(callback, steps_run),
            title=f"[bold]Laplace[/] · MAP{f' round {round_ + 1}' if tuned else ''}")
        z, converged = outcome.z, outcome.converged
        history.append(outcome.losses)
        compile_s += outcome.compile_s
        fit_s += outcome.fit_s
        steps_run += outcome.steps_run
        if not np.isfinite(outcome.losses[-1:]).any():
            raise InferenceError(
                "the loss became NaN/inf during laplace's MAP fit (learning rate "
                f"{settings.learning_rate}); lower learning_rate (e.g. learning_rate=0.001) or "
                "standardise the inputs")
        t1 = time.perf_counter()
        z, curvature = _curvature(bnn, negative_log_joint, compiled, layout, z, alpha, data,
                                  settings.newton_steps, full, offsets)
        new_alpha = (np.array([best_prior_precision(_spectrum(c), c.weighted_norm)
                               for c in curvature]) if tuned else alpha)
        fit_s += time.perf_counter() - t1
        trace.append([float(1 / math.sqrt(a)) for a in new_alpha])
        moved = np.max(np.abs(np.log(new_alpha / alpha))) / 2  # in log s
        alpha = new_alpha
        if outcome.interrupted:
            interrupted = True
            break
        if moved < 1e-3:
            break
    if tuned and not interrupted:
        # the output layer's Gaussian at the final alpha (the MAP was fitted at the previous one)
        z, curvature = _curvature(bnn, negative_log_joint, compiled, layout, z, alpha, data,
                                  settings.newton_steps, full, offsets)
    noise = None
    if (settings.noise_sd == "evidence" and not interrupted and not full
            and noise_sd.applies(bnn, offsets)
            and ggn.uses_full_hessian("auto", layout.network.size, compiled.n_obs,
                                      bnn.spec.n_outputs)):
        # MacKay's noise sd at each restart's MAP, then the output layer again at it
        t1 = time.perf_counter()
        noise = noise_sd.at_maps(bnn, layout, z, offsets, alpha)
        z = np.array(z, copy=True)
        for r, found in enumerate(noise):
            if found["sd"] is not None:
                z[r, offsets[noise_sd.NOISE_VALUE]] = math.log(found["sd"])
        z, curvature = _curvature(bnn, negative_log_joint, compiled, layout, z, alpha, data,
                                  settings.newton_steps, full, offsets)
        fit_s += time.perf_counter() - t1
    if curvature is None:  # not reached: a round ran, or the tuned branch above set it
        raise InferenceError("the laplace fit ran no MAP round, so it has no curvature to "
                             "sample from; use rounds ≥ 1")
    t1 = time.perf_counter()
    jitted = lru_get(_LOG_JOINTS, (compiled.key, *parts), lambda: jax.jit(negative_log_joint))
    evidence = np.array([log_evidence(jitted, zr, a, _log_det(c, layout, a), data,
                                      layout, float(bnn.prior.sigma))
                         for zr, a, c in zip(z, alpha, curvature, strict=False)])
    members = (list(range(restarts)) if settings.ensemble
               else [int(np.nanargmax(np.where(np.isfinite(evidence), evidence, -np.inf)))])
    choices, temperature = loo.temper(bnn, layout, z, curvature, members, settings, offsets)
    per_member = -(-draws // len(members))
    key = jax.random.PRNGKey(random_seed)
    samples = []
    which = layout.network if full else layout.last
    sampler_health = []
    for k, m in enumerate(members):
        eps = np.asarray(jax.random.normal(jax.random.fold_in(key, k), (per_member, which.size)))
        zs = np.tile(z[m], (per_member, 1))
        if full:
            zs[:, which] = ggn.gaussian_draws(curvature[m], z[m][which], layout.base_precision,
                                              float(alpha[m]), eps)
        elif sampled:
            log_density, args, density_key = _output_log_posterior(
                bnn, layout, offsets, z[m], alpha[m], temperature[k], negative_log_joint, data,
                cache_key)
            out = sample_output_layer(log_density, args, z[m][which],
                                      curvature[m].sqrt_covariance, draws=per_member,
                                      seed=random_seed + k, cache_key=density_key)
            zs[:, which] = out.theta
            sampler_health.append({"divergences": out.divergences,
                                   "mean_accept": out.mean_accept})
        else:
            zs[:, which] = z[m][which] + eps @ curvature[m].sqrt_covariance.T
        samples.append(zs)
    outputs = constrained_draws(compiled, np.concatenate(samples), data)
    group = {
        "map": (("member", "laplace_param"), z[members]),
        "prior_scale": (("member",), 1 / np.sqrt(alpha[members])),
        "log_marginal_likelihood": (("member",), evidence[members]),
        **loo.record(choices, temperature),
        **(_full_group(layout, [curvature[m] for m in members]) if full else {
            "output_layer_index": (("laplace_output",), layout.last),
            "output_layer_covariance": (("member", "laplace_output", "laplace_output_2"),
                                        np.stack([curvature[m].covariance for m in members]))}),
    }
    extra = {LAPLACE_GROUP: group}
    if full:  # predictions through the network linearised at each member's MAP
        extra[LINEARISED_GROUP] = ggn.expansion_point_group(bnn.spec, z[members][:, which])
    idata = to_idata(compiled, outputs, n_chains=len(members), extra_groups=extra)
    idata[LAPLACE_GROUP].attrs.update({"value_names": list(compiled.value_names),
                                       "output_layer": list(layout.last_names),
                                       "hessian": "full" if full else "last_layer"})
    sample_s = time.perf_counter() - t1
    losses = np.concatenate(history)
    warnings = _held_at_map(bnn)
    if not converged and not interrupted:
        warnings.append(
            f"laplace's MAP fit stopped at the maximum of {settings.steps:,} steps before "
            "converging; raise steps= (or learning_rate= if the loss is still falling steadily)")
    chosen = members[0]
    if constant_maps(bnn.spec, np.asarray(model_data(bnn.model)["X"]),
                     z[[chosen]][:, layout.network])[0]:
        warnings.append(
            "laplace's MAP is a constant function: at prior scale "
            f"{float(scale0):g} its weights fell to zero, so it predicts the same for every row "
            "whatever the features (too little signal for the network at that scale); for a "
            "fit that uses the features, use skip=True (a linear path beside the network), "
            "hidden_layer_sizes=() (a Bayesian linear model) or a wider scale "
            "(engine_options={'map_scale': 2.0})")
    return EngineResult(
        idata=idata, method="laplace",
        settings={**{f.name: getattr(settings, f.name) for f in fields(settings)},
                  "restarts": int(restarts), "draws": draws, "random_seed": random_seed,
                  "minibatch_size": batch, "hessian": "full" if full else "last_layer",
                  "output_layer": "sampled" if sampled else "gaussian"},
        timings={"compile_s": prep_s + compile_s, "fit_s": fit_s, "sample_s": sample_s},
        elbo=None, interrupted=interrupted or bool(pressed),
        diagnostics={"converged": bool(converged), "steps_run": steps_run,
                     "map_loss": [float(x) for x in losses[-1]],
                     "prior_scale": float(1 / math.sqrt(alpha[chosen])),
                     "prior_scale_trace": trace,
                     "map_scale": float(scale0),
                     **({"map_scale_choice": scale_choice.to_dict()} if scale_choice else {}),
                     "log_marginal_likelihood": [float(e) for e in evidence],
                     "temperature": temperature[0],
                     **({"noise_sd": noise} if noise is not None else {}),
                     **({"output_sampler": sampler_health} if sampled else {}),
                     **({"loo": loo.summary(choices[0])} if choices else {}),
                     "members": members, "best_restart": chosen},
        warnings=tuple(warnings),
    )


def _output_log_posterior(bnn, layout, offsets, zr, alpha, temperature, negative_log_joint,
                          data, cache_key):
    """(log_density, args, key): the output layer's log posterior, divided by T.

    log p(theta | y) / T of the output layer theta, the rest of the MAP zr held, up to a
    constant; `log_density(theta, *args)` holds no data itself, and `key` names it (for
    `sample_output_layer`: the same key, the same function). The rows are padded to
    `padded_rows` of their number, the added ones weighted 0, so fits on data sets of similar
    size share one compiled sampler.

    The network output is linear in theta: each output k is features @ theta[k::K] (features:
    the last hidden layer, a column of ones for the bias, the inputs for a skip path), so the
    hidden layers are evaluated once, not at every step of the sampler. Where that structure
    does not hold or the Jacobian it is read from would not fit in memory, the whole model's
    log joint is evaluated instead.
    """
    import jax.numpy as jnp

    from pymc_bnn.inference.jax_model import model_data

    X = np.asarray(model_data(bnn.model)["X"], dtype=np.float64)
    K, d = bnn.spec.n_outputs, layout.last.size
    features = None
    if X.shape[0] * K * d <= _MAX_JACOBIAN and d % K == 0:
        position = {int(v): i for i, v in enumerate(layout.network)}
        last_positions = np.array([position[int(v)] for v in layout.last])
        eta, jacobian = ggn.output_jacobian(bnn.spec, X, zr[layout.network], last_positions)
        candidate = jacobian[:, 0, 0::K]  # (n_obs, d / K): d output_0 / d theta[j K]
        if np.allclose(jacobian, np.einsum("nj,kl->nkjl", candidate, np.eye(K)).reshape(
                jacobian.shape)):
            features = candidate
    if features is None:
        last = jnp.asarray(layout.last)

        def whole_network(theta, z, a, t, d_):
            return -negative_log_joint(z.at[last].set(theta), a, d_) / t
        return whole_network, (jnp.asarray(zr), float(alpha), float(temperature), data), (
            "whole_network", *cache_key)
    per_row = output_likelihood.row_loglik(bnn, offsets)
    loglik = per_row.loglik
    # rows padded to a few sizes, the added ones weighted 0: fits on data of similar size
    # share a sampler
    size = padded_rows(eta.shape[0])
    rows = {name: jnp.asarray(value) for name, value in per_row.padded(size).items()}

    def output_layer_only(theta, theta_map, eta_map, phi, z, base, a, t, rows_data):
        eta_theta = eta_map + phi @ (theta - theta_map).reshape(-1, eta_map.shape[1])
        loglik_rows = loglik(eta_theta, z, rows_data)
        return (jnp.sum(loglik_rows) - 0.5 * a * jnp.sum(base * theta**2)) / t
    key = ("output", per_row.key, d, K, size)
    return output_layer_only, (jnp.asarray(zr[layout.last]), jnp.asarray(pad_rows(eta, size)),
                               jnp.asarray(pad_rows(features, size)), jnp.asarray(zr),
                               jnp.asarray(layout.last_base_precision), float(alpha),
                               float(temperature), rows), key


def _network_names(bnn) -> list[str]:
    """The network's weight and bias variables."""
    return [*bnn.spec.weight_names,
            *(bias_name(i) for i in range(bnn.spec.n_layers) if bnn.spec.bias)]


def _refuse_potentials_on(bnn, names) -> None:
    """Refuse a Potential of the user's that depends on a parameter the Gaussian covers.

    The Gaussian's curvature is the log-likelihood's and its prior precision the Normal
    prior's, so such a Potential would shape the MAP but not the spread around it (a pin of sd
    0.05 on the output bias gave draws of sd 1). A Potential on the hidden layers only, which
    sit at the MAP, is kept: the MAP sees it.
    """
    from pytensor.graph.traversal import ancestors

    model = bnn.model
    covered = {model[name]: name for name in names if name in model.named_vars}
    for potential in model.potentials:
        found = [covered[v] for v in ancestors([potential]) if v in covered]
        if found:
            raise InvalidSettingError(
                f"the model has a Potential {potential.name!r} on {', '.join(sorted(found))}, "
                "which the laplace engine's Gaussian covers but cannot include (its curvature "
                "is the likelihood's, its prior the Normal's); fit this model with "
                "method='nuts', 'advi' or 'fullrank_advi', which use its whole log density")


def _held_at_map(bnn) -> list[str]:
    """The warning that free variables the user added to the model sit at their MAP.

    laplace gives only the network (its output layer, or every layer with hessian='full') a
    distribution; the likelihood's own variables sit at the MAP, as documented, and so do
    variables added inside `with bnn.model:`, whose draws are then all equal.
    """
    own = set(_network_names(bnn)) | set(bnn.likelihood_params)
    added = [rv.name for rv in bnn.model.free_RVs if rv.name not in own]
    if not added:
        return []
    return [f"laplace: {', '.join(added)} {'is' if len(added) == 1 else 'are'} held at "
            "its MAP in every draw (the laplace engine gives only the network's weights a "
            "distribution); for a posterior of the variables you added, fit with "
            "method='advi', 'fullrank_advi' or 'nuts'"]


def _value_offsets(compiled) -> dict:
    """Name -> indices of that value variable in the flat vector z."""
    offsets, start = {}, 0
    for name, shape in zip(compiled.value_names, compiled.value_shapes, strict=True):
        size = int(np.prod(shape))
        offsets[name] = np.arange(start, start + size)
        start += size
    return offsets


def _curvature(bnn, negative_log_joint, compiled, layout, z, alpha, data, newton_steps, full,
               offsets):
    """Newton steps on the output layer, then the curvature of every restart.

    The output layer's (`OutputLayerCurvature`) or, with `full`, the whole network's GGN.
    """
    z, curvature = refine_output_layer(negative_log_joint, compiled, layout, z, alpha, data,
                                       newton_steps)
    return (z, ggn.curvatures_at(bnn, layout, z, offsets)) if full else (z, curvature)


def _spectrum(curvature) -> np.ndarray:
    """Every eigenvalue of the scaled curvature (zeros included), as the evidence needs."""
    if isinstance(curvature, ggn.NetworkCurvature):
        return curvature.all_eigenvalues()
    return curvature.eigenvalues


def _log_det(curvature, layout, alpha) -> float:
    """Log det((H + alpha B) / 2π) of either kind of curvature (nats)."""
    if isinstance(curvature, ggn.NetworkCurvature):
        return ggn.log_determinant(curvature, layout.base_precision, float(alpha))
    return log_determinant(curvature, layout.last_base_precision, float(alpha))


def _full_group(layout, curvatures) -> dict:
    """The laplace group's record of whole-network Gaussians.

    Eigenvalues are padded with zeros and directions with zero columns to one rank r: both add
    nothing.
    """
    rank = max(c.eigenvalues.size for c in curvatures)
    values = np.zeros((len(curvatures), rank))
    vectors = np.zeros((len(curvatures), layout.network.size, rank))
    for m, c in enumerate(curvatures):
        values[m, :c.eigenvalues.size] = c.eigenvalues
        vectors[m, :, :c.eigenvalues.size] = c.vectors
    return {"network_index": (("laplace_network",), layout.network),
            "base_precision": (("laplace_network",), layout.base_precision),
            "ggn_eigenvalues": (("member", "laplace_rank"), values),
            "ggn_vectors": (("member", "laplace_network", "laplace_rank"), vectors)}


def _shifted(callback, offset: int):
    """`callback` with steps counted from the start of the whole fit (all rounds)."""
    return lambda info: callback({**info, "step": info["step"] + offset})
