"""The network's parameters as one flat vector theta `(P,)`, and the network read from it.

Their shapes, back to weights and biases (one set, or each ensemble member's as the
`linearised_at` group's variables), and the output's Jacobian in the output layer. The order is
the engine's (`pymc_bnn.inference.laplace_layout.ParameterLayout.network`): each weight matrix,
then its layer's bias, the skip path last. The whole network's curvature
(`pymc_bnn.inference.ggn`), the MAP stage (`pymc_bnn.inference.laplace_map`), the output
layer's exact posterior (`pymc_bnn.inference.output_posterior`) and leave-one-out
(`pymc_bnn.inference.loo`) read theta through these.
"""

from __future__ import annotations

import math

import numpy as np

from pymc_bnn.model.network import NetworkSpec, bias_name, forward


def network_shapes(spec: NetworkSpec) -> list[tuple[int, ...]]:
    """Shapes of the network's parameters in the engine's order (`ParameterLayout.network`).

    Each weight matrix, then its layer's bias; the skip path last.

    Parameters
    ----------
    spec : NetworkSpec

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> network_shapes(spec)
    [(2, 3), (3,), (3, 1), (1,)]
    """
    shapes = []
    for slot in spec.weight_slots:
        shapes.append(tuple(slot.shape))
        if spec.bias and slot.name != "w_skip":
            shapes.append((slot.shape[1],))
    return shapes


def unflatten(spec: NetworkSpec, theta) -> tuple[list, list | None]:
    """(weights, biases) in `forward`'s order from the flat network parameters theta (P,).

    Parameters
    ----------
    spec : NetworkSpec
    theta : array-like
        `(P,)` in `network_shapes` order (a NumPy or JAX array).

    Returns
    -------
    weights : list
        One array per weight slot, as `forward` takes them.
    biases : list or None
        One per layer; None for a network without biases.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> weights, biases = unflatten(spec, np.arange(13.0))
    >>> [w.shape for w in weights], [b.shape for b in biases]
    ([(2, 3), (3, 1)], [(3,), (1,)])
    >>> biases[1]
    array([12.])
    """
    parts, start = [], 0
    for shape in network_shapes(spec):
        size = math.prod(shape)
        parts.append(theta[start:start + size].reshape(shape))
        start += size
    if not spec.bias:
        return parts, None
    layers = [parts[2 * i] for i in range(spec.n_layers)]
    biases = [parts[2 * i + 1] for i in range(spec.n_layers)]
    skip = [parts[-1]] if spec.skip else []
    return layers + skip, biases


def output_jacobian(spec: NetworkSpec, X, theta, last_positions):
    """The network output at X and its Jacobian in the output layer (constant: it is linear).

    Parameters
    ----------
    spec : NetworkSpec
    X : array-like
        `(n_obs, n_inputs)`.
    theta : array-like
        `(P,)` the network's parameters in the engine's order.
    last_positions : array-like
        `(d,)` where the output layer sits in theta.

    Returns
    -------
    output : numpy.ndarray
        `(n_obs, K)` at theta.
    jacobian : numpy.ndarray
        `(n_obs, K, d)`: the output at theta + delta on the output layer is
        output + jacobian @ delta, exactly.

    Examples
    --------
    A network without hidden layers: the Jacobian of x w + b is (x, 1).

    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=2, hidden=(), n_outputs=1, bias=True)
    >>> output, jacobian = output_jacobian(spec, np.array([[1.0, 2.0]]),
    ...                                    np.array([0.5, -0.5, 1.0]), np.arange(3))
    >>> output.tolist(), jacobian.tolist()
    ([[0.5]], [[[1.0, 2.0, 1.0]]])
    """
    import jax
    import jax.numpy as jnp

    theta = jnp.asarray(theta)
    where = jnp.asarray(last_positions)

    def output(last):
        return forward(spec, jnp.asarray(X), *unflatten(spec, theta.at[where].set(last)),
                       backend="jax")

    def output_and_jacobian(last):  # one compiled program, not op by op
        return output(last), jax.jacfwd(output)(last)

    value, jacobian = jax.jit(output_and_jacobian)(theta[where])
    return np.asarray(value), np.asarray(jacobian)


def expansion_point_group(spec: NetworkSpec, thetas: np.ndarray) -> dict:
    """The `linearised_at` group's variables: each member's MAP weights and biases, (chain, ...).

    Parameters
    ----------
    spec : NetworkSpec
    thetas : numpy.ndarray
        `(n_members, P)` each member's network parameters.

    Returns
    -------
    dict
        Variable name → (dims, values), values `(n_members, ...)`.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> group = expansion_point_group(spec, np.zeros((2, 13)))
    >>> {name: values.shape for name, (dims, values) in group.items()}
    {'w_0': (2, 2, 3), 'w_1': (2, 3, 1), 'b_0': (2, 3), 'b_1': (2, 1)}
    """
    group: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    parts = [unflatten(spec, t) for t in thetas]
    for i, name in enumerate(spec.weight_names):
        group[name] = (("chain", f"{name}_in", f"{name}_out"),
                       np.stack([p[0][i] for p in parts]))
    if spec.bias:
        for i in range(spec.n_layers):
            group[bias_name(i)] = (("chain", f"{bias_name(i)}_out"),
                                   np.stack([p[1][i] for p in parts]))  # type: ignore[index]
    return group
