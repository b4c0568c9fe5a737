"""Acquisition functions: which pool points are most worth labelling next.

An acquisition function maps per-draw class probabilities `probs` (S draws, n pool points,
K classes), as returned by `Posterior.predictive_draws(X)["probs"]`, to one score per pool point
(n,); higher means more worth labelling. The built-ins are looked up by name in `ACQUISITIONS`;
anywhere a name is accepted, a callable `score(probs) -> (n,)` (or `score(probs, rng=...)`, for
one that needs randomness) works too. Entropies and mutual information come from
`pymc_bnn.posterior.uncertainty` (nats), so the numbers match the uncertainty reports.

Which of the scored points to label together (a batch spread over the uncertain regions, or
plain top-k) is `pymc_bnn.active.batch_selection`'s.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Protocol

import numpy as np

from pymc_bnn.active.batch_selection import BATCH_RULES, select_batch  # noqa: F401 (re-exports)
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.posterior import uncertainty


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
