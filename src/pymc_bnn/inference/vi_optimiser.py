"""How ADVI moves q's parameters: an optax optimiser climbing the ELBO, and its average iterate.

The average of the iterates is what a fit reports. An optimiser here is a function
`learning_rate -> optax.GradientTransformation`; the learning rate may be a traced value, so the
compiled loop takes it as an argument and a new rate does not recompile. `adam` is the default;
any optax chain (schedules, clipping) fits the same slot. `benchmarks/advi_optimizer.py`
measured optax's Adam against the hand-written one it replaced.
"""

from __future__ import annotations

ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8
# The result is an exponential moving average of the iterates (Polyak averaging, ~500 steps):
# with a constant learning rate Adam's iterates jitter by about the learning rate around the
# optimum, which on a closed-form test is a quarter of a posterior sd; the average is not.
AVERAGE_DECAY = 0.998


def adam(learning_rate):
    """The optax Adam (b1 0.9, b2 0.999, eps 1e-8) with step size `learning_rate`.

    Parameters
    ----------
    learning_rate : float or traced scalar
        The step size.

    Returns
    -------
    optax.GradientTransformation

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.vi_optimiser import adam, ascend
    >>> optimiser = adam(0.1)
    >>> params = {"mu": np.zeros(2)}
    >>> state = optimiser.init(params)
    >>> params, state = ascend(optimiser, params, state, {"mu": np.array([3.0, -1.0])})
    >>> np.asarray(params["mu"]).round(6).tolist()  # Adam's first step: ±learning_rate
    [0.1, -0.1]
    """
    import optax

    return optax.adam(learning_rate, b1=ADAM_B1, b2=ADAM_B2, eps=ADAM_EPS)


def ascend(optimiser, params, opt_state, gradient):
    """One step of `optimiser` *up* the gradient (ADVI maximises the ELBO; optax minimises).

    Parameters
    ----------
    optimiser : optax.GradientTransformation
    params, opt_state
        The parameters (a pytree) and the optimiser's state.
    gradient
        The ELBO's gradient, shaped as `params`.

    Returns
    -------
    (params, opt_state)
        Both after the step.

    Examples
    --------
    Plain gradient ascent (optax's SGD) moves *with* the gradient:

    >>> import numpy as np
    >>> import optax
    >>> optimiser = optax.sgd(0.5)
    >>> params = {"mu": np.array([1.0])}
    >>> params, _ = ascend(optimiser, params, optimiser.init(params), {"mu": np.array([2.0])})
    >>> np.asarray(params["mu"]).tolist()
    [2.0]
    """
    import jax
    import optax

    updates, opt_state = optimiser.update(jax.tree_util.tree_map(lambda g: -g, gradient),
                                          opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def moving_average(average, params):
    """The running average of the iterates, updated with this step's (before bias correction).

    Parameters
    ----------
    average
        The average so far (zeros before the first step), shaped as `params`.
    params
        The iterate after this step.

    Returns
    -------
    The new average, shaped as `params`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.vi_optimiser import moving_average
    >>> average = moving_average({"mu": np.zeros(1)}, {"mu": np.ones(1)})
    >>> np.asarray(average["mu"]).round(6).tolist()  # 1 − 0.998: corrected in averaged_params
    [0.002]
    """
    import jax

    return jax.tree_util.tree_map(lambda a, p: AVERAGE_DECAY * a + (1 - AVERAGE_DECAY) * p,
                                  average, params)


def averaged_params(average, steps):
    """The bias-corrected moving average of the iterates, per restart (leading axis).

    Parameters
    ----------
    average
        `moving_average`'s running value, every leaf (restarts, ...).
    steps : array (restarts,)
        Steps each restart has taken.

    Returns
    -------
    The average of each restart's iterates, shaped as `average`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.vi_optimiser import averaged_params, moving_average
    >>> average = moving_average({"mu": np.zeros((1, 2))}, {"mu": np.full((1, 2), 3.0)})
    >>> np.asarray(averaged_params(average, np.ones(1))["mu"]).round(6).tolist()
    [[3.0, 3.0]]
    """
    import jax
    import jax.numpy as jnp

    correction = 1.0 - AVERAGE_DECAY ** jnp.asarray(steps)
    return jax.tree_util.tree_map(
        lambda a: a / correction.reshape((-1,) + (1,) * (a.ndim - 1)), average)
