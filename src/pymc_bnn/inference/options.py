"""Engine options declared once per engine and checked by `fit` before anything compiles.

Each engine's options are declared once, as an `Option`: a small constraint (`Whole`, `Number`,
`OneOf`, `Flag`, …), what the option does and its default. So `steps=1.5`, `steps=True`,
`learning_rate=None`, `learning_rate="a"`, `init="abc"` or an unknown option give the same kind of
`InvalidSettingError` for every engine — "steps must be a whole number, got 1.5" — whether they
come from `fit`, an estimator's `engine_options` or the CLI, whose `fit` flags (`--tune`,
`--target-accept`, …) are generated from these declarations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import map_loop
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
        What the message says the value must be when no option accepts it ("or None" is
        added when None is allowed).

    Examples
    --------
    >>> restarts = Either((Whole(1),), description="a whole number ≥ 1")
    >>> restarts(None, "restarts"), restarts(4, "restarts")
    (None, 4)
    >>> restarts(0, "restarts")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: restarts must be a whole number ≥ 1 or None, got 0
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
        expected = f"{self.description} or None" if self.allow_none else self.description
        raise InvalidSettingError(f"{name} must be {expected}, got {value!r}")


@dataclass(frozen=True)
class FittedPosterior:
    """A fitted `Posterior` (a warm start), or None.

    Examples
    --------
    >>> FittedPosterior()(None, "init") is None
    True
    >>> FittedPosterior()("fit.nc", "init")
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
    return Either((constraint,), description=description)


@dataclass(frozen=True)
class Option:
    """One declared engine option: its check, what it does and its default.

    An `Option` is itself a constraint (calling it runs `check`), so `register_engine` takes
    Options and bare constraints alike. `help` and `default` are what `pymc-bnn fit --help`
    shows for the option's flag (`pymc_bnn.cli.engine_flags` generates one flag per option);
    the engine's own signature or settings dataclass holds the default it uses
    (tests/cli/test_engine_flags.py keeps the two equal).

    Attributes
    ----------
    check : callable
        ``check(value, name)``: the value (whole numbers as int), or InvalidSettingError.
    help : str
        What the option does, one phrase for `--help`.
    default : object
        The engine's default; None where the engine chooses (then `help` says how).
    python_only : str
        Empty for an option a command line can set; else why it cannot (e.g. "a function"):
        such options have no CLI flag.

    Examples
    --------
    >>> tune = Option(Whole(0), "tuning steps per chain", 1000)
    >>> tune(500.0, "tune"), tune.default
    (500, 1000)
    >>> tune(-1, "tune")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: tune must be at least 0, got -1
    """

    check: Callable
    help: str
    default: object = None
    python_only: str = ""

    def __call__(self, value, name: str):
        """`check(value, name)`."""
        return self.check(value, name)


_WHOLE_OR_NONE = _optional(Whole(1), "a whole number ≥ 1")


def _vi_options(learning_rate: float) -> dict[str, Option]:
    """The options of advi and fullrank_advi (`pymc_bnn.inference.vi.ADVISettings`)."""
    return {
        "steps": Option(Whole(1), "maximum optimisation steps", 30_000),
        "learning_rate": Option(Number(), "Adam's step size", learning_rate),
        "restarts": Option(_WHOLE_OR_NONE, "random starts, raced for the screening steps; "
                           "the best goes on (default: 4 for small models, else 1; 5 for an "
                           "ensemble)"),
        "tol": Option(Number("non-negative"), "stop when the mean ELBO of the last window "
                      "changes by less than this (relative) from the window before; 0: run "
                      "every step", 1e-3),
        "window": Option(Whole(1), "steps per convergence window", 1000),
        "minibatch_size": Option(_WHOLE_OR_NONE, "rows of data per step (default: every row)"),
        "mc_samples": Option(Whole(1), "Monte Carlo samples of q per step", 1),
        "chunk_steps": Option(Whole(1), "steps per compiled chunk (progress and Ctrl-C act "
                              "between chunks)", 500),
        "init_sd": Option(Number(), "starting sd of q on the unconstrained space", 0.1),
        "screen_steps": Option(Whole(1), "steps the restarts race before the best goes on", 1000),
        "init": Option(FittedPosterior(), "a fitted Posterior of the same network to start from",
                       python_only="a fitted Posterior"),
        "ensemble": Option(Flag(), "keep every restart, each run to the end, as an equally "
                           "weighted member (one chain each) instead of the best", False),
        "callback": Option(Callback(), "called between chunks", python_only="a function"),
        "data_devices": Option(Whole(1), "JAX devices each step's rows are split over (data "
                               "parallel: the ELBO gradient summed across them, the result "
                               "that of one device up to rounding); restarts share the "
                               "devices left", 1),
        "dtype": Option(OneOf(("float64", "float32")), "float type of the optimisation "
                        "(float32: several times faster on CPU, and on accelerators)",
                        "float64"),
    }


# name -> {option: Option}; the engines' signatures and settings dataclasses hold the defaults.
ENGINE_OPTIONS: dict[str, dict] = {
    "advi": _vi_options(0.01),
    "fullrank_advi": _vi_options(0.003),
    "laplace": {
        "steps": Option(Whole(1), "maximum steps of the first MAP fit, later rounds half "
                        "(default: 10,000 Adam steps or 2,000 L-BFGS iterations)"),
        "learning_rate": Option(Number(), "Adam's step size", 0.01),
        "tol": Option(Number("non-negative"), "stop a MAP fit when its mean loss over a window "
                      "changes by less than this many nats per row; 0: run every step", 1e-5),
        "window": Option(Whole(1), "steps per convergence window (default: 200 Adam "
                         "steps or 20 L-BFGS iterations)"),
        "restarts": Option(_WHOLE_OR_NONE, "random starts (default: 4 for small models, else "
                           "1; 5 for an ensemble)"),
        "prior_scale": Option(
            Either((OneOf(("marglik",)), Number()), allow_none=False,
                   description="'marglik' or a positive number"),
            "marglik: the output layer's prior scale chosen by its marginal likelihood; a "
            "number: that prior scale for every layer", "marglik"),
        "map_scale": Option(Either((OneOf(("holdout",)), Number()),
                                   description="'holdout' or a positive number"),
                            "prior scale of the MAP fit under marglik; holdout: the scale "
                            "whose MAP predicts held-out rows best (default: the model's "
                            "prior's)"),
        "rounds": Option(Whole(1), "maximum MAP / marginal-likelihood rounds (without "
                         "hidden layers, or with the full hessian)", 10),
        "ensemble": Option(Flag(), "keep every restart as an equally weighted member (one "
                           "chain each) instead of the best", False),
        "newton_steps": Option(Whole(0), "Newton steps on the output layer after each MAP fit",
                               5),
        "chunk_steps": Option(Whole(1), "steps per compiled chunk (default: 250 Adam "
                              "steps or 50 L-BFGS iterations)"),
        "minibatch_size": Option(_WHOLE_OR_NONE, "rows per Adam step of the MAP fit "
                                 "(default: every row up to 4,096 rows, else 1,024)"),
        "map_optimizer": Option(OneOf(map_loop.OPTIMIZERS),
                                "the MAP's optimiser; lbfgs: L-BFGS on every row (fewer, "
                                "costlier steps)", "adam"),
        "callback": Option(Callback(), "called between chunks", python_only="a function"),
        "hessian": Option(OneOf(("last_layer", "full", "auto")),
                          "which parameters get the Gaussian: the output layer, every "
                          "parameter (linearised predictions), or full when small enough",
                          "last_layer"),
        "noise_sd": Option(OneOf(("map", "evidence")),
                           "the Gaussian noise sd: the MAP's, or the evidence's "
                           "RSS / (n − effective parameters) at the MAP", "map"),
        "output_layer": Option(OneOf(("auto", "gaussian", "sampled")),
                               "the output layer's draws: from the Laplace Gaussian, or from "
                               "its exact posterior by NUTS (the hidden layers at the MAP); "
                               "auto: sampled for the categorical likelihood", "auto"),
        "temperature": Option(
            Either((OneOf(("loo",)), Number()), allow_none=False,
                   description="'loo' or a positive number"),
            "multiplies the output layer's covariance (below 1: a cold posterior); loo: "
            "chosen by the training rows' leave-one-out density", 1.0),
    },
    "nuts": {
        "chains": Option(Whole(1), "Markov chains", 4),
        "tune": Option(Whole(0), "tuning steps per chain", 1000),
        "target_accept": Option(Number("probability"), "target acceptance probability "
                                "(higher: smaller steps, fewer divergences)", 0.9),
        "max_tree_depth": Option(Whole(1), "maximum tree depth (2^depth leapfrog steps)", 10),
        "init_steps": Option(Whole(0), "ADVI steps for the starting points and mass matrix "
                             "(0: the model's initial point)", 10_000),
        "check_X": Option(Anything(), "inputs on which convergence of the predictions is "
                          "judged", python_only="an array of encoded inputs"),
        "chain_method": Option(OneOf(("auto", "parallel", "sequential", "vectorized")),
                               "how chains run: parallel (one per core), sequential, "
                               "vectorized, or auto", "auto"),
        "dense_mass": Option(Flag(), "a dense mass matrix instead of a diagonal one", False),
    },
    "pymc_advi": {
        "steps": Option(Whole(1), "optimisation steps", 30_000),
        "learning_rate": Option(Number(), "the optimiser's step size", 0.01),
        "optimizer": Option(OneOf(("adam", "adagrad_window")), "PyMC's optimiser", "adam"),
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
