"""Acquisition functions rank hand-built cases as their definitions say; batches avoid duplicates."""

import numpy as np
import pytest

from pymc_bnn.active.acquisition import (
    ACQUISITIONS,
    bald,
    least_confidence,
    margin,
    max_entropy,
    random_scores,
    score_pool,
    variation_ratios,
)
from pymc_bnn.active.batch_selection import select_batch
from pymc_bnn.errors import InvalidInputError, InvalidSettingError


def _binary(*p_per_point):
    """probs (S, n, 2) from lists of P(y=1) per draw, one list per point."""
    p = np.array(p_per_point, dtype=float).T  # (S, n)
    return np.stack([1 - p, p], axis=-1)


def _h(p):
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


# point 0: draws disagree confidently; point 1: every draw says 0.5; point 2: all confident, agree
CASE = _binary([0.99, 0.01] * 10, [0.5] * 20, [0.95] * 20)


def test_bald_prefers_confident_disagreement_over_agreed_coin_flip():
    scores = bald(CASE)
    assert scores[0] == pytest.approx(np.log(2) - _h(0.99))  # closed form, ≈ 0.637 nats
    assert scores[1] == pytest.approx(0.0, abs=1e-12)  # all draws agree: nothing to learn
    assert scores[2] == pytest.approx(0.0, abs=1e-12)
    assert np.argmax(scores) == 0


def test_entropy_prefers_p_half_over_confident_prediction():
    scores = max_entropy(CASE)
    assert scores[1] == pytest.approx(np.log(2))
    assert scores[2] == pytest.approx(_h(0.95))
    assert scores[1] > scores[2]
    # entropy cannot tell confident disagreement from an agreed coin flip: both average to 0.5
    assert scores[0] == pytest.approx(scores[1])


def test_variation_ratios_count_dissenting_votes():
    probs = _binary([0.9] * 5 + [0.1] * 5, [0.9] * 8 + [0.1] * 2, [0.8] * 10)
    assert variation_ratios(probs) == pytest.approx([0.5, 0.2, 0.0])


def test_least_confidence_and_margin_disagree_where_they_should():
    # A: two classes tie, a third is unlikely; B: all three about equal
    probs = np.array([[[0.45, 0.45, 0.10], [0.34, 0.33, 0.33]]] * 4)
    assert least_confidence(probs) == pytest.approx([0.55, 0.66])  # prefers B
    assert margin(probs) == pytest.approx([1.0, 0.99])  # prefers A: the top two are tied
    binary = _binary([0.6] * 3, [0.9] * 3)
    assert least_confidence(binary) == pytest.approx([0.4, 0.1])
    assert margin(binary) == pytest.approx([0.8, 0.2])


def test_random_ignores_the_model_and_is_reproducible():
    probs = _binary(*([[0.5] * 4] * 500))
    first = random_scores(probs, np.random.default_rng(3))
    assert np.array_equal(first, random_scores(probs, np.random.default_rng(3)))
    assert first.shape == (500,) and 0.4 < first.mean() < 0.6
    assert np.unique(first).size == 500


def test_names_and_user_callables():
    assert set(ACQUISITIONS) == {"bald", "entropy", "variation_ratios", "least_confidence",
                                 "margin", "random"}
    assert np.allclose(score_pool("entropy", CASE), max_entropy(CASE))
    assert np.allclose(score_pool(lambda probs: probs[..., 1].std(axis=0), CASE),
                       CASE[..., 1].std(axis=0))
    seen = {}

    def with_rng(probs, rng=None):
        seen["rng"] = rng
        return np.zeros(probs.shape[1])

    rng = np.random.default_rng(0)
    score_pool(with_rng, CASE, rng)
    assert seen["rng"] is rng
    with pytest.raises(InvalidSettingError, match="unknown acquisition 'bold'.*bald"):
        score_pool("bold", CASE)
    with pytest.raises(InvalidInputError, match="3 finite scores"):
        score_pool(lambda probs: np.zeros(2), CASE)


def test_bad_probabilities_are_rejected_with_a_fix():
    with pytest.raises(InvalidInputError, match="predictive_draws"):
        bald(np.full((5, 3), 0.5))
    with pytest.raises(InvalidInputError, match="not logits"):
        max_entropy(np.full((5, 3, 2), 2.0))
    with pytest.raises(InvalidInputError, match="sum to 1"):
        bald(np.full((5, 3, 2), 0.3))  # in [0, 1] but not a distribution over the classes


def test_top_rule_picks_duplicates_and_diverse_rule_does_not():
    rng = np.random.default_rng(0)
    spread = rng.uniform(-3, 3, size=(60, 2))
    X = np.vstack([np.zeros((20, 2)), spread])  # 20 copies of the best point, then 60 others
    scores = np.concatenate([np.ones(20), rng.uniform(0.2, 0.9, size=60)])
    top = select_batch(scores, 5, rule="top")
    assert np.all(top < 20)  # plain top-k: five copies of one point
    diverse = select_batch(scores, 5, X=X, rule="diverse")
    assert len(set(diverse.tolist())) == 5
    assert sum(i < 20 for i in diverse) == 1  # exactly one copy, and it comes first (best score)
    assert diverse[0] < 20
    assert np.unique(X[diverse], axis=0).shape[0] == 5
    # the others are good candidates, not arbitrary points: all from the 50 best scores
    assert set(diverse.tolist()) <= set(np.argsort(-scores)[:50].tolist())


def test_diverse_rule_spreads_over_separate_uncertain_regions():
    rng = np.random.default_rng(1)
    left = rng.normal([-3, 0], 0.1, size=(40, 2))
    right = rng.normal([3, 0], 0.1, size=(40, 2))
    X = np.vstack([left, right])
    scores = np.concatenate([rng.uniform(0.9, 1.0, 40), rng.uniform(0.7, 0.8, 40)])
    assert np.all(select_batch(scores, 4, rule="top") < 40)
    chosen = select_batch(scores, 4, X=X, rule="diverse", candidates_per_pick=20)
    assert (chosen < 40).any() and (chosen >= 40).any()


def test_batch_settings_are_checked():
    with pytest.raises(InvalidSettingError, match="needs the pool points X"):
        select_batch(np.arange(5.0), 2)
    with pytest.raises(InvalidSettingError, match="unknown batch rule"):
        select_batch(np.arange(5.0), 2, rule="best")
    assert select_batch(np.arange(3.0), 10, rule="top").tolist() == [2, 1, 0]


def test_select_batch_refuses_scores_that_are_not_finite():
    # A NaN score was silently ranked last by "top" and crashed KMeans under "diverse".
    scores = np.array([0.1, np.nan, 0.5, 0.3])
    for rule, X in (("top", None), ("diverse", np.arange(4.0)[:, None])):
        with pytest.raises(InvalidInputError, match="finite"):
            select_batch(scores, 2, X=X, rule=rule)


def test_select_batch_refuses_scores_that_are_not_one_per_point():
    with pytest.raises(InvalidInputError, match="one score per pool point"):
        select_batch([[0.1, 0.9], [0.2, 0.3]], 2, rule="top")


def test_select_batch_refuses_pool_points_of_another_length():
    scores = [0.1, 0.9, 0.5, 0.8]
    # 2 rows of 2 features were silently read as 4 rows of 1 feature; 3 rows crashed reshape
    for rows in (2, 3):
        with pytest.raises(InvalidInputError, match="4 scores"):
            select_batch(scores, 2, X=np.zeros((rows, 2)))


def test_select_batch_refuses_a_fractional_batch_size():
    with pytest.raises(InvalidSettingError, match="batch_size"):
        select_batch([0.1, 0.9, 0.5], 2.7, rule="top")


@pytest.mark.parametrize(("X", "seed", "error", "message"), [
    ([[0.0], [np.nan], [1.0], [2.0]], 0, InvalidInputError, "X contains NaN"),
    ([["a"], ["b"], ["c"], ["d"]], 0, InvalidInputError, "X"),
    ([[0.0], [1.0], [2.0], [3.0]], -1, InvalidSettingError, "random_seed must be at least 0"),
    ([[0.0], [1.0], [2.0], [3.0]], 0.5, InvalidSettingError, "random_seed must be a whole"),
])
def test_select_batch_refuses_bad_pool_points_and_seeds_in_its_own_words(X, seed, error,
                                                                         message):
    # these reached the user as scikit-learn's or numpy's ValueError from inside k-means
    with pytest.raises(error, match=message):
        select_batch([0.1, 0.9, 0.5, 0.8], 2, X=np.array(X), random_seed=seed)


def test_select_batch_from_an_empty_pool_selects_nothing():
    for rule in ("diverse", "top"):
        assert select_batch([], 3, X=np.zeros((0, 2)), rule=rule).size == 0
