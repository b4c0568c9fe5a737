"""The network's pre-link output for many posterior draws at once, in JAX, laid out for speed.

Three layouts of the same pass (batched matmuls, draws last, hidden layers shared by blocks of
draws) and the network linearised at an expansion point; `pymc_bnn.posterior.draw_layout`
chooses among them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymc_bnn.model.activations import activation_function
from pymc_bnn.model.network import (
    NetworkSpec,
    forward,
    hidden_activations,
    split_skip_weights,
)

# Networks whose every layer has at most this many weights (fan_in × fan_out) are evaluated
# draws-last (`forward_draws_last`); wider ones by batched matmuls (`forward_over_draws`).
_UNROLL_MAX_WEIGHTS = 128


def uses_draws_last(spec: NetworkSpec) -> bool:
    """Whether `spec` is small enough for `forward_draws_last` (e.g. the seed's 2→5→5→1).

    Small means every layer has at most 128 weights (fan_in × fan_out); wider networks go
    through `forward_over_draws`.

    Parameters
    ----------
    spec : NetworkSpec

    Returns
    -------
    bool

    Examples
    --------
    >>> uses_draws_last(NetworkSpec(2, (5, 5))), uses_draws_last(NetworkSpec(20, (64,)))
    (True, False)
    """
    shapes = [*spec.weight_shapes(), *([spec.skip_shape] if spec.skip else [])]
    return max(w * v for w, v in shapes) <= _UNROLL_MAX_WEIGHTS


def forward_over_draws(spec: NetworkSpec, X, weights: Sequence, biases: Sequence | None = None):
    """Pre-link output for every posterior draw by batched matmuls, in JAX (trace it in jit).

    Efficient for wide layers; small networks are much faster through `forward_draws_last`.

    Parameters
    ----------
    spec : NetworkSpec
    X : array
        `(n_obs, n_inputs)`.
    weights : sequence of array
        `weights[i]`: `(n_draws, fan_in, fan_out)`.
    biases : sequence of array, optional
        `biases[i]`: `(n_draws, fan_out)`.

    Returns
    -------
    jax.Array
        `(n_draws, n_obs, n_outputs)`, like `forward`.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,))
    >>> weights = [np.zeros((4, 2, 3)), np.zeros((4, 3, 1))]          # 4 draws
    >>> forward_over_draws(spec, np.ones((5, 2)), weights).shape
    (4, 5, 1)
    """
    return forward(spec, X, weights, biases, backend="jax")


def forward_shared_hidden(spec: NetworkSpec, X, weights: Sequence,
                          biases: Sequence | None = None):
    """Pre-link output of draws that share their hidden layers in blocks, in JAX, draws first.

    A last-layer Laplace fit (or an ensemble of them) varies only the output layer (and w_skip)
    from draw to draw: its M blocks of D draws each have one set of hidden layers. The hidden
    layers are evaluated once per block and the output layer of every draw in one matmul, so a
    pass costs about D times less than `forward_over_draws` on the same draws.

    Parameters
    ----------
    spec : NetworkSpec
    X : array
        `(n_obs, n_inputs)`.
    weights : sequence of array
        In `spec.weight_names` order: each hidden layer `(M, fan_in, fan_out)`, the output
        layer `(M, D, fan_in, n_outputs)` and, with `spec.skip`, w_skip
        `(M, D, n_inputs, n_outputs)`.
    biases : sequence of array, optional
        Each hidden layer's `(M, fan_out)`, the output layer's `(M, D, n_outputs)`.

    Returns
    -------
    jax.Array
        `(M * D, n_obs, n_outputs)`, block by block, as `forward_over_draws` on the same draws.

    Examples
    --------
    Two blocks of three draws give what the six draws give one by one:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,))
    >>> X = rng.normal(size=(4, 2))
    >>> hidden, output = rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 3, 1))
    >>> shared = forward_shared_hidden(spec, X, [hidden, output])
    >>> one_by_one = forward_over_draws(spec, X, [np.repeat(hidden, 3, axis=0),
    ...                                         output.reshape(6, 3, 1)])
    >>> shared.shape, bool(np.allclose(shared, one_by_one, atol=1e-6))
    ((6, 4, 1), True)
    """
    import jax.numpy as jnp

    layers, skip = split_skip_weights(spec, weights)
    last = spec.n_layers - 1
    hidden = hidden_activations(spec, X, weights, biases, backend="jax")
    inputs = hidden[-1] if hidden else jnp.broadcast_to(X, (layers[last].shape[0], *X.shape))
    eta = jnp.einsum("mnh,mdho->mdno", inputs, layers[last])  # (M, D, n, out)
    if biases is not None and biases[last] is not None:
        eta = eta + biases[last][:, :, None, :]
    if skip is not None:
        eta = eta + jnp.einsum("ni,mdio->mdno", X, skip)
    return eta.reshape(-1, *eta.shape[2:])


def forward_linearised(spec: NetworkSpec, X, points: tuple, weights: Sequence,
                       biases: Sequence | None = None):
    """Pre-link output of the network linearised at an expansion point, per draw, in JAX.

    It is f(X, p) + J(X, p) (theta − p), the first-order Taylor expansion in the parameters.
    A Gaussian over theta then gives the GLM predictive of a Laplace fit (Immer et al. 2021),
    where pushing the draws through the non-linear network would not.

    Parameters
    ----------
    spec : NetworkSpec
    X : array-like
        `(n_obs, n_inputs)`.
    points : tuple
        (point weights, point biases) shaped as `weights` and `biases`: each draw's own
        expansion point (an ensemble member's MAP); point biases None without biases.
    weights : sequence of array
        `weights[i]`: `(S, fan_in, fan_out)`, as for `forward_over_draws`.
    biases : sequence of array, optional
        `biases[i]`: `(S, fan_out)`.

    Returns
    -------
    jax.Array
        `(S, n_obs, n_outputs)`.

    Examples
    --------
    At the expansion point itself the linearised network is the network:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> X = rng.normal(size=(4, 2))
    >>> weights = [rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 3, 1))]
    >>> linearised = forward_linearised(spec, X, (weights, None), weights)
    >>> linearised.shape
    (5, 4, 1)
    >>> bool(np.allclose(linearised, forward_over_draws(spec, X, weights), atol=1e-6))
    True
    """
    import jax

    def one(point_w, point_b, w, b):
        def network(params):
            return forward(spec, X, params[0], params[1], backend="jax")

        tangent = jax.tree_util.tree_map(lambda a, p: a - p, (w, b), (point_w, point_b))
        value, change = jax.jvp(network, ((point_w, point_b),), (tangent,))
        return value + change

    return jax.vmap(one)(points[0], points[1], list(weights),
                         None if biases is None else list(biases))


def forward_draws_last(spec: NetworkSpec, X, weights: Sequence, biases: Sequence | None = None):
    """Pre-link output for every posterior draw with the draws as the last, contiguous axis.

    Each unit is an `(n_obs, n_draws)` array and each layer a few elementwise multiply-adds,
    which XLA fuses into one vectorised loop over draws: for small networks this is several
    times faster than batched matmuls (docs/design.md). Transpose the weights before the jitted
    call, not inside it, or the vectorisation breaks.

    Parameters
    ----------
    spec : NetworkSpec
    X : array
        `(n_obs, n_inputs)`.
    weights : sequence of array
        `weights[i]`: `(fan_in, fan_out, n_draws)`, C-contiguous (with `spec.skip`, w_skip last).
    biases : sequence of array, optional
        `biases[i]`: `(fan_out, n_draws)`.

    Returns
    -------
    jax.Array
        `(n_obs, n_draws, n_outputs)`.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,))
    >>> weights = [np.zeros((2, 3, 4)), np.zeros((3, 1, 4))]          # 4 draws, last
    >>> forward_draws_last(spec, np.ones((5, 2)), weights).shape
    (5, 4, 1)
    """
    import jax.numpy as jnp

    act = activation_function(spec.activation, "jax")
    weights, skip = split_skip_weights(spec, weights)
    last = spec.n_layers - 1
    inputs = [X[:, k, None] for k in range(X.shape[1])]  # each (n_obs, 1): the same for every draw
    units = inputs
    for i, W in enumerate(weights):
        pre = []
        for j in range(W.shape[1]):
            z = sum(units[k] * W[k, j] for k in range(W.shape[0]))
            if biases is not None and biases[i] is not None:
                z = z + biases[i][j]
            pre.append(z)
        units = [act(z) for z in pre] if i < last else pre
    if skip is not None:
        units = [u + sum(inputs[k] * skip[k, j] for k in range(skip.shape[0]))
                 for j, u in enumerate(units)]
    return jnp.stack(units, axis=-1)
