"""The engine contract: what an inference engine is, and the registry `fit` finds engines in.

An engine is a function ``run(bnn, *, draws, random_seed, progress, **options) -> EngineResult``
(the `Engine` protocol). It takes a built model (`pymc_bnn.model.build.BNNModel`, whose `.model`
is the `pm.Model`) and returns a plain record of what it learned. `fit` does everything around
it, the same way for every engine: it checks `draws`, `random_seed` and the engine's declared
options before anything compiles, times the run, judges convergence on the predictions for
Markov chains (`pymc_bnn.inference.diagnostics`), shows the result's warnings, and wraps the
draws in a `Posterior`. Adding an engine is one module with its `run` function and one
`register_engine` line; the built-in engines are registered below by module path, so none is
imported before it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference.options import ENGINE_OPTIONS
from pymc_bnn.inference.result import EngineResult


class Engine(Protocol):
    """An inference engine: a built model in, an `EngineResult` out.

    Parameters
    ----------
    bnn : BNNModel
        The model to fit (`bnn.model` is the `pm.Model`).
    draws : int
        Posterior draws to return, over all chains (checked ≥ 1 by `fit`).
    random_seed : int
        Seed of everything random in the run (checked ≥ 0 by `fit`).
    progress : bool
        Show a rich progress bar.
    **options
        The engine's own settings, checked by `fit` against what `register_engine` declared.

    Returns
    -------
    EngineResult
        The draws as ArviZ data (group ``posterior``, dims ``chain``, ``draw``, ...), with the
        settings used, timings, diagnostics and warnings.

    Examples
    --------
    An engine that returns draws from the prior (useful as a baseline), registered and fitted:

    >>> import pymc as pm
    >>> import xarray as xr
    >>> from pymc_bnn import build_model, fit
    >>> from pymc_bnn.datasets import two_moons
    >>> from pymc_bnn.inference.engine import register_engine, unregister_engine
    >>> from pymc_bnn.inference.result import EngineResult
    >>> def prior_draws(bnn, *, draws, random_seed, progress):
    ...     with bnn.model:
    ...         prior = pm.sample_prior_predictive(draws, random_seed=random_seed)["prior"]
    ...     return EngineResult(idata=xr.DataTree.from_dict({"posterior": prior.to_dataset()}),
    ...                         method="prior", settings={}, timings={})
    >>> register_engine("prior", prior_draws, options={})  # it takes no options
    >>> data = two_moons(n_samples=60)
    >>> posterior = fit(build_model(data.X_train, data.y_train), "prior", draws=40,
    ...                 progress=False)
    >>> posterior.method, posterior.n_draws
    ('prior', 40)
    >>> posterior.predict(data.X_test)["mean"].shape == (len(data.X_test),)
    True
    >>> unregister_engine("prior")
    """

    def __call__(self, bnn, *, draws: int, random_seed: int, progress: bool,
                 **options) -> EngineResult:
        """Fit `bnn` (see the class docstring)."""
        ...


@dataclass(frozen=True)
class ModuleEngine:
    """An engine named by its module and function, imported on its first call.

    Parameters
    ----------
    path : str
        "package.module:function", the function an `Engine`.

    Examples
    --------
    >>> ENGINES["nuts"]
    ModuleEngine(path='pymc_bnn.inference.nuts:run')
    >>> register_engine("my_nuts", ModuleEngine("pymc_bnn.inference.nuts:run"))
    >>> unregister_engine("my_nuts")
    """

    path: str  # "package.module:function"

    def __call__(self, bnn, **kwargs) -> EngineResult:
        """Import the engine's module and run it."""
        module, _, function = self.path.partition(":")
        return getattr(importlib.import_module(module), function)(bnn, **kwargs)


# name -> engine. The built-in ones are imported on first use, so `import pymc_bnn` stays fast;
# `pymc_bnn.defaults.ENGINE_NAMES` repeats these names for the CLI (a test keeps them equal).
ENGINES: dict[str, Engine] = {
    "advi": ModuleEngine("pymc_bnn.inference.vi:run_advi"),
    "fullrank_advi": ModuleEngine("pymc_bnn.inference.vi:run_fullrank_advi"),
    "laplace": ModuleEngine("pymc_bnn.inference.laplace:run"),
    "nuts": ModuleEngine("pymc_bnn.inference.nuts:run"),
    "pymc_advi": ModuleEngine("pymc_bnn.inference.pymc_advi:run"),
}
_BUILT_IN = frozenset(ENGINES)


def register_engine(name: str, run: Engine, *, options: Mapping | None = None,
                    replace: bool = False) -> None:
    """Make `run` available as ``fit(bnn, name, ...)`` (and to the estimators' `method=`).

    Parameters
    ----------
    name : str
        The engine's name.
    run : Engine
        The engine function (see `Engine`).
    options : mapping of str to constraint, optional
        The engine's options and the check of each (`pymc_bnn.inference.options`: `Whole`,
        `Number`, `OneOf`, `Flag`, ...). Declared options are checked by `fit` before the run and
        unknown ones refused; None passes every option through unchecked.
    replace : bool, default False
        Allow replacing an engine of the same name (a built-in one included).

    Raises
    ------
    InvalidSettingError
        `name` is taken (and `replace` is False), or `run` is not callable.

    Examples
    --------
    `Engine` has an engine that runs; here only the registration and the option checks:

    >>> from pymc_bnn.inference.options import Whole, check_engine_options
    >>> def my_engine(bnn, *, draws, random_seed, progress, sweeps=10):
    ...     raise NotImplementedError
    >>> register_engine("mine", my_engine, options={"sweeps": Whole(1)})
    >>> check_engine_options("mine", {"sweeps": 20.0})  # what fit checks before the run
    {'sweeps': 20}
    >>> register_engine("mine", my_engine)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: an engine called 'mine' exists already; ...
    >>> unregister_engine("mine")
    """
    if not isinstance(name, str) or not name:
        raise InvalidSettingError(f"an engine's name must be a non-empty string, got {name!r}")
    if name in ENGINES and not replace:
        raise InvalidSettingError(
            f"an engine called {name!r} exists already; pass replace=True to replace it")
    if not callable(run):
        raise InvalidSettingError(f"an engine must be a function, got {type(run).__name__}")
    ENGINES[name] = run
    if options is None:
        ENGINE_OPTIONS.pop(name, None)
    else:
        ENGINE_OPTIONS[name] = dict(options)


def unregister_engine(name: str) -> None:
    """Remove an engine added by `register_engine` (a built-in one cannot be removed).

    Parameters
    ----------
    name : str
        The engine's name.

    Raises
    ------
    InvalidSettingError
        `name` is a built-in engine or not registered.

    Examples
    --------
    >>> register_engine("copy_of_advi", ENGINES["advi"])
    >>> unregister_engine("copy_of_advi")
    >>> "copy_of_advi" in ENGINES
    False
    >>> unregister_engine("advi")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: 'advi' is a built-in engine and cannot be removed
    """
    if name in _BUILT_IN:
        raise InvalidSettingError(f"{name!r} is a built-in engine and cannot be removed")
    if name not in ENGINES:
        raise InvalidSettingError(f"no engine called {name!r} is registered")
    del ENGINES[name]
    ENGINE_OPTIONS.pop(name, None)
