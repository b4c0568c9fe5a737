"""Metrics against scikit-learn where it has them, and against hand-computed values where not."""

import numpy as np
import pytest
from scipy import integrate, stats
from sklearn import metrics as skm

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.posterior import metrics


@pytest.fixture
def binary(rng):
    p = rng.uniform(size=200)
    return (rng.uniform(size=200) < p).astype(int), p


@pytest.fixture
def three_class(rng):
    proba = rng.dirichlet(np.ones(3), size=150)
    y = np.array([rng.choice(3, p=row) for row in proba])
    return y, proba


def test_binary_scores_match_scikit_learn(binary):
    y, p = binary
    assert metrics.accuracy(y, p) == skm.accuracy_score(y, p > 0.5)
    assert metrics.log_loss(y, p) == pytest.approx(skm.log_loss(y, p))
    assert metrics.brier_score(y, p) == pytest.approx(np.mean((p - y) ** 2))
    assert metrics.brier_score(y, p) == pytest.approx(skm.brier_score_loss(y, p))
    assert metrics.auroc(y, p) == pytest.approx(skm.roc_auc_score(y, p))
    two_columns = np.column_stack([1 - p, p])
    assert metrics.brier_score(y, two_columns) == pytest.approx(metrics.brier_score(y, p))
    assert metrics.auroc(y, two_columns) == pytest.approx(metrics.auroc(y, p))


def test_multiclass_scores_match_scikit_learn_and_accept_labels(three_class):
    y, proba = three_class
    assert metrics.accuracy(y, proba) == skm.accuracy_score(y, proba.argmax(1))
    assert metrics.log_loss(y, proba) == pytest.approx(skm.log_loss(y, proba))
    one_hot = np.eye(3)[y]
    assert metrics.brier_score(y, proba) == pytest.approx(np.mean(((proba - one_hot) ** 2).sum(1)))
    assert metrics.auroc(y, proba) == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    labels = np.array(["ant", "bee", "cat"])
    summary = metrics.classification_summary(labels[y], proba, classes=labels)
    assert summary == metrics.classification_summary(y, proba)
    assert set(summary) == {"accuracy", "log_loss", "brier", "ece"}
    with pytest.raises(InvalidInputError, match="not among the fitted classes"):
        metrics.accuracy(["dog"], proba[:1], classes=labels)


def test_ece_on_a_small_hand_computed_case():
    # Top-class confidences 0.95, 0.95, 0.65, 0.65, 0.55 with 10 bins:
    # bin (0.9, 1]: 2 points, conf 0.95, both right -> gap 0.05
    # bin (0.6, 0.7]: 2 points, conf 0.65, one right -> gap 0.15
    # bin (0.5, 0.6]: 1 point, conf 0.55, wrong -> gap 0.55
    p1 = np.array([0.95, 0.05, 0.65, 0.35, 0.55])
    y = np.array([1, 0, 1, 1, 0])
    expected = (2 * 0.05 + 2 * 0.15 + 1 * 0.55) / 5
    assert metrics.expected_calibration_error(y, p1, n_bins=10) == pytest.approx(expected)
    bins = metrics.reliability_bins(y, p1, n_bins=10)
    np.testing.assert_array_equal(bins.count, [0, 0, 0, 0, 0, 1, 2, 0, 0, 2])
    np.testing.assert_allclose(bins.accuracy[[5, 6, 9]], [0.0, 0.5, 1.0])
    assert np.isnan(bins.confidence[0])


def test_ece_is_near_zero_for_calibrated_and_large_for_overconfident(rng):
    p = rng.uniform(size=20_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert metrics.expected_calibration_error(y, p) < 0.01
    overconfident = np.where(p > 0.5, 1.0, 0.0)
    assert metrics.expected_calibration_error(y, overconfident) > 0.2


def test_regression_point_scores_match_scikit_learn(rng):
    y, mean = rng.normal(size=50), rng.normal(size=50)
    assert metrics.rmse(y, mean) == pytest.approx(np.sqrt(np.mean((y - mean) ** 2)))
    assert metrics.mae(y, mean) == pytest.approx(np.mean(np.abs(y - mean)))


def test_gaussian_crps_closed_form_matches_its_integral_definition():
    # CRPS(F, y) = ∫ (F(x) − 1{x ≥ y})² dx
    for y, mu, sd in ((0.3, -0.5, 1.7), (2.0, 2.0, 0.4), (-3.0, 1.0, 0.8)):
        F = stats.norm(mu, sd).cdf
        below, _ = integrate.quad(lambda x, F=F: F(x) ** 2, -np.inf, y)
        above, _ = integrate.quad(lambda x, F=F: (F(x) - 1) ** 2, y, np.inf)
        assert metrics.crps_gaussian([y], [mu], [sd]) == pytest.approx(below + above, rel=1e-7)


def test_ensemble_crps_matches_pairwise_definition_and_gaussian_limit(rng):
    samples, y = rng.normal(size=(7, 3)), np.array([0.1, -1.0, 2.0])
    pairwise = np.abs(samples[:, None] - samples[None]).mean(axis=(0, 1))
    brute = np.mean(np.abs(samples - y).mean(axis=0) - 0.5 * pairwise)
    assert metrics.crps_ensemble(y, samples) == pytest.approx(brute)
    many = rng.normal(1.0, 2.0, size=(100_000, 3))
    assert metrics.crps_ensemble(y, many) == pytest.approx(
        metrics.crps_gaussian(y, 1.0, 2.0), rel=0.01)


def test_coverage_of_a_known_distribution(rng):
    y = rng.normal(size=40_000)
    z = stats.norm.ppf(0.95)
    assert metrics.interval_coverage(y, -z, z) == pytest.approx(0.9, abs=0.006)
    assert metrics.interval_width(np.full(4, -z), np.full(4, z)) == pytest.approx(2 * z)
    assert metrics.interval_coverage([0.0, 1.0, 2.0], [0, 0, 0], [1, 1, 1]) == pytest.approx(2 / 3)


def test_gaussian_and_mixture_nll(rng):
    y, mean, sd = rng.normal(size=20), rng.normal(size=20), rng.uniform(0.5, 2, size=20)
    assert metrics.gaussian_nll(y, mean, sd) == pytest.approx(
        np.mean(0.5 * np.log(2 * np.pi * sd**2) + (y - mean) ** 2 / (2 * sd**2)))
    # One draw: the mixture is that Normal. Two draws: the average of their densities.
    one = {"mean": mean[None], "scale": sd[None]}
    assert metrics.mixture_nll(y, one) == pytest.approx(metrics.gaussian_nll(y, mean, sd))
    two = {"mean": np.stack([mean, mean + 1]), "scale": np.stack([sd, sd])}
    density = 0.5 * (stats.norm.pdf(y, mean, sd) + stats.norm.pdf(y, mean + 1, sd))
    assert metrics.mixture_nll(y, two) == pytest.approx(-np.mean(np.log(density)))
    counts = {"mean": np.full((3, 4), 2.5)}
    assert metrics.mixture_nll([0, 1, 2, 7], counts) == pytest.approx(
        -np.mean(stats.poisson.logpmf([0, 1, 2, 7], 2.5)))


PROBA = np.array([0.2, 0.7, 0.9, 0.4])
CODES = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("score", [metrics.expected_calibration_error, metrics.accuracy,
                                   metrics.log_loss, metrics.brier_score, metrics.auroc])
def test_classification_scores_refuse_inputs_they_would_misread(score):
    # one label for four rows was broadcast by the ECE (0.45, a number about nothing)
    with pytest.raises(InvalidInputError, match="one label per row"):
        score([1], PROBA)
    # logits: the ECE came out 1.175, above its bound of 1
    with pytest.raises(InvalidInputError, match="probabilities"):
        score(CODES, np.array([-2.0, 3.0, 1.5, 0.2]))
    with pytest.raises(InvalidInputError, match="NaN"):
        score(CODES, np.array([np.nan, 0.7, 0.9, 0.4]))
    # labels 1/2 with no classes=: accuracy 0.0 and ECE 0.75 against codes 0/1
    two_columns = np.column_stack([1 - PROBA, PROBA])
    with pytest.raises(InvalidInputError, match="classes="):
        score([1, 2, 2, 1], two_columns)
    with pytest.raises(InvalidInputError, match="sum to 1"):
        score(CODES, np.column_stack([PROBA, PROBA]))


def test_reliability_bins_refuse_a_bad_number_of_bins():
    from pymc_bnn.errors import InvalidSettingError

    for bad in (0, 2.5):
        with pytest.raises(InvalidSettingError, match="n_bins"):
            metrics.expected_calibration_error(CODES, PROBA, n_bins=bad)


def test_regression_summary_refuses_several_levels_instead_of_averaging_them():
    import xarray as xr

    summary = xr.Dataset(
        {"mean": ("obs", [0.0, 1.0]), "sd": ("obs", [1.0, 1.0]),
         "lower": (("level", "obs"), [[-0.5, 0.5], [-2.0, -1.0]]),
         "upper": (("level", "obs"), [[0.5, 1.5], [2.0, 3.0]])}, coords={"level": [0.5, 0.9]})
    # the 50% interval covers 1 of 2 targets, the 90% one both: "coverage" came out 0.75
    with pytest.raises(InvalidInputError, match="one interval level"):
        metrics.regression_summary([0.0, 2.5], summary)
    scores = metrics.regression_summary([0.0, 2.5], summary.sel(level=0.9))
    assert scores["coverage"] == 1.0 and scores["interval_width"] == 4.0


@pytest.mark.parametrize("score", [metrics.gaussian_nll, metrics.crps_gaussian])
def test_gaussian_scores_refuse_a_non_positive_sd(score):
    # crps_gaussian scored sd = -1 as −0.234 (a CRPS is ≥ 0); gaussian_nll gave NaN
    for bad in (-1.0, 0.0, np.nan):
        with pytest.raises(InvalidInputError, match="sd"):
            score([0.0], [0.0], [bad])
    assert score([0.0], [0.0], [np.inf]) == np.inf  # noise without a variance: honest, kept


def test_ensemble_crps_refuses_samples_of_other_rows():
    # samples of one row against three targets were broadcast: 0.833, a score of nothing
    with pytest.raises(InvalidInputError, match="one column per target"):
        metrics.crps_ensemble([0.0, 1.0, 2.0], [[-1.0], [1.0]])
    with pytest.raises(InvalidInputError, match="one column per target"):
        metrics.crps_ensemble([0.0, 1.0], np.zeros(4))
