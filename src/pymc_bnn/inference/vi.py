"""ADVI as a compiled JAX loop: mean-field (`advi`) and full-rank (`fullrank_advi`) Gaussians.

The approximation q(z) is a Gaussian on the model's unconstrained space (see `jax_model`). Each
step draws `mc_samples` reparameterised samples, estimates the ELBO = E_q[log p(z, y)] + H[q]
(nats) and takes one Adam step; up to `chunk_steps` steps run inside one compiled loop, and between
chunks the loop shows progress, checks convergence and lets Ctrl-C stop it with the state so far.
Several random restarts run together under `jax.vmap`, split over JAX's CPU devices (one per
core, see `jax_setup`) when there are several; the one with the best final ELBO is kept.

Measured on the seed model (2→5→5→1, 700 points, this 2-core machine): Adam with learning rate
0.01 gives test accuracy 0.94–0.96 where pm.fit's adagrad_window stalls at 0.88–0.89.
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from pymc_bnn._runtime.interrupt import ctrl_c_deferred
from pymc_bnn.errors import InferenceError
from pymc_bnn.inference import vi_loop
from pymc_bnn.inference.compiled_draws import to_idata
from pymc_bnn.inference.jax_model import compile_model, data_arguments
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.inference.vi_family import get_family
from pymc_bnn.inference.vi_settings import NOISE_MULTIPLE, ADVISettings
from pymc_bnn.inference.vi_start import starting_point
from pymc_bnn.inference.windows import TREND_WINDOWS
from pymc_bnn.posterior.elbo_trace import trend_words, window_means_words

# Models smaller than this (parameters × observations per step) get 4 restarts by default.
# They avoid the poor local optima a single mean-field run falls into now and then. A step's
# cost on CPU is compute, so R restarts cost ~R× one (4 on one core: 4.3×; split over 4
# devices on this 2-core machine: 2.1×): the restarts only race for `screen_steps` steps and
# the best one alone runs on from there.
_CHEAP_RESTARTS = 200_000
_DEFAULT_RESTARTS = 4
# ensemble=True without restarts=: deep ensembles gain little past about 5 members
# (Lakshminarayanan et al. 2017, Fig. 3).
_ENSEMBLE_MEMBERS = 5
# Adam learning rates, measured on the seed model: 0.01 for mean-field (0.94-0.96 accuracy);
# full-rank's Cholesky entries have noisier gradients, and at 0.01 its ELBO wanders (-160 to
# -270 nats, no convergence in 30,000 steps) while 0.003 converges to -127 (mean-field: -137).
DEFAULT_LEARNING_RATE = {"meanfield": 0.01, "fullrank": 0.003}
_METHODS = {"meanfield": "advi", "fullrank": "fullrank_advi"}  # family -> engine name


def settings_from_options(family: str, options: dict) -> ADVISettings:
    """`ADVISettings` from engine options, each checked by `inference.options`' one check.

    So `run` called directly refuses what `fit` refuses; the learning rate defaults to the
    family's (`DEFAULT_LEARNING_RATE`).

    Examples
    --------
    >>> from pymc_bnn.inference.vi import settings_from_options
    >>> settings_from_options("fullrank", {"steps": 2000.0}).steps
    2000
    >>> settings_from_options("fullrank", {}).learning_rate
    0.003
    """
    checked = check_engine_options(_METHODS[family], options)
    checked.setdefault("learning_rate", DEFAULT_LEARNING_RATE[family])
    return ADVISettings(**checked)


def run_advi(bnn, **kw) -> EngineResult:
    """Mean-field ADVI: `run` with family "meanfield" (the `advi` engine).

    Examples
    --------
    A normal mean under a N(0, 10²) prior, 50 observations of 2: the posterior is
    N(2.0, 0.14²).

    >>> import numpy as np
    >>> import pymc as pm
    >>> from pymc_bnn.inference.vi import run_advi
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu", 0.0, 10.0)
    ...     _ = pm.Normal("y", mu, 1.0, observed=np.full(50, 2.0))
    >>> result = run_advi(model, draws=1000, random_seed=0, progress=False, steps=3000,
    ...                   tol=0, learning_rate=0.05)
    >>> result.method, result.diagnostics["steps_run"]
    ('advi', 3000)
    >>> draws = result.idata["posterior"]["mu"].values
    >>> round(float(draws.mean()), 1), round(float(draws.std()), 2)
    (2.0, 0.14)
    """
    return run(bnn, family="meanfield", **kw)


def run_fullrank_advi(bnn, **kw) -> EngineResult:
    """Full-rank ADVI (a Cholesky factor of the covariance): the `fullrank_advi` engine.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> from pymc_bnn.inference.vi import run_fullrank_advi
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu", 0.0, 10.0, shape=2)
    ...     _ = pm.Normal("y", mu.sum(), 1.0, observed=np.full(20, 1.0))
    >>> result = run_fullrank_advi(model, draws=500, random_seed=0, progress=False,
    ...                            steps=500, tol=0)
    >>> result.method, result.idata["variational"]["mu__mean"].shape
    ('fullrank_advi', (2,))
    """
    return run(bnn, family="fullrank", **kw)


def run(bnn, *, family: str, draws: int, random_seed: int, progress: bool, init=None,
        callback=None, stream=None, **options) -> EngineResult:
    """Fit q by ADVI and draw `draws` samples from it.

    Parameters
    ----------
    bnn : BNNModel or pm.Model
        The model.
    family : {"meanfield", "fullrank"}
        The Gaussian family of q (`vi_family`).
    draws, random_seed, progress
        As for every engine (`inference.engine.Engine`).
    init : Posterior, optional
        A previous fit of the same model structure to start from (a warm start; 1 restart by
        default).
    callback : callable, optional
        callback(info), called between chunks with {"step", "elbo", "relative_change"};
        raising KeyboardInterrupt there stops the fit like Ctrl-C (the result is flagged
        `interrupted`).
    stream : BatchSource, optional
        Encoded (X, y) batches (`BNNModel.stream`, see `build_streaming_model`): each step
        takes the next minibatch of the model's own row count, read ahead in a thread
        (`streaming.chunk_feed`); the model's total_size scales it.
    **options
        The fields of `ADVISettings`.

    Returns
    -------
    EngineResult
        The draws (one chain, or one per member with `ensemble`), the best member's q as the
        `variational` group (`<name>__mean`, `<name>__sd`), the ELBO history and diagnostics.

    Examples
    --------
    Two restarts race for 200 steps on a small network; the better one runs on:

    >>> from pymc_bnn import build_model
    >>> from pymc_bnn.datasets import two_moons
    >>> from pymc_bnn.inference.vi import run
    >>> data = two_moons(n_samples=100)
    >>> bnn = build_model(data.X_train, data.y_train, hidden=(4,))
    >>> result = run(bnn, family="meanfield", draws=100, random_seed=0, progress=False,
    ...              steps=1000, tol=0, restarts=2, screen_steps=200)
    >>> result.diagnostics["steps_run"], len(result.diagnostics["restart_elbos"])
    (1000, 2)
    """
    import jax

    settings = settings_from_options(family, options)
    model = getattr(bnn, "model", bnn)
    t0 = time.perf_counter()
    n_obs_full = None
    batch = settings.minibatch_size
    compiled = compile_model(model, batch_size=None)
    feed = None
    if stream is not None:
        from pymc_bnn.inference import streaming

        settings, feed = streaming.chunk_feed(compiled, stream, settings)
        batch = None
    if batch is not None and batch >= compiled.n_obs:
        batch = None  # a minibatch as large as the data is the data
    if batch is not None:
        n_obs_full = compiled.n_obs
        compiled = compile_model(model, batch_size=int(batch))
    data = data_arguments(compiled, model)
    restarts = settings.restarts
    if restarts is None and settings.ensemble is True:
        restarts = _ENSEMBLE_MEMBERS
    if restarts is None:
        cheap = compiled.size * (batch or compiled.n_obs or 1) <= _CHEAP_RESTARTS
        restarts = 1 if (init is not None or not cheap) else _DEFAULT_RESTARTS
    rng = np.random.default_rng(random_seed)
    start_mu, start_sd = starting_point(compiled, model, init, int(restarts),
                                        settings.init_sd, rng)
    loop = vi_loop.Loop(compiled=compiled, family=get_family(family), settings=settings,
                        restarts=int(restarts), n_obs_full=n_obs_full, streamed=feed is not None)
    key = jax.random.PRNGKey(random_seed)
    state = loop.init_state(start_mu, start_sd, key)
    prep_s = time.perf_counter() - t0
    # From here Ctrl-C stops the optimisation between chunks and is otherwise only recorded:
    # pressed while compiling, between phases or drawing, it still returns what was learned.
    with ctrl_c_deferred() as pressed, (feed or contextlib.nullcontext()):
        outcome, screened_best = _optimise(loop, state, data, progress=progress,
                                           callback=callback, feed=feed)
        return _result(bnn, compiled, loop, settings, outcome, screened_best, data, key,
                       family=family, draws=draws, random_seed=random_seed, init=init,
                       restarts=restarts, batch=batch, prep_s=prep_s, pressed=pressed)


def _result(bnn, compiled, loop, settings, outcome, screened_best, data, key, *, family, draws,
            random_seed, init, restarts, batch, prep_s, pressed) -> EngineResult:
    """The EngineResult of a finished (or interrupted) optimisation: draws from the kept q."""
    import jax

    best = outcome.best_restart
    history = outcome.history[:, best]
    if not np.isfinite(history[-1:]).all():
        raise InferenceError(_nan_message(settings))
    averaged = loop.averaged(outcome.state)
    members = [best]
    if settings.ensemble is True and loop.restarts > 1:
        # every restart that did not diverge, best first; draws split evenly, one chain each
        finite = np.isfinite(outcome.history[-1])
        members = [best] + [r for r in range(loop.restarts) if r != best and finite[r]]
    per_member = -(-draws // len(members))
    t0 = time.perf_counter()
    parts = []
    for k, r in enumerate(members):
        member_draws, member_mean, member_sd = loop.draw(
            # (indexed on the host: indexing a JAX array compiles a program per index)
            jax.tree_util.tree_map(lambda a, r=r: np.asarray(a)[r], averaged), data, per_member,
            jax.random.fold_in(key, 1 + k))
        if k == 0:  # the variational group holds the best member's q
            mean, sd = member_mean, member_sd
        parts.append(member_draws)
    outputs = [np.concatenate(p) for p in zip(*parts, strict=True)]
    interrupted = outcome.interrupted or bool(pressed)
    sample_s = time.perf_counter() - t0
    variational = {f"{name}__mean": ((f"{name}__flat",), m) for name, m in
                   zip(compiled.value_names, _split(compiled, mean), strict=False)}
    variational |= {f"{name}__sd": ((f"{name}__flat",), s) for name, s in
                    zip(compiled.value_names, _split(compiled, sd), strict=False)}
    # the variational group is the best member's q (what a warm start continues from)
    idata = to_idata(compiled, outputs, n_chains=len(members),
                     extra_groups={"variational": variational})
    method = _METHODS[family]
    messages = []
    if settings.tol > 0 and not outcome.converged and not interrupted:
        # the two means the relative change compares: near 0 nats (a regression's ELBO can
        # be) a small move is a large relative change, and the means show it
        windows = outcome.window_change
        noisy = loop.streamed or loop.n_obs_full is not None
        change = (f"{window_means_words(windows.before, windows.last, windows.size)} over the "
                  f"last two windows of {settings.window:,} steps: a relative change of "
                  f"{outcome.relative_change:.2g}, tol {settings.tol:g}" + (
                      f"; {_noise_words(windows)}" if noisy
                      and math.isfinite(windows.trend_se) else "")
                  if windows is not None and math.isfinite(outcome.relative_change)
                  else f"too few steps to compare two windows of {settings.window:,}")
        messages.append(
            f"{method} stopped at the maximum of {settings.steps:,} steps before converging "
            f"({change}); raise steps=, or learning_rate= if the ELBO is still climbing "
            "steadily, or pass tol=0 to run a fixed number of steps without this check")
    return EngineResult(
        idata=idata,
        method=method,
        settings={**{k: v for k, v in vars(settings).items()}, "restarts": int(restarts),
                  "minibatch_size": compiled.n_obs if loop.streamed else batch,
                  "streamed": loop.streamed, "draws": draws, "random_seed": random_seed,
                  "warm_start": init is not None},
        timings={"compile_s": prep_s + outcome.compile_s, "fit_s": outcome.fit_s,
                 "sample_s": sample_s},
        elbo=history,
        interrupted=interrupted,
        diagnostics={"converged": outcome.converged, "steps_run": outcome.steps_run,
                     "relative_change": (outcome.relative_change
                                         if math.isfinite(outcome.relative_change) else None),
                     **_window_diagnostics(outcome),
                     "best_restart": screened_best, "restart_elbos": outcome.final_elbos,
                     "restart_devices": outcome.devices,
                     "data_devices": outcome.data_devices, "members": members,
                     "steps_per_s": outcome.steps_run / max(outcome.fit_s, 1e-9)},
        warnings=tuple(messages),
    )


def _optimise(loop, state, data, *, progress, callback, feed=None):
    """Race the restarts for `screen_steps` steps, then continue only the best one.

    Returns the outcome (its history and state are the kept restart's, whole run) and the index
    of the restart that was kept.
    """
    import dataclasses

    import jax

    s = loop.settings
    if loop.restarts == 1 or s.screen_steps >= s.steps or s.ensemble is True:
        outcome = loop.optimise(state, data, progress=progress, callback=callback, feed=feed)
        return outcome, outcome.best_restart
    screen = dataclasses.replace(loop, settings=dataclasses.replace(s, steps=s.screen_steps, tol=0))
    first = screen.optimise(state, data, progress=progress, callback=callback,
                            phase=f"{loop.restarts} restarts", feed=feed)
    best = first.best_restart

    def shifted(info):
        callback({**info, "step": info["step"] + first.steps_run})

    # Ctrl-C from the end of the race to the kept restart's first chunk (which compiles first)
    # keeps the race's result: pressed then, it would otherwise lose a finished race.
    try:
        if first.interrupted or not np.isfinite(first.final_elbos[best]):
            return first, best
        rest = dataclasses.replace(loop, restarts=1, settings=dataclasses.replace(
            s, steps=s.steps - first.steps_run))
        kept = jax.tree_util.tree_map(lambda a: a[best:best + 1], first.state)
        second = rest.optimise(kept, data, progress=progress,
                               callback=shifted if callback is not None else None,
                               history_before=first.history[:, best:best + 1],
                               phase=f"restart {best + 1}", feed=feed)
    except KeyboardInterrupt:
        return dataclasses.replace(first, interrupted=True), best
    return dataclasses.replace(
        second, steps_run=first.steps_run + second.steps_run,
        compile_s=first.compile_s + second.compile_s, fit_s=first.fit_s + second.fit_s,
        final_elbos=first.final_elbos, devices=first.devices), best


def _noise_words(windows) -> str:
    """The noise rule of a minibatch or streamed fit in words, for the step-limit warning."""
    return (f"{trend_words(windows.trend, windows.trend_se, TREND_WINDOWS)}, over the "
            f"{NOISE_MULTIPLE:g} that stop a minibatch fit and over tol × the last mean")


def _window_diagnostics(outcome) -> dict:
    """The stopping rule's numbers for `EngineResult.diagnostics` (None where not measured)."""
    change = outcome.window_change
    finite = change is not None and math.isfinite(change.last) and math.isfinite(change.before)
    trend = finite and math.isfinite(change.trend) and math.isfinite(change.trend_se)
    return {"window_means": [change.before, change.last] if finite else None,
            "elbo_trend": [change.trend, change.trend_se] if trend else None,
            "trend_windows": TREND_WINDOWS,
            # the size the relative change was taken against, where not abs(ELBO)
            "elbo_size": change.size if change is not None and math.isfinite(change.size)
            else None,
            "stopped_by": outcome.stopped_by}


def _nan_message(settings) -> str:
    return (f"the ELBO became NaN/inf during ADVI (learning rate {settings.learning_rate}); "
            "lower learning_rate (e.g. learning_rate=0.001), standardise the inputs, or use a "
            "tighter prior")


def _split(compiled, flat):
    out, start = [], 0
    for shape in compiled.value_shapes:
        n = int(np.prod(shape))
        out.append(np.asarray(flat[start:start + n]))
        start += n
    return out
