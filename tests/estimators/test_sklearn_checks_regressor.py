"""scikit-learn's own conformance suite on the regressor (the classifier's settings and
expected failures: test_sklearn_checks.py)."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_sklearn_checks import FAST, expected_failures, stacked_default_checks

from pymc_bnn import BayesianMLPRegressor

# acceptance: about 45 checks, each fitting several times
pytestmark = pytest.mark.slow


@parametrize_with_checks([BayesianMLPRegressor(**FAST)], expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_the_stacked_default_passes_the_fit_checks(monkeypatch):
    """The regressor's: `test_sklearn_checks.stacked_default_checks`."""
    stacked_default_checks(BayesianMLPRegressor(**{**FAST, "stack_linear": "auto"}), monkeypatch)
