"""`stack_linear=True`, `stack_heteroscedastic=True`: the network stacked by cross-validation.

The members (the network; its Bayesian GLM; for a Gaussian regressor, the same network with a
heteroscedastic likelihood) are fitted to every row, then to each of `STACKING_FOLDS` folds'
training rows to score the rows held out; `pymc_bnn.posterior.stacking` turns the held-out log
densities into stacking weights (ArviZ's `compare`) and the full fits into one posterior. The
folds see every training row once held out, where a single held-out part of 20% could not tell
the network and the GLM apart (benchmarks/README.md, "Stacking the network and a GLM"). Cost:
about (folds + 1) fits of each member, made cheaper where the folds can share the full fits'
choices: a regressor's network members choose their MAP's prior scale on held-out rows once
(the full fit) and each fold fits one MAP at that scale; every fold's network fits its MAP from
one start (the full fit keeps the best of its restarts; a fold's network only scores its
held-out rows, and a small network's four starts cost nearly four times one), unless the user
asked for a number of restarts or an ensemble; the GLM never searches for a scale (its
evidence rounds choose it); the folds keep `FOLD_DRAWS` draws. With
`network_noise="follows_mean"` (a regressor's default) the network's noise sd follows its mean
(`pymc_bnn.posterior.noise_function`) in its full fit and in every fold's, so the weights
judge the network the user gets.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn._runtime.progress import progress_bar, progress_note
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import fit
from pymc_bnn.inference.laplace_map import steps_batch
from pymc_bnn.inference.laplace_settings import LaplaceSettings
from pymc_bnn.io.model_file import fitted_state
from pymc_bnn.model.build import build_model
from pymc_bnn.posterior.noise_function import noise_follows_mean
from pymc_bnn.posterior.stacked_members import MEMBER_WORDS, MEMBERS
from pymc_bnn.posterior.stacking import log_predictive_density, stack_posteriors, stacking_weights

# Folds of the cross-validation behind the weights (fewer where a class has fewer rows).
STACKING_FOLDS = 5
# Draws of each fold's fit: its held-out log densities average the predictive density over
# them, where 250 draws leave a Monte Carlo error far below the differences the weights act
# on; fewer draws halve the multiclass output layer's sampling (500 warm-up steps stay).
FOLD_DRAWS = 250


# `stack_linear="auto"` stacks where the panel measured a gain within seconds
# (`stacks_by_default`): training rows from the first to the second number. Below 100 rows
# a fold holds out 20 rows or fewer, too few to weigh two models; above 2,000 a stacked fit's
# dozen MAPs would take longer than the seconds a default fit should (a network's flexibility
# is also the better-settled choice there).
AUTO_ROWS = (100, 2_000)


# One fold's fit: `fold_density`'s arguments (build, method, options, draws, random_seed, train
# rows, test rows, the network's noise).
type FoldJob = tuple[dict, str, dict, int, int, np.ndarray, np.ndarray, str]
# What a member's noise sd may be (`network_noise`): one sd, or a function of the mean.
NETWORK_NOISE = ("constant", "follows_mean")


def fit_stacked(build: dict, method: str, options: dict, *, draws: int, random_seed: int,
                classifier: bool, progress: bool = False, n_jobs: int | None = None,
                classes=None, return_parts: bool = False,
                members: tuple[str, ...] = ("network", "linear"),
                network_noise: str = "constant"):
    """The stacked posterior of the network `build` describes and other models of its rows.

    Parameters
    ----------
    build : dict
        `build_model`'s arguments for the network (rows already standardised).
    method, options : str, dict
        The engine and its options, for every fit; laplace's `hessian="auto"` takes the last
        layer (the whole network's Gaussian predicts through the linearised network, whose
        draws cannot be mixed with the GLM's), and its MAPs run L-BFGS where every step sees
        every row, unless `map_optimizer` is given.
    draws, random_seed : int
        The result's draws; the seed of every fit and of the folds.
    classifier : bool
        Stratify the folds by class (the target holds class codes).
    progress : bool, default False
        Progress bars of the two full fits, each under a line naming its model, then one bar
        over the fold fits (which run quietly).
    n_jobs : int or None, default None
        Fold fits run at a time (joblib's count: -1 is one per core): in threads of this
        process (a fit keeps about one core busy), or on the cluster of an active joblib
        backend (`joblib.parallel_backend("dask")`, Ray; a backend of processes on this
        machine gets threads, which need no second import and compilation). None: one per
        core, in threads here, whatever backend is active; 1: one after another. The weights
        are the same either way.
    classes : array-like, optional
        The class labels, for the words of an error about a class with too few rows.
    return_parts : bool, default False
        Also return the full fits the mixture is made of.
    members : tuple of str, default ("network", "linear")
        The models stacked, "network" and one or both of "linear" (its GLM: hidden=(), no
        skip path) and "heteroscedastic" (the network with a heteroscedastic likelihood, for a
        Gaussian regressor: its noise sd a second output, where the Gaussian's is one number).
    network_noise : {"constant", "follows_mean"}, default "constant"
        "follows_mean": the network member's noise sd becomes a function of its mean after its
        full fit and after every fold's (`noise_follows_mean`; a Gaussian network with biases),
        so its held-out densities are those of the model the mixture holds. The other members
        keep theirs.

    Returns
    -------
    Posterior
        A network without hidden layers stacked with its GLM (itself) is fitted alone.
        Otherwise see `stack_posteriors`; `settings["stacking"]` also holds the folds and each
        model's mean held-out log density (nats per row). A Ctrl-C after the network's full fit
        keeps that fit alone, marked interrupted.
    parts : dict
        Only with `return_parts`: member name → `Posterior` of that model alone on every row,
        for each full fit made (only "linear" for a GLM stacked with itself; the network alone
        where a Ctrl-C came before another member's full fit).

    Raises
    ------
    InvalidSettingError
        Groups, a Laplace posterior that predicts through the linearised network, too few rows
        (of a class) for two folds, or members it does not know or cannot stack; the message
        names the estimator's parameter that asked for the stacking.

    Examples
    --------
    >>> build = {"X": tiny_data.X_train, "y": tiny_data.y_train, "hidden": (3,)}
    >>> stacked, parts = fit_stacked(build, "laplace", {"steps": 200}, draws=50, random_seed=0,
    ...                              classifier=True, return_parts=True)
    >>> sorted(stacked.settings["stacking"]["weights"]), stacked.settings["stacking"]["folds"]
    (['linear', 'network'], 5)
    >>> sorted(parts), parts["linear"].idata["posterior"]["w_0"].shape[-1]  # no hidden layer
    (['linear', 'network'], 1)

    A Gaussian regressor's network, stacked with its heteroscedastic self alone:

    >>> build = {"X": tiny_data.X_train, "y": tiny_data.X_train[:, 0], "hidden": (3,),
    ...          "bias": True, "likelihood": "gaussian"}
    >>> twins = fit_stacked(build, "laplace", {"steps": 200}, draws=50, random_seed=0,
    ...                     classifier=False, members=("network", "heteroscedastic"))
    >>> twins.likelihood.name, sorted(twins.settings["stacking"]["weights"])
    ('heteroscedastic', ['heteroscedastic', 'network'])
    """
    import time

    from sklearn.model_selection import KFold, StratifiedKFold

    started = time.perf_counter()
    asked = stacking_words(members)
    if network_noise not in NETWORK_NOISE:
        raise InvalidSettingError(f"network_noise takes {' or '.join(map(repr, NETWORK_NOISE))}, "
                                  f"got {network_noise!r}")
    if not build["hidden"] and tuple(members) == ("network", "linear"):
        # a GLM stacked with itself is that GLM (a grid over both options), its noise as asked
        alone = fit(build_model(**build), method, draws=draws, random_seed=random_seed,
                    progress=progress, **options)
        alone = _with_noise(alone, network_noise, random_seed)
        return (alone, {"linear": alone}) if return_parts else alone
    models = {name: _member_build(build, name, asked) for name in _checked_members(members)}
    noise = {name: network_noise if name == "network" else "constant" for name in models}
    if build.get("groups") is not None:
        raise InvalidSettingError(f"{asked} cannot fit groups yet; leave out groups= or {asked}")
    if options.get("hessian") == "auto":  # the choice that can be stacked: draws of the network
        options = {**options, "hessian": "last_layer"}
    if options.get("hessian", "last_layer") != "last_layer":
        raise InvalidSettingError(
            f"{asked} takes laplace's last-layer posterior (draws of the network); "
            f"hessian={options['hessian']!r} predicts through the linearised network, whose "
            f"draws cannot be mixed: leave out hessian= or {asked}")
    y = np.asarray(build["y"])
    # every fold's training part keeps 2 rows or more (a fit needs 2)
    folds = min(STACKING_FOLDS, len(y) if len(y) >= 3 else 1)
    if classifier:
        counts = np.bincount(y.astype(int))
        folds = min(folds, int(counts.min()))
        if folds < 2:
            rarest = int(np.argmin(counts))
            label = classes[rarest] if classes is not None else rarest
            label = label.item() if isinstance(label, np.generic) else label  # 1.0, not np.…
            counted = classes is not None and np.issubdtype(np.asarray(classes).dtype, np.number)
            raise InvalidSettingError(
                f"{asked} needs at least 2 rows of every class for its "
                f"cross-validation, but class {label!r} has {int(counts[rarest])}; leave out "
                f"{asked}" + (" (or, if the labels are counts, fit a regressor with "
                              "likelihood='poisson')" if counted else ""))
    if folds < 2:
        raise InvalidSettingError(f"{asked} needs at least 3 rows for its "
                                  f"cross-validation; leave out {asked}")
    options = _lbfgs_where_full_batch(method, options, len(y))
    # A GLM's evidence rounds choose its prior scale; a held-out search for its MAP's adds
    # nothing but five fits.
    engine_options = {name: _without_held_out_scale(options) if name == "linear" else options
                      for name in models}

    full = {}
    for name in models:
        progress_note(progress, f"[bold]Stacking[/] · {MEMBER_WORDS[name].title}, on every row")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            full[name] = fit(build_model(**models[name]), method, draws=draws,
                             random_seed=random_seed, progress=progress, **engine_options[name])
            full[name] = _with_noise(full[name], noise[name], random_seed)
        for said in caught:  # which of the two models a warning is about, said at the caller
            # after the engine's words, so that a `filterwarnings(message=...)` written for a
            # plain fit still matches
            warn_caller(f"{said.message} [stacking: {MEMBER_WORDS[name].fit}]", said.category)
        if full[name].interrupted:  # the network as far as it got, or its whole fit
            network = _network_alone(full["network"], f"{MEMBER_WORDS[name].title}'s fit")
            return (network, {"network": full["network"]}) if return_parts else network
    # The folds' networks take the scale their full fit chose on its held-out rows instead of
    # choosing again on 80% of 80%, from one start as the full fit's MAP (which starts from
    # the chosen candidate's): one MAP per fold where the search fits six. Without a choice (a
    # classifier) they also fit from one start where the full fit took several. An ensemble's
    # folds keep their members: its held-out rows are the mixture's to score.
    for name in models:
        chosen = full[name].diagnostics.get("map_scale_choice")
        one_start = {} if name == "linear" or options.get("ensemble") else {"restarts": 1}
        engine_options[name] = {**one_start, **engine_options[name]}
        if chosen is not None:
            engine_options[name]["map_scale"] = chosen["scale"]
    splitter = (StratifiedKFold if classifier else KFold)(folds, shuffle=True,
                                                          random_state=random_seed % 2**32)
    tasks = [(name, train, test) for train, test in splitter.split(build["X"], y)
             for name in models]
    try:
        densities = _held_out_densities(
            [(models[name], method, engine_options[name], min(draws, FOLD_DRAWS), random_seed,
              train, test, noise[name]) for name, train, test in tasks], n_jobs, progress)
    except KeyboardInterrupt:
        network = _network_alone(full["network"], "its cross-validation")
        return (network, full) if return_parts else network
    held_out = {name: np.empty(len(y)) for name in models}
    for (name, _, test), density in zip(tasks, densities, strict=True):
        held_out[name][test] = density
    # a row's sample weight counts in the held-out score as in the fits (as copies of the row)
    row_weights = build.get("sample_weight")
    weights = stacking_weights(held_out, row_weights=row_weights)
    stacked = stack_posteriors(full, weights, n_draws=draws, random_seed=random_seed, settings={
        "folds": folds, "held_out_lpd": {n: float(np.average(v, weights=row_weights))
                                         for n, v in held_out.items()}})
    # the whole stacked fit's time (the network's full fit keeps its own parts beside it)
    stacked.timings["total_s"] = time.perf_counter() - started
    stacked.timings["network_fit_s"] = full["network"].timings.get("total_s")
    # the diagnostics are the network's; the other members' stopping rules are kept beside
    # them so that `judge_convergence` (info, report, the CLI) judges every fit
    for name in models:
        if name != "network":
            other = full[name]
            stacked.diagnostics[f"{name}_model"] = {
                "converged": other.diagnostics.get("converged"),
                "steps_run": other.diagnostics.get("steps_run"),
                "steps": other.settings.get("steps"), "tol": other.settings.get("tol")}
    return (stacked, full) if return_parts else stacked


def stacks_by_default(y, likelihood, *, classifier: bool, hidden: tuple, grouped: bool,
                      method: str, options: dict) -> bool:
    """Whether `stack_linear="auto"` stacks the network with its GLM for this fit.

    Where the tabular panel measured the stacking winning pairs and costing seconds: a network
    (hidden layers) under `laplace`'s last-layer posterior, no groups, no ensemble, a Bernoulli
    classifier whose every class has a row in each of `STACKING_FOLDS` folds or a Gaussian
    regressor, on `AUTO_ROWS` training rows. There it gained pairs where a linear function
    does better (breast_cancer, randhie) and lost none; with several classes the weights went
    to the network on every split while the GLM's exact output-layer draws cost the most
    (benchmarks/README.md, "Stacking by default").

    Parameters
    ----------
    y : array-like (n_obs,)
        The target as the model takes it (class codes for a classifier).
    likelihood : str or likelihood object
        The fit's likelihood (its `name` is read).
    classifier, hidden, grouped, method, options
        The estimator's kind, hidden layer widths, whether it fits groups, its engine and the
        engine's options.

    Returns
    -------
    bool

    Examples
    --------
    >>> y = np.arange(300) % 2
    >>> facts = dict(classifier=True, hidden=(32, 32), grouped=False, method="laplace",
    ...              options={})
    >>> stacks_by_default(y, "bernoulli", **facts), stacks_by_default(y[:60], "bernoulli", **facts)
    (True, False)
    >>> stacks_by_default(np.arange(300) % 3, "categorical", **facts)
    False
    """
    y = np.asarray(y)
    named = getattr(likelihood, "name", likelihood)
    if (not hidden or grouped or method != "laplace" or options.get("ensemble")
            or options.get("hessian", "auto") not in ("auto", "last_layer")
            or not AUTO_ROWS[0] <= len(y) <= AUTO_ROWS[1]):
        return False
    if classifier:
        return named == "bernoulli" and int(np.bincount(y.astype(int)).min()) >= STACKING_FOLDS
    return named == "gaussian"


def stacking_words(members) -> str:
    """The estimators' parameters that ask for the stacking of `members`, for messages.

    Examples
    --------
    >>> stacking_words(("network", "heteroscedastic", "linear"))
    'stack_linear=True and stack_heteroscedastic=True'
    """
    return " and ".join(f"stack_{name}=True" for name in MEMBERS[1:] if name in members)


def _checked_members(members) -> tuple[str, ...]:
    """`members` in `MEMBERS`' order; refuses names it does not know, or no network."""
    unknown = sorted(set(members) - set(MEMBERS))
    if unknown or "network" not in members or len(set(members)) < 2:
        raise InvalidSettingError(
            f"stacking takes the network and one or more of {', '.join(MEMBERS[1:])}; got "
            f"{', '.join(map(repr, members)) or 'none'}")
    return tuple(name for name in MEMBERS if name in members)


def _member_build(build: dict, name: str, asked: str) -> dict:
    """`build_model`'s arguments for member `name` of the stacking of the network `build`."""
    if name == "linear":
        return {**build, "hidden": (), "skip": False}
    if name == "heteroscedastic":
        likelihood = build.get("likelihood")
        named = getattr(likelihood, "name", likelihood)
        if named != "gaussian" or not build["hidden"] or not build.get("bias"):
            raise InvalidSettingError(
                f"{asked} stacks a Gaussian regressor's network (hidden layers, biases) with "
                "its heteroscedastic twin; this fit has "
                + (f"likelihood={named!r}" if named != "gaussian" else
                   "no hidden layer" if not build["hidden"] else "bias=False")
                + ": leave out stack_heteroscedastic=True")
        return {**build, "likelihood": "heteroscedastic"}
    return build


def named_estimators(estimator, parts: dict) -> dict:
    """The models of a stacked fit as fitted estimators of the estimator's class.

    As scikit-learn's `StackingRegressor.named_estimators_`: each has the estimator's settings
    without stacking (and `hidden_layer_sizes=()`, no skip path, for "linear";
    `likelihood="heteroscedastic"` for "heteroscedastic"; the `map_optimizer` the stacking
    ran, in `engine_options`, so that a refit gives the same), its other fitted attributes
    (standardisation, encoding, classes) and that model's own posterior, so it predicts,
    scores and reports as that model fitted alone, at no further fit.

    Parameters
    ----------
    estimator : BayesianMLPClassifier or BayesianMLPRegressor
        Fitted with `stack_linear=True` or `stack_heteroscedastic=True`.
    parts : dict
        Name → `Posterior`: `fit_stacked(..., return_parts=True)`'s parts.

    Returns
    -------
    dict
        Name → fitted estimator.

    Examples
    --------
    >>> named = named_estimators(fitted_regressor, {"linear": fitted_regressor.posterior_})
    >>> linear = named["linear"]
    >>> linear.hidden_layer_sizes, linear.stack_linear, linear.x_mean_ is fitted_regressor.x_mean_
    ((), False, True)
    """
    from sklearn.base import clone

    named = {}
    params = estimator.get_params(deep=False)
    unstacked: dict[str, object] = {f"stack_{name}": False for name in MEMBERS[1:]
                                    if f"stack_{name}" in params}
    for name, posterior in parts.items():
        part = clone(estimator).set_params(**unstacked)
        if "noise" in params:  # a refit must give the same: the network's noise as it was fitted
            part.set_params(noise=params["noise"] if "noise_function" in posterior.settings
                            else "constant")
        options = params.get("engine_options") or {}
        ran = posterior.settings.get("map_optimizer")
        if ran is not None and ran != options.get("map_optimizer",
                                                  LaplaceSettings.map_optimizer):
            # the stacking chose it (`_lbfgs_where_full_batch`): a refit must give the same
            part.set_params(engine_options={**options, "map_optimizer": ran})
        if name == "linear":
            part.set_params(hidden_layer_sizes=(), skip=False)
        elif name == "heteroscedastic":
            part.set_params(likelihood="heteroscedastic")
        for attribute, value in fitted_state(estimator).items():  # what a file would keep
            setattr(part, attribute, value)
        part.posterior_ = posterior
        named[name] = part
    return named


def _held_out_densities(jobs: list[FoldJob], n_jobs: int | None, progress: bool = False) -> list:
    """`fold_density(*job)` for every job, `n_jobs` at a time, in threads or on a cluster.

    `progress` shows one bar over the jobs, advanced as each ends.

    None: in threads here, one per core (the folds are the fit's own work, as a fit's compiled
    programs use the cores), whatever joblib backend is active. 1: one after another here.
    More: in threads, unless the active joblib backend is a cluster's
    (`joblib.parallel_backend("dask")`, Ray), which then runs them.

    A Ctrl-C stops them all and raises KeyboardInterrupt: run here or in threads, each fit's
    engine sees the press at its next chunk (the record is shared,
    `pymc_bnn._runtime.interrupt`), the jobs not yet begun do not begin, and this returns only
    once every thread is done (a thread still stepping when the process exits aborts it).
    """
    from joblib import Parallel, cpu_count, delayed, effective_n_jobs
    from joblib.parallel import get_active_backend

    from pymc_bnn._runtime.interrupt import ctrl_c_deferred

    workers = (1 if n_jobs == 1 else  # joblib's count heeds CPU affinity and cgroup quotas
               min(cpu_count(), len(jobs)) if n_jobs is None else
               min(effective_n_jobs(n_jobs), len(jobs)))
    with (ctrl_c_deferred() as pressed, warnings.catch_warnings(),
          progress_bar(progress, "[bold]Stacking[/] · cross-validation", len(jobs),
                        "fold fits") as bar):
        warnings.simplefilter("ignore")  # a fold's convergence is not the fit's
        done = lambda: bar(advance=1)  # noqa: E731
        if workers <= 1:
            densities = []
            for job in jobs:
                densities.append(fold_density(*job, pressed=pressed))
                done()
        elif n_jobs is None or _on_this_machine(
                backend := get_active_backend(prefer="threads")[0]):
            densities = _in_threads(jobs, workers, pressed, done)
        else:  # the backend the user chose runs them where it runs its work
            # each as it ends where the backend can (Dask); Ray's returns them all at the end
            returned = ("generator" if getattr(backend, "supports_return_generator", False)
                        else "list")
            try:
                densities = []
                for density in Parallel(n_jobs=n_jobs, return_as=returned)(
                        delayed(fold_density)(*job) for job in jobs):
                    densities.append(density)
                    done()
            except Exception:
                if not pressed:
                    raise
                # a press reaches the workers' processes too: whatever they ended with, it is
                # the user's Ctrl-C
    if pressed:
        raise KeyboardInterrupt
    return densities


def _on_this_machine(backend) -> bool:
    """Whether a joblib backend runs its work on this machine (threads do that best here).

    Its processes would import the engines and compile every program again (a stacked fit of
    two seconds in threads took 25 under loky), and a forked one deadlocks in JAX's runtime;
    a cluster's backend (Dask, Ray) is what its user set it up for.
    """
    from joblib.parallel import (
        LokyBackend,
        MultiprocessingBackend,
        SequentialBackend,
        ThreadingBackend,
    )

    # joblib's own classes: Ray's backend subclasses MultiprocessingBackend to run on Ray
    return type(backend) in (LokyBackend, MultiprocessingBackend, SequentialBackend,
                             ThreadingBackend)


def _in_threads(jobs: list[FoldJob], workers: int, pressed, done=lambda: None) -> list:
    """`fold_density(*job)` for every job in `workers` threads, every thread joined on return.

    `done()` is called here (not in the threads) as each job ends.

    On an error (a fold interrupted by a press included) the jobs not yet begun are cancelled
    and the running ones waited for before it is raised.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(workers, thread_name_prefix="pymc-bnn-fold") as pool:
        futures = [pool.submit(fold_density, *job, pressed=pressed) for job in jobs]
        try:
            for future in as_completed(futures):
                future.result()  # the first error is raised as it comes
                done()
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def fold_density(build: dict, method: str, options: dict, draws: int, random_seed: int,
                 train, test, noise: str = "constant", pressed=()) -> np.ndarray:
    """The log predictive density of rows `test` under a fit to rows `train` of `build`.

    Plain data in and out, so a joblib worker (a thread, a process, a cluster's) can run it.

    Parameters
    ----------
    build : dict
        `build_model`'s arguments, with every row.
    method, options, draws, random_seed
        As `fit` takes them.
    train, test : array-like of int
        Row indices.
    noise : {"constant", "follows_mean"}, default "constant"
        "follows_mean": the fit's noise sd follows its mean (`noise_follows_mean`, fitted to
        the `train` rows' residuals) before the `test` rows are scored.
    pressed : list, optional
        Ctrl-C's record: a fold not yet begun when it holds True raises KeyboardInterrupt.

    Returns
    -------
    numpy.ndarray
        `(len(test),)` nats per row (`log_predictive_density`).

    Raises
    ------
    KeyboardInterrupt
        The fit was interrupted (its held-out density would be of a fit cut short).

    Examples
    --------
    >>> build = {"X": tiny_data.X_train, "y": tiny_data.y_train, "hidden": ()}
    >>> rows = np.arange(len(tiny_data.y_train))
    >>> fold_density(build, "laplace", {"steps": 200}, 50, 0, rows[10:], rows[:10]).shape
    (10,)
    """
    if pressed:
        raise KeyboardInterrupt
    y = np.asarray(build["y"])
    rows = {"X": build["X"][train], "y": y[train]}
    if build.get("sample_weight") is not None:  # the fold's rows keep their weights
        rows["sample_weight"] = np.asarray(build["sample_weight"])[train]
    part = fit(build_model(**{**build, **rows}), method, draws=draws, random_seed=random_seed,
               progress=False, **options)
    if part.interrupted:
        raise KeyboardInterrupt
    return log_predictive_density(_with_noise(part, noise, random_seed), build["X"][test],
                                  y[test])


def _with_noise(posterior, noise: str, random_seed: int):
    """`posterior` with its noise sd following its mean where `noise` says "follows_mean".

    An interrupted fit is kept as it is (its residuals are of a MAP cut short).
    """
    if noise != "follows_mean" or posterior.interrupted:
        return posterior
    return noise_follows_mean(posterior, random_seed=random_seed)


def _lbfgs_where_full_batch(method: str, options: dict, n_rows: int) -> dict:
    """Laplace's `options` with the MAPs by L-BFGS where every step sees every row.

    A stacked fit makes a dozen MAPs (each member on every row and on each fold): L-BFGS takes
    them in a third to half of Adam's time, and on the panel's binary and regression sets the
    stacking with it won the same pairs (benchmarks/README.md, "Stacking by default"). A
    `map_optimizer` given stays; minibatch steps keep Adam (L-BFGS needs every row).
    """
    if (method != "laplace" or "map_optimizer" in options
            or steps_batch(options.get("minibatch_size"), n_rows) is not None):
        return options
    return {**options, "map_optimizer": "lbfgs"}


def _without_held_out_scale(options: dict) -> dict:
    """`options` without `map_scale="holdout"` (a number given for it stays)."""
    return {k: v for k, v in options.items() if not (k == "map_scale" and v == "holdout")}


def _network_alone(network, during: str):
    """The network's fit, marked interrupted, after a Ctrl-C in the stacking's later work.

    Where the network's own fit was whole, `diagnostics["stacking_stopped"]` says when the
    press came (`pymc-bnn fit` and `info` say so).
    """
    if network.interrupted:  # the press came during the network's own fit
        return network
    warn_caller(f"stacking was interrupted during {during}: kept the network's fit alone")
    return dataclasses.replace(network, interrupted=True,
                               diagnostics={**network.diagnostics, "stacking_stopped": during})
