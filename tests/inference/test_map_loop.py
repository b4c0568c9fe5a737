"""The MAP loop's verdict: converged when the loss settles, or stops improving at the limit.

Adam at a fixed step size circles a minimum, so the change between two windows' mean losses
can stay above a strict `tol` forever; at the step limit such a loop has still converged (its
loss no longer improves), while a loss that is still falling has not.
"""

import jax
import jax.numpy as jnp
import numpy as np

from pymc_bnn.inference import map_loop, windows

jax.config.update("jax_enable_x64", True)


def _run(objective, steps, learning_rate=0.1):
    return map_loop.minimise(objective, np.full((1, 1), 3.0), np.zeros(1), (),
                             cache_key=("test-map-loop", objective.__name__), steps=steps,
                             learning_rate=learning_rate, tol=1e-8, window=100,
                             chunk_steps=250, progress=False, title="test")


def _kink(z, extra, data, step):  # |z|: Adam steps around 0 by about the step size
    return jnp.sum(jnp.abs(z))


def _slope(z, extra, data, step):  # still falling at every step
    return -jnp.sum(z)


def test_a_loss_circling_its_minimum_has_converged_at_the_step_limit():
    outcome = _run(_kink, steps=2000)
    assert outcome.steps_run == 2000  # the strict window change never fell below tol ...
    assert outcome.change > 1e-8
    assert outcome.converged  # ... but the loss stopped improving: done
    assert abs(float(outcome.z[0, 0])) < 0.5


def test_a_loss_still_falling_at_the_step_limit_has_not_converged():
    outcome = _run(_slope, steps=2000)
    assert outcome.steps_run == 2000 and not outcome.converged


def test_the_plateau_needs_enough_windows_and_judges_the_best_restart():
    flat = np.full((550, 2), 1.0)
    assert not windows.plateaued(flat, 100, 1, 1e-5)  # 5 whole windows: one too few
    assert windows.plateaued(np.full((600, 2), 1.0), 100, 1, 1e-5)
    # restart 0 still falls but ends higher; restart 1, the best, is flat
    history = np.c_[np.linspace(10.0, 5.0, 1200), np.full(1200, 1.0)]
    assert windows.plateaued(history, 100, 1, 1e-5)
    assert not windows.plateaued(history[:, :1], 100, 1, 1e-5)
