"""NUTS with NumPyro on the PyMC model's own log-density, started from a compiled ADVI fit.

Backend. Measured on the seed model (4 chains × 1,000 draws after 1,000 tuning steps, this
2-core machine): `pm.sample` 91 s with 93 divergences; nutpie 10 s compile + 79 s with 120–633
divergences; NumPyro through PyMC 4 s + 50 s with 11. NumPyro is the fastest that works, and
here it runs directly on the same compiled JAX log-density as `advi` (`jax_model`), so nothing
is compiled twice, with one chain per CPU core where JAX has the devices
(`pymc_bnn._runtime.jax_setup`).

Initialisation and settings. Chains start at draws from a mean-field ADVI fit (seconds), with
the ADVI marginal variances as the starting diagonal mass matrix, so tuning starts in the
typical set at roughly the right scales. `target_accept=0.9` keeps divergences rare on BNNs,
whose posteriors have narrow, curved ridges: on the seed model 0.95 gave 0 of 4,000 divergent
transitions and 0.9 about 0.3% (with ~1.4× shallower trees), while pm.sample's 0.8 gave 6.6%.

Convergence is judged by `fit` on the predictions at `check_X` (default: the training inputs),
as for any sampler (`pymc_bnn.inference.diagnostics`): raw weights do not mix across chains even
when the predictions do, since hidden units swap places and flip signs.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn.inference.compiled_draws import constrained_draws, to_idata
from pymc_bnn.inference.jax_model import compile_model, data_arguments
from pymc_bnn.inference.result import EngineResult

# Divergences are judged (threshold and words) by the one judgement of convergence.
from pymc_bnn.posterior.convergence import divergence_problems

# The jitted potential energy per model structure. NumPyro's kernel set-up evaluates it and its
# gradient outside jit; unjitted, that is one small compile per operation of the log-density.
_POTENTIALS: OrderedDict[str, object] = OrderedDict()


def run(bnn, *, draws: int, random_seed: int, progress: bool, chains: int = 4,
        tune: int = 1000, target_accept: float = 0.9, max_tree_depth: int = 10,
        init_steps: int = 10_000, check_X=None, chain_method: str = "auto",
        dense_mass: bool = False) -> EngineResult:
    """Sample `chains` NUTS chains of ceil(draws / chains) draws each after `tune` tuning steps.

    Called by `fit(bnn, "nuts", ...)`, which checks the options first and judges convergence
    on the predictions afterwards.

    Parameters
    ----------
    bnn : BNNModel or pymc.Model
        The model (predictive diagnostics need a `BNNModel`).
    draws : int
        Draws over all chains.
    random_seed : int
        Seeds the starting points and the sampler.
    progress : bool
        Show a progress bar.
    chains : int, default 4
        Chains, run side by side where JAX has a device per chain.
    tune : int, default 1000
        Tuning steps per chain.
    target_accept : float, default 0.9
        NUTS's target acceptance probability (see the module docstring).
    max_tree_depth : int, default 10
        The deepest tree per transition (NumPyro's; at most 2**depth - 1 leapfrog steps).
    init_steps : int, default 10000
        ADVI steps for the starting points and mass matrix (0: the model's initial point,
        unit mass matrix).
    check_X : array-like, optional
        Inputs `(n, n_features)` on which to judge convergence; default the training inputs.
    chain_method : {"auto", "parallel", "sequential", "vectorized"}, default "auto"
        NumPyro's "parallel" (one chain per JAX device: see `pymc_bnn._runtime.jax_setup`),
        "sequential" or "vectorized"; "auto" takes "parallel" when there are enough devices,
        else "sequential", which spreads the chains over the devices there are (chain c on
        device c mod n), so 4 chains on a 2-core machine's 2 devices run two at a time
        (vectorised chains step in lockstep, each transition as long as the longest tree:
        measured 1.6x the CPU time of sequential chains on the seed model).
    dense_mass : bool, default False
        Adapt a dense mass matrix instead of a diagonal one.

    Returns
    -------
    EngineResult
        Marked `mcmc`, with divergences, tree depths and step sizes in the diagnostics.

    Examples
    --------
    A short run takes seconds, so it is not run here:

    >>> from pymc_bnn import fit
    >>> posterior = fit(tiny_model, "nuts", chains=2, tune=200, draws=200,
    ...                 progress=False)  # doctest: +SKIP
    >>> posterior.idata["posterior"].sizes["chain"]  # doctest: +SKIP
    2

    `fit` checks the options before anything runs:

    >>> fit(tiny_model, "nuts", chains=2, target_accept=1.5)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: target_accept must be a number strictly between 0 ...
    """
    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    # One record of Ctrl-C for the whole run, shared by the ADVI start-up, so a press at any
    # moment (compiling, ADVI, tuning, sampling) ends the run at the next safe point.
    with ctrl_c_deferred() as pressed:
        return _run(bnn, draws=draws, random_seed=random_seed, progress=progress, chains=chains,
                    tune=tune, target_accept=target_accept, max_tree_depth=max_tree_depth,
                    init_steps=init_steps, check_X=check_X, chain_method=chain_method,
                    dense_mass=dense_mass, pressed=pressed)


def _run(bnn, *, draws, random_seed, progress, chains, tune, target_accept, max_tree_depth,
         init_steps, check_X, chain_method, dense_mass, pressed) -> EngineResult:
    import jax
    import jax.numpy as jnp
    from numpyro.infer import NUTS

    model = getattr(bnn, "model", bnn)
    t0 = time.perf_counter()
    # The exact rows, not padded ones: the sampler's compiled loop holds this fit's data and is
    # compiled for each fit anyway, so padding would only add rows to every gradient.
    compiled = compile_model(model, pad=False)
    data = tuple(jnp.asarray(d) for d in data_arguments(compiled, model))
    rng = np.random.default_rng(random_seed)
    _stop_if_pressed(pressed, "compiling")
    start, scale, init_s = _starting_points(model, compiled, chains, init_steps, random_seed, rng)
    _stop_if_pressed(pressed, "fitting ADVI for the starting points")

    def negative_log_density(z, d):
        return -(compiled.prior_logp(z, d) + compiled.loglik(z, d))

    jitted = lru_get(_POTENTIALS, compiled.key, lambda: jax.jit(negative_log_density))

    def potential(z):
        return jitted(z, data)

    kernel = NUTS(potential_fn=potential, target_accept_prob=target_accept,
                  max_tree_depth=max_tree_depth, dense_mass=dense_mass,
                  inverse_mass_matrix=jnp.asarray(np.diag(scale**2) if dense_mass else scale**2))
    per_chain = math.ceil(draws / chains)
    if chain_method == "auto":
        chain_method = "parallel" if jax.local_device_count() >= chains else "sequential"
    prep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    z, stats = _sample_in_chunks(
        kernel, jax.random.PRNGKey(random_seed), start, chain_method=chain_method,
        tune=tune, per_chain=per_chain, pressed=pressed, progress=progress)
    interrupted = z.shape[1] < per_chain
    sample_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    outputs = constrained_draws(compiled, z.reshape(-1, z.shape[-1]), data)
    sample_stats = {
        "diverging": stats["diverging"].astype(bool),
        "n_steps": stats["num_steps"],
        "tree_depth": np.floor(np.log2(stats["num_steps"] + 1)).astype(int),
        "acceptance_rate": stats["accept_prob"],
        "energy": stats["energy"],
        "lp": -stats["potential_energy"],
        "step_size": stats["adapt_state.step_size"],
    }
    idata = to_idata(compiled, outputs, n_chains=chains, sample_stats=sample_stats)
    post_s = time.perf_counter() - t0
    n_divergent = int(sample_stats["diverging"].sum())
    rate = n_divergent / sample_stats["diverging"].size
    diagnostics = {"divergences": n_divergent, "divergence_rate": rate,
                   "mean_tree_depth": float(sample_stats["tree_depth"].mean()),
                   "step_size": float(np.median(sample_stats["step_size"])),
                   # JAX devices the chains ran on side by side (1: one after another)
                   "devices": chain_devices(chain_method, chains)}
    # the same words as the judgement in `info`, the report and `convergence_`
    messages = [f"nuts: {problem}" for problem in divergence_problems(diagnostics)]
    if interrupted:
        messages.append(f"NUTS was interrupted: kept {z.shape[1]} of {per_chain} draws per "
                        "chain (posterior.interrupted is True)")
    return EngineResult(
        idata=idata, method="nuts", interrupted=interrupted,
        settings={"chains": chains, "tune": tune, "draws_per_chain": z.shape[1], "draws": draws,
                  "target_accept": target_accept, "max_tree_depth": max_tree_depth,
                  "init_steps": init_steps, "chain_method": chain_method,
                  "dense_mass": dense_mass,
                  "random_seed": random_seed},
        timings={"compile_s": prep_s - init_s, "init_s": init_s, "sample_s": sample_s,
                 "postprocess_s": post_s},
        diagnostics=diagnostics, warnings=tuple(messages), mcmc=True, check_X=check_X)


CHAIN_METHODS = ("auto", "parallel", "sequential", "vectorized")

# Seconds of compiled work per call between Ctrl-C checks and progress updates: the number of
# NUTS transitions per call adapts to it (a transition of a large network on many rows can take
# seconds, one of the seed model well under a millisecond).
SECONDS_PER_CALL = 0.5
# Most transitions one compiled call runs (the size of its output buffer).
MAX_STEPS_PER_CALL = 200
# Transitions in the first two calls: one, since what a transition costs is not known yet (a
# large network's can take seconds) and the first call also compiles.
FIRST_STEPS_PER_CALL = 1


def _stop_if_pressed(pressed, stage: str) -> None:
    """Ctrl-C before any draw: nothing to keep, so the run ends as Python's Ctrl-C does."""
    if pressed:
        raise KeyboardInterrupt(f"NUTS was interrupted while {stage}: no draws were kept")


def _sample_in_chunks(kernel, key, start, *, chain_method: str, tune: int, per_chain: int,
                      pressed, progress: bool):
    """Tune, then draw `per_chain` draws per chain, in compiled calls of a fraction of a second.

    The kernel's own `sample` is advanced by one compiled loop whose number of transitions is
    an argument (not a compiled shape), so the calls are as long as `SECONDS_PER_CALL` whatever
    a transition costs, with one compilation. Between calls the progress bar moves and Ctrl-C is
    honoured: while tuning it ends the run (KeyboardInterrupt, nothing is kept); while sampling
    it keeps the draws so far, the same number for every chain. The transitions are those
    NumPyro's `MCMC` would run (`tune` adapting ones, then `per_chain` kept ones).

    start: (chains, D) starting points. Returns z (chains, draws, D) and the sampler statistics
    by name, each (chains, draws).
    """
    import jax

    from pymc_bnn._runtime.progress import progress_bar

    chains = start.shape[0]
    keys = jax.random.split(key, chains)
    if chain_method == "sequential":  # a state and a call per chain, chain c on device c mod n
        devices = jax.local_devices()
        states = [jax.device_put(kernel.init(keys[c], tune, init_params=start[c]),
                                 devices[c % len(devices)]) for c in range(chains)]
        advance = jax.jit(_advance_function(kernel.sample))

        def run_all(states, n):
            moved = [advance(s, n) for s in states]
            return [m[0] for m in moved], [jax.tree.map(lambda a: a[:, None], m[1])
                                           for m in moved]
    else:  # all chains in one state; "parallel" puts each chain on its own device
        states = [kernel.init(keys, tune, init_params=start)]
        advance = _advance_function(kernel.sample)
        if chain_method == "parallel":
            from jax.sharding import Mesh, NamedSharding, PartitionSpec

            mesh = Mesh(np.asarray(jax.devices()[:chains]), ("chain",))
            advance = jax.shard_map(
                advance, mesh=mesh, in_specs=(PartitionSpec("chain"), PartitionSpec()),
                out_specs=(PartitionSpec("chain"), PartitionSpec(None, "chain")),
                check_vma=False)  # NumPyro's kernel mixes per-chain and shared values in lax.cond
            # the state laid out as every call returns it, chain c on device c: the first call
            # then finds the program the later ones use (from a state on one device, JAX traced
            # and compiled the whole loop a second time for the second call)
            states = [jax.device_put(states[0], NamedSharding(mesh, PartitionSpec("chain")))]
        advance = jax.jit(advance)

        def run_all(states, n):
            state, out = advance(states[0], n)
            return [state], [out]

    kept: list = []
    n, done, first = FIRST_STEPS_PER_CALL, 0, True
    total = tune + per_chain
    with progress_bar(progress, "[bold]NUTS tuning", tune or 1, "steps per chain") as bar:
        while done < total:
            in_tuning = done < tune
            steps = min(n, (tune if in_tuning else total) - done)
            started = time.perf_counter()
            states, outs = run_all(states, steps)
            # (sliced after the copy: a slice of a JAX array compiles a program per length)
            outs = [{k: np.asarray(v)[:steps] for k, v in o.items()} for o in outs]
            if not first:  # the first call includes compiling
                elapsed = max(time.perf_counter() - started, 1e-4)
                n = int(np.clip(n * SECONDS_PER_CALL / elapsed, 1, MAX_STEPS_PER_CALL))
            first = False
            done += steps
            if in_tuning:
                bar(completed=done)
                _stop_if_pressed(pressed, "tuning")
                if done == tune:
                    bar(title="[bold]NUTS", completed=0, total=per_chain,
                        status="draws per chain")
                continue
            # (steps, chains, ...) per call, the chains of a sequential run side by side
            kept.append({k: np.concatenate([o[k] for o in outs], axis=1) for k in outs[0]})
            divergences = sum(int(c["diverging"].sum()) for c in kept)
            bar(completed=done - tune, status=f"draws per chain · {divergences} divergent")
            if pressed:
                break
    if not kept:  # nothing to sample (per_chain == 0 is refused by fit; kept for safety)
        raise KeyboardInterrupt("NUTS was interrupted before any draw")
    joined = {k: np.swapaxes(np.concatenate([c[k] for c in kept], axis=0), 0, 1)
              for k in kept[0]}
    return joined.pop("z"), joined


def chain_devices(chain_method: str, chains: int) -> int:
    """The JAX devices `chains` chains run on side by side under `chain_method`.

    "parallel" gives each chain a device; "sequential" puts chain c on device c mod n (its
    calls are asynchronous, so chains on different devices run at once); "vectorized" runs all
    on one.

    Examples
    --------
    >>> import jax
    >>> chain_devices("parallel", 4), chain_devices("vectorized", 4)
    (4, 1)
    >>> chain_devices("sequential", 64) == min(64, jax.local_device_count())
    True
    """
    import jax

    if chain_method == "parallel":
        return chains
    if chain_method == "sequential":
        return min(chains, jax.local_device_count())
    return 1


def _advance_function(sample):
    """`advance(state, n)`: n transitions of `sample`, recording each one's draw and statistics.

    n is a traced number (a while loop, not an unrolled shape), so one compilation serves every
    call length; the records fill the first n rows of a (MAX_STEPS_PER_CALL, ...) buffer.
    """
    import jax
    import jax.numpy as jnp

    def record(state):
        return {"z": state.z, "diverging": state.diverging, "num_steps": state.num_steps,
                "accept_prob": state.accept_prob, "energy": state.energy,
                "potential_energy": state.potential_energy,
                "adapt_state.step_size": state.adapt_state.step_size}

    def advance(state, n):
        buffer = jax.tree.map(lambda v: jnp.zeros((MAX_STEPS_PER_CALL, *jnp.shape(v)),
                                                  jnp.result_type(v)), record(state))

        def body(i, carry):
            state, buffer = carry
            state = sample(state, (), {})
            return state, jax.tree.map(lambda b, v: b.at[i].set(v), buffer, record(state))

        return jax.lax.fori_loop(0, n, body, (state, buffer))

    return advance


def _starting_points(model, compiled, chains, init_steps, random_seed, rng):
    """(chains, D) starting points, (D,) mass-matrix scales and the seconds ADVI took."""
    if init_steps == 0:
        jitter = rng.uniform(-1, 1, size=(chains, compiled.size))
        return compiled.initial_point + jitter, np.ones(compiled.size), 0.0
    from pymc_bnn.inference import vi, vi_start

    t0 = time.perf_counter()
    fitted = vi.run_advi(model, draws=1, random_seed=random_seed, progress=False,
                         steps=init_steps)
    mean, sd = vi_start.posterior_moments(compiled, fitted)
    start = mean + sd * rng.standard_normal((chains, compiled.size))
    return start, sd, time.perf_counter() - t0
