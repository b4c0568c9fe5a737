"""What every weight prior is, and the pieces the priors share: fan-in scaling, non-centring.

Fan-in scaling. A unit sums `fan_in` weighted inputs, so with Normal(0, s) weights its
pre-activation has sd s·sqrt(fan_in)·(input size): the seed's Normal(0, 1) makes a 100-unit
layer's outputs ten times larger than a 1-unit layer's, and tanh units saturate, so wide networks
imply near-step functions a priori. Dividing the scale by sqrt(fan_in) (as LeCun initialisation
does) keeps each layer's output on the scale of its inputs whatever the width, so the prior
predictive stays put as layers grow (see `tests/model/test_priors.py`). Every pymc-bnn prior
does this by default; `fan_in_scaling=False` gives the unscaled prior (the seed's Normal(0, 1)).

Non-centring. A prior with a learned scale, w = scale · z with z ~ N(0, 1), is written that way
in the model: the free variables are the standardised `w_i_raw` and the scales, and `w_i` is a
Deterministic. The posterior of (z, scale) has no funnel, which both NUTS and mean-field ADVI
need, and every engine stores `w_i` in the posterior group like any other variable.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar, Protocol

import numpy as np

from pymc_bnn.errors import InvalidSettingError

LAYER_SCOPES = ("first", "all")


class Prior(Protocol):
    """What a prior provides: the weights and biases of each layer, created in the PyMC model.

    A user may pass any object with these methods wherever a prior name is taken.

    Attributes
    ----------
    name : str
        The registry name, also written to model files.

    Examples
    --------
    A prior of one's own: Student-t weights (a dataclass gives `to_dict` through
    `Serialisable`).

    >>> from dataclasses import dataclass
    >>> from typing import ClassVar
    >>> import pymc as pm
    >>> @dataclass(frozen=True)
    ... class StudentTPrior(Serialisable):
    ...     nu: float = 3.0
    ...     name: ClassVar[str] = "student_t"
    ...     def weight(self, var_name, *, shape, dims, layer):
    ...         return pm.StudentT(var_name, nu=self.nu, sigma=fan_in_factor(shape[0], True),
    ...                            dims=dims)
    ...     def bias(self, var_name, *, shape, dims, layer):
    ...         return plain_bias(var_name, dims)
    >>> from pymc_bnn import build_model
    >>> bnn = build_model(tiny_data.X_train, tiny_data.y_train, hidden=(3,),
    ...                   prior=StudentTPrior())
    >>> bnn.prior.to_dict()
    {'name': 'student_t', 'nu': 3.0}
    """

    name: ClassVar[str]

    def weight(self, var_name: str, *, shape: tuple[int, int], dims: tuple[str, str], layer: int):
        """Create the weight matrix `var_name` of `layer` (shape (fan_in, fan_out)) in the model.

        A skip path's weights `w_skip` (n_inputs, n_outputs) are asked for with layer=0: their
        rows are the input features, as the first layer's are.
        """

    def bias(self, var_name: str, *, shape: tuple[int], dims: tuple[str], layer: int):
        """Create the bias vector `var_name` of `layer` in the model."""

    def to_dict(self) -> dict:
        """A JSON-able record that `prior_from_dict` turns back into this prior."""

    # Optional: `check_spec(spec)` raises InvalidSettingError when the prior cannot serve that
    # NetworkSpec (e.g. pretrained weights of other shapes); build_model calls it if present.


def fan_in_factor(fan_in: int, fan_in_scaling: bool) -> float:
    """1/sqrt(fan_in) with fan-in scaling, else 1: multiplies a layer's prior scale.

    Parameters
    ----------
    fan_in : int
        The layer's inputs.
    fan_in_scaling : bool
        Whether the prior scales by fan-in.

    Returns
    -------
    float

    Examples
    --------
    >>> float(fan_in_factor(100, True)), fan_in_factor(100, False)
    (0.1, 1.0)
    """
    return 1.0 / np.sqrt(fan_in) if fan_in_scaling else 1.0


def check_positive(value: float, what: str) -> None:
    """Raise InvalidSettingError naming `what` unless `value` is a finite number > 0.

    Parameters
    ----------
    value : float
        The setting.
    what : str
        Its name in the message.

    Raises
    ------
    InvalidSettingError

    Examples
    --------
    >>> check_positive(0.5, "sigma")
    >>> check_positive(0.0, "sigma")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: sigma must be a positive number, got 0.0
    """
    if not np.isfinite(value) or value <= 0:
        raise InvalidSettingError(f"{what} must be a positive number, got {value}")


def check_choice(value, allowed, what: str) -> None:
    """Raise InvalidSettingError naming `what` unless `value` is one of `allowed`.

    Parameters
    ----------
    value : object
        The setting.
    allowed : collection
        Its allowed values.
    what : str
        Its name in the message.

    Raises
    ------
    InvalidSettingError

    Examples
    --------
    >>> check_choice("all", LAYER_SCOPES, "layers")
    >>> check_choice("last", LAYER_SCOPES, "layers")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: layers must be one of 'first', 'all', got 'last'
    """
    if value not in allowed:
        raise InvalidSettingError(
            f"{what} must be one of {', '.join(map(repr, allowed))}, got {value!r}"
        )


def non_centred(var_name: str, scale, dims, *, loc=0.0, family: str = "normal"):
    """W = loc + scale · z with z ~ family(0, 1) named `<var_name>_raw`; w is a Deterministic.

    Must be called inside a model context.

    Parameters
    ----------
    var_name : str
        The weights' name.
    scale : scalar or tensor
        Broadcasts against the weight shape: a scalar, or (fan_in, 1) for per-input scales.
    dims : tuple of str
        The weights' dims.
    loc : scalar or array, default 0.0
        The centre.
    family : {"normal", "laplace"}, default "normal"
        The distribution of z.

    Returns
    -------
    pytensor tensor
        The Deterministic `var_name`.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model(coords={"feature": range(2), "hidden_0": range(3)}) as model:
    ...     w = non_centred("w_0", 0.5, ("feature", "hidden_0"))
    >>> sorted(model.named_vars), [v.name for v in model.deterministics]
    (['w_0', 'w_0_raw'], ['w_0'])
    """
    import pymc as pm

    raw = f"{var_name}_raw"
    z = (pm.Laplace(raw, 0.0, 1.0, dims=dims) if family == "laplace"
         else pm.Normal(raw, 0.0, 1.0, dims=dims))
    return pm.Deterministic(var_name, loc + scale * z, dims=dims)


def shared_variable(name: str, make):
    """The model's variable `name`, made by `make()` the first time (shared across layers).

    Must be called inside a model context.

    Parameters
    ----------
    name : str
        The variable's name.
    make : callable
        Creates it, e.g. ``lambda: pm.HalfNormal(name, 1.0)``.

    Returns
    -------
    pytensor tensor

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model():
    ...     first = shared_variable("tau", lambda: pm.HalfNormal("tau", 1.0))
    ...     again = shared_variable("tau", lambda: pm.HalfNormal("tau", 1.0))
    >>> first is again
    True
    """
    import pymc as pm

    model = pm.modelcontext(None)
    return model[name] if name in model.named_vars else make()


def plain_bias(var_name: str, dims, sigma: float = 1.0):
    """Normal(0, sigma) biases: inputs and targets are standardised, so sd 1 is weakly informative.

    Examples
    --------
    >>> import pymc as pm
    >>> with pm.Model(coords={"hidden_0": range(3)}):
    ...     b = plain_bias("b_0", ("hidden_0",))
    >>> b.name, b.eval().shape
    ('b_0', (3,))
    """
    import pymc as pm

    return pm.Normal(var_name, 0.0, sigma, dims=dims)


class Serialisable:
    """`to_dict` for a prior dataclass: its name and fields (JSON-able).

    Examples
    --------
    The built-in priors use it:

    >>> from pymc_bnn.model.priors import LaplacePrior
    >>> LaplacePrior(sigma=2.0).to_dict()
    {'name': 'laplace', 'sigma': 2.0, 'fan_in_scaling': True, 'learn_scale': None}
    """

    name: ClassVar[str]

    def to_dict(self) -> dict:
        """The prior's name and fields, JSON-able."""
        # every subclass is a dataclass, which mypy cannot see from here
        return {"name": self.name, **asdict(self)}  # type: ignore[call-overload]
