"""The entropy decomposition: identities, bounds, hand-computed cases, edge cases."""

import numpy as np
import pytest

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior.uncertainty import (
    entropy_decomposition,
    expected_entropy,
    mutual_information,
    predictive_entropy,
    variation_ratio,
)


def _random_probs(rng, draws=40, obs=25, classes=3, concentration=0.5):
    return rng.dirichlet(np.full(classes, concentration), size=(draws, obs))


@pytest.mark.parametrize("classes", [2, 3, 7])
def test_total_is_aleatoric_plus_epistemic_and_all_bounded(rng, classes):
    probs = _random_probs(rng, classes=classes)
    total, aleatoric, epistemic = entropy_decomposition(probs)
    np.testing.assert_allclose(total, aleatoric + epistemic, atol=1e-12)
    np.testing.assert_allclose(total, predictive_entropy(probs))
    np.testing.assert_allclose(aleatoric, expected_entropy(probs))
    np.testing.assert_allclose(epistemic, mutual_information(probs))
    for part in (total, aleatoric, epistemic):
        assert part.shape == (probs.shape[1],)
        assert np.all(part >= 0) and np.all(part <= np.log(classes) + 1e-12)
    assert np.all(epistemic > 0)  # draws differ, so networks disagree


def test_epistemic_is_zero_when_every_draw_is_the_same_network(rng):
    one_network = _random_probs(rng, draws=1, obs=30, classes=4)
    probs = np.repeat(one_network, 50, axis=0)
    total, aleatoric, epistemic = entropy_decomposition(probs)
    np.testing.assert_array_equal(epistemic, 0.0)
    np.testing.assert_allclose(total, aleatoric, atol=1e-12)
    np.testing.assert_array_equal(variation_ratio(probs), 0.0)


def test_hand_computed_binary_case():
    # Two equally likely networks: one sure of class 1, one sure of class 0.
    confident_disagreement = np.array([[[0.0, 1.0]], [[1.0, 0.0]]])
    total, aleatoric, epistemic = entropy_decomposition(confident_disagreement)
    np.testing.assert_allclose(total, [np.log(2)])
    np.testing.assert_allclose(aleatoric, [0.0])  # 0·log 0 = 0, not NaN
    np.testing.assert_allclose(epistemic, [np.log(2)])
    # Both networks agree the outcome is a coin flip: all aleatoric.
    coin = np.full((5, 1, 2), 0.5)
    total, aleatoric, epistemic = entropy_decomposition(coin)
    np.testing.assert_allclose([total[0], aleatoric[0], epistemic[0]], [np.log(2), np.log(2), 0])
    # p = 0.2 and 0.6: H(0.4) − (H(0.2) + H(0.6)) / 2, computed by hand.
    def h(p):
        return -p * np.log(p) - (1 - p) * np.log(1 - p)
    p1 = np.array([[0.2], [0.6]])
    np.testing.assert_allclose(mutual_information(p1), [h(0.4) - (h(0.2) + h(0.6)) / 2])


def test_binary_p1_draws_equal_two_column_probs(rng):
    p1 = rng.uniform(size=(30, 12))
    np.testing.assert_allclose(predictive_entropy(p1),
                               predictive_entropy(np.stack([1 - p1, p1], axis=-1)))
    np.testing.assert_allclose(variation_ratio(p1),
                               variation_ratio(np.stack([1 - p1, p1], axis=-1)))


def test_rounding_outside_unit_interval_is_clipped_not_nan():
    probs = np.array([[[1.0 + 1e-15, -1e-15]], [[1.0, 0.0]]])
    total, aleatoric, epistemic = entropy_decomposition(probs)
    assert np.all(np.isfinite([total, aleatoric, epistemic]))
    np.testing.assert_allclose([total[0], epistemic[0]], [0.0, 0.0], atol=1e-12)


def test_variation_ratio_counts_disagreeing_draws():
    # 4 draws at one point: classes chosen 0, 0, 2, 1 -> modal share 2/4.
    probs = np.array([[[0.6, 0.3, 0.1]], [[0.5, 0.4, 0.1]], [[0.2, 0.2, 0.6]], [[0.1, 0.8, 0.1]]])
    np.testing.assert_allclose(variation_ratio(probs), [0.5])


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((2, 2, 2, 2)), np.full((2, 2, 2), np.nan)])
def test_bad_probs_are_refused_with_a_fix(bad):
    with pytest.raises(InvalidInputError, match="probs"):
        entropy_decomposition(bad)


@pytest.mark.parametrize("function", [entropy_decomposition, predictive_entropy,
                                      expected_entropy, mutual_information, variation_ratio])
def test_probabilities_that_do_not_sum_to_one_are_refused(function):
    # P(y = 1) of a binary fit passed as (draws, obs, 1): entropies of one "class" would be
    # -p log p, a number with no meaning (0.36 nats here, where the true entropy is H(0.3)).
    with pytest.raises(InvalidInputError, match="sum to 1"):
        function(np.full((2, 3, 1), 0.3))
    # Three columns that are not a distribution: the "total" would exceed log K's bound.
    with pytest.raises(InvalidInputError, match="sum to 1"):
        function(np.full((2, 3, 3), 0.5))


def test_float32_rounding_of_the_class_sums_is_accepted(rng):
    probs = rng.dirichlet(np.ones(4), size=(20, 6)).astype(np.float32)
    reference = rng.dirichlet(np.ones(4), size=(20, 6))
    assert np.all(np.isfinite(entropy_decomposition(probs)))
    assert np.all(np.isfinite(entropy_decomposition(reference)))


def test_member_decomposition_against_its_definition_and_a_fractional_count(rng):
    from pymc_bnn.errors import InvalidSettingError
    from pymc_bnn.posterior.uncertainty import member_decomposition

    probs = rng.dirichlet(np.ones(3), size=(12, 5))  # 3 members of 4 draws, member-major
    members = probs.reshape(3, 4, 5, 3).mean(axis=1)
    mixture = members.mean(axis=0)
    total, expected, disagreement = member_decomposition(probs, n_members=3)
    np.testing.assert_allclose(total, -(mixture * np.log(mixture)).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(expected, -(members * np.log(members)).sum(-1).mean(0),
                               rtol=1e-12)
    np.testing.assert_allclose(disagreement, total - expected, atol=1e-14)
    # 2.5 members was read as 2: two "members" of 6 draws each, a silently different split
    with pytest.raises(InvalidSettingError, match="n_members"):
        member_decomposition(probs, n_members=2.5)
