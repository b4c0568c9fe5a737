"""The density `output_sampler` draws from: the `laplace` output layer's exact log posterior."""

from __future__ import annotations

import numpy as np

from pymc_bnn.inference import flat_network, output_likelihood
from pymc_bnn.inference.jax_model import model_data
from pymc_bnn.inference.row_padding import pad_rows, padded_rows

# The sampled output layer keeps the output's Jacobian (n_obs × outputs × output-layer size
# numbers) up to this size (160 MB), else evaluates the whole network at each sampler step.
_MAX_JACOBIAN = 20_000_000


def output_log_posterior(bnn, layout, offsets, zr, alpha, temperature, negative_log_joint,
                         data, cache_key):
    """(log_density, args, key): the output layer's log posterior, divided by T.

    log p(theta | y) / T of the output layer theta, the rest of the MAP zr held, up to a
    constant; `log_density(theta, *args)` holds no data itself, and `key` names it (for
    `sample_output_layer`: the same key, the same function). The rows are padded to
    `padded_rows` of their number, the added ones weighted 0, so fits on data sets of similar
    size share one compiled sampler.

    The network output is linear in theta: each output k is features @ theta[k::K] (features:
    the last hidden layer, a column of ones for the bias, the inputs for a skip path), so the
    hidden layers are evaluated once, not at every step of the sampler. Where that structure
    does not hold or the Jacobian it is read from would not fit in memory, the whole model's
    log joint is evaluated instead.

    Parameters
    ----------
    bnn : BNNModel
    layout : ParameterLayout
        Where the network sits in z (`laplace_layout.parameter_layout`).
    offsets : dict
        `laplace_layout.value_offsets` of the compiled model.
    zr : numpy.ndarray
        `(D,)` one member's MAP.
    alpha : float
        Its prior precision factor (1/s^2).
    temperature : float
        T: the log posterior is divided by it.
    negative_log_joint : callable
        `(z, a, data) -> float` (`laplace_map.log_joint`), used where the output is not read
        from the Jacobian.
    data : tuple
        The compiled model's data arguments.
    cache_key : tuple
        Names the model structure, for the key of the whole-network density.

    Returns
    -------
    log_density : callable
        `log_density(theta, *args)` (nats, up to a constant).
    args : tuple
        Its other arguments.
    key : tuple
        Names the function, for `output_sampler.sample_output_layer`'s cache.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout, value_offsets
    >>> from pymc_bnn.inference.laplace_map import log_joint
    >>> compiled = compile_model(tiny_model.model)
    >>> layout = parameter_layout(tiny_model, compiled)
    >>> parts = tuple(tuple(np.asarray(v).tolist()) for v in (
    ...     layout.network, layout.base_precision, layout.model_precision))
    >>> _, negative_log_joint = log_joint(compiled.loglik, compiled.prior_logp, *parts)
    >>> data = tuple(jnp.asarray(d) for d in data_arguments(compiled, tiny_model.model))
    >>> z = np.zeros(compiled.size)
    >>> log_density, args, key = output_log_posterior(
    ...     tiny_model, layout, value_offsets(compiled), z, 1.0, 1.0, negative_log_joint, data,
    ...     ("example",))
    >>> key[0]  # the output read from the last hidden layer, evaluated once
    'output'
    >>> bool(log_density(jnp.zeros(layout.last.size), *args) < 0)
    True
    """
    import jax.numpy as jnp

    X = np.asarray(model_data(bnn.model)["X"], dtype=np.float64)
    K, d = bnn.spec.n_outputs, layout.last.size
    features = None
    if X.shape[0] * K * d <= _MAX_JACOBIAN and d % K == 0:
        position = {int(v): i for i, v in enumerate(layout.network)}
        last_positions = np.array([position[int(v)] for v in layout.last])
        eta, jacobian = flat_network.output_jacobian(bnn.spec, X, zr[layout.network],
                                                     last_positions)
        candidate = jacobian[:, 0, 0::K]  # (n_obs, d / K): d output_0 / d theta[j K]
        if np.allclose(jacobian, np.einsum("nj,kl->nkjl", candidate, np.eye(K)).reshape(
                jacobian.shape)):
            features = candidate
    if features is None:
        last = jnp.asarray(layout.last)

        def whole_network(theta, z, a, t, d_):
            return -negative_log_joint(z.at[last].set(theta), a, d_) / t
        return whole_network, (jnp.asarray(zr), float(alpha), float(temperature), data), (
            "whole_network", *cache_key)
    per_row = output_likelihood.row_loglik(bnn, offsets)
    loglik = per_row.loglik
    # rows padded to a few sizes, the added ones weighted 0: fits on data of similar size
    # share a sampler
    size = padded_rows(eta.shape[0])
    rows = {name: jnp.asarray(value) for name, value in per_row.padded(size).items()}

    def output_layer_only(theta, theta_map, eta_map, phi, z, base, a, t, rows_data):
        eta_theta = eta_map + phi @ (theta - theta_map).reshape(-1, eta_map.shape[1])
        loglik_rows = loglik(eta_theta, z, rows_data)
        return (jnp.sum(loglik_rows) - 0.5 * a * jnp.sum(base * theta**2)) / t
    key = ("output", per_row.key, d, K, size)
    return output_layer_only, (jnp.asarray(zr[layout.last]), jnp.asarray(pad_rows(eta, size)),
                               jnp.asarray(pad_rows(features, size)), jnp.asarray(zr),
                               jnp.asarray(layout.last_base_precision), float(alpha),
                               float(temperature), rows), key
