"""Lazy package attributes (PEP 562): a package names what it offers without importing it.

`import pymc_bnn` and `pymc-bnn --help` stay fast because a package's `__init__` only records
where each public name lives; the module holding it (and PyMC, JAX, matplotlib behind it) is
imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_attributes(package: str, where: dict[str, tuple[str, ...]]
                    ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Module `__getattr__` and `__dir__` for `package` that import each name on first use.

    Parameters
    ----------
    package : str
        The package's `__name__`.
    where : dict
        Module path → the public names it defines, e.g.
        ``{"pymc_bnn.model.build": ("BNNModel", "build_model")}``.

    Returns
    -------
    (__getattr__, __dir__)
        Assign both at the package's top level.

    Examples
    --------
    >>> import sys, types
    >>> sys.modules["lazy_demo"] = types.ModuleType("lazy_demo")
    >>> getattr_, dir_ = lazy_attributes("lazy_demo", {"math": ("pi",)})
    >>> round(getattr_("pi"), 2)
    3.14
    >>> "pi" in dir_()
    True
    >>> "pi" in vars(sys.modules["lazy_demo"])  # cached after the first look-up
    True
    """
    module_of = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str):
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_of[name]), name)
        namespace = importlib.import_module(package).__dict__
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(module_of))

    return __getattr__, __dir__
