"""The `Likelihood` protocol, and what the built-in likelihoods share.

That is the array namespace their predictions run on, the weighted observed variable and the
model-file record.

`pymc_bnn.model.likelihoods` names them all; `classifier_likelihoods` and
`regression_likelihoods` hold the built-in ones.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar, Protocol

import numpy as np

from pymc_bnn.errors import InvalidSettingError

OBSERVED = "y"


class Likelihood(Protocol):
    """What a likelihood provides: target encoding, outputs, the observed variable, predictions.

    A user may pass any object with these methods wherever a likelihood name is taken
    (`get_likelihood` checks that the methods exist).

    Attributes
    ----------
    name : str
        The registry name, also written to model files.
    is_classifier : bool
        Whether the target is class labels (predictions are class probabilities).

    Examples
    --------
    The built-in Gaussian, one of the classes that follow this protocol:

    >>> import numpy as np
    >>> from pymc_bnn.model.likelihoods import get_likelihood
    >>> gaussian = get_likelihood("gaussian")
    >>> encoded, record = gaussian.prepare_target(np.array([1.0, 3.0]))
    >>> encoded, record, gaussian.n_outputs(encoded)
    (array([-1.,  1.]), {'y_mean': 2.0, 'y_scale': 1.0}, 1)
    >>> eta = np.zeros((1, 2, 1))  # one draw, two rows: the standardised output 0
    >>> gaussian.predictive_params(eta, {"sigma": np.ones(1)}, record)
    {'mean': array([[2., 2.]]), 'scale': array([[1., 1.]])}
    """

    name: ClassVar[str]
    is_classifier: ClassVar[bool]

    def prepare_target(self, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """Validate `y` and return it encoded for the model, with a record of the encoding.

        Parameters
        ----------
        y : numpy.ndarray
            `(n_obs,)`, length already checked.

        Returns
        -------
        encoded : numpy.ndarray
            `(n_obs,)`: class codes, standardised reals or int64 counts.
        record : dict
            JSON-able (classes, standardisation, count offset), passed back to
            `predictive_params` as `preprocessing`.
        """

    def n_outputs(self, y: np.ndarray) -> int:
        """Network outputs needed for the encoded target `y`."""

    def observe(self, eta, y_data, total_size=None, weight=None) -> tuple[str, ...]:
        """Add the observed variable `y` (dims ("obs",)) to the PyMC model in context.

        Parameters
        ----------
        eta : pytensor tensor
            `(n_obs, n_outputs)` pre-link network output.
        y_data : pymc.Data
            The encoded target.
        total_size : int, optional
            The number of rows of the whole data set when `y_data` is one minibatch of it (PyMC
            then scales the log-likelihood by total_size / rows, as `pm.Minibatch` does); None
            for all rows.
        weight : pymc.Data, optional
            `(n_obs,)` non-negative weights, each row's log-likelihood multiplied by its own
            (`observe_rows` does it); None for weight 1 everywhere.

        Returns
        -------
        tuple of str
            Names of any variables of its own it added (e.g. a noise scale "sigma").
        """

    def predictive_params(self, eta: np.ndarray, params: dict[str, np.ndarray],
                          preprocessing: dict) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution, in the user's units.

        The body uses `array_namespace(eta)`, so it runs on NumPy and JAX arrays and inside
        jax.jit.

        Parameters
        ----------
        eta : numpy.ndarray or jax.Array
            `(n_draws, n_obs, n_outputs)` pre-link outputs.
        params : dict of str to array
            The likelihood's own posterior variables (e.g. a noise scale), each `(n_draws, ...)`.
        preprocessing : dict
            What `prepare_target` recorded.

        Returns
        -------
        dict of str to array
            Classifiers: {"probs": `(n_draws, n_obs, n_classes)`}; regression at least {"mean",
            "scale"}, counts at least {"mean"}, each `(n_draws, n_obs)`.
        """

    def predictive_mean(self, eta, preprocessing: dict):
        """The predictive distribution's mean per draw, from `eta` alone.

        Elementwise over the leading axes, in any layout (the fused prediction path passes
        `(n_obs, n_draws, n_outputs)`).

        Parameters
        ----------
        eta : numpy.ndarray or jax.Array
            `(..., n_outputs)` pre-link outputs.
        preprocessing : dict
            What `prepare_target` recorded.

        Returns
        -------
        array
            P(class 1) `(...)` for Bernoulli, class probabilities `(..., n_classes)` for
            Categorical, the mean `(...)` in user units otherwise.
        """

    def to_dict(self) -> dict:
        """A JSON-able record that `likelihood_from_dict` turns back into this likelihood."""


def array_namespace(x):
    """The array module of `x`: numpy for NumPy arrays, jax.numpy for JAX arrays and tracers.

    `predictive_params` is written against it, so the same code serves prediction in NumPy and
    the fused, jitted prediction path in `pymc_bnn.posterior`.

    Parameters
    ----------
    x : array-like

    Returns
    -------
    module

    Examples
    --------
    >>> import numpy as np
    >>> array_namespace(np.zeros(2)) is np, array_namespace([0.0]) is np
    (True, True)
    """
    return x.__array_namespace__() if hasattr(x, "__array_namespace__") else np


class SerialisableLikelihood:
    """A dataclass likelihood's `to_dict`: its name and its fields, for the model file.

    The built-in likelihoods derive from it; `likelihoods.likelihood_from_dict` reverses it.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Scaled(SerialisableLikelihood):
    ...     name = "scaled"  # a class attribute, not a field
    ...     scale: float = 2.0
    >>> Scaled().to_dict()
    {'name': 'scaled', 'scale': 2.0}
    """

    name: ClassVar[str]

    def to_dict(self) -> dict:
        """{'name': the registry name, and each field of the dataclass}."""
        # every subclass is a dataclass, which mypy cannot see from here
        return {"name": self.name, **asdict(self)}  # type: ignore[call-overload]


def observe_rows(distribution, y_data, total_size=None, weight=None, **params):
    """Add the observed `y` ~ `distribution(**params)`, each row's log-likelihood weighted.

    Without `weight` this is `distribution("y", **params, observed=y_data, dims="obs")`. With
    it, `y` is a `pm.CustomDist` that draws as `distribution` does and whose log density is
    each row's log density times that row's weight: a weight of 2 counts a row twice, 0
    leaves it out (the weighted, or power, likelihood of survey and importance weights). The
    weights are part of the model, so every engine and PyMC's own `model.logp()` see them.

    Parameters
    ----------
    distribution : type
        A PyMC distribution class (`pm.Bernoulli`, `pm.Normal`, ...).
    y_data : pymc.Data
        `(n_obs,)` the encoded target.
    total_size : int, optional
        As for `Likelihood.observe` (not with `weight`: a streamed fit has no weights).
    weight : pymc.Data, optional
        `(n_obs,)` non-negative weights.
    **params
        The distribution's parameters (tensors with the rows first).

    Returns
    -------
    TensorVariable
        The observed variable.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> with pm.Model(coords={"obs": range(3)}) as model:
    ...     y_data = pm.Data("y_data", np.array([1, 0, 1]), dims="obs")
    ...     weight = pm.Data("sample_weight", np.array([2.0, 0.0, 1.0]), dims="obs")
    ...     y = observe_rows(pm.Bernoulli, y_data, weight=weight, p=0.8)
    >>> float(model.compile_logp()({})), 3 * float(np.log(0.8))  # 2·log .8 + 0 + log .8
    (-0.669..., -0.669...)
    """
    import pymc as pm

    if weight is None:
        return distribution(OBSERVED, **params, observed=y_data, dims="obs",
                            total_size=total_size)
    if total_size is not None:
        raise InvalidSettingError("sample weights cannot be used with streamed (minibatched) "
                                  "data; fit the rows in memory, or leave the weights out")
    names = tuple(params)

    def draw(*args):
        *values, _, size = args  # the parameters, the weights, the size
        return distribution.dist(**dict(zip(names, values, strict=True)), size=size)

    def weighted_logp(value, *args):
        *values, row_weight = args
        base = distribution.dist(**dict(zip(names, values, strict=True)))
        return row_weight * pm.logp(base, value)

    return pm.CustomDist(OBSERVED, *params.values(), weight, dist=draw, logp=weighted_logp,
                         observed=y_data, dims="obs",
                         class_name=f"Weighted{distribution.__name__}")
