"""Engine options declared once per engine and checked by `fit` before anything compiles.

Each engine's options map to a small constraint (`Whole`, `Number`, `OneOf`, `Flag`, …), so
`steps=1.5`, `steps=True`, `learning_rate=None`, `learning_rate="a"`, `init="abc"` or an unknown
option give the same kind of `InvalidSettingError` for every engine — "steps must be a whole
number, got 1.5" — whether they come from `fit`, an estimator's `engine_options` or the CLI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.validation import whole_number


@dataclass(frozen=True)
class Whole:
    """A whole number ≥ `minimum` (3 or 3.0; never a bool or 1.5).

    Parameters
    ----------
    minimum : int, default 1
        The smallest value allowed.

    Examples
    --------
    >>> Whole(1)(3.0, "steps")
    3
    >>> Whole(1)(1.5, "steps")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: steps must be a whole number, got 1.5
    """

    minimum: int = 1

    def __call__(self, value, name: str):
        """`value` as an int, or InvalidSettingError naming `name`."""
        return whole_number(value, name, minimum=self.minimum)


@dataclass(frozen=True)
class Number:
    """A finite real number (never a bool or a string): > 0, ≥ 0, or strictly between 0 and 1.

    Parameters
    ----------
    kind : {"positive", "non-negative", "probability"}, default "positive"
        Which range.

    Examples
    --------
    >>> Number("probability")(0.9, "target_accept")
    0.9
    >>> Number()(0, "learning_rate")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: learning_rate must be a positive number, got 0
    """

    kind: str = "positive"  # "positive", "non-negative" or "probability"

    def __call__(self, value, name: str):
        """`value` unchanged, or InvalidSettingError naming `name`."""
        ok = (isinstance(value, Real) and not isinstance(value, bool | np.bool_)
              and math.isfinite(value))
        if ok:
            ok = {"positive": value > 0, "non-negative": value >= 0,
                  "probability": 0 < value < 1}[self.kind]
        if not ok:
            expected = ("a number strictly between 0 and 1" if self.kind == "probability"
                        else f"a {self.kind} number")
            raise InvalidSettingError(f"{name} must be {expected}, got {value!r}")
        return value


@dataclass(frozen=True)
class OneOf:
    """One of the listed strings.

    Parameters
    ----------
    choices : tuple of str
        The allowed values.

    Examples
    --------
    >>> OneOf(("adam", "adagrad_window"))("sgd", "optimizer")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: optimizer must be one of 'adam', 'adagrad_window', ...
    """

    choices: tuple[str, ...]

    def __call__(self, value, name: str):
        """`value` unchanged, or InvalidSettingError naming `name`."""
        if not isinstance(value, str) or value not in self.choices:
            raise InvalidSettingError(
                f"{name} must be one of {', '.join(map(repr, self.choices))}, got {value!r}")
        return value


@dataclass(frozen=True)
class Flag:
    """True or False (not 0/1, not a string).

    Examples
    --------
    >>> Flag()(True, "ensemble")
    True
    >>> Flag()(1, "ensemble")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: ensemble must be True or False, got 1
    """

    def __call__(self, value, name: str):
        """`value` as a bool, or InvalidSettingError naming `name`."""
        if not isinstance(value, bool | np.bool_):
            raise InvalidSettingError(f"{name} must be True or False, got {value!r}")
        return bool(value)


@dataclass(frozen=True)
class Either:
    """None, or what any of `options` accepts (tried in order; the first's message is kept).

    Parameters
    ----------
    options : tuple
        Constraints tried in order.
    allow_none : bool, default True
        Accept None as it is.
    description : str, default ""
        What the message says the value must be when no option accepts it.

    Examples
    --------
    >>> restarts = Either((Whole(1),), description="a whole number ≥ 1 or None")
    >>> restarts(None, "restarts"), restarts(4, "restarts")
    (None, 4)
    >>> scale = Either((OneOf(("marglik",)), Number()), allow_none=False,
    ...                description="'marglik' or a positive number")
    >>> scale("marglik", "prior_scale"), scale(2.0, "prior_scale")
    ('marglik', 2.0)
    """

    options: tuple
    allow_none: bool = True
    description: str = ""

    def __call__(self, value, name: str):
        """What the first accepting option returns, or InvalidSettingError naming `name`."""
        if value is None and self.allow_none:
            return None
        for option in self.options:
            try:
                return option(value, name)
            except InvalidSettingError:
                continue
        raise InvalidSettingError(f"{name} must be {self.description}, got {value!r}")


@dataclass(frozen=True)
class Posterior:
    """A fitted `Posterior` (a warm start), or None.

    Examples
    --------
    >>> Posterior()(None, "init") is None
    True
    >>> Posterior()("fit.nc", "init")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: init must be a fitted Posterior of the same network ...
    """

    def __call__(self, value, name: str):
        """`value` unchanged, or InvalidSettingError naming `name`."""
        from pymc_bnn.posterior.posterior import Posterior as PosteriorClass

        if value is not None and not isinstance(value, PosteriorClass):
            raise InvalidSettingError(
                f"{name} must be a fitted Posterior of the same network (a warm start) or None, "
                f"got {type(value).__name__} {value!r:.40}")
        return value


@dataclass(frozen=True)
class Callback:
    """A function called between chunks, or None.

    Examples
    --------
    >>> Callback()(print, "callback") is print
    True
    >>> Callback()("print", "callback")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: callback must be a function or None, got 'print'
    """

    def __call__(self, value, name: str):
        """`value` unchanged, or InvalidSettingError naming `name`."""
        if value is not None and not callable(value):
            raise InvalidSettingError(f"{name} must be a function or None, got {value!r:.40}")
        return value


class Anything:
    """No check (e.g. `check_X`, whose rows are checked by the engine).

    Examples
    --------
    >>> Anything()([[0.0, 1.0]], "check_X")
    [[0.0, 1.0]]
    """

    def __call__(self, value, name: str):
        """`value` unchanged."""
        return value


def _optional(constraint, description: str) -> Either:
    return Either((constraint,), description=f"{description} or None")


_VI = {
    "steps": Whole(1), "learning_rate": Number(),
    "restarts": _optional(Whole(1), "a whole number ≥ 1"),
    "tol": Number("non-negative"), "window": Whole(1),
    "minibatch_size": _optional(Whole(1), "a whole number ≥ 1"), "mc_samples": Whole(1),
    "chunk_steps": Whole(1), "init_sd": Number(), "screen_steps": Whole(1), "init": Posterior(),
    "ensemble": Flag(), "callback": Callback(),
}
# name -> {option: constraint}; the engines' signatures and settings dataclasses hold the defaults.
ENGINE_OPTIONS: dict[str, dict] = {
    "advi": _VI,
    "fullrank_advi": _VI,
    "laplace": {
        "steps": Whole(1), "learning_rate": Number(), "tol": Number("non-negative"),
        "window": Whole(1), "restarts": _optional(Whole(1), "a whole number ≥ 1"),
        "prior_scale": Either((OneOf(("marglik",)), Number()), allow_none=False,
                              description="'marglik' or a positive number"),
        "map_scale": _optional(Number(), "a positive number"), "rounds": Whole(1),
        "ensemble": Flag(), "newton_steps": Whole(0), "chunk_steps": Whole(1),
        "minibatch_size": _optional(Whole(1), "a whole number ≥ 1"), "callback": Callback(),
        "hessian": OneOf(("last_layer", "full", "auto")),
        "temperature": Either((OneOf(("loo",)), Number()), allow_none=False,
                              description="'loo' or a positive number"),
    },
    "nuts": {
        "chains": Whole(1), "tune": Whole(0), "target_accept": Number("probability"),
        "max_tree_depth": Whole(1), "init_steps": Whole(0), "check_X": Anything(),
        "chain_method": OneOf(("auto", "parallel", "sequential", "vectorized")),
        "dense_mass": Flag(),
    },
    "pymc_advi": {
        "steps": Whole(1), "learning_rate": Number(),
        "optimizer": OneOf(("adam", "adagrad_window")),
    },
}


def check_engine_options(method: str, options: dict) -> dict:
    """`options` for engine `method`, each checked (whole numbers as int).

    Engines not declared in `ENGINE_OPTIONS` pass through.

    Parameters
    ----------
    method : str
        The engine's name.
    options : dict
        Option name → value, as given to `fit`.

    Returns
    -------
    dict
        The options, converted where the constraint converts (3.0 → 3).

    Raises
    ------
    InvalidSettingError
        An unknown option or the first bad value.

    Examples
    --------
    >>> check_engine_options("advi", {"steps": 2000.0, "learning_rate": 0.05})
    {'steps': 2000, 'learning_rate': 0.05}
    >>> check_engine_options("nuts", {"steps": 2000})
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: unknown option(s) ['steps'] for nuts; use chains, ...
    """
    declared = ENGINE_OPTIONS.get(method)
    if declared is None:
        return dict(options)
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise InvalidSettingError(
            f"unknown option(s) {unknown} for {method}; use {', '.join(declared)}")
    return {name: declared[name](value, name) for name, value in options.items()}
