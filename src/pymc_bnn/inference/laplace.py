"""The Laplace approximation: a MAP network and a Gaussian over its output layer.

The prior scale is chosen by the marginal likelihood.

1. MAP: the model's own log-density (its likelihood and the priors of the likelihood's own
   variables, from `jax_model`) with the network's Normal prior at scale s, minimised by Adam
   (or L-BFGS: `map_optimizer`; `map_loop`) from several random starts for small models, as
   `advi` does.
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
from dataclasses import fields

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.errors import InferenceError, InvalidSettingError
from pymc_bnn.inference import flat_network, ggn, ggn_at_maps, loo, map_loop, noise_sd
from pymc_bnn.inference.compiled_draws import constrained_draws, to_idata
from pymc_bnn.inference.jax_model import compile_model, data_arguments, model_data
from pymc_bnn.inference.laplace_layout import (
    held_at_map_warnings,
    network_names,
    parameter_layout,
    refuse_potentials_on,
    value_offsets,
)
from pymc_bnn.inference.laplace_map import (
    constant_maps,
    held_out_scale,
    interpolation_at_map,
    log_joint,
    map_objective,
    map_plan,
    random_starts,
    steps_batch,
)
from pymc_bnn.inference.laplace_predictive import LAPLACE_GROUP, glm_predictive  # noqa: F401
from pymc_bnn.inference.laplace_settings import LaplaceSettings, settings_from_options
from pymc_bnn.inference.output_layer import (
    best_prior_precision,
    log_determinant,
    log_evidence,
    refine_output_layer,
)
from pymc_bnn.inference.output_posterior import output_log_posterior
from pymc_bnn.inference.output_sampler import sample_output_layer
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.posterior.posterior import LINEARISED_GROUP

# The jitted log joint that the evidence is evaluated with, per model structure and prior
# (called outside any jit it would run op by op: one small compile per operation per process).
_LOG_JOINTS: OrderedDict[tuple, object] = OrderedDict()
# Models smaller than this (parameters × observations) get 4 restarts by default (see vi.py).
_CHEAP_RESTARTS = 200_000
_DEFAULT_RESTARTS = 4
# Deep ensembles gain little past about 5 members (Lakshminarayanan et al. 2017, Fig. 3).
_ENSEMBLE_MEMBERS = 5

# split out of this module: its settings, and which variables the Gaussian covers and where
__getattr__ = moved_names(__name__, {"ParameterLayout": "pymc_bnn.inference.laplace_layout"})


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


def _run(bnn, settings: LaplaceSettings, *, draws, random_seed, progress, callback,
         pressed) -> EngineResult:
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
    full = ggn_at_maps.uses_full_hessian(settings.hessian, layout.network.size,
                                         compiled.n_obs, bnn.spec.n_outputs)
    if full and settings.temperature != 1.0:
        raise InvalidSettingError(
            "temperature scales the output layer's Gaussian and needs hessian='last_layer' "
            f"(this fit uses the whole network's); drop temperature={settings.temperature!r}")
    if full and settings.output_layer == "sampled":
        raise InvalidSettingError(
            "output_layer='sampled' samples the output layer with the hidden layers at the MAP "
            "and needs hessian='last_layer' (this fit uses the whole network's Gaussian); use "
            "output_layer='auto' or hessian='last_layer'")
    refuse_potentials_on(bnn, network_names(bnn) if full else layout.last_names)
    sampled = not full and (settings.output_layer == "sampled" or (
        settings.output_layer == "auto" and getattr(bnn.likelihood, "name", None)
        == "categorical"))
    # the evidence can choose the MAP's scale only where it sees every network parameter
    alternate = tuned and (full or not bnn.spec.hidden)
    offsets = value_offsets(compiled)
    alpha = np.full(restarts, 1.0 / scale0**2)
    parts = tuple(tuple(np.asarray(v).tolist()) for v in (
        layout.network, layout.base_precision, layout.model_precision))
    prior_swap, negative_log_joint = log_joint(compiled.loglik, compiled.prior_logp, *parts)

    n_obs = max(compiled.n_obs, 1)
    batch = steps_batch(settings.minibatch_size, n_obs)
    optimizer, max_steps, window, chunk_steps = map_plan(settings, batch)
    objective, map_data = map_objective(bnn, compiled, data, n_obs, batch, prior_swap,
                                        negative_log_joint, random_seed)
    history, trace, compile_s, fit_s, steps_run = [], [], 0.0, 0.0, 0
    interrupted = converged = False
    scale_choice = None
    counted_s = 0.0  # the held-out search's seconds already counted in compile_s and fit_s
    if tuned and settings.map_scale == "holdout":
        scale_choice, held_out = held_out_scale(
            bnn, compiled, layout, data, settings, prior_swap, random_seed, progress, callback)
        if scale_choice is not None:
            counted_s = held_out.compile_s + held_out.fit_s
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
    prep_s = time.perf_counter() - t0 - counted_s
    curvature = None
    for round_ in range(settings.rounds if alternate else 1):
        outcome = map_loop.minimise(
            objective, z, alpha, map_data, cache_key=cache_key,
            steps=max_steps if round_ == 0 else max(max_steps // 2, 1),
            learning_rate=settings.learning_rate, tol=settings.tol, window=window,
            chunk_steps=chunk_steps, progress=progress, n_obs=n_obs, optimizer=optimizer,
            callback=None if callback is None else _shifted(callback, steps_run),
            title=f"[bold]Laplace[/] · MAP{f' round {round_ + 1}' if tuned else ''}")
        z, converged = outcome.z, outcome.converged
        history.append(outcome.losses)
        compile_s += outcome.compile_s
        fit_s += outcome.fit_s
        steps_run += outcome.steps_run
        if not np.isfinite(outcome.losses[-1:]).any():
            raise InferenceError(
                "the loss became NaN/inf during laplace's MAP fit "
                + ("(L-BFGS); use map_optimizer='adam' or standardise the inputs"
                   if optimizer == "lbfgs" else f"(learning rate {settings.learning_rate}); "
                   "lower learning_rate (e.g. learning_rate=0.001) or standardise the inputs"))
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
            and ggn_at_maps.uses_full_hessian("auto", layout.network.size, compiled.n_obs,
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
            log_density, args, density_key = output_log_posterior(
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
        extra[LINEARISED_GROUP] = flat_network.expansion_point_group(bnn.spec,
                                                                     z[members][:, which])
    idata = to_idata(compiled, outputs, n_chains=len(members), extra_groups=extra)
    idata[LAPLACE_GROUP].attrs.update({"value_names": list(compiled.value_names),
                                       "output_layer": list(layout.last_names),
                                       "hessian": "full" if full else "last_layer"})
    sample_s = time.perf_counter() - t1
    losses = np.concatenate(history)
    warnings = held_at_map_warnings(bnn)
    chosen = members[0]
    interpolation = (None if interrupted else
                     interpolation_at_map(bnn, z[chosen, layout.network]))
    if interpolation is not None:  # its loss falls without end: more steps fit the noise more
        warnings.append(
            f"the network interpolates its {interpolation['rows']:,} training rows "
            f"({interpolation['parameters']:,} parameters; training RMSE "
            f"{interpolation['rmse_share']:.2%} of the target's sd): laplace's noise sd shrank "
            "with the residuals, so its intervals are too narrow to trust"
            + ("" if converged or settings.tol == 0 else " and its MAP loss was still falling "
               "at the step limit (more steps would fit the noise further)")
            + "; use method='advi', fewer hidden units, or more rows")
    elif not converged and not interrupted and settings.tol > 0:  # tol=0: fixed steps asked
        warnings.append(
            f"laplace's MAP fit stopped at the maximum of {max_steps:,} steps before "
            "converging; raise steps= (or learning_rate= if Adam's loss is still falling "
            "steadily)")
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
                  "minibatch_size": batch, "map_optimizer": optimizer, "steps": max_steps,
                  "window": window, "chunk_steps": chunk_steps,
                  "hessian": "full" if full else "last_layer",
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
                     **({"interpolates": interpolation} if interpolation else {}),
                     "members": members, "best_restart": chosen},
        warnings=tuple(warnings),
    )


def _curvature(bnn, negative_log_joint, compiled, layout, z, alpha, data, newton_steps, full,
               offsets):
    """Newton steps on the output layer, then the curvature of every restart.

    The output layer's (`OutputLayerCurvature`) or, with `full`, the whole network's GGN.
    """
    z, curvature = refine_output_layer(negative_log_joint, compiled, layout, z, alpha, data,
                                       newton_steps)
    return (z, ggn_at_maps.curvatures_at(bnn, layout, z, offsets)) if full else (z, curvature)


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
