"""Old module paths that still import, with a DeprecationWarning, for one release.

pymc-bnn 0.2 moved its flat modules into layered subpackages (`model/`, `posterior/`,
`reporting/`, `io/`, `active/`, `cli/`, `demos/`, `_runtime/`). `import pymc_bnn.network` and
`from pymc_bnn.plots import probability_map` keep working: an import of an old path warns once
and returns a module that forwards every attribute to the module's new home.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings
from importlib.machinery import ModuleSpec

# old path → new path (submodules of a moved package follow their package)
MOVED = {
    "pymc_bnn.network": "pymc_bnn.model.network",
    "pymc_bnn.likelihoods": "pymc_bnn.model.likelihoods",
    "pymc_bnn.groups": "pymc_bnn.model.groups",
    "pymc_bnn.priors": "pymc_bnn.model.priors",
    "pymc_bnn.prior_predictive": "pymc_bnn.model.prior_predictive",
    "pymc_bnn.symmetry": "pymc_bnn.model.symmetry",
    "pymc_bnn.uncertainty": "pymc_bnn.posterior.uncertainty",
    "pymc_bnn.metrics": "pymc_bnn.posterior.metrics",
    "pymc_bnn.stability": "pymc_bnn.posterior.stability",
    "pymc_bnn.representation": "pymc_bnn.posterior.representation",
    "pymc_bnn.plots": "pymc_bnn.reporting.plots",
    "pymc_bnn.report": "pymc_bnn.reporting.html",
    "pymc_bnn.stability_plots": "pymc_bnn.reporting.stability_plots",
    "pymc_bnn.stability_report": "pymc_bnn.reporting.stability_report",
    "pymc_bnn.model_report": "pymc_bnn.reporting.model_report",
    "pymc_bnn.model_file": "pymc_bnn.io.model_file",
    "pymc_bnn.model_file_checks": "pymc_bnn.io.model_file_checks",
    "pymc_bnn.acquisition": "pymc_bnn.active.acquisition",
    "pymc_bnn.cli_args": "pymc_bnn.cli.args",
    "pymc_bnn.cli_model": "pymc_bnn.cli.model_commands",
    "pymc_bnn.cli_stability": "pymc_bnn.cli.stability_command",
    "pymc_bnn.tables": "pymc_bnn.cli.tables",
    "pymc_bnn.demo": "pymc_bnn.demos.seed",
    "pymc_bnn.demo_methods": "pymc_bnn.demos.methods",
    "pymc_bnn.demo_hierarchical": "pymc_bnn.demos.hierarchical",
    "pymc_bnn.demo_active": "pymc_bnn.demos.active",
    "pymc_bnn.demo_support": "pymc_bnn.demos.support",
    "pymc_bnn.jax_setup": "pymc_bnn._runtime.jax_setup",
    "pymc_bnn.progress": "pymc_bnn._runtime.progress",
    "pymc_bnn.outputs": "pymc_bnn._runtime.outputs",
}


def new_path(old: str) -> str | None:
    """The new home of module path `old`, or None when it did not move.

    Examples
    --------
    >>> new_path("pymc_bnn.priors.base")
    'pymc_bnn.model.priors.base'
    >>> new_path("pymc_bnn.inference") is None
    True
    """
    for before, after in MOVED.items():
        if old == before or old.startswith(before + "."):
            return after + old[len(before):]
    return None


class _Forwarding(types.ModuleType):
    """A stand-in at an old path: attribute reads and writes go to the module's new home."""

    def __getattr__(self, name):
        return getattr(importlib.import_module(self.__dict__["_target"]), name)

    def __setattr__(self, name, value):
        if name.startswith("__") or name == "_target":
            super().__setattr__(name, value)
        else:
            setattr(importlib.import_module(self.__dict__["_target"]), name, value)

    def __dir__(self):
        return dir(importlib.import_module(self.__dict__["_target"]))


class MovedModuleFinder:
    """Finds the old module paths of `MOVED` and loads a forwarding stand-in for each.

    A meta-path finder and loader by protocol (`find_spec`, `create_module`, `exec_module`); it
    does not derive from `importlib.abc`, whose import (inspect and more) would cost every
    `import pymc_bnn` tens of milliseconds.
    """

    def find_spec(self, fullname, path=None, target=None):
        """A spec for an old module path, None for any other."""
        if new_path(fullname) is None:
            return None
        return ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        """The forwarding stand-in (its new home is imported first)."""
        target = new_path(spec.name)
        importlib.import_module(target)  # a bad path fails here, as it would have before
        module = _Forwarding(spec.name)
        module.__dict__["_target"] = target
        return module

    def exec_module(self, module):
        """Warn that the path moved."""
        target = module.__dict__["_target"]
        warnings.warn(f"{module.__name__} moved to {target}; import it from there "
                      "(the old path goes in the next release)", DeprecationWarning, stacklevel=2)
        module.__path__ = []  # so that old submodule paths (pymc_bnn.priors.base) resolve


def moved_names(module: str, homes: dict[str, str | tuple[str, str]]):
    """A module `__getattr__` for names that moved out of `module` to other modules.

    Reading a moved name warns (DeprecationWarning, at the reader's line) and returns it from
    its new home; any other missing name is an AttributeError, as Python's own.

    Parameters
    ----------
    module : str
        The module the names left (its `__name__`).
    homes : dict
        Name → the module it lives in now, or `(module, new name)` where it was renamed too.

    Returns
    -------
    callable
        `__getattr__(name)`, to assign at the module's top level.

    Examples
    --------
    >>> import warnings
    >>> getter = moved_names("pymc_bnn.old", {"MOVED": "pymc_bnn._runtime.moved"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     homes = getter("MOVED")
    >>> homes is MOVED, str(caught[0].message).split(';')[0]
    (True, 'pymc_bnn.old.MOVED moved to pymc_bnn._runtime.moved.MOVED')
    >>> renamed = moved_names("pymc_bnn.old", {"_HOMES": ("pymc_bnn._runtime.moved", "MOVED")})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     homes = renamed("_HOMES")
    >>> homes is MOVED, str(caught[0].message).split(';')[0]
    (True, 'pymc_bnn.old._HOMES moved to pymc_bnn._runtime.moved.MOVED')
    >>> getter("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'pymc_bnn.old' has no attribute 'nothing'
    """
    def __getattr__(name: str):
        if name in homes:
            where = homes[name]
            home, new = where if isinstance(where, tuple) else (where, name)
            warnings.warn(f"{module}.{name} moved to {home}.{new}; import it from "
                          "there (the old name goes in the next release)", DeprecationWarning,
                          stacklevel=2)
            return getattr(importlib.import_module(home), new)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def install() -> None:
    """Put the finder on `sys.meta_path` once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
