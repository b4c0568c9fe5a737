"""Architecture spec of a fully connected network and its forward pass on any array backend.

The same `forward` runs inside the PyMC model (PyTensor), over posterior draws (NumPy) and in
compiled inference loops (JAX): it only uses `@`, `+` and the activation looked up for the backend.
Weights may carry leading batch dimensions (posterior draws): `X @ W` broadcasts over them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.validation import whole_number


def _softplus_numpy(x):
    return np.logaddexp(0.0, x)


def _sigmoid_numpy(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def _gelu_numpy(x):
    # tanh approximation: identical formula on every backend, so fits and predictions agree.
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


def _relu_numpy(x):
    return np.maximum(x, 0.0)


def _identity(x):
    return x


def _numpy_activations() -> dict[str, Callable]:
    return {
        "tanh": np.tanh,
        "relu": _relu_numpy,
        "gelu": _gelu_numpy,
        "softplus": _softplus_numpy,
        "sigmoid": _sigmoid_numpy,
        "identity": _identity,
    }


def _pytensor_activations() -> dict[str, Callable]:
    import pytensor.tensor as pt

    return {
        "tanh": pt.tanh,
        "relu": lambda x: pt.maximum(x, 0.0),
        "gelu": lambda x: 0.5 * x * (1.0 + pt.tanh(0.7978845608028654 * (x + 0.044715 * x**3))),
        "softplus": pt.softplus,
        "sigmoid": pt.sigmoid,
        "identity": _identity,
    }


def _jax_activations() -> dict[str, Callable]:
    from pymc_bnn._runtime.jax_setup import import_jax

    import_jax()
    import jax
    import jax.numpy as jnp

    return {
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "gelu": lambda x: 0.5 * x * (1.0 + jnp.tanh(0.7978845608028654 * (x + 0.044715 * x**3))),
        "softplus": jax.nn.softplus,
        "sigmoid": jax.nn.sigmoid,
        "identity": _identity,
    }


_BACKENDS = {"numpy": _numpy_activations, "pytensor": _pytensor_activations,
             "jax": _jax_activations}
ACTIVATIONS = tuple(_numpy_activations())


def activation_function(name: str, backend: str = "numpy") -> Callable:
    """The activation `name` written for `backend`.

    Parameters
    ----------
    name : str
        One of `ACTIVATIONS`, e.g. "tanh" (the seed's) or "relu".
    backend : {"numpy", "pytensor", "jax"}, default "numpy"
        The array library the function works on.

    Returns
    -------
    callable
        Elementwise array → array.

    Raises
    ------
    InvalidSettingError
        On an unknown name or backend.

    Examples
    --------
    >>> import numpy as np
    >>> activation_function("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if backend not in _BACKENDS:
        raise InvalidSettingError(f"unknown backend {backend!r}; use one of {sorted(_BACKENDS)}")
    table = _BACKENDS[backend]()
    if name not in table:
        raise InvalidSettingError(
            f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}"
        )
    return table[name]


def _widths(hidden) -> tuple[int, ...]:
    if isinstance(hidden, str) or not hasattr(hidden, "__iter__"):
        raise InvalidSettingError(
            f"hidden must be a sequence of layer widths such as (5, 5), got {hidden!r}"
        )
    return tuple(whole_number(h, "every hidden layer width") for h in hidden)


class WeightSlot(NamedTuple):
    """One weight matrix of a network, as `NetworkSpec.weight_slots` lists them.

    Attributes
    ----------
    name : str
        The PyMC variable name ("w_0", ..., "w_skip").
    shape : tuple of int
        `(fan_in, fan_out)`.
    dims : tuple of str
        Named dims, e.g. ("feature", "hidden_0").
    prior_layer : int
        The layer index its prior sees (0 for the skip path: its rows are the input features, as
        the first layer's are).
    key : str
        A short key for names derived from it (group spreads): "0", "1", ..., "skip".

    Examples
    --------
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, skip=True)
    >>> [(slot.name, slot.shape, slot.key) for slot in spec.weight_slots]
    [('w_0', (2, 3), '0'), ('w_1', (3, 1), '1'), ('w_skip', (2, 1), 'skip')]
    >>> spec.weight_slots[0].dims
    ('feature', 'hidden_0')
    """

    name: str
    shape: tuple[int, int]
    dims: tuple[str, str]
    prior_layer: int
    key: str


@dataclass(frozen=True)
class NetworkSpec:
    """A fully connected network: `n_inputs` → `hidden` widths → `n_outputs` (pre-link outputs).

    The output layer is linear; the likelihood applies the link (sigmoid, softmax, ...).
    With `skip`, output = network(X) + X @ w_skip, w_skip `(n_inputs, n_outputs)`: the hidden
    layers then model only what a linear model misses. On tabular data much of the signal is
    often linear, and a small network under mean-field VI keeps few hidden units, so it fits
    that part poorly without the skip path (`tests/acceptance/test_bundled_data.py`).

    Parameters
    ----------
    n_inputs : int
        Features.
    hidden : tuple of int, default (5, 5)
        Hidden-layer widths, the seed analysis' 5 and 5.
    n_outputs : int, default 1
        Pre-link outputs (the likelihood says how many it needs).
    activation : str, default "tanh"
        Hidden-layer activation, one of `ACTIVATIONS`; tanh is the seed's.
    bias : bool, default False
        Add biases; the seed has none.
    skip : bool, default False
        Add a linear path from the inputs to the outputs (R's nnet `skip=TRUE`, the "wide" half
        of wide-and-deep).

    Raises
    ------
    InvalidSettingError
        On widths below 1, non-whole widths or an unknown activation.

    Examples
    --------
    The seed analysis' network:

    >>> spec = NetworkSpec(n_inputs=2, hidden=(5, 5), n_outputs=1)
    >>> spec.widths, spec.weight_names
    ((2, 5, 5, 1), ['w_0', 'w_1', 'w_2'])
    >>> NetworkSpec.from_dict(spec.to_dict()) == spec
    True
    """

    n_inputs: int
    hidden: Sequence[int] = (5, 5)  # any sequence of widths; __post_init__ stores a tuple
    n_outputs: int = 1
    activation: str = "tanh"
    bias: bool = False
    skip: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", _widths(self.hidden))
        object.__setattr__(self, "n_inputs", whole_number(self.n_inputs, "n_inputs"))
        object.__setattr__(self, "n_outputs", whole_number(self.n_outputs, "n_outputs"))
        if int(self.n_inputs) < 1:
            raise InvalidSettingError(f"n_inputs must be at least 1, got {self.n_inputs}")
        if int(self.n_outputs) < 1:
            raise InvalidSettingError(f"n_outputs must be at least 1, got {self.n_outputs}")
        bad = [h for h in self.hidden if h < 1]
        if bad:
            raise InvalidSettingError(
                f"every hidden layer needs at least 1 unit, got hidden={self.hidden}; "
                "drop the layer or give it a positive width"
            )
        if self.skip and not self.hidden:
            raise InvalidSettingError(
                "skip=True adds a linear path beside the hidden layers, and hidden=() has none: "
                "the network is that linear model already; leave out skip=True")
        activation_function(self.activation)  # validates the name

    @property
    def widths(self) -> tuple[int, ...]:
        """All layer widths, inputs first: ``(n_inputs, *hidden, n_outputs)``."""
        return (int(self.n_inputs), *self.hidden, int(self.n_outputs))

    @property
    def n_layers(self) -> int:
        """Number of weight matrices (hidden layers + 1)."""
        return len(self.hidden) + 1

    def layer_dims(self, layer: int) -> tuple[str, str]:
        """Named dims of weight matrix `layer`: ("feature", "hidden_0") … ("hidden_k", "output")."""
        names = ["feature", *[f"hidden_{i}" for i in range(len(self.hidden))], "output"]
        return names[layer], names[layer + 1]

    def weight_shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each layer's weight matrix (not the skip path's)."""
        w = self.widths
        return [(w[i], w[i + 1]) for i in range(self.n_layers)]

    @property
    def skip_shape(self) -> tuple[int, int]:
        """Shape of the skip path's weights `w_skip`: (n_inputs, n_outputs)."""
        return int(self.n_inputs), int(self.n_outputs)

    @property
    def weight_slots(self) -> list[WeightSlot]:
        """Every weight matrix in `forward`'s order: the layers w_0 … w_L, then w_skip."""
        slots = [WeightSlot(weight_name(i), shape, self.layer_dims(i), i, str(i))
                 for i, shape in enumerate(self.weight_shapes())]
        if self.skip:
            slots.append(WeightSlot(SKIP_WEIGHT, self.skip_shape, SKIP_DIMS, 0, "skip"))
        return slots

    @property
    def weight_names(self) -> list[str]:
        """Names of every weight matrix in `forward`'s order: w_0 … w_L, then w_skip."""
        return [slot.name for slot in self.weight_slots]

    def to_dict(self) -> dict:
        """A JSON-able record that `from_dict` turns back into this spec."""
        return {
            "n_inputs": int(self.n_inputs),
            "hidden": list(self.hidden),
            "n_outputs": int(self.n_outputs),
            "activation": self.activation,
            "bias": bool(self.bias),
            "skip": bool(self.skip),
        }

    @classmethod
    def from_dict(cls, data: dict) -> NetworkSpec:
        """The spec recorded by `to_dict` (files without `skip` predate it: False)."""
        return cls(
            n_inputs=int(data["n_inputs"]),
            hidden=tuple(data["hidden"]),
            n_outputs=int(data["n_outputs"]),
            activation=str(data["activation"]),
            bias=bool(data["bias"]),
            skip=bool(data.get("skip", False)),
        )


SKIP_WEIGHT = "w_skip"  # the skip path's weights (n_inputs, n_outputs), dims ("feature", "output")
SKIP_DIMS = ("feature", "output")


def weight_name(layer: int) -> str:
    """The variable name of layer `layer`'s weights: w_0, w_1, ...

    Parameters
    ----------
    layer : int
        0 for the first layer.

    Returns
    -------
    str

    Examples
    --------
    >>> weight_name(0), weight_name(2)
    ('w_0', 'w_2')
    """
    return f"w_{layer}"


def bias_name(layer: int) -> str:
    """The variable name of layer `layer`'s biases: b_0, b_1, ...

    Parameters
    ----------
    layer : int
        0 for the first layer.

    Returns
    -------
    str

    Examples
    --------
    >>> bias_name(1)
    'b_1'
    """
    return f"b_{layer}"


def forward(
    spec: NetworkSpec,
    X,
    weights: Sequence,
    biases: Sequence | None = None,
    backend: str = "numpy",
):
    """Pre-link network output.

    `...` below are optional batch dims (e.g. posterior draws), shared by weights and biases.

    Parameters
    ----------
    spec : NetworkSpec
    X : array
        `(n_obs, n_inputs)`.
    weights : sequence of array
        `weights[i]`: `(..., fan_in, fan_out)`, in `spec.weight_names` order; with `spec.skip`
        the last is w_skip `(..., n_inputs, n_outputs)`.
    biases : sequence of array, optional
        `biases[i]`: `(..., fan_out)`.
    backend : {"numpy", "pytensor", "jax"}, default "numpy"
        Where the activation comes from.

    Returns
    -------
    array
        `(..., n_obs, n_outputs)`.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), activation="relu")
    >>> weights = [np.ones((2, 3)), np.ones((3, 1))]
    >>> forward(spec, np.array([[1.0, 2.0], [-1.0, -2.0]]), weights)
    array([[9.],
           [0.]])
    """
    layers, skip = split_skip_weights(spec, weights)
    hidden = hidden_activations(spec, X, weights, biases, backend=backend)
    last = spec.n_layers - 1
    h = _affine(hidden[-1] if hidden else X, layers[last],
                None if biases is None else biases[last])
    if skip is not None:
        h = h + X @ skip
    return h


def hidden_activations(spec: NetworkSpec, X, weights: Sequence, biases: Sequence | None = None,
                       backend: str = "numpy") -> list:
    """Post-activation values of every hidden layer, as `forward` computes them on the way.

    Parameters
    ----------
    spec, X, weights, biases, backend
        As for `forward`.

    Returns
    -------
    list of array
        One `(..., n_obs, hidden[i])` array per hidden layer.

    Examples
    --------
    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=1, hidden=(2,), activation="relu")
    >>> hidden_activations(spec, np.array([[1.0]]), [np.array([[1.0, -1.0]]), np.ones((2, 1))])
    [array([[1., 0.]])]
    """
    act = activation_function(spec.activation, backend)
    layers, _ = split_skip_weights(spec, weights)
    h, out = X, []
    for i in range(len(spec.hidden)):
        h = act(_affine(h, layers[i], None if biases is None else biases[i]))
        out.append(h)
    return out


def _affine(h, W, b):
    """H @ W (+ b): b (fan_out,) or with the weights' batch dims (..., fan_out)."""
    h = h @ W
    if b is not None:
        h = h + (b if b.ndim == 1 else b[..., None, :])
    return h


def split_skip_weights[W](spec: NetworkSpec, weights: Sequence[W]) -> tuple[list[W], W | None]:
    """Layer weights and w_skip (or None) from a weights list in `spec.weight_names` order.

    Parameters
    ----------
    spec : NetworkSpec
    weights : sequence
        One array per name of `spec.weight_names`.

    Returns
    -------
    layers : list
        The layers' weights, w_0 … w_L.
    skip : array or None
        w_skip when `spec.skip`.

    Raises
    ------
    InvalidSettingError
        When the count of weights is not the network's.

    Examples
    --------
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), skip=True)
    >>> split_skip_weights(spec, ["w_0", "w_1", "w_skip"])
    (['w_0', 'w_1'], 'w_skip')
    """
    weights = list(weights)
    if len(weights) != len(spec.weight_names):
        raise InvalidSettingError(
            f"the network needs {len(spec.weight_names)} weight arrays "
            f"({', '.join(spec.weight_names)}), got {len(weights)}"
        )
    return (weights[:-1], weights[-1]) if spec.skip else (weights, None)


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
