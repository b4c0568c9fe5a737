"""Maximum a posteriori (MAP) estimation as a compiled loop: optax's Adam or L-BFGS, restarts.

`minimise(objective, z0, ...)` minimises a scalar JAX function of a flat parameter vector for
every row of `z0` (restarts, `jax.vmap`), in jitted chunks of `chunk_steps` steps (`lax.scan`).
A step is one Adam update, or one L-BFGS iteration with its zoom line search (`optax.lbfgs`):
L-BFGS needs the same objective at every step (every row, no minibatches), and then reaches
the MAP of a small network in a tenth of Adam's steps.
Between chunks the Python driver shows progress, checks convergence and lets Ctrl-C stop the
loop with the iterate reached so far. Compiled chunks are cached on a key the caller gives (the
model structure and the data shapes), so refits of the same network do not recompile.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.inference.windows import PLATEAU_WINDOWS, plateaued

# key → (init, compiled chunk), the least recently used going first
_EXECUTABLES: OrderedDict[tuple, tuple[Callable, Callable]] = OrderedDict()


@dataclass(frozen=True)
class MapOutcome:
    """How a `minimise` run ended.

    Attributes
    ----------
    z : numpy.ndarray
        `(restarts, D)` final iterates.
    losses : numpy.ndarray
        `(steps_run, restarts)` objective per step.
    steps_run : int
        Steps taken.
    converged, interrupted : bool
        How the loop ended. Converged: the change between the last two windows fell below
        `tol`, or, at the step limit, the last `windows.PLATEAU_WINDOWS` windows improved on the
        best window before them by less than `tol` a window (the steps circle a minimum;
        `windows.plateaued`).
    change : float
        Of the best restart's mean loss over the last window against the window before,
        nats per observation.
    compile_s, fit_s : float
        Seconds.

    Examples
    --------
    See `minimise`, which returns one.

    >>> import numpy as np
    >>> outcome = MapOutcome(z=np.zeros((1, 2)), losses=np.zeros((10, 1)), steps_run=10,
    ...                      converged=True, interrupted=False, change=0.0, compile_s=0.1,
    ...                      fit_s=0.01)
    >>> outcome.converged, outcome.losses.shape
    (True, (10, 1))
    """

    z: np.ndarray
    losses: np.ndarray
    steps_run: int
    converged: bool
    interrupted: bool
    change: float
    compile_s: float
    fit_s: float


# Optimisers `minimise` runs (laplace's `map_optimizer` resolves to one).
OPTIMIZERS = ("adam", "lbfgs")
# L-BFGS's curvature pairs (optax's default).
LBFGS_MEMORY = 10


def _chunk_function(objective: Callable, learning_rate: float, chunk_steps: int,
                    optimizer_name: str = "adam"):
    import jax
    import jax.numpy as jnp
    import optax

    lbfgs = optimizer_name == "lbfgs"
    # L-BFGS's zoom line search takes no step to a non-finite value (tests/inference/
    # test_map_loop.py); Adam's NaN stays, for the engine to name its cause, the step size
    optimizer = optax.lbfgs(memory_size=LBFGS_MEMORY) if lbfgs else optax.adam(learning_rate)

    def one(z, opt_state, extra, data, active, step):
        if lbfgs:
            def value_fn(v):
                return objective(v, extra, data, step)
            # the line search's last value and gradient, kept in the state, are this z's
            loss, grad = optax.value_and_grad_from_state(value_fn)(z, state=opt_state)
            updates, new_state = optimizer.update(grad, opt_state, z, value=loss, grad=grad,
                                                  value_fn=value_fn)
        else:
            loss, grad = jax.value_and_grad(objective)(z, extra, data, step)
            updates, new_state = optimizer.update(grad, opt_state, z)
        new_z = optax.apply_updates(z, updates)
        # steps past the requested maximum (the tail of the last chunk) change nothing
        keep = lambda a, b: jnp.where(active, a, b)  # noqa: E731
        return keep(new_z, z), jax.tree_util.tree_map(keep, new_state, opt_state), loss

    every_restart = jax.vmap(one, in_axes=(0, 0, 0, None, None, None))

    def chunk(z, opt_state, extra, data, n_active, start):
        def body(carry, i):
            z, opt_state = carry
            z, opt_state, loss = every_restart(z, opt_state, extra, data, i < n_active,
                                               start + i)
            return (z, opt_state), loss

        (z, opt_state), losses = jax.lax.scan(body, (z, opt_state), jnp.arange(chunk_steps))
        return z, opt_state, losses

    return optimizer, chunk


def minimise(objective: Callable, z0: np.ndarray, extra: ArrayLike, data: tuple, *,
             cache_key: tuple, steps: int, learning_rate: float, tol: float, window: int,
             chunk_steps: int, progress: bool, title: str, n_obs: int = 1,
             callback=None, optimizer: str = "adam") -> MapOutcome:
    """Minimise `objective(z, extra, data, step)` from each row of z0 (restarts, D).

    The change that decides convergence is per observation, not relative: a network prior's
    constant terms can dwarf the data's part of the loss, and a relative test then stops long
    before the fit has settled.

    Parameters
    ----------
    objective : callable
        `objective(z (D,), extra, data, step) -> scalar`, JAX-traceable; `step` is the number
        of the step (an int32 scalar, from 0), e.g. to draw a minibatch.
    z0 : numpy.ndarray
        `(restarts, D)` starting points.
    extra : numpy.ndarray
        `(restarts, ...)` a per-restart argument held fixed (e.g. the prior precision).
    data : tuple
        Arrays passed to every call.
    cache_key : tuple
        Names the objective; compiled chunks are cached on it with the shapes and settings.
    steps : int
        The most steps.
    learning_rate : float
        Adam's step size (L-BFGS's comes from its line search).
    tol : float
        Stop when the best restart's mean loss over the last `window` steps changes by less
        than this many nats per observation (`n_obs`) from the window before; 0 never stops.
        At the step limit, a loss that no longer improves by this much (`plateaued`) counts
        as converged too.
    window : int
        Steps per window.
    chunk_steps : int
        Steps per compiled call; progress, the callback and Ctrl-C act between calls.
    progress : bool
        Show a progress bar.
    title : str
        Its title.
    n_obs : int, default 1
        Observations, for the per-observation change.
    callback : callable, optional
        `callback({"step", "loss"})` runs between chunks; KeyboardInterrupt raised there acts
        as Ctrl-C.
    optimizer : {"adam", "lbfgs"}, default "adam"
        "lbfgs": a step is an L-BFGS iteration (`optax.lbfgs`, zoom line search); the
        objective must not depend on `step` (no minibatches), or the line search compares
        values of different functions.

    Returns
    -------
    MapOutcome
        At Ctrl-C, the iterate so far, flagged `interrupted`.

    Examples
    --------
    Two restarts of a quadratic bowl centred at (1, 2), in float64 as the engines run (their
    PyMC model's JAX backend turns it on):

    >>> import jax
    >>> jax.config.update("jax_enable_x64", True)
    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> def objective(z, extra, data, step):
    ...     return jnp.sum((z - data[0]) ** 2)
    >>> outcome = minimise(objective, np.zeros((2, 2)), np.zeros(2), (np.array([1.0, 2.0]),),
    ...                    cache_key=("bowl",), steps=2000, learning_rate=0.05, tol=0,
    ...                    window=100, chunk_steps=500, progress=False, title="bowl")
    >>> outcome.z.round(3).tolist(), outcome.steps_run, outcome.losses.shape
    ([[1.0, 2.0], [1.0, 2.0]], 2000, (2000, 2))

    L-BFGS finds a quadratic's minimum in a few iterations and then stops (`tol`):

    >>> outcome = minimise(objective, np.zeros((2, 2)), np.zeros(2), (np.array([1.0, 2.0]),),
    ...                    cache_key=("bowl",), steps=2000, learning_rate=0.05, tol=1e-9,
    ...                    window=5, chunk_steps=10, progress=False, title="bowl",
    ...                    optimizer="lbfgs")
    >>> outcome.z.round(6).tolist(), outcome.steps_run, outcome.converged
    ([[1.0, 2.0], [1.0, 2.0]], 20, True)
    """
    import jax
    import jax.numpy as jnp

    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    z = jnp.asarray(z0, dtype=jnp.float64)
    extra = jnp.asarray(extra, dtype=jnp.float64)
    data = tuple(jnp.asarray(d) for d in data)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    key = (*cache_key, z.shape, extra.shape, float(learning_rate), int(chunk_steps), optimizer,
           tuple((d.shape, str(d.dtype)) for d in data))
    t0 = time.perf_counter()

    def build() -> tuple[Callable, Callable]:
        transform, chunk = _chunk_function(objective, learning_rate, chunk_steps, optimizer)
        init = jax.jit(jax.vmap(transform.init))  # jitted optimizer.init
        run = jax.jit(chunk).lower(z, init(z), extra, data, np.int32(0), np.int32(0)).compile()
        return init, run

    init, run = lru_get(_EXECUTABLES, key, build)
    opt_state = init(z)
    compile_s = time.perf_counter() - t0
    history: list[np.ndarray] = []
    done, converged, interrupted, change = 0, False, False, float("inf")
    t0 = time.perf_counter()
    with ctrl_c_deferred() as pressed, progress_bar(progress, title, steps, "loss …") as bar:
        try:
            while done < steps and not converged:
                n_active = min(chunk_steps, steps - done)
                z, opt_state, losses = run(z, opt_state, extra, data, np.int32(n_active),
                                           np.int32(done))
                history.append(np.asarray(losses)[:n_active])
                done += n_active
                if pressed:
                    raise KeyboardInterrupt
                losses = np.concatenate(history)
                if not np.isfinite(losses[-1]).any():
                    break  # every restart diverged: the engine raises with the fix
                change = _change_per_observation(losses, window, n_obs)
                converged = tol > 0 and change < tol
                best = float(np.nanmin(losses[-1]))
                speed = done / (time.perf_counter() - t0)
                bar(completed=done, status=f"loss {best:,.2f} · {speed:,.0f} steps/s")
                if callback is not None:
                    callback({"step": done, "loss": best})
        except KeyboardInterrupt:
            if done == 0:
                raise  # nothing learned yet: nothing to keep
            interrupted = True
        bar(completed=done, total=max(done, 1))
        interrupted = interrupted or bool(pressed)
    losses = np.concatenate(history) if history else np.empty((0, z.shape[0]))
    if not (converged or interrupted) and tol > 0 and done >= steps:
        converged = plateaued(losses, window, n_obs, tol, PLATEAU_WINDOWS)
    return MapOutcome(z=np.asarray(z), losses=losses, steps_run=done, converged=converged,
                      interrupted=interrupted, change=float(change),
                      compile_s=compile_s, fit_s=time.perf_counter() - t0)


def _change_per_observation(losses: np.ndarray, window: int, n_obs: int) -> float:
    """Change of the best restart's mean loss, last `window` steps vs the one before.

    Divided by the number of observations (nats per observation).
    """
    from pymc_bnn.inference.windows import window_means

    means = window_means(losses, window, maximise=False)
    if means is None:
        return float("inf")
    last, before = means
    return abs(last - before) / max(n_obs, 1)
