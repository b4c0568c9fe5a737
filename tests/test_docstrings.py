"""Every public function and class has a numpydoc docstring with an example that runs.

The examples themselves run as doctests (`--doctest-modules` over `src/pymc_bnn`); this test
checks that each public name has one. Public means:

- every name in `pymc_bnn.__all__` and in the `__all__` of each public module or package, wherever
  it is defined (a name re-exported from a private module, like `expose_cpu_cores`, is public);
- every function and class defined at the top level of a public module under its own
  non-underscore name.

An example needs at least one `>>>` line that is not marked `doctest: +SKIP` (a fit that
takes seconds may be shown skipped, next to lines that run).

A module is public when no part of its dotted path starts with an underscore (`_runtime`,
`__main__` are not). Modules are found on disk (`pkgutil.walk_packages`), so the deprecated
module paths of `pymc_bnn._runtime.moved` are never imported. Constants in `__all__` (`ENGINES`,
`DEFAULT_PRIOR` ...) are not functions or classes and are not checked. Methods are documented
in their class's docstring, which is what is checked.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import pymc_bnn

# Modules another branch is rewriting (issue 16), whose docstrings come with that rewrite:
# names defined in these modules (or under these packages) are skipped. Empty: every public
# name is checked.
PENDING_OTHER_BRANCH: tuple[str, ...] = ()


def _is_public_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_modules() -> list[str]:
    """`pymc_bnn` and every public module and package under it, found on disk."""
    found = [pymc_bnn.__name__]
    for info in pkgutil.walk_packages(pymc_bnn.__path__, prefix="pymc_bnn.",
                                      onerror=lambda name: None):
        if _is_public_module(info.name):
            found.append(info.name)
    return sorted(found)


def _defined_in(obj) -> str:
    return getattr(inspect.unwrap(obj), "__module__", None) or ""


def _is_function_or_class(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(inspect.unwrap(obj))


def public_objects() -> dict[str, object]:
    """Qualified name (where the object is defined) → each public function and class."""
    objects: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # a moved path is a bug here
        for module_name in public_modules():
            module = importlib.import_module(module_name)
            names = set(getattr(module, "__all__", ()))
            names |= {name for name, obj in vars(module).items()
                      if not name.startswith("_") and _is_function_or_class(obj)
                      and _defined_in(obj) == module_name}
            for name in sorted(names):
                obj = getattr(module, name)  # a lazy attribute imports its module here
                if _is_function_or_class(obj):
                    home = inspect.unwrap(obj)
                    objects[f"{home.__module__}.{home.__qualname__}"] = obj
    return objects


def _pending(qualified: str) -> bool:
    return any(qualified.startswith(module + ".") for module in PENDING_OTHER_BRANCH)


def _has_example(obj) -> bool:
    from numpydoc.docscrape import NumpyDocString

    doc = inspect.unwrap(obj).__doc__  # not inspect.getdoc: a class would inherit its base's
    if not doc:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpydoc's complaints about other sections
        try:
            examples = NumpyDocString(inspect.cleandoc(doc))["Examples"]
        except Exception:  # not parseable as numpydoc
            return False
    # at least one line that runs: an example shown only under `doctest: +SKIP` does not count
    return any(line.lstrip().startswith(">>>") and "+SKIP" not in line for line in examples)


def test_the_walk_finds_the_public_names_and_no_private_ones():
    objects = public_objects()
    assert "pymc_bnn.inference.fit" in objects
    assert "pymc_bnn.model.network.NetworkSpec" in objects
    # public by re-export from a private module
    assert "pymc_bnn._runtime.jax_setup.expose_cpu_cores" in objects
    assert not [name for name in objects if name.rsplit(".", 1)[-1].startswith("_")]
    assert "pymc_bnn._runtime.moved.new_path" not in objects


def test_every_public_function_and_class_has_a_numpydoc_example():
    missing = sorted(name for name, obj in public_objects().items()
                     if not _pending(name) and not _has_example(obj))
    assert not missing, (
        f"{len(missing)} public functions and classes have no numpydoc Examples section with a "
        ">>> line that runs:\n  " + "\n  ".join(missing))
