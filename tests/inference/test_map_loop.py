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


# ------------------------------------------------------------------------------- L-BFGS


def _logistic_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + rng.normal(size=200) > 0).astype(float)
    return X, y


def _logistic(z, extra, data, step):  # L2-penalised logistic regression, penalty `extra`
    X, y = data
    eta = X @ z
    return jnp.sum(jnp.logaddexp(0.0, eta) - y * eta) + 0.5 * extra * jnp.sum(z**2)


def test_lbfgs_and_adam_reach_scipys_minimum_of_a_convex_loss_lbfgs_in_fewer_steps():
    from scipy.optimize import minimize

    X, y = _logistic_problem()
    penalty = np.array([1.0, 10.0])  # one restart per penalty

    def outcome(optimizer, steps):
        return map_loop.minimise(_logistic, np.zeros((2, 3)), penalty, (X, y),
                                 cache_key=("test-logistic",), steps=steps, learning_rate=0.05,
                                 tol=1e-9, window=20 if optimizer == "lbfgs" else 200,
                                 chunk_steps=50, progress=False, title="test",
                                 optimizer=optimizer)

    lbfgs, adam = outcome("lbfgs", 1000), outcome("adam", 20_000)
    for restart, a in enumerate(penalty):
        reference = minimize(_logistic, np.zeros(3), args=(a, (X, y), 0), method="BFGS",
                             options={"gtol": 1e-10}).x
        np.testing.assert_allclose(lbfgs.z[restart], reference, atol=1e-6)
        np.testing.assert_allclose(adam.z[restart], reference, atol=1e-3)
    assert lbfgs.converged and lbfgs.steps_run <= 100 < adam.steps_run


def _cliff(z, extra, data, step):  # a bowl centred at 6 whose value is NaN past z = 4
    return jnp.where(z[0] < 4.0, (z[0] - 6.0) ** 2, jnp.nan)


def test_an_lbfgs_step_into_nan_is_not_taken():
    outcome = map_loop.minimise(_cliff, np.full((1, 1), 0.0), np.zeros(1), (),
                                cache_key=("test-cliff",), steps=50, learning_rate=0.1,
                                tol=0, window=5, chunk_steps=10, progress=False,
                                title="test", optimizer="lbfgs")
    assert np.isfinite(outcome.losses).all() and np.isfinite(outcome.z).all()
    assert float(outcome.z[0, 0]) < 4.0
