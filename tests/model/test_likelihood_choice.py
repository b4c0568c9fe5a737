"""choose_likelihood: the likelihood a statistician would pick for a target, and why."""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.model.likelihood_choice import choose_likelihood, dispersion_test


@pytest.fixture(scope="module")
def visits():
    """Doctor visits: counts 0..30 from three covariates, Poisson or negative binomial."""
    rng = np.random.default_rng(7)
    X = np.column_stack([rng.normal(size=600), rng.normal(size=600), rng.integers(0, 2, 600)])
    mu = np.exp(1.0 + 0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.3 * X[:, 2])
    poisson = np.minimum(rng.poisson(mu), 30)
    # negative binomial with shape 1 (variance mu + mu^2): strongly overdispersed
    negative_binomial = np.minimum(rng.negative_binomial(1.0, 1.0 / (1.0 + mu)), 30)
    return X, poisson, negative_binomial


def test_dispersion_without_features_is_variance_over_mean(visits):
    _, y, _ = visits
    test = dispersion_test(y)
    assert test.dispersion == pytest.approx(np.var(y, ddof=1) / np.mean(y), rel=1e-12)
    assert test.fitted == "a constant-mean Poisson"


def test_overdispersed_counts_get_a_negative_binomial(visits):
    X, _, y = visits
    choice = choose_likelihood(y, X)
    assert (choice.classifier, choice.likelihood) == (False, "negative_binomial")
    assert dispersion_test(y, X).dispersion > 2
    assert "counts; Pearson dispersion" in choice.reason
    assert choice.reason.endswith("(chi-square test of dispersion 1: p < 0.001): "
                                  "overdispersed, negative_binomial")


def test_poisson_counts_stay_poisson_once_the_features_explain_the_mean(visits):
    X, y, _ = visits
    assert 0.85 < dispersion_test(y, X).dispersion < 1.15
    assert dispersion_test(y).dispersion > 1.5  # marginally the covariates look like overdispersion
    assert choose_likelihood(y, X).likelihood == "poisson"


@pytest.mark.parametrize("y, classifier, likelihood, reason", [
    (pd.Series(["Adelie", "Gentoo", "Chinstrap"] * 10), True, "auto",
     "text labels (3 distinct values): a classifier"),
    (np.array([True, False] * 10), True, "auto", "true/false labels (2 distinct values)"),
    (np.array([0, 1, 2] * 10), True, "auto", "3 distinct whole numbers (0..2): class labels"),
    (np.arange(1990, 2020), False, "gaussian", "whole numbers 1990..2019 far from zero"),
    (np.linspace(-1, 1, 30), False, "gaussian", "not whole numbers"),
    (np.arange(-15, 15), False, "gaussian", "whole numbers with negative values"),
], ids=["text", "bool", "codes", "years", "real", "negative"])
def test_labels_and_real_numbers(y, classifier, likelihood, reason):
    choice = choose_likelihood(y)
    assert (choice.classifier, choice.likelihood) == (classifier, likelihood)
    assert reason in choice.reason


def test_few_valued_counts_are_counts_when_named_so():
    y = np.array([0, 0, 0, 1, 1, 2, 3, 0, 1, 0] * 5)
    assert choose_likelihood(y).classifier
    assert choose_likelihood(y, counts=True).likelihood == "poisson"
    with pytest.raises(InvalidInputError, match="a count target needs whole numbers ≥ 0, but "
                                                "the target runs -1..2 and is whole"):
        choose_likelihood(y - 1, counts=True)
