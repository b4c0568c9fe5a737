"""Running as one of many worker processes: each gets a PyTensor compile folder of its own.

Worker processes are joblib's loky workers, Dask or Ray workers. PyTensor's compile folder is
not safe to share between concurrent processes.

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
    """Whether this process is a worker: started by another process, or marked by the environment.

    True in a process started by another (multiprocessing, loky, Dask's nanny), or when
    PYMC_BNN_WORKER=1 says so (Ray's workers are not children of the driver).

    Parameters
    ----------
    environ : mapping, default os.environ
        Where PYMC_BNN_WORKER is read.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_worker_process({"PYMC_BNN_WORKER": "1"})
    True
    """
    return environ.get(WORKER_ENV_VAR, "") == "1" or multiprocessing.parent_process() is not None


def use_private_compiledir(environ=os.environ, modules=sys.modules,
                           in_worker: bool | None = None) -> str | None:
    """In a worker process, give PyTensor a compile folder of its own before PyTensor is imported.

    The folder is a new temporary folder, removed at exit. Does nothing in the main process,
    once PyTensor is imported, or when PYTENSOR_FLAGS already sets base_compiledir.

    Parameters
    ----------
    environ : mapping, default os.environ
        The environment whose PYTENSOR_FLAGS is extended.
    modules : mapping, default sys.modules
        The imported modules (looked up for "pytensor").
    in_worker : bool, optional
        Whether this is a worker; default `in_worker_process(environ)`.

    Returns
    -------
    str or None
        The folder, or None when nothing was changed.

    Examples
    --------
    >>> environ = {}
    >>> folder = use_private_compiledir(environ, modules={}, in_worker=True)
    >>> environ["PYTENSOR_FLAGS"] == f"base_compiledir={folder}"
    True
    >>> use_private_compiledir({}, modules={}, in_worker=False) is None  # the main process
    True
    """
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
