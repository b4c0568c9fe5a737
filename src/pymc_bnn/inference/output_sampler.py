"""Draws of the `laplace` engine's output layer from its exact posterior, by NUTS.

Why: for a classifier the log-likelihood in the output layer is far from quadratic. Training
rows the MAP classifies with near certainty add almost no curvature (diag(p) − pp' ≈ 0 there),
yet they bound the posterior on one side: moving the output layer towards misclassifying them
costs a likelihood that grows linearly, moving away costs nothing. The Laplace Gaussian sees
only the flat curvature at the mode and spreads its mass symmetrically into the region the
data rule out, so its predictive is underconfident (measurements: benchmarks/README.md). The
output layer's posterior, the hidden layers fixed at the MAP, is log-concave for the Bernoulli
and categorical likelihoods and has as few dimensions as the output layer, so NUTS samples it
cheaply and reliably; the Laplace Gaussian whitens it (theta = MAP + L u, L L' the Laplace
covariance) so the sampler meets a near-isotropic target. Because the network is linear in its
output layer, the draws pushed through the network are exact draws of the GLM predictive (the
linearisation is exact there).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.lru import DEFAULT_MAX_ENTRIES, lru_get

# Warm-up steps of NUTS (step size and diagonal mass adaptation in the whitened space, where
# the target is already close to a unit Gaussian).
WARMUP = 500
# jit-compiled samplers (`_sampler`), keyed on the caller's structure key (a refit
# of the same structure on new data of the same shapes reuses the compiled sampler); the least
# recently used goes when more are held (each keeps its compiled program and first log density)
_SAMPLERS: OrderedDict[tuple, object] = OrderedDict()
_MAX_SAMPLERS = DEFAULT_MAX_ENTRIES


@dataclass(frozen=True)
class OutputDraws:
    """Draws of the output layer and the sampler's health.

    Attributes
    ----------
    theta : numpy.ndarray
        `(draws, d)` the output layer's draws.
    divergences : int
        Divergent NUTS transitions among the kept draws (0 for a healthy run).
    mean_accept : float
        Mean acceptance probability of the kept draws.

    Examples
    --------
    >>> import numpy as np
    >>> OutputDraws(theta=np.zeros((2, 3)), divergences=0, mean_accept=0.9).theta.shape
    (2, 3)
    """

    theta: np.ndarray
    divergences: int
    mean_accept: float


def sample_output_layer(log_density: Callable, args: tuple, theta_map, sqrt_covariance, *,
                        draws: int, seed: int, cache_key: tuple,
                        warmup: int = WARMUP) -> OutputDraws:
    """Draws from the density `exp(log_density(theta, *args))` by NUTS, whitened by a Gaussian.

    Parameters
    ----------
    log_density : callable
        `log_density(theta (d,), *args)`, JAX-traceable, up to a constant (nats).
    args : tuple
        Its other arguments (arrays): values of the same shapes may change between calls of
        the same `cache_key` without a new compilation (`row_padding.padded_rows` keeps the
        shapes of data sets of similar size equal).
    theta_map : array-like
        `(d,)` the mode, where the chain starts.
    sqrt_covariance : array-like
        `(d, d)` a factor L of a Gaussian approximation's covariance (the Laplace one):
        NUTS runs on u with theta = theta_map + L u.
    draws : int
        Draws kept.
    seed : int
        Seeds the chain.
    cache_key : tuple
        Names `log_density` (the same key must mean the same function).
    warmup : int
        Adaptation steps, discarded.

    Returns
    -------
    OutputDraws

    Examples
    --------
    A one-parameter logistic regression on separable data: its mode is 1.007 (curvature 2.22,
    so the Laplace sd is 0.67), and its exact posterior mean lies further out, 1.13 by
    quadrature, which a Gaussian at the mode cannot show.

    >>> import jax
    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> x, y = jnp.array([-2.0, -1.0, 1.0, 2.0]), jnp.array([0.0, 0.0, 1.0, 1.0])
    >>> def log_density(theta, x, y):
    ...     eta = x * theta[0]
    ...     return jnp.sum(y * eta - jnp.logaddexp(0.0, eta)) - 0.5 * theta[0] ** 2
    >>> out = sample_output_layer(log_density, (x, y), np.array([1.007]), np.array([[0.67]]),
    ...                           draws=2000, seed=0, cache_key=("doctest",))
    >>> out.theta.shape, out.divergences
    ((2000, 1), 0)
    >>> abs(float(out.theta.mean()) - 1.13) < 0.1  # quadrature: 1.13, the mode 1.007
    True
    """
    import jax
    import jax.numpy as jnp

    theta_map = jnp.asarray(theta_map)
    root = jnp.asarray(sqrt_covariance)
    key = (*cache_key, int(theta_map.size), int(draws), int(warmup))
    run = lru_get(_SAMPLERS, key, lambda: _sampler(log_density, int(theta_map.size), draws,
                                                   warmup), _MAX_SAMPLERS)
    u, diverging, accept = run(jax.random.PRNGKey(seed), tuple(args), theta_map, root)
    return OutputDraws(theta=np.asarray(theta_map) + np.asarray(u) @ np.asarray(root).T,
                       divergences=int(np.sum(diverging)),
                       mean_accept=float(np.mean(accept)))


def _sampler(log_density, size, draws, warmup):
    """One jitted function: NUTS's warm-up and draws from u = 0, whitened by `root`.

    NumPyro's functional kernel (`numpyro.infer.hmc.hmc`), not `MCMC.run`: `MCMC.run` traces
    and lowers its loop again at every call (its loop body is a new function each time), which
    cost more than the sampling itself for these small output layers; this function is compiled
    once per structure and takes the data as arguments. The kernel's settings are NUTS's
    defaults as `MCMC(NUTS(...))` has them (step size and diagonal mass adapted in warm-up,
    target acceptance 0.8, tree depth 10).
    """
    import jax
    import jax.numpy as jnp
    from numpyro.infer.hmc import hmc

    def potential(args, theta_map, root):
        return lambda u: -log_density(theta_map + root @ u, *args)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential, algo="NUTS")

    def run(rng_key, args, theta_map, root):
        model_args = (args, theta_map, root)
        state = init_kernel(jnp.zeros(size, dtype=theta_map.dtype), int(warmup),
                            model_args=model_args, rng_key=rng_key)

        def step(state, _):
            state = sample_kernel(state, model_args=model_args)
            return state, (state.z, state.diverging, state.accept_prob)

        # warm-up keeps nothing but the adapted state; the draws keep their fields
        state = jax.lax.fori_loop(0, int(warmup),
                                  lambda _, s: sample_kernel(s, model_args=model_args), state)
        _, kept = jax.lax.scan(step, state, None, length=int(draws))
        return kept

    return jax.jit(run)
