"""scikit-learn's own conformance suite on the classifier (small, fast settings).

The regressor's is in test_sklearn_checks_regressor.py: two files, so the suite's two workers
(`--dist loadfile`) run them side by side.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from pymc_bnn import BayesianMLPClassifier

FAST = dict(hidden_layer_sizes=(8,), steps=300, draws=50, engine_options={"tol": 0, "restarts": 1},
            random_state=0, stack_linear=False)
# The whole suite runs on the network alone (stack_linear=False): the default stacks it with
# its GLM on 100 rows or more, twelve fits where the checks' many fits each make one, so the
# stacked default gets the checks of fitting, features and training below
# (`test_the_stacked_default_passes_the_fit_checks`).
STACKED_CHECKS = ("check_fit_check_is_fitted", "check_n_features_in", "check_classifiers_train",
                  "check_regressors_train")
# The checks are of the estimators' API (shapes, classes_, parameters, errors), the same whatever
# the draws are; a classifier's output layer drawn by NUTS (the default for three or more
# classes) would compile a sampler for each of the many data shapes the checks use, so the
# classifier keeps the Gaussian here. tests/inference/test_output_sampler.py and the bundled
# data sets check the sampled default.
CLASSIFIER = dict(FAST, engine_options={**FAST["engine_options"], "output_layer": "gaussian"})

# acceptance: about 45 checks, each fitting several times
pytestmark = pytest.mark.slow

# Weights equal to repeated rows up to rounding, not to scikit-learn's rtol of 1e-7: the check
# shuffles the weighted rows, so every sum over rows runs in another order (the classifier's
# probabilities differ by about 2e-8); a regressor's MAP scale is chosen on held-out rows,
# which split weighted rows otherwise than their repeats (its means differ by about 2e-4).
# tests/estimators/test_sample_weight.py checks the equivalence to 1e-6 with the rows in order.
# (Sparse X is made dense first: the same check on sparse data fails the same way.)
_ROUNDING = ("equal to repeated rows up to the rounding of sums in another row order "
             "(tests/estimators/test_sample_weight.py checks 1e-6)")
_HELD_OUT = ("the MAP scale is chosen on held-out rows, which split weighted rows otherwise "
             "than their repeats (tests/estimators/test_sample_weight.py checks 1e-6 at a "
             "fixed scale)")
EXPECTED_FAILURES: dict[str, str] = {
    f"check_sample_weight_equivalence_on_{kind}_data": _ROUNDING for kind in ("dense", "sparse")}
REGRESSOR_EXPECTED_FAILURES: dict[str, str] = {
    f"check_sample_weight_equivalence_on_{kind}_data": _HELD_OUT for kind in ("dense", "sparse")}


def expected_failures(estimator) -> dict[str, str]:
    from sklearn.base import is_classifier

    return EXPECTED_FAILURES if is_classifier(estimator) else REGRESSOR_EXPECTED_FAILURES


@parametrize_with_checks(
    [BayesianMLPClassifier(**CLASSIFIER)],
    expected_failed_checks=expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_the_stacked_default_passes_the_fit_checks(monkeypatch):
    """The classifier's: `stacked_default_checks`."""
    stacked_default_checks(BayesianMLPClassifier(**{**CLASSIFIER, "stack_linear": "auto"}),
                           monkeypatch)


def stacked_default_checks(estimator, monkeypatch):
    """scikit-learn's checks of fitting, n_features_in_ and training on the estimators as the
    default fits them on 100+ rows: the network stacked with its GLM (each check's fits are
    counted: every check stacks at least once)."""
    from sklearn.base import is_classifier
    from sklearn.utils import estimator_checks

    from pymc_bnn.sklearn import base

    stackings = []
    original = base.fit_stacked
    monkeypatch.setattr(base, "fit_stacked", lambda *a, **k: stackings.append(1) or original(
        *a, **k))
    ran = 0
    for name in STACKED_CHECKS:
        if name.endswith("_train") and name.startswith("check_classifiers") != is_classifier(
                estimator):
            continue
        before = len(stackings)
        getattr(estimator_checks, name)(type(estimator).__name__, estimator)
        assert len(stackings) > before, f"{name} fitted no stacked model"
        ran += 1
    assert ran == 3
