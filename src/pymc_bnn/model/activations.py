"""Each hidden-layer activation written for NumPy, PyTensor and JAX, looked up by name.

The formulas agree across the backends (gelu is the tanh approximation on each), so a fit in
PyTensor or JAX and a prediction in NumPy compute the same function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pymc_bnn.errors import InvalidSettingError


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
