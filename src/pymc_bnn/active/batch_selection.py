"""Batch selection: which of the scored pool points to label together.

Picking the top k scores tends to pick k near-copies of the same confusing spot.
`select_batch(..., rule="diverse")` follows Zhdanov (2019, "Diverse mini-batch active learning"):
keep the `candidates_per_pick · k` best-scoring points, cluster them into k groups with
score-weighted k-means, and take the best-scoring point of each group, so a batch spreads over
the uncertain regions instead of piling into one. `rule="top"` is plain top-k. The scores are
`pymc_bnn.active.acquisition`'s.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.validation import whole_number

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
