"""An ensemble's members as separate fits, run through joblib (the estimators' `n_jobs`).

With `ensemble=True`, advi and fullrank_advi keep every restart as an equally weighted member.
By default the members run together, in one compiled program on this machine's devices. With
`n_jobs` each member is a fit of its own (one restart, its own seed), dispatched by
`joblib.Parallel`, so `with joblib.parallel_backend("dask"):` (or Ray's backend) runs them on a
cluster. A worker rebuilds the model from plain data (the rows, the network's description, the
engine's name and options: nothing compiled is pickled) in its own PyTensor compile folder
(`pymc_bnn._runtime.workers`). The members then join into one posterior, one chain each, as
the one-program ensemble's are.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import numpy as np

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn.errors import InvalidSettingError

# Engines whose ensemble members are independent runs to the end (laplace chooses one
# temperature from all its members together: they are one fit).
SEPARABLE_ENSEMBLES = ("advi", "fullrank_advi")
# ensemble=True without restarts=: as the engines (vi.py: deep ensembles gain little past 5).
_DEFAULT_MEMBERS = 5


def member_seeds(random_seed: int, members: int) -> list[int]:
    """One independent seed per member, spawned from `random_seed` (numpy's SeedSequence).

    Parameters
    ----------
    random_seed : int
        The fit's seed.
    members : int
        How many members.

    Returns
    -------
    list of int
        Seeds in [0, 2**31).

    Examples
    --------
    >>> seeds = member_seeds(0, 3)
    >>> len(set(seeds)), seeds == member_seeds(0, 3)
    (3, True)
    """
    return [int(child.generate_state(1)[0] % 2**31)
            for child in np.random.SeedSequence(random_seed).spawn(members)]


def fit_members(build: dict, method: str, options: dict, *, draws: int, random_seed: int,
                n_jobs: int, progress: bool = False):
    """Fit an ensemble's members as separate fits through joblib and join them.

    Parameters
    ----------
    build : dict
        Keyword arguments of `pymc_bnn.build_model` (plain data: arrays, strings, numbers).
    method : str
        An engine of `SEPARABLE_ENSEMBLES`.
    options : dict
        The engine options, checked, with `ensemble=True`; `restarts` (default 5) is the
        number of members.
    draws : int
        Draws over all members (each gets ceil(draws / members), as in one program).
    random_seed : int
        Spawns each member's seed (`member_seeds`).
    n_jobs : int
        `joblib.Parallel`'s n_jobs; the active joblib backend (loky, dask, ray) runs them.
        Where that is one at a time in this process (1, or None), Ctrl-C ends the ensemble:
        the member it lands in keeps its state so far, the members after it are not fitted,
        and the posterior holds the members so far, flagged interrupted (with a warning).
    progress : bool
        Show each member's progress bar (in its own process).

    Returns
    -------
    Posterior
        One chain per member, in member order; `diagnostics["members_fitted"]` is "separately".

    Raises
    ------
    InvalidSettingError
        An engine whose members are one fit.

    Examples
    --------
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=40)
    >>> build = {"X": data.X_train, "y": data.y_train, "hidden": (2,)}
    >>> posterior = fit_members(build, "advi", {"ensemble": True, "restarts": 2, "steps": 50,
    ...                         "tol": 0}, draws=20, random_seed=0, n_jobs=1)
    >>> posterior.idata["posterior"].sizes["chain"], posterior.n_draws
    (2, 20)
    """
    if method not in SEPARABLE_ENSEMBLES:
        raise InvalidSettingError(
            f"separate fits of ensemble members (n_jobs=) need an engine whose members are "
            f"separate, but {method}'s are one fit (it chooses their settings together); use "
            f"one of {', '.join(SEPARABLE_ENSEMBLES)}, "
            "or leave out n_jobs=")
    members = int(options.get("restarts") or _DEFAULT_MEMBERS)
    each = {**options, "restarts": 1, "ensemble": False}
    per_member = math.ceil(draws / members)
    jobs = [(build, method, each, per_member, seed, progress)
            for seed in member_seeds(random_seed, members)]
    started = time.perf_counter()
    fits, stopped = fit_separately(jobs, n_jobs, whole=False)
    joined = join_members(fits)
    joined.timings["total_s"] = time.perf_counter() - started  # side by side: not their sum
    if stopped:
        joined = dataclasses.replace(joined, interrupted=True)
    if len(fits) < members:
        warn_caller(f"the fit was interrupted: kept {len(fits)} of {members} ensemble members")
    warn_here(joined.diagnostics["warnings"])
    return joined


def fit_separately(jobs: list, n_jobs, *, whole: bool) -> tuple[list, bool]:
    """Run `fit_in_worker(*job)` for each job through joblib; (the fits, stopped by Ctrl-C).

    Where joblib would run them one after another in this process (`n_jobs` 1 or None), they
    run in a plain loop, so that one Ctrl-C (which stops only the fit it lands in; its engine
    keeps that fit's state) ends them all. `whole=False` (an ensemble's members): the fits
    after the press do not run; a press between two fits keeps those done (stopped is then
    True) and one before the first raises. `whole=True` (a network's groups, each needed):
    every fit runs, and each after the press stops at its engine's first check, flagged
    interrupted, as a joint fit's parts stop together. Other backends (loky's processes, a
    Dask or Ray cluster) run the fits elsewhere, where a press goes as that backend takes it.

    Examples
    --------
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=40)
    >>> build = {"X": data.X_train, "y": data.y_train, "hidden": (2,)}
    >>> fits, stopped = fit_separately([(build, "advi", {"steps": 50, "tol": 0}, 10, seed, False)
    ...                                 for seed in (0, 1)], 1, whole=False)
    >>> len(fits), stopped
    (2, False)
    """
    from joblib import Parallel, delayed, effective_n_jobs
    from joblib.parallel import MultiprocessingBackend, get_active_backend

    if effective_n_jobs(n_jobs) != 1:
        # joblib's own "multiprocessing" backend forks; Ray's subclasses it but runs its tasks
        # in Ray's workers, which are not forks of this process
        if type(get_active_backend()[0]) is MultiprocessingBackend:
            raise InvalidSettingError(
                "joblib's 'multiprocessing' backend forks this process, and a fork of a "
                "process running JAX hangs; use joblib.parallel_backend('loky') (the default) "
                "or a Dask or Ray backend, or leave out n_jobs=")
        return Parallel(n_jobs=n_jobs)(delayed(fit_in_worker)(*job) for job in jobs), False
    if whole:
        from pymc_bnn._runtime.interrupt import ctrl_c_deferred

        with ctrl_c_deferred():
            return [fit_in_worker(*job) for job in jobs], False
    fits: list = []
    try:
        for job in jobs:
            fits.append(fit_in_worker(*job))
            if fits[-1].interrupted:
                break
    except KeyboardInterrupt:  # between two fits' engines: before the next one began
        if not fits:
            raise
        return fits, True
    return fits, False


def fit_in_worker(build: dict, method: str, options: dict, draws: int, seed: int,
                  progress: bool):
    """One fit in a joblib worker: the model rebuilt from `build`, fitted, warnings kept.

    An ensemble's member here, a pooling="none" group's network in `group_fits`. The worker
    compiles in a PyTensor folder of its own; the convergence warnings travel back in the
    posterior's diagnostics (the caller says them where the user sees them).

    Examples
    --------
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=40)
    >>> build = {"X": data.X_train, "y": data.y_train, "hidden": (2,)}
    >>> fit_in_worker(build, "advi", {"steps": 50, "tol": 0}, 10, 0, False).n_draws
    10
    """
    from pymc_bnn._runtime.workers import use_private_compiledir

    use_private_compiledir()  # before PyTensor is imported in this process
    from pymc_bnn import build_model, fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", convergence_warning())
        return fit(build_model(**build), method, draws=draws, random_seed=seed,
                   progress=progress, **options)


def join_members(posteriors: list):
    """Posteriors of one network, each one chain, as one ensemble posterior (a chain each).

    The `variational` group (q of the first member, from which a warm start continues) and
    settings come from the first; timings are summed (`fit_members` sets total_s to the
    seconds the fits took together); diagnostics list every member's final
    ELBO (the mean over its last window) and warning.

    Parameters
    ----------
    posteriors : list of Posterior
        Fits of the same network, one chain each, with equal draws.

    Returns
    -------
    Posterior

    Examples
    --------
    >>> joined = join_members([fitted, fitted])
    >>> joined.idata["posterior"].sizes["chain"], joined.n_draws == 2 * fitted.n_draws
    (2, True)
    """
    import xarray as xr

    first = posteriors[0]
    idata = first.idata.copy()
    draws = xr.concat([p.idata["posterior"].to_dataset() for p in posteriors], dim="chain")
    idata["posterior"] = draws.assign_coords(chain=np.arange(len(posteriors)))
    diagnostics = {
        **first.diagnostics,
        "members": list(range(len(posteriors))), "members_fitted": "separately",
        "restart_elbos": [elbo for p in posteriors
                          for elbo in p.diagnostics.get("restart_elbos", [float("nan")])[:1]],
        "converged": all(p.diagnostics.get("converged", True) for p in posteriors),
        "warnings": worker_warnings(posteriors),
    }
    return dataclasses.replace(
        first, idata=idata, timings=summed_timings(posteriors), diagnostics=diagnostics,
        interrupted=any(p.interrupted for p in posteriors),
        settings={**first.settings, "ensemble": True, "restarts": len(posteriors),
                  "draws": sum(p.n_draws for p in posteriors)})


def summed_timings(posteriors: list) -> dict:
    """Each timing (seconds) summed over separate fits: the work done, not the wall time.

    Examples
    --------
    >>> summed_timings([fitted, fitted])["fit_s"] == 2 * fitted.timings["fit_s"]
    True
    """
    timings: dict = {}
    for posterior in posteriors:
        for key, seconds in posterior.timings.items():
            timings[key] = timings.get(key, 0.0) + seconds
    return timings


def worker_warnings(posteriors: list) -> list[str]:
    """The convergence warnings separate fits kept in their diagnostics, each once, in order.

    Examples
    --------
    >>> worker_warnings([fitted, fitted]) == fitted.diagnostics.get("warnings", [])
    True
    """
    return list(dict.fromkeys(m for p in posteriors for m in p.diagnostics.get("warnings", [])))


def warn_here(messages: list[str]) -> None:
    """Say the workers' convergence warnings in this process, where the user sees them.

    The warnings point at the user's line that called the library (`warn_caller`).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     warn_here(["advi stopped at the maximum of 50 steps"])
    >>> [str(w.message) for w in said]
    ['advi stopped at the maximum of 50 steps']
    """
    for message in messages:
        warn_caller(message, convergence_warning())


def convergence_warning():
    """`pymc_bnn.errors.ConvergenceWarning`, imported when first needed.

    Examples
    --------
    >>> convergence_warning().__name__
    'ConvergenceWarning'
    """
    from pymc_bnn.errors import ConvergenceWarning

    return ConvergenceWarning
