"""The compiled ADVI optimisation loop: Gaussian families, Adam, jitted chunks, and the Python
driver between chunks (progress bar, convergence check, Ctrl-C).

Compiled chunks are cached on (model structure, family, restarts, chunk length, data shapes):
refitting the same architecture on data of the same shapes runs without recompiling.

Streamed data (`Loop.streamed`): each chunk takes its own minibatches, stacked (chunk_steps,
batch, ...), one per step; the driver reads the next chunk's while the device runs this one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from pymc_bnn._runtime.interrupt import ctrl_c_deferred
from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.inference.jax_model import CompiledModel, constrained_draws

if TYPE_CHECKING:
    from pymc_bnn.inference.vi import ADVISettings

_EXECUTABLES: dict[tuple, object] = {}
_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8
# The result is an exponential moving average of the iterates (Polyak averaging, ~500 steps):
# with a constant learning rate Adam's iterates jitter by about the learning rate around the
# optimum, which on a closed-form test is a quarter of a posterior sd; the average is not.
_AVERAGE_DECAY = 0.998
# Restarts spread over devices copy the data to each; above this many extra bytes they share one.
_MAX_EXTRA_DATA_BYTES = 256 * 2**20


def _family_functions(family: str, size: int):
    """(sample(params, eps), entropy(params)) of the Gaussian family; entropy in nats."""
    import jax.numpy as jnp

    const = 0.5 * size * (1.0 + math.log(2.0 * math.pi))
    if family == "meanfield":
        def sample(p, eps):
            return p["mu"] + jnp.exp(p["log_sd"]) * eps

        def entropy(p):
            return jnp.sum(p["log_sd"]) + const
    elif family == "fullrank":
        def sample(p, eps):
            return p["mu"] + eps @ _cholesky(p["chol"]).T

        def entropy(p):
            return jnp.sum(jnp.diag(p["chol"])) + const
    else:
        raise ValueError(f"unknown family {family!r}")
    return sample, entropy


def _cholesky(raw):
    """Lower-triangular factor with a positive diagonal from an unconstrained (D, D) matrix."""
    import jax.numpy as jnp

    return jnp.tril(raw, -1) + jnp.diag(jnp.exp(jnp.diag(raw)))


def marginal_sd(family: str, params) -> np.ndarray:
    if family == "meanfield":
        return np.exp(np.asarray(params["log_sd"]))
    chol = np.asarray(_cholesky(params["chol"]))
    return np.sqrt(np.sum(chol**2, axis=1))


def averaged_params(state: dict) -> dict:
    """The bias-corrected moving average of the iterates, per restart (leading axis)."""
    import jax

    correction = 1.0 - _AVERAGE_DECAY ** state["t"]
    return jax.tree_util.tree_map(
        lambda a: a / correction.reshape((-1,) + (1,) * (a.ndim - 1)), state["average"])


@dataclass(frozen=True)
class Outcome:
    state: dict
    history: np.ndarray  # (steps_run, restarts) ELBO estimates, nats
    steps_run: int
    converged: bool
    interrupted: bool
    relative_change: float
    best_restart: int
    final_elbos: list = field(default_factory=list)
    compile_s: float = 0.0
    fit_s: float = 0.0
    devices: int = 1  # devices the restarts were split over


@dataclass(frozen=True)
class Loop:
    compiled: CompiledModel
    family: str
    settings: ADVISettings
    restarts: int
    n_obs_full: int | None = None  # set with minibatches: the likelihood is scaled by n/batch
    # data come as one minibatch per step, (chunk_steps, batch, ...), scaled by the model itself
    streamed: bool = False

    def init_state(self, mu: ArrayLike, sd: ArrayLike, key) -> dict:
        import jax
        import jax.numpy as jnp

        mu = jnp.asarray(mu, dtype=jnp.float64)
        if self.family == "meanfield":
            params = {"mu": mu, "log_sd": jnp.log(jnp.asarray(sd, dtype=jnp.float64))}
        else:
            params = {"mu": mu, "chol": jax.vmap(jnp.diag)(jnp.log(jnp.asarray(sd)))}
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return {"params": params, "m": zeros, "v": zeros, "average": zeros,
                "t": jnp.zeros(self.restarts), "key": jax.random.split(key, self.restarts)}

    def _chunk_function(self):
        import jax
        import jax.numpy as jnp

        compiled, s = self.compiled, self.settings
        sample, entropy = _family_functions(self.family, compiled.size)
        batched = compiled.batched
        scale = (self.n_obs_full / s.minibatch_size) if self.n_obs_full else 1.0
        n_full = self.n_obs_full

        def elbo(params, key, data):
            key_eps, key_rows = jax.random.split(key)
            if n_full:
                rows = jax.random.randint(key_rows, (s.minibatch_size,), 0, n_full)
                data = tuple(d[rows] if b else d for d, b in zip(data, batched, strict=False))
            eps = jax.random.normal(key_eps, (s.mc_samples, compiled.size))
            z = sample(params, eps)

            def logp(zi):
                return compiled.prior_logp(zi, data) + scale * compiled.loglik(zi, data)

            return jnp.mean(jax.vmap(logp)(z)) + entropy(params)

        value_and_grad = jax.value_and_grad(elbo)

        def one_restart(state, data, active, learning_rate):
            key, sub = jax.random.split(state["key"])
            value, grad = value_and_grad(state["params"], sub, data)
            t = state["t"] + 1.0
            m = jax.tree_util.tree_map(lambda m, g: _ADAM_B1 * m + (1 - _ADAM_B1) * g,
                                       state["m"], grad)
            v = jax.tree_util.tree_map(lambda v, g: _ADAM_B2 * v + (1 - _ADAM_B2) * g * g,
                                       state["v"], grad)
            step = learning_rate * jnp.sqrt(1 - _ADAM_B2**t) / (1 - _ADAM_B1**t)
            params = jax.tree_util.tree_map(  # gradient *ascent* on the ELBO
                lambda p, m, v: p + step * m / (jnp.sqrt(v) + _ADAM_EPS), state["params"], m, v)
            average = jax.tree_util.tree_map(
                lambda a, p: _AVERAGE_DECAY * a + (1 - _AVERAGE_DECAY) * p,
                state["average"], params)
            new = {"params": params, "m": m, "v": v, "average": average, "t": t, "key": key}
            # steps past the requested maximum (the tail of the last chunk) change nothing
            return jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, state), value

        step_all = jax.vmap(one_restart, in_axes=(0, None, None, None))

        streamed = self.streamed

        def chunk(state, data, n_active, learning_rate):
            def body(carry, xs):
                i, step_data = xs
                carry, value = step_all(carry, step_data if streamed else data, i < n_active,
                                        learning_rate)
                return carry, value

            xs = (jnp.arange(s.chunk_steps), data if streamed else None)
            return jax.lax.scan(body, state, xs)

        return chunk

    def _placed(self, state, data):
        """State and data put where the chunk runs: the restarts split over separate devices
        when there are several (pymc-bnn gives JAX one CPU device per core, see jax_setup),
        else all on the first device; the number of devices used; and a function that places
        later data (the next streamed chunk) as `data` was placed."""
        import jax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        devices = jax.devices()
        n = max(k for k in range(1, min(len(devices), self.restarts) + 1)
                if self.restarts % k == 0)
        if n > 1 and sum(np.asarray(d).nbytes for d in data) * (n - 1) > _MAX_EXTRA_DATA_BYTES:
            n = 1  # each device holds its own copy of the data: not for large data sets
        if n == 1:
            def put(d):
                return jax.device_put(d, devices[0])

            return jax.device_put(state, devices[0]), put(data), 1, put
        mesh = Mesh(np.array(devices[:n]), ("restart",))

        def put(d):
            return jax.device_put(d, NamedSharding(mesh, PartitionSpec()))

        return (jax.device_put(state, NamedSharding(mesh, PartitionSpec("restart"))),
                put(data), n, put)

    def _executable(self, state, data, n_devices):
        """The compiled chunk for these shapes (cached), and the seconds compiling took."""
        import jax

        key = (self.compiled.key, self.family, self.restarts, n_devices, self.n_obs_full,
               self.streamed,
               self.settings.chunk_steps, self.settings.mc_samples, self.settings.minibatch_size,
               tuple((np.shape(d), np.dtype(d.dtype).str) for d in data))
        if key in _EXECUTABLES:
            return _EXECUTABLES[key], 0.0
        t0 = time.perf_counter()
        lowered = jax.jit(self._chunk_function()).lower(
            state, data, np.int32(0), np.float64(self.settings.learning_rate))
        _EXECUTABLES[key] = lowered.compile()
        return _EXECUTABLES[key], time.perf_counter() - t0

    def optimise(self, state, data, *, progress: bool, callback=None,
                 history_before: np.ndarray | None = None, phase: str = "",
                 feed=None) -> Outcome:
        """Run chunks until `steps`, convergence or Ctrl-C. history_before: ELBOs (steps,
        restarts) of an earlier phase of the same run, judged with this one for convergence and
        returned in front of it. phase: what this part of the fit is, shown on the progress bar.
        feed: with `streamed`, an iterator of each chunk's data (replaces `data`); the progress
        bar then shows rows/s."""
        s = self.settings
        if feed is not None:
            data = next(feed)
        state, data, n_devices, put = self._placed(state, tuple(np.asarray(d) for d in data))
        rows_per_step = int(np.shape(data[0])[1]) if self.streamed else 0
        run_chunk, compile_s = self._executable(state, data, n_devices)
        history: list[np.ndarray] = [] if history_before is None else [history_before]
        done, converged, interrupted, change = 0, False, False, float("nan")
        t0 = time.perf_counter()
        # Ctrl-C is acted on between chunks, and anywhere else in here only marks the result
        title = ("[bold]ADVI" if self.family == "meanfield" else "[bold]full-rank ADVI") + (
            f"[/] · {phase}" if phase else "")
        with (ctrl_c_deferred() as pressed,
              progress_bar(progress, title, s.steps, "ELBO …") as bar):
            try:
                while done < s.steps and not converged:
                    n_active = min(s.chunk_steps, s.steps - done)
                    new_state, values = run_chunk(state, data, np.int32(n_active),
                                                  np.float64(s.learning_rate))
                    if feed is not None and done + n_active < s.steps:
                        # the device runs asynchronously: read and place the next chunk now
                        data = put(tuple(np.asarray(d) for d in next(feed)))
                    values = np.asarray(values)[:n_active]
                    state, done = new_state, done + n_active
                    history.append(values)
                    if pressed:
                        raise KeyboardInterrupt
                    elbos = np.concatenate(history)
                    if not np.isfinite(values[-1]).any():
                        break  # every restart diverged: run() raises with the fix
                    change = _relative_change(elbos, s.window)
                    converged = s.tol > 0 and change < s.tol
                    best_elbo = float(np.nanmax(_tail_mean(elbos, s.window)))
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
        tail = _tail_mean(elbos, s.window)
        best = int(np.nanargmax(np.where(np.isfinite(tail), tail, -np.inf))) if len(elbos) else 0
        return Outcome(state=state, history=elbos, steps_run=done, converged=bool(converged),
                       interrupted=interrupted, relative_change=float(change),
                       best_restart=best, final_elbos=[float(x) for x in tail],
                       compile_s=compile_s, fit_s=fit_s, devices=n_devices)

    def draw(self, params, data, draws: int, key):
        """`draws` samples of q mapped to the model's variables: (list of (draws, ...) arrays,
        flat mean (D,), flat marginal sd (D,))."""
        import jax
        import jax.numpy as jnp

        compiled = self.compiled
        sample, _ = _family_functions(self.family, compiled.size)
        eps = np.asarray(jax.random.normal(key, (draws, compiled.size)))
        z = np.asarray(jax.jit(sample)(params, eps))
        outputs = constrained_draws(compiled, z, tuple(jnp.asarray(d) for d in data))
        return outputs, np.asarray(params["mu"]), marginal_sd(self.family, params)


def _tail_mean(elbos: np.ndarray, window: int) -> np.ndarray:
    """Mean ELBO per restart over the last `window` steps (restarts,)."""
    if len(elbos) == 0:
        return np.full(elbos.shape[1:], np.nan)
    return elbos[-window:].mean(axis=0)


def window_means(history: np.ndarray, window: int, *, maximise: bool):
    """(mean of the last `window` steps, mean of the window before) for the best restart, by
    the last window (highest when `maximise`, else lowest); None with fewer than two windows,
    (nan, nan) when no restart is finite. history: (steps, restarts)."""
    if len(history) < 2 * window:
        return None
    last = history[-window:].mean(axis=0)
    before = history[-2 * window:-window].mean(axis=0)
    finite = np.isfinite(last) & np.isfinite(before)
    if not finite.any():
        return float("nan"), float("nan")
    best = int(np.argmax(np.where(finite, last, -np.inf)) if maximise
               else np.argmin(np.where(finite, last, np.inf)))
    return float(last[best]), float(before[best])


def _relative_change(elbos: np.ndarray, window: int) -> float:
    """|mean(last window) − mean(window before)| / |mean(window before)| for the best restart."""
    means = window_means(elbos, window, maximise=True)
    if means is None:
        return float("inf")
    last, before = means
    return abs(last - before) / max(abs(before), 1e-12)
