"""Running as one of many worker processes (joblib's loky, a Dask or Ray worker): each worker
gets its own PyTensor compile folder, which is not safe to share between concurrent processes.

Workers rebuild everything from the estimator's parameters (no compiled function is pickled),
so the only state they could fight over is on disk: PyTensor's compiledir (JAX's persistent
cache writes each program atomically and is safe to share). Start workers by spawn, not fork,
once JAX is loaded (a forked JAX runtime can deadlock): loky and Dask's nanny spawn already.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import sys
import tempfile

WORKER_ENV_VAR = "PYMC_BNN_WORKER"  # "1": treat this process as a worker (e.g. a Ray actor)


def in_worker_process(environ=os.environ) -> bool:
    """True in a process started by another (multiprocessing, loky, Dask's nanny), or when
    PYMC_BNN_WORKER=1 says so (Ray's workers are not children of the driver)."""
    return environ.get(WORKER_ENV_VAR, "") == "1" or multiprocessing.parent_process() is not None


def use_private_compiledir(environ=os.environ, modules=sys.modules,
                           in_worker: bool | None = None) -> str | None:
    """In a worker process, point PyTensor's compile folder at a new temporary folder of its
    own (removed at exit), before PyTensor is imported. Does nothing in the main process, once
    PyTensor is imported, or when PYTENSOR_FLAGS already sets base_compiledir. Returns the
    folder, or None when nothing was changed."""
    if "pytensor" in modules:
        return None
    if not (in_worker_process(environ) if in_worker is None else in_worker):
        return None
    flags = environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" in flags:
        return None
    folder = tempfile.mkdtemp(prefix="pymc-bnn-pytensor-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={folder}") if f)
    return folder
