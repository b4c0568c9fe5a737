"""Acquisition functions and batch selection: which pool points are most worth labelling next.

An acquisition function maps per-draw class probabilities `probs` (S draws, n pool points,
K classes), as returned by `Posterior.predictive_draws(X)["probs"]`, to one score per pool point
(n,); higher means more worth labelling. The built-ins are looked up by name in `ACQUISITIONS`;
anywhere a name is accepted, a callable `score(probs) -> (n,)` (or `score(probs, rng=...)`, for
one that needs randomness) works too. Entropies and mutual information come from
`pymc_bnn.posterior.uncertainty` (nats), so the numbers match the uncertainty reports.

Batches: picking the top k scores tends to pick k near-copies of the same confusing spot.
`select_batch(..., rule="diverse")` follows Zhdanov (2019, "Diverse mini-batch active learning"):
keep the `candidates_per_pick · k` best-scoring points, cluster them into k groups with
score-weighted k-means, and take the best-scoring point of each group, so a batch spreads over
the uncertain regions instead of piling into one. `rule="top"` is plain top-k.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Protocol

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.posterior import uncertainty
from pymc_bnn.validation import whole_number


def check_probs(probs) -> np.ndarray:
    """Return `probs` as a finite float64 array (S, n, K) of probabilities, or raise.

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, at least 2 classes.

    Returns
    -------
    numpy.ndarray
        `probs` as float64, same shape.

    Raises
    ------
    InvalidInputError
        Not 3-dimensional, fewer than 2 classes, values outside [0, 1] (logits, NaN), or
        classes that do not sum to 1.

    Examples
    --------
    >>> check_probs([[[0.2, 0.8]]]).shape
    (1, 1, 2)
    >>> check_probs([[0.2, 0.8]])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: acquisition needs per-draw class probabilities ...
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 3 or probs.shape[2] < 2:
        raise InvalidInputError(
            f"acquisition needs per-draw class probabilities of shape (draws, points, classes), "
            f"got shape {probs.shape}; pass Posterior.predictive_draws(X)['probs'] of a classifier"
        )
    if not np.all(np.isfinite(probs)) or probs.min() < 0.0 or probs.max() > 1.0:
        raise InvalidInputError(
            "acquisition probabilities must be finite and within [0, 1]; pass class "
            "probabilities, not logits"
        )
    uncertainty.check_class_sums(probs, "acquisition probabilities")
    return probs


def max_entropy(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """Entropy of the predictive (draw-averaged) distribution, nats (n,): total uncertainty.

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, e.g.
        `Posterior.predictive_draws(X)["probs"]` of a classifier.
    rng : numpy.random.Generator, optional
        Not used; accepted so every acquisition is called the same way.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`, in [0, log n_classes].

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]])  # 2 draws, 3 points
    >>> max_entropy(probs).round(3)
    array([0.325, 0.693, 0.693])
    """
    return uncertainty.predictive_entropy(check_probs(probs))


def bald(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """BALD (Houlsby et al. 2011): mutual information between the label and the weights, nats (n,).

    Large where draws are each confident but disagree (epistemic); zero where every draw says
    the same, even p = 0.5 (noise that labelling will not resolve).

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, e.g.
        `Posterior.predictive_draws(X)["probs"]` of a classifier.
    rng : numpy.random.Generator, optional
        Not used; accepted so every acquisition is called the same way.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`, ≥ 0.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]])  # 2 draws, 3 points
    >>> bald(probs).round(3)  # only the third point, where the draws disagree
    array([0.   , 0.   , 0.368])
    """
    return uncertainty.mutual_information(check_probs(probs))


def variation_ratios(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """Fraction of draws whose predicted class is not the most voted class (n,), in [0, 1).

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, e.g.
        `Posterior.predictive_draws(X)["probs"]` of a classifier.
    rng : numpy.random.Generator, optional
        Not used; accepted so every acquisition is called the same way.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]])  # 2 draws, 3 points
    >>> variation_ratios(probs)
    array([0. , 0. , 0.5])
    """
    return uncertainty.variation_ratio(check_probs(probs))


def least_confidence(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """1 − the largest predictive class probability (n,): how unsure the averaged model is.

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, e.g.
        `Posterior.predictive_draws(X)["probs"]` of a classifier.
    rng : numpy.random.Generator, optional
        Not used; accepted so every acquisition is called the same way.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`, in [0, 1 − 1/n_classes].

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]])  # 2 draws, 3 points
    >>> least_confidence(probs).round(3)
    array([0.1, 0.5, 0.5])
    """
    return 1.0 - check_probs(probs).mean(axis=0).max(axis=-1)


def margin(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """1 − (largest − second-largest predictive probability) (n,): small margins score high.

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`, e.g.
        `Posterior.predictive_draws(X)["probs"]` of a classifier.
    rng : numpy.random.Generator, optional
        Not used; accepted so every acquisition is called the same way.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]],
    ...                   [[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]]])  # 2 draws, 3 points
    >>> margin(probs).round(3)
    array([0.2, 1. , 1. ])
    """
    top_two = np.sort(check_probs(probs).mean(axis=0), axis=-1)[:, -2:]
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


def random_scores(probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """Uniform random scores (n,): the baseline that ignores the model. Pass `rng` to reproduce.

    Parameters
    ----------
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`; only their shape is used.
    rng : numpy.random.Generator, optional
        The source of the scores; a fresh unseeded one by default.

    Returns
    -------
    numpy.ndarray
        `(n_points,)`, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> scores = random_scores(np.full((2, 3, 2), 0.5), rng=np.random.default_rng(0))
    >>> scores.shape, bool(((0 <= scores) & (scores < 1)).all())
    ((3,), True)
    """
    n_points: int = check_probs(probs).shape[1]
    return (rng if rng is not None else np.random.default_rng()).random(n_points)


ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {
    "bald": bald,
    "entropy": max_entropy,
    "variation_ratios": variation_ratios,
    "least_confidence": least_confidence,
    "margin": margin,
    "random": random_scores,
}


class ScoreFunction(Protocol):
    """What `get_acquisition` returns: `f(probs, rng=None) -> scores (n,)`.

    Any function of per-draw class probabilities `probs` `(n_draws, n_points, n_classes)` and
    an optional NumPy generator that returns one score per point (higher: label it sooner).

    Examples
    --------
    >>> import numpy as np
    >>> score: ScoreFunction = get_acquisition("entropy")
    >>> score(np.full((2, 3, 2), 0.5)).round(4)  # log 2 nats for a coin flip
    array([0.6931, 0.6931, 0.6931])
    """

    def __call__(self, probs: np.ndarray, rng: np.random.Generator | None = None
                 ) -> np.ndarray:
        """Scores (n,) of `probs` (S, n, K); `rng` for an acquisition that needs randomness."""


def get_acquisition(acquisition: str | Callable) -> ScoreFunction:
    """The scoring function for a name in `ACQUISITIONS` or a user callable, as `f(probs, rng)`.

    A user callable may take `probs` alone or also an `rng` keyword.

    Parameters
    ----------
    acquisition : str or callable
        A key of `ACQUISITIONS` ("bald", "entropy", "variation_ratios", "least_confidence",
        "margin", "random"), or a function `probs (S, n, K) -> scores (n,)`.

    Returns
    -------
    callable
        `score(probs, rng=None) -> (n,)`.

    Raises
    ------
    InvalidSettingError
        An unknown name, or something that is neither a name nor callable.

    Examples
    --------
    >>> get_acquisition("bald") is bald
    True
    >>> import numpy as np
    >>> first_class = get_acquisition(lambda probs: probs[0, :, 0])  # rng is added
    >>> first_class(np.full((1, 2, 2), 0.5), rng=None)
    array([0.5, 0.5])
    """
    if isinstance(acquisition, str):
        if acquisition not in ACQUISITIONS:
            raise InvalidSettingError(
                f"unknown acquisition {acquisition!r}; use one of {', '.join(ACQUISITIONS)} "
                "or pass a function probs (draws, points, classes) -> scores (points,)"
            )
        return ACQUISITIONS[acquisition]
    if not callable(acquisition):
        raise InvalidSettingError(
            f"acquisition must be a name ({', '.join(ACQUISITIONS)}) or a callable, "
            f"got {type(acquisition).__name__}"
        )
    if acquisition in ACQUISITIONS.values() or _takes_rng(acquisition):
        return acquisition

    def without_rng(probs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return acquisition(probs)

    return without_rng


def _takes_rng(function: Callable) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "rng" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def acquisition_name(acquisition: str | Callable) -> str:
    """A readable name for records and reports.

    Parameters
    ----------
    acquisition : str or callable
        A name in `ACQUISITIONS` or a user's scoring function.

    Returns
    -------
    str
        The name itself, else the callable's `__name__` (or its type's name).

    Examples
    --------
    >>> acquisition_name("bald")
    'bald'
    >>> def disagreement(probs):
    ...     return probs.std(axis=0).sum(axis=-1)
    >>> acquisition_name(disagreement)
    'disagreement'
    """
    return acquisition if isinstance(acquisition, str) else getattr(
        acquisition, "__name__", type(acquisition).__name__)


def score_pool(acquisition, probs, rng: np.random.Generator | None = None) -> np.ndarray:
    """Scores (n,) of `acquisition` (name or callable) on `probs` (S, n, K), checked.

    Parameters
    ----------
    acquisition : str or callable
        See `get_acquisition`.
    probs : array-like
        Per-draw class probabilities `(n_draws, n_points, n_classes)`.
    rng : numpy.random.Generator, optional
        Passed to acquisitions that draw random numbers ("random").

    Returns
    -------
    numpy.ndarray
        `(n_points,)` float64 scores, higher = more worth labelling.

    Raises
    ------
    InvalidInputError
        The acquisition returned the wrong shape or non-finite scores.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.9, 0.1], [0.9, 0.1]], [[0.9, 0.1], [0.1, 0.9]]])
    >>> score_pool("bald", probs).round(3)
    array([0.   , 0.368])
    >>> score_pool(lambda probs: probs[0, :1, 0], probs)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: acquisition '<lambda>' must return 2 finite scores ...
    """
    scores = np.asarray(get_acquisition(acquisition)(probs, rng=rng), dtype=np.float64)
    n_points = np.shape(probs)[1]
    if scores.shape != (n_points,) or not np.all(np.isfinite(scores)):
        raise InvalidInputError(
            f"acquisition {acquisition_name(acquisition)!r} must return {n_points} finite scores "
            f"(one per pool point), got shape {scores.shape}"
        )
    return scores


BATCH_RULES = ("diverse", "top")


def select_batch(scores, batch_size: int, *, X=None, rule: str = "diverse",
                 candidates_per_pick: int = 10, random_seed: int = 0) -> np.ndarray:
    """Positions (batch_size,) into `scores` of the points to label next, best first.

    Parameters
    ----------
    scores : array-like
        `(n_points,)`, higher = more worth labelling (from `score_pool`).
    batch_size : int
        Points to pick (at most `n_points` are returned).
    X : array-like, optional
        `(n_points, n_features)` the pool points; needed by `rule="diverse"` (see the module
        docstring).
    rule : {"diverse", "top"}, default "diverse"
        "diverse" spreads the batch over clusters of good candidates; "top" is plain top-k.
    candidates_per_pick : int, default 10
        How many of the best scores per requested point the diverse rule clusters
        (Zhdanov's β; 10 is his recommendation): larger spreads the batch more, 1 is plain
        top-k.
    random_seed : int, default 0
        Seeds the k-means of the diverse rule.

    Returns
    -------
    numpy.ndarray
        `(batch_size,)` integer positions, highest score first.

    Raises
    ------
    InvalidSettingError
        An unknown rule, a batch size or `candidates_per_pick` that is not a whole number of
        at least 1, a `random_seed` that is not one of at least 0, or "diverse" without `X`.
    InvalidInputError
        Scores that are not finite or not one per point, or `X` with another number of rows
        or values that are not finite numbers.

    Examples
    --------
    >>> import numpy as np
    >>> scores = [0.1, 0.9, 0.5, 0.8]
    >>> select_batch(scores, 2, rule="top")
    array([1, 3])

    Points 1 and 3 are almost the same point; the diverse rule takes one of them and the
    best point elsewhere:

    >>> X = np.array([[0.0], [0.0], [5.0], [0.1]])
    >>> select_batch(scores, 2, X=X)
    array([1, 2])
    """
    scores = np.asarray(scores, dtype=np.float64)
    if rule not in BATCH_RULES:
        raise InvalidSettingError(f"unknown batch rule {rule!r}; use one of {BATCH_RULES}")
    batch_size = whole_number(batch_size, "batch_size", minimum=1)
    candidates_per_pick = whole_number(candidates_per_pick, "candidates_per_pick", minimum=1)
    random_seed = whole_number(random_seed, "random_seed", minimum=0)
    if scores.ndim != 1:
        raise InvalidInputError(
            f"scores must hold one score per pool point, shape (n_points,), got shape "
            f"{scores.shape}; pass score_pool(acquisition, probs)")
    if not np.all(np.isfinite(scores)):
        raise InvalidInputError(
            f"scores must be finite, but {int(np.sum(~np.isfinite(scores)))} of {scores.size} "
            "are NaN or infinite; score_pool refuses such scores, or replace them (e.g. with "
            "the lowest finite score) before selecting")
    batch_size = min(batch_size, scores.size)
    # stable sort on the negated scores: ties keep pool order, so results are reproducible
    order = np.argsort(-scores, kind="stable")
    if rule == "top" or batch_size <= 1:  # 0: an empty pool
        return order[:batch_size]
    if X is None:
        raise InvalidSettingError(
            "rule='diverse' needs the pool points X; pass X or use rule='top'")
    X = np.asarray(X)
    if X.ndim not in (1, 2) or X.shape[0] != scores.size:
        raise InvalidInputError(
            f"X must hold the {scores.size} pool points the {scores.size} scores are for, "
            f"(n_points, n_features), got shape {X.shape}; pass the rows that were scored")
    X = check_features(X.reshape(scores.size, -1), name="X")
    candidates = order[: min(scores.size, batch_size * int(candidates_per_pick))]
    picked = _best_per_cluster(X[candidates], scores[candidates], batch_size, random_seed)
    chosen = list(candidates[picked])
    if len(chosen) < batch_size:  # fewer distinct candidates than requested: fill by score
        taken = set(chosen)
        chosen += [i for i in order if i not in taken][: batch_size - len(chosen)]
    positions = np.asarray(chosen)
    return positions[np.argsort(-scores[positions], kind="stable")]


def _best_per_cluster(points: np.ndarray, scores: np.ndarray, n_clusters: int,
                      random_seed: int) -> np.ndarray:
    """Positions of the best-scoring point in each of `n_clusters` score-weighted k-means groups."""
    from sklearn.cluster import KMeans

    n_distinct = np.unique(points, axis=0).shape[0]
    n_clusters = min(n_clusters, n_distinct)
    if n_clusters <= 1:
        return np.argsort(-scores, kind="stable")[:1]
    # weights must be positive: shift so the worst candidate still counts a little
    weights = scores - scores.min() + 1e-3 * (np.ptp(scores) + 1e-12)
    labels = KMeans(n_clusters=n_clusters, n_init=1, random_state=random_seed).fit(
        points, sample_weight=weights).labels_
    best = [np.flatnonzero(labels == c)[np.argmax(scores[labels == c])] for c in np.unique(labels)]
    return np.asarray(best)
