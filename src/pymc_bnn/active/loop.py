"""The active-learning loop: fit, score the unlabelled pool, ask for labels, repeat.

Each round fits a BNN to the labels gathered so far (from scratch by default; from the previous
round's posterior with `BNNFitter(warm_start=True)`), scores the pool with an acquisition
function, and hands the chosen points to a labelling callback: a function that returns their
labels. `oracle(y_pool)` is the callback for known labels; a human in the loop is any function
that asks someone (see `run_active_learning`). The result is a plain record of the rounds.
Ctrl-C, or an error once labels were gathered, stops the loop and keeps the rounds done and
every label given. The default fitter is `pymc_bnn.active.fitter.BNNFitter`; the records are in
`pymc_bnn.active.records` (both also importable from here).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.active.acquisition import acquisition_name, get_acquisition, score_pool
from pymc_bnn.active.batch_selection import BATCH_RULES, select_batch
from pymc_bnn.active.fitter import BNNFitter
from pymc_bnn.active.records import ActiveLearningRun, ActiveRound
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.validation import shown, whole_number

# labelling callback: (pool indices (b,), their rows (b, n_features)) -> labels (b,)
LabelFunction = Callable[[np.ndarray, np.ndarray], Sequence]


def oracle(y_pool) -> LabelFunction:
    """A labelling callback that looks the labels up in `y_pool` (n_pool,): known labels.

    Parameters
    ----------
    y_pool : array-like
        `(n_pool,)` the label of every pool point.

    Returns
    -------
    callable
        `label(indices, rows) -> labels`, as `run_active_learning` calls it; `rows` is ignored.

    Examples
    --------
    >>> label = oracle(["a", "b", "c"])
    >>> label([2, 0], rows=None)
    array(['c', 'a'], dtype='<U1')
    """
    y_pool = np.asarray(y_pool)

    def label(indices, rows):
        return y_pool[np.asarray(indices)]

    return label


def run_active_learning(
    X_pool,
    label: LabelFunction,
    *,
    initial: int | Sequence[int] | np.ndarray = 10,
    initial_labels: Sequence | np.ndarray | None = None,
    batch_size: int = 10,
    budget: int = 100,
    acquisition="bald",
    batch_rule: str = "diverse",
    fit: Callable | None = None,
    X_test=None,
    y_test=None,
    max_draws: int | None = None,
    random_seed: int = 0,
    progress: bool = True,
    on_round: Callable[[ActiveRound], None] | None = None,
) -> ActiveLearningRun:
    """Label `initial` pool points, then fit → score → label `batch_size` more until `budget`.

    Parameters
    ----------
    X_pool : array-like
        `(n_pool, n_features)` the points that may be labelled.
    label : callable
        The labelling callback, `label(indices, rows) -> labels` with indices `(b,)` into the
        pool and `rows = X_pool[indices]`; use `oracle(y_pool)` for known labels, or e.g. a
        function that shows the rows to a person and returns what they type.
    initial : int or sequence of int, default 10
        Pool indices labelled first (distinct whole positions in `X_pool`; 1.5 is refused,
        not cut down to 1), or how many to draw at random.
    initial_labels : sequence, optional
        The labels of the `initial` indices, when they are known already: they are used as
        given, and the callback is asked only for the points chosen later. To go on from a run
        that an error or Ctrl-C stopped, without asking anyone again:
        ``initial=run.labelled, initial_labels=run.labels``.
    batch_size : int, default 10
        Points labelled per round.
    budget : int, default 100
        Total labels (the last round fits on at most this many).
    acquisition : str or callable, default "bald"
        A name in `pymc_bnn.active.acquisition.ACQUISITIONS` or a callable (see there).
    batch_rule : {"diverse", "top"}, default "diverse"
        See `select_batch`.
    fit : callable, optional
        `fit(X, y, *, init, random_seed) -> Posterior`; default `BNNFitter()`.
    X_test, y_test : array-like, optional
        A held-out set whose accuracy each round records.
    max_draws : int, optional
        Thin the posterior to this many draws for scoring (default all).
    random_seed : int, default 0
        Seeds the initial draw, the fits and the batch choice.
    progress : bool, default True
        Show a progress bar.
    on_round : callable, optional
        Called with each finished `ActiveRound` (e.g. to log or show progress).

    Returns
    -------
    ActiveLearningRun
        The rounds, the labels in the order they were asked for, and the last fit.

    Warns
    -----
    UserWarning
        When an error stops the loop after the first labels were given (a fit refusing a
        label, such as "cat" for the default bernoulli fitter; a labelling callback or an
        acquisition that fails): the labels a person gave must not be lost, so, as for Ctrl-C,
        the loop stops and returns the rounds done and every label gathered, with the error
        in `run.error` (`raise run.error` for its traceback). An error before any label is
        given (bad settings, a callback failing on the first batch) is raised as it is.

    Examples
    --------
    Here every round "fits" by returning the shared small posterior `fitted`, so the example
    runs in a moment; leave out `fit=` for a real fit per round (`BNNFitter()`).

    >>> def quick_fit(X, y, *, init, random_seed):
    ...     return fitted
    >>> run = run_active_learning(
    ...     tiny_data.X_train, oracle(tiny_data.y_train), initial=4, batch_size=3, budget=10,
    ...     fit=quick_fit, X_test=tiny_data.X_test, y_test=tiny_data.y_test, progress=False)
    >>> run.labels_used
    array([ 4,  7, 10])
    >>> len(run.labelled), len(set(run.labelled)), run.acquisition
    (10, 10, 'bald')

    A fit that refuses the labels given in a later round stops the loop, keeping them:

    >>> def picky_fit(X, y, *, init, random_seed):
    ...     if len(y) > 4:
    ...         raise ValueError("labels must be 0 or 1")
    ...     return fitted
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     run = run_active_learning(
    ...         tiny_data.X_train, oracle(tiny_data.y_train), initial=4, batch_size=3,
    ...         budget=10, fit=picky_fit, progress=False)
    >>> len(run.labels), run.labels_used, run.error
    (7, array([4]), ValueError('labels must be 0 or 1'))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    active learning stopped after 1 round(s): ValueError: labels must be 0 or 1; ...
    """
    X_pool = check_features(X_pool, name="X_pool")
    n_pool = X_pool.shape[0]
    batch_size, budget = _check_loop_settings(batch_size, budget, n_pool, acquisition,
                                              batch_rule, max_draws)
    random_seed = whole_number(random_seed, "random_seed", minimum=0)
    fit = fit if fit is not None else BNNFitter()
    if isinstance(fit, BNNFitter):
        _check_classifier(fit)
    rng = np.random.default_rng(random_seed)
    labelled = _initial_indices(initial, n_pool, budget, rng)
    known = _initial_labels(initial_labels, initial, len(labelled))
    if X_test is not None:
        X_test = check_features(X_test, n_features=X_pool.shape[1], name="X_test")
        y_test = np.asarray(y_test)
    settings = {"batch_size": int(batch_size), "budget": int(budget), "batch_rule": batch_rule,
                "n_pool": n_pool, "n_initial": len(labelled), "random_seed": int(random_seed),
                "max_draws": max_draws}
    name = acquisition_name(acquisition)

    rounds: list[ActiveRound] = []
    labels: list = []
    posterior = None
    interrupted = False
    error = None
    title = f"active learning ({name})"
    try:
        with progress_bar(progress, title, budget, "labels", transient=True) as bar:
            labels = known if known is not None else _ask(label, labelled, X_pool, [])
            bar(completed=len(labelled))
            while True:
                timings = {}
                start = time.perf_counter()
                posterior = fit(X_pool[labelled], np.asarray(labels), init=posterior,
                                random_seed=int(random_seed) + len(rounds))
                timings["fit_s"] = time.perf_counter() - start
                start = time.perf_counter()
                accuracy = None if X_test is None else held_out_accuracy(posterior, X_test, y_test)
                timings["evaluate_s"] = time.perf_counter() - start
                rounds.append(ActiveRound(len(rounds), len(labelled), accuracy, (), timings))
                if accuracy is not None:
                    bar(title=f"{title}: accuracy {accuracy:.3f} at {len(labelled)} labels")
                n_wanted = min(batch_size, budget - len(labelled), n_pool - len(labelled))
                if n_wanted <= 0 or getattr(posterior, "interrupted", False):
                    interrupted = bool(getattr(posterior, "interrupted", False))
                    if on_round is not None:
                        on_round(rounds[-1])
                    break
                start = time.perf_counter()
                unlabelled = np.setdiff1d(np.arange(n_pool), labelled)
                probs = class_probabilities(posterior, X_pool[unlabelled], max_draws)
                scores = score_pool(acquisition, probs, rng)
                picked = select_batch(scores, n_wanted, X=X_pool[unlabelled], rule=batch_rule,
                                      random_seed=int(random_seed) + len(rounds))
                chosen = [int(i) for i in unlabelled[picked]]
                timings["score_s"] = time.perf_counter() - start
                start = time.perf_counter()
                new_labels = _ask(label, chosen, X_pool, labels)
                timings["label_s"] = time.perf_counter() - start
                labelled, labels = labelled + chosen, new_labels
                rounds[-1] = replace(rounds[-1], chosen=tuple(chosen), timings=timings)
                bar(completed=len(labelled))
                if on_round is not None:
                    on_round(rounds[-1])
    except KeyboardInterrupt:
        interrupted = True
    except Exception as caught:
        if not labels:
            raise  # nothing gathered yet: nothing to keep
        error = caught
        warn_caller(
            f"active learning stopped after {len(rounds)} round(s): {type(error).__name__}: "
            f"{error}; the run returned keeps those rounds and all {len(labels)} labels "
            "gathered (run.labelled, run.labels), and the error in run.error; go on from them "
            "with initial=run.labelled, initial_labels=run.labels")
    # labelled and labels grow together once a batch is answered, so they agree here
    return ActiveLearningRun(
        acquisition=name, labelled=tuple(labelled[:len(labels)]), labels=tuple(labels),
        rounds=tuple(rounds), interrupted=interrupted, settings=settings, posterior=posterior,
        error=error)


def held_out_accuracy(posterior, X, y) -> float:
    """Accuracy of the posterior-predictive class (argmax of the draw-averaged probabilities).

    Parameters
    ----------
    posterior : Posterior
        A fitted classifier.
    X : array-like
        `(n_obs, n_features)` held-out inputs.
    y : array-like
        `(n_obs,)` their labels (original labels when the fit recorded `classes`).

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> accuracy = held_out_accuracy(fitted, tiny_data.X_test, tiny_data.y_test)
    >>> 0.0 <= accuracy <= 1.0
    True
    """
    from sklearn.metrics import accuracy_score

    mean_probs = class_probabilities(posterior, X).mean(axis=0)
    codes = mean_probs.argmax(axis=-1)
    classes = (getattr(posterior, "preprocessing", None) or {}).get("classes")
    predicted = np.asarray(classes)[codes] if classes is not None else codes
    return float(accuracy_score(np.asarray(y), predicted))


def class_probabilities(posterior, X, max_draws: int | None = None) -> np.ndarray:
    """Per-draw class probabilities `(n_draws, n_obs, n_classes)` of a classifier's posterior.

    Parameters
    ----------
    posterior : Posterior
        A fitted classifier (what each round's fit returns).
    X : array-like
        `(n_obs, n_features)`.
    max_draws : int, optional
        Thin to at most this many draws.

    Returns
    -------
    numpy.ndarray
        `predictive_draws(X)["probs"]`.

    Raises
    ------
    InvalidInputError
        When the posterior has no class probabilities (a regression likelihood).

    Examples
    --------
    >>> class_probabilities(fitted, tiny_data.X_test[:4]).shape
    (50, 4, 2)
    """
    draws = (posterior.predictive_draws(X) if max_draws is None
             else posterior.predictive_draws(X, max_draws=max_draws))
    if "probs" not in draws:
        raise InvalidInputError(
            "active learning scores class probabilities, but the round's fit has none (its "
            f"predictive_draws has {', '.join(draws)}); fit a classifier (likelihood "
            "'bernoulli' or 'categorical')")
    return draws["probs"]


def _check_classifier(fitter: BNNFitter) -> None:
    from pymc_bnn.model.likelihoods import get_likelihood

    if not get_likelihood(fitter.likelihood).is_classifier:
        raise InvalidSettingError(
            "active learning scores class probabilities, so it needs a classifier, but the "
            f"fitter's likelihood is {fitter.likelihood!r}; use likelihood='bernoulli' or "
            "'categorical'")


def _check_loop_settings(batch_size, budget, n_pool, acquisition, batch_rule,
                         max_draws) -> tuple[int, int]:
    """`(batch_size, budget)` as ints; every setting is checked before anyone labels or fits."""
    batch_size = whole_number(batch_size, "batch_size", minimum=1)
    budget = whole_number(budget, "budget", minimum=1)
    get_acquisition(acquisition)
    if batch_rule not in BATCH_RULES:
        raise InvalidSettingError(f"unknown batch rule {batch_rule!r}; use one of {BATCH_RULES}")
    if max_draws is not None:
        whole_number(max_draws, "max_draws", minimum=1)
    if n_pool < 2:
        raise InvalidInputError(f"the pool needs at least 2 points, got {n_pool}")
    return batch_size, budget


def _initial_indices(initial: int | Sequence[int] | np.ndarray, n_pool: int, budget: int,
                     rng) -> list[int]:
    if np.isscalar(initial):
        n_initial = whole_number(initial, "initial")
        if not 1 <= n_initial <= min(n_pool, budget):
            raise InvalidSettingError(
                f"initial must be between 1 and min(pool size, budget) = {min(n_pool, budget)}, "
                f"got {initial!s}"
            )
        return [int(i) for i in rng.choice(n_pool, size=n_initial, replace=False)]
    values = initial.ravel().tolist() if isinstance(initial, np.ndarray) else list(initial)
    if not values:
        raise InvalidSettingError(
            "initial lists no pool index; list at least one, or pass how many to draw at random")
    indices = []
    for position, value in enumerate(values):
        try:  # int() would cut 1.5 down to 1 without a word
            indices.append(whole_number(value, "initial"))
        except InvalidSettingError:
            raise InvalidSettingError(
                f"initial must list whole pool indices, got {value!r} (at position {position}); "
                "list indices such as [0, 5], or pass how many points to draw at random"
            ) from None
    outside = [i for i in indices if not 0 <= i < n_pool]
    if outside:
        raise InvalidSettingError(
            f"initial lists indices outside the pool's 0 … {n_pool - 1}: {shown(outside)}; "
            "list rows of X_pool by their position")
    counts = Counter(indices)
    repeated = [i for i, count in counts.items() if count > 1]
    if repeated:
        raise InvalidSettingError(
            f"initial must list distinct pool indices, but repeats {shown(repeated)}; "
            "list each point once")
    if len(indices) > budget:
        raise InvalidSettingError(
            f"initial has {len(indices)} points, more than the budget {budget}")
    return indices


def _initial_labels(initial_labels, initial, n_initial: int) -> list | None:
    """The known labels of the initial indices as a list, or None to ask the callback."""
    if initial_labels is None:
        return None
    if np.isscalar(initial):
        raise InvalidSettingError(
            "initial_labels are the labels of the initial indices: list those indices in "
            f"initial (e.g. initial=run.labelled), not how many to draw ({initial!s})")
    values = np.asarray(initial_labels)
    if values.shape != (n_initial,):
        raise InvalidSettingError(
            f"initial_labels must hold one label per initial index ({n_initial}), got "
            f"{values.shape[0] if values.ndim == 1 else f'an array of shape {values.shape}'}")
    return values.tolist()


def _ask(label: LabelFunction, indices: list[int], X_pool, labels: list) -> list:
    """Labels so far plus the callback's labels for `indices`, checked."""
    rows = np.asarray(indices, dtype=np.int64)
    answer = np.asarray(label(rows, X_pool[rows]))
    if answer.shape != (len(indices),):
        raise InvalidInputError(
            f"the labelling callback must return one label per requested point ({len(indices)}), "
            f"got an array of shape {answer.shape}"
        )
    return list(labels) + answer.tolist()

