"""Architecture spec of a fully connected network and its forward pass on any array backend.

The same `forward` runs inside the PyMC model (PyTensor), over posterior draws (NumPy) and in
compiled inference loops (JAX): it only uses `@`, `+` and the activation looked up for the backend.
Weights may carry leading batch dimensions (posterior draws): `X @ W` broadcasts over them.
The activations are `pymc_bnn.model.activations`; the passes over many draws at once, laid out
for speed in JAX, `pymc_bnn.model.batched_forward`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.activations import activation_function
from pymc_bnn.validation import whole_number

# split out of this module: the activations' table, and the passes over many draws at once
__getattr__ = moved_names(__name__, {
    "ACTIVATIONS": "pymc_bnn.model.activations",
    **{name: "pymc_bnn.model.batched_forward"
       for name in ("uses_draws_last", "forward_over_draws", "forward_shared_hidden",
                    "forward_linearised", "forward_draws_last")},
})


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
