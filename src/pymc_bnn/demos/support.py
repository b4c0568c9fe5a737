"""What every demo shares: step timings, the final ELBO, and the library versions a run used."""

from __future__ import annotations

import platform
import time
from contextlib import contextmanager

import numpy as np


class Timer(dict):
    """Step timings: `with timer("fit_s"): ...` stores the step's wall time in seconds.

    A dict of step name → seconds.

    Examples
    --------
    >>> timer = Timer()
    >>> with timer("sleep_s"):
    ...     pass
    >>> list(timer), timer["sleep_s"] >= 0
    (['sleep_s'], True)
    """

    @contextmanager
    def __call__(self, key):
        """Time the `with` block and store its wall time, in seconds, under `key`."""
        start = time.perf_counter()
        yield
        self[key] = time.perf_counter() - start


def final_elbo(elbo) -> float | None:
    """The mean of the last 1% of an ELBO trace (None without one): less noisy than its end.

    Parameters
    ----------
    elbo : array-like or None
        The ELBO per step.

    Returns
    -------
    float or None

    Examples
    --------
    >>> final_elbo([-5.0] * 198 + [-1.0, -3.0])
    -2.0
    >>> final_elbo(None) is None
    True
    """
    if elbo is None or len(elbo) == 0:
        return None
    tail = np.asarray(elbo)[-max(1, len(elbo) // 100):]
    return float(np.mean(tail))


def versions() -> dict:
    """The versions a run used: pymc-bnn, PyMC, ArviZ, Python.

    Returns
    -------
    dict
        Package name → version string.

    Examples
    --------
    >>> sorted(versions())
    ['arviz', 'pymc', 'pymc_bnn', 'python']
    """
    import arviz
    import pymc

    from pymc_bnn import __version__

    return {"pymc_bnn": __version__, "pymc": pymc.__version__, "arviz": arviz.__version__,
            "python": platform.python_version()}
