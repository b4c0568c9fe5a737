"""The ADVI driver: a family's ELBO climbed by an optax optimiser in compiled chunks of steps.

Between chunks the Python loop shows progress, checks convergence and acts on Ctrl-C.

The family (`vi_family`: what q is) and the optimiser (`vi_optimiser`: how its parameters move)
are arguments of `Loop`; this module runs them. Several restarts run together under `jax.vmap`,
split over JAX's devices when there are several. Compiled chunks are cached on (model structure,
family, optimiser, restarts, chunk length, data shapes): refitting the same architecture on
data of the same shapes runs without recompiling. What a fit is asked and what it did are
plain records of their own (`vi_settings`: `ADVISettings`, `Outcome`), importable from here too.
Restarts and each step's rows are placed on a restart × data mesh of the devices
(`vi_devices`): `ADVISettings.data_devices` splits every step's rows (data parallel).

Streamed data (`Loop.streamed`): each chunk takes its own minibatches, stacked (chunk_steps,
batch, ...), one per step; the driver reads the next chunk's while the device runs this one.
"""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.interrupt import ctrl_c_deferred
from pymc_bnn._runtime.lru import lru_get
from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.inference import vi_devices, vi_optimiser
from pymc_bnn.inference.compiled_draws import constrained_draws
from pymc_bnn.inference.jax_model import CompiledModel
from pymc_bnn.inference.vi_family import FullRank, MeanField
from pymc_bnn.inference.vi_settings import NOISE_MULTIPLE, ADVISettings, Outcome
from pymc_bnn.inference.windows import WindowChange, tail_mean, window_change

# Compiled ADVI chunks per model structure and shapes, most recently used last (bounded).
_EXECUTABLES: OrderedDict[tuple, object] = OrderedDict()
# q's jitted sampler per family (a new jax.jit per call would trace and compile it every time).
_SAMPLERS: OrderedDict[object, object] = OrderedDict()
# The jitted log-likelihood per compiled model, for the ELBO's size (`Loop._sized`).
_LOGLIKS: OrderedDict[object, object] = OrderedDict()


@dataclass(frozen=True)
class Loop:
    """One ADVI optimisation: a compiled model, a family, an optimiser and the settings.

    Parameters
    ----------
    compiled : CompiledModel
        The model's JAX log-density (`jax_model.compile_model`).
    family : MeanField or FullRank
        What q is (`vi_family`).
    settings : ADVISettings
        steps, tol, window, chunk_steps, mc_samples, minibatch_size, learning_rate …
    restarts : int
        Independent optimisations run side by side.
    n_obs_full : int, optional
        Set with minibatches: rows of the whole data; the likelihood is scaled by n / batch.
    streamed : bool
        Data come as one minibatch per step, (chunk_steps, batch, ...), scaled by the model.
    optimiser : callable
        learning_rate -> optax.GradientTransformation (default `vi_optimiser.adam`).

    Examples
    --------
    A normal mean with a N(0, 10²) prior and 50 observations, fitted with its defaults:

    >>> import jax
    >>> import numpy as np
    >>> import pymc as pm
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> from pymc_bnn.inference.vi import ADVISettings
    >>> from pymc_bnn.inference.vi_family import MeanField
    >>> from pymc_bnn.inference.vi_loop import Loop
    >>> with pm.Model() as model:
    ...     mu = pm.Normal("mu", 0.0, 10.0)
    ...     _ = pm.Normal("y", mu, 1.0, observed=np.full(50, 2.0))
    >>> compiled = compile_model(model)
    >>> loop = Loop(compiled, MeanField(), ADVISettings(steps=3000, tol=0, learning_rate=0.05),
    ...             restarts=1)
    >>> state = loop.init_state(np.zeros((1, 1)), np.ones((1, 1)), jax.random.PRNGKey(0))
    >>> outcome = loop.optimise(state, data_arguments(compiled, model), progress=False)
    >>> outcome.steps_run, outcome.history.shape
    (3000, (3000, 1))
    >>> params = loop.averaged(outcome.state)
    >>> float(params["mu"][0, 0]).__round__(1), float(np.exp(params["log_sd"][0, 0])).__round__(2)
    (2.0, 0.14)

    Draws of q mapped to the model's variables (here the identity), q's mean and sd:

    >>> first = jax.tree_util.tree_map(lambda a: a[0], params)
    >>> outputs, mean, sd = loop.draw(first, data_arguments(compiled, model), 100,
    ...                               jax.random.PRNGKey(1))
    >>> outputs[0].shape, sd.round(2).tolist()
    ((100,), [0.14])
    """

    compiled: CompiledModel
    family: MeanField | FullRank
    settings: ADVISettings
    restarts: int
    n_obs_full: int | None = None
    streamed: bool = False
    optimiser: Callable = vi_optimiser.adam

    def init_state(self, mu: np.ndarray, sd: np.ndarray, key) -> dict:
        """The state before the first step, from means `mu` and sds `sd`, both (restarts, D).

        It holds q's parameters, the optimiser's state, the running average and a key per
        restart.

        Examples
        --------
        See the class.
        """
        import jax
        import jax.numpy as jnp

        params = jax.vmap(self.family.init)(np.asarray(mu, dtype=np.float64),
                                            np.asarray(sd, dtype=np.float64))
        optimiser = self.optimiser(self.settings.learning_rate)
        return {"params": params, "opt_state": jax.vmap(optimiser.init)(params),
                "average": jax.tree_util.tree_map(jnp.zeros_like, params),
                "t": jnp.zeros(self.restarts), "key": jax.random.split(key, self.restarts)}

    def averaged(self, state: dict) -> dict:
        """The parameters of q to report: each restart's average iterate (`vi_optimiser`).

        Examples
        --------
        See the class.
        """
        return vi_optimiser.averaged_params(state["average"], state["t"])

    def _floats(self, values):
        """`values` (a number, or a tree of arrays) with every float in the loop's dtype.

        Host arrays stay on the host, device arrays on their devices; integers (keys, counts)
        are kept as they are, and so is every array of a float64 loop.
        """
        import jax

        dtype = np.dtype(self.settings.dtype)
        if isinstance(values, float | int):
            return dtype.type(values)

        def cast(a):
            a = a if hasattr(a, "dtype") else np.asarray(a)
            if dtype == np.float64 or not np.issubdtype(a.dtype, np.floating):
                return a
            return a.astype(dtype, copy=False)  # a streamed chunk comes in the dtype already

        return jax.tree_util.tree_map(cast, values)

    def _elbo(self, split_rows=None):
        """elbo(params, key, data): a reparameterised estimate from `mc_samples` draws, nats.

        `split_rows(array)`, when given, marks an array's rows (axis 0) to be split over the
        data devices; it is applied to each data argument with one row per observation.
        """
        import jax
        import jax.numpy as jnp

        compiled, s, family = self.compiled, self.settings, self.family
        batched = compiled.batched
        scale = (self.n_obs_full / s.minibatch_size) if self.n_obs_full else 1.0
        n_full = self.n_obs_full

        def elbo(params, key, data):
            key_eps, key_rows = jax.random.split(key)
            if n_full:
                rows = jax.random.randint(key_rows, (s.minibatch_size,), 0, n_full)
                data = tuple(d[rows] if b else d for d, b in zip(data, batched, strict=False))
            if split_rows is not None:
                data = tuple(split_rows(d) if b else d
                             for d, b in zip(data, batched, strict=False))
            eps = jax.random.normal(key_eps, (s.mc_samples, compiled.size))
            z = family.sample(params, eps)

            def logp(zi):
                return compiled.prior_logp(zi, data) + scale * compiled.loglik(zi, data)

            return jnp.mean(jax.vmap(logp)(z)) + family.entropy(params)

        return elbo

    def _chunk_function(self, mesh=None):
        """chunk(state, data, n_active, learning_rate) -> (state, ELBOs (chunk_steps, restarts)).

        With `mesh` (axes "restart", "data"), restarts map to the first axis and each step's
        rows are split over the second.
        """
        import jax
        import jax.numpy as jnp

        value_and_grad = jax.value_and_grad(self._elbo(vi_devices.row_splitter(mesh)))
        make_optimiser, chunk_steps, streamed = (self.optimiser, self.settings.chunk_steps,
                                                 self.streamed)

        def one_restart(state, data, learning_rate):
            key, sub = jax.random.split(state["key"])
            value, grad = value_and_grad(state["params"], sub, data)
            params, opt_state = vi_optimiser.ascend(make_optimiser(learning_rate),
                                                    state["params"], state["opt_state"], grad)
            return {"params": params, "opt_state": opt_state, "t": state["t"] + 1.0,
                    "average": vi_optimiser.moving_average(state["average"], params),
                    "key": key}, value

        step_all = jax.vmap(one_restart, in_axes=(0, None, None),
                            spmd_axis_name=None if mesh is None else "restart")
        restarts = self.restarts

        def chunk(state, data, n_active, learning_rate):
            # A loop of n_active steps (not a scan of chunk_steps with the tail masked): a
            # last chunk shorter than the others costs only its own steps, and it is the
            # same compiled program. ELBOs of the steps not run stay NaN.
            def body(i, carry):
                state, values = carry
                step_data = tuple(d[i] for d in data) if streamed else data
                state, value = step_all(state, step_data, learning_rate)
                return state, values.at[i].set(value)

            values = jnp.full((chunk_steps, restarts), jnp.nan)
            return jax.lax.fori_loop(0, n_active, body, (state, values))

        return chunk

    def _executable(self, state, data, mesh):
        """The compiled chunk for these shapes (cached), and the seconds compiling took."""
        import jax

        shape = None if mesh is None else tuple(mesh.shape.values())
        key = (self.compiled.key, self.family, self.optimiser, self.restarts, shape,
               self.n_obs_full, self.streamed, self.settings.dtype,
               self.settings.chunk_steps, self.settings.mc_samples, self.settings.minibatch_size,
               tuple((np.shape(d), np.dtype(d.dtype).str) for d in data))
        t0 = time.perf_counter()
        cached = key in _EXECUTABLES

        def build():
            # traced with 64-bit types off for float32: the model's float64 constants follow
            # (JAX warns at each float64 the PyTensor graph asks for, which is what is meant),
            # and so do its int64 casts (a classifier's labels, a categorical's indices: JAX
            # warns at each; class codes and row indices fit int32)
            with jax.enable_x64(self.settings.dtype == "float64"), warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Explicitly requested dtype (float64|int64) ",
                                        UserWarning)
                lowered = jax.jit(self._chunk_function(mesh)).lower(
                    state, data, np.int32(0), self._floats(self.settings.learning_rate))
                return lowered.compile()

        executable = lru_get(_EXECUTABLES, key, build)
        return executable, 0.0 if cached else time.perf_counter() - t0

    def optimise(self, state, data, *, progress: bool, callback=None,
                 history_before: np.ndarray | None = None, phase: str = "",
                 feed=None) -> Outcome:
        """Run chunks until `steps`, convergence or Ctrl-C.

        Parameters
        ----------
        state : dict
            From `init_state` (or an earlier `Outcome.state`).
        data : tuple of arrays
            The model's data arguments (`jax_model.data_arguments`).
        progress : bool
            Show a progress bar.
        callback : callable, optional
            callback({"step", "elbo", "relative_change"}) between chunks; KeyboardInterrupt
            raised there acts as Ctrl-C.
        history_before : ndarray (steps, restarts), optional
            ELBOs of an earlier phase of the same run, judged with this one for convergence
            and returned in front of it.
        phase : str
            What this part of the fit is, shown on the progress bar.
        feed : iterator, optional
            With `streamed`, each chunk's data (replaces `data`); the progress bar then
            shows rows/s.

        Returns
        -------
        Outcome

        Examples
        --------
        See the class.
        """
        s = self.settings
        if feed is not None:
            data = next(feed)
        placed = vi_devices.place(
            self._floats(state), self._floats(tuple(data)), restarts=self.restarts,
            data_devices=s.data_devices, batched=self.compiled.batched,
            # rows sampled inside the step come from every row: each device keeps them all
            row_axis=None if self.n_obs_full else (1 if self.streamed else 0))
        state, data, mesh, put = placed.state, placed.data, placed.mesh, placed.put
        rows_per_step = int(np.shape(data[0])[1]) if self.streamed else 0
        run_chunk, compile_s = self._executable(state, data, mesh)
        history: list[np.ndarray] = [] if history_before is None else [history_before]
        done, converged, interrupted, change = 0, False, False, float("nan")
        windows, stopped_by = None, None
        # minibatches (sampled or streamed) put noise on the ELBO that a relative tol cannot see
        noisy = self.streamed or self.n_obs_full is not None
        t0 = time.perf_counter()
        # Ctrl-C is acted on between chunks, and anywhere else in here only marks the result
        title = f"[bold]{self.family.title}" + (f"[/] · {phase}" if phase else "")
        with (ctrl_c_deferred() as pressed,
              progress_bar(progress, title, s.steps, "ELBO …") as bar):
            try:
                while done < s.steps and not converged:
                    n_active = min(s.chunk_steps, s.steps - done)
                    new_state, values = run_chunk(state, data, np.int32(n_active),
                                                  self._floats(s.learning_rate))
                    if feed is not None and done + n_active < s.steps:
                        # the device runs asynchronously: read and place the next chunk now
                        data = put(self._floats(tuple(next(feed))))
                    values = np.asarray(values)[:n_active]
                    state, done = new_state, done + n_active
                    history.append(values)
                    if pressed:
                        raise KeyboardInterrupt
                    elbos = np.concatenate(history)
                    if not np.isfinite(values[-1]).any():
                        break  # every restart diverged: run() raises with the fix
                    windows = window_change(elbos, s.window)
                    if (not noisy and s.tol > 0 and windows is not None
                            and windows.relative >= s.tol):
                        windows = self._sized(windows, state, data)
                    change = float("inf") if windows is None else windows.relative
                    if s.tol > 0 and windows is not None:
                        stopped_by = windows.settled(
                            s.tol, NOISE_MULTIPLE if noisy else None)
                    converged = stopped_by is not None
                    best_elbo = float(np.nanmax(tail_mean(elbos, s.window)))
                    speed = done / (time.perf_counter() - t0)
                    rows = f" · {speed * rows_per_step:,.0f} rows/s" if rows_per_step else ""
                    bar(completed=done,
                        status=f"ELBO {best_elbo:,.1f} · {speed:,.0f} steps/s{rows}")
                    if callback is not None:
                        callback({"step": done, "elbo": best_elbo, "relative_change": change})
            except KeyboardInterrupt:
                if done == 0:
                    raise  # nothing learned yet: nothing to keep
                interrupted = True
            bar(completed=done, total=max(done, 1))  # finished or stopped: shown complete
            interrupted = interrupted or bool(pressed)
        fit_s = time.perf_counter() - t0
        elbos = np.concatenate(history) if history else np.empty((0, self.restarts))
        tail = tail_mean(elbos, s.window)
        best = int(np.nanargmax(np.where(np.isfinite(tail), tail, -np.inf))) if len(elbos) else 0
        return Outcome(state=state, history=elbos, steps_run=done, converged=bool(converged),
                       interrupted=interrupted, relative_change=float(change),
                       best_restart=best, final_elbos=[float(x) for x in tail],
                       window_change=windows, stopped_by=stopped_by,
                       compile_s=compile_s, fit_s=fit_s,
                       devices=placed.restart_devices, data_devices=placed.data_devices)

    def _sized(self, windows: WindowChange, state: dict, data) -> WindowChange:
        """`windows` judged against the ELBO's size, ℓ + KL, where ℓ is above 0.

        ℓ is the log-likelihood at the mean of the restart the windows are of; with ℓ ≤ 0,
        `windows` as it is (never evaluated where the observations are whole numbers: their ℓ
        cannot pass 0).

        ELBO = E[ℓ] − KL, so KL ≈ ℓ − ELBO and the sum of the two terms' sizes is ℓ + (ℓ −
        ELBO). With ℓ ≤ 0 (every classifier, and a regression whose noise density is under 1
        at its rows) that sum is abs(ELBO), the size already used, so only a regression whose
        ℓ is above 0 is judged differently: its ELBO can sit near 0 (+17 nats on a 300-row sine
        regression with ℓ ≈ +210) where the window means' one-sample noise (0.3 nats) is a
        relative change over any `tol`, and the fit ran every step. Evaluated only when the
        plain relative change is over `tol` (a forward pass over the rows, compiled once per
        model).
        """
        import jax

        if self.compiled.discrete_observed:
            return windows
        loglik = lru_get(_LOGLIKS, self.compiled.loglik, lambda: jax.jit(self.compiled.loglik))
        mean = self._floats(np.asarray(state["params"]["mu"])[windows.restart])
        with jax.enable_x64(self.settings.dtype == "float64"):
            value = float(loglik(mean, data))
        if not (np.isfinite(value) and value > 0):
            return windows
        return windows.against(2 * value - windows.before)

    def draw(self, params, data, draws: int, key):
        """`draws` samples of q mapped to the model's variables.

        Returns
        -------
        (outputs, mean, sd)
            A list of (draws, ...) arrays, one per model variable (constrained), and q's flat
            mean (D,) and marginal sd (D,) on the unconstrained space.

        Examples
        --------
        See the class.
        """
        import jax
        import jax.numpy as jnp

        compiled = self.compiled
        eps = np.asarray(jax.random.normal(key, (draws, compiled.size)))
        sample = lru_get(_SAMPLERS, self.family, lambda: jax.jit(self.family.sample))
        z = np.asarray(sample(params, eps))
        outputs = constrained_draws(compiled, z, tuple(jnp.asarray(d) for d in data))
        return outputs, np.asarray(params["mu"]), self.family.marginal_sd(params)
