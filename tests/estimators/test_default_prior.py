"""The estimators' defaults: method="auto" (laplace) on two moons, and prior="auto" under advi (a
horseshoe on every layer) against the fan-in Normal.

Under mean-field ADVI the fan-in Normal(0, 1/sqrt(fan_in)) prior (`prior=None`, still
`build_model`'s default) leaves the estimators badly underconfident; see `pymc_bnn.sklearn`'s
module docstring for the measured numbers on six data sets.
"""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from pymc_bnn import BayesianMLPClassifier
from pymc_bnn.model.priors import DEFAULT_PRIOR, HorseshoePrior
from pymc_bnn.posterior import metrics

# The estimators' defaults but one hidden layer and fewer draws, to keep the test short.
SETTINGS = dict(hidden_layer_sizes=(16,), draws=300, random_state=0, method="advi")


@pytest.fixture(scope="module")
def wine_split():
    X, y = load_wine(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _held_out(estimator, X_train, X_test, y_train, y_test) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X_train, y_train)
    proba = estimator.predict_proba(X_test)
    return {"log_loss": metrics.log_loss(y_test, proba, classes=estimator.classes_),
            "accuracy": metrics.accuracy(y_test, proba, classes=estimator.classes_)}


@pytest.mark.slow
def test_default_prior_beats_the_fan_in_normal_on_held_out_log_loss(wine_split):
    """wine (178 rows, 3 classes), split seed 0, 16 units: the fan-in Normal's probabilities
    are blurred (measured log loss 0.311, accuracy 1.000), the horseshoe's sharp (0.075,
    0.981); logistic regression, the reference, 0.042. With the estimators' default
    (32, 32) units the fan-in Normal learns nothing at all (1.096, module docstring)."""
    default = BayesianMLPClassifier(**SETTINGS)
    new = _held_out(default, *wine_split)
    old = _held_out(BayesianMLPClassifier(prior=None, **SETTINGS), *wine_split)
    assert default.posterior_.prior == HorseshoePrior(layers="all")
    assert new["log_loss"] < 0.5 * old["log_loss"], (new, old)
    assert new["accuracy"] >= old["accuracy"] - 0.02, (new, old)  # at most one of 54 rows
    # the MLP-level reference: scikit-learn's logistic regression on the same split
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = wine_split
    scaler = StandardScaler().fit(X_train)
    reference = LogisticRegression().fit(scaler.transform(X_train), y_train)
    reference_loss = metrics.log_loss(y_test, reference.predict_proba(scaler.transform(X_test)),
                                      classes=reference.classes_)
    assert new["log_loss"] < reference_loss + 0.1, (new, reference_loss)


@pytest.mark.slow
def test_defaults_fit_two_moons_as_well_as_an_mlp():
    """The issue's target for the defaults on a small two moons (make_moons(300, noise=0.2),
    70/30 stratified split, split seed 0) with the estimator's default network, no tuning:
    accuracy at least 0.96, calibrated, and a held-out log loss no worse than scikit-learn's
    MLPClassifier's (max_iter raised until it converges).

    Calibrated is judged against what a perfectly calibrated predictor with these very
    probabilities shows on 90 test rows (labels drawn from them): its ECE averages about 0.031
    here, so "ECE at most 0.03" on 90 rows would judge the bins' sampling noise (a fit that
    differs in its last digits between two CPUs fell on either side of it). The 0.03 target
    itself is checked on the project's 300-row test sets below."""
    from sklearn.datasets import make_moons
    from sklearn.neural_network import MLPClassifier

    X, y = make_moons(300, noise=0.2, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    model = BayesianMLPClassifier(random_state=0).fit(X_train, y_train)
    assert model.posterior_.method == "laplace"
    proba = model.predict_proba(X_test)
    assert metrics.accuracy(y_test, proba) >= 0.96
    ece = metrics.expected_calibration_error(y_test, proba)
    drawn = np.random.default_rng(0).random((1000, len(y_test))) < proba[:, 1]
    calibrated = [metrics.expected_calibration_error(labels.astype(int), proba)
                  for labels in drawn]
    assert ece <= np.quantile(calibrated, 0.95), (ece, np.mean(calibrated))
    mlp = MLPClassifier(max_iter=2000, random_state=0).fit(X_train, y_train)
    assert metrics.log_loss(y_test, proba) <= metrics.log_loss(y_test, mlp.predict_proba(X_test))


@pytest.mark.slow
def test_defaults_fit_the_projects_two_moons_as_well_as_an_mlp_over_three_splits():
    """The same target on the project's two moons (the seed's 1,000 points, 700 / 300 rows),
    as the benchmark judges it: means over splits (0, 1, 2 here), since one split's accuracy
    on 300 rows has a standard error of about 0.01."""
    from sklearn.neural_network import MLPClassifier

    from pymc_bnn.datasets import two_moons

    scores = []
    for split_seed in range(3):
        data = two_moons(split_seed=split_seed)
        proba = BayesianMLPClassifier(random_state=split_seed).fit(
            data.X_train, data.y_train).predict_proba(data.X_test)
        mlp = MLPClassifier(max_iter=2000, random_state=split_seed).fit(data.X_train, data.y_train)
        scores.append([metrics.accuracy(data.y_test, proba),
                       metrics.expected_calibration_error(data.y_test, proba),
                       metrics.log_loss(data.y_test, proba),
                       metrics.log_loss(data.y_test, mlp.predict_proba(data.X_test))])
    accuracy, ece, loss, mlp_loss = np.mean(scores, axis=0)
    assert accuracy >= 0.96 and ece <= 0.03, scores
    assert loss <= mlp_loss, scores


@pytest.mark.slow
def test_explicit_prior_is_used_as_given_and_pooling_none_keeps_the_library_default(rng):
    """prior=None is the old default (build_model's); "auto" with groups and pooling="none" is
    that too (it takes only normal or laplace priors), with partial pooling the horseshoe."""
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    quick = dict(hidden_layer_sizes=(4,), steps=50, draws=10, method="advi",
                 engine_options={"tol": 0, "restarts": 1}, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert BayesianMLPClassifier(prior=None, **quick).fit(X, y).posterior_.prior \
            == DEFAULT_PRIOR
        assert BayesianMLPClassifier(prior="laplace", **quick).fit(X, y).posterior_.prior.name \
            == "laplace"
        groups = np.repeat(["a", "b"], 20)
        unpooled = BayesianMLPClassifier(pooling="none", **quick).fit(X, y, groups=groups)
        partial = BayesianMLPClassifier(pooling="partial", **quick).fit(X, y, groups=groups)
    assert unpooled.posterior_.prior == DEFAULT_PRIOR
    assert partial.posterior_.prior == HorseshoePrior(layers="all")


@pytest.mark.slow
def test_method_auto_takes_advi_for_a_prior_laplace_does_not_take():
    """prior='horseshoe' (or ARD, spike and slab, Laplace) under the default method raised
    laplace's "needs a Normal prior … build the model with prior='normal'"."""
    from pymc_bnn import BayesianMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    model = BayesianMLPRegressor((2,), prior="horseshoe", steps=100, draws=20, random_state=0)
    with pytest.warns(UserWarning):  # 100 steps: not converged
        model.fit(X, X[:, 0])
    assert model.posterior_.method == "advi"


@pytest.mark.slow  # two regressor fits
def test_a_regressor_that_interpolates_its_rows_says_its_intervals_are_too_narrow():
    """40 rows of 60 features, (8,) units: laplace's MAP fits every row, its noise sd shrinks
    to 0.03 (the noise is 0.5) and 90% intervals covered 3% of new rows, unsaid."""
    from pymc_bnn import BayesianMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 60))
    y = X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BayesianMLPRegressor((8,), draws=50, random_state=0).fit(X, y)  # 10,000 steps
    said = [str(w.message) for w in caught]
    assert [m for m in said if re.search(
        r"the network interpolates its 40 training rows \(497 parameters; training RMSE "
        r"\d\.\d+% of the target's sd\): laplace's noise sd shrank with the residuals, so its "
        r"intervals are too narrow to trust; use method='advi', fewer hidden units", m)], said
    kinds = [problem.kind for problem in model.convergence_.problems]
    assert "interpolates" in kinds, kinds
    assert "--hidden" in str(model.convergence_.problems[kinds.index("interpolates")])
    # here its MAP loss was still falling at 10,000 steps (a noise sd on its way to 0): "raise
    # steps=" was said beside the interpolation, the wrong advice
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.5, 40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BayesianMLPRegressor((8,), draws=50, random_state=0).fit(X, y)
    said = [str(w.message) for w in caught]
    assert [m for m in said if "interpolates its 40 training rows" in m and "its MAP loss was "
            "still falling at the step limit (more steps would fit the noise further)" in m], said
    assert not [m for m in said if "raise steps=" in m], said
    kinds = [problem.kind for problem in model.convergence_.problems]
    assert "interpolates" in kinds and "step_limit" not in kinds, kinds
    with warnings.catch_warnings(record=True) as caught:  # a GLM cannot interpolate 40 rows here
        warnings.simplefilter("always")
        BayesianMLPRegressor((), steps=3000, draws=50, random_state=0).fit(X[:, :5], y)
    assert not [w for w in caught if "interpolates" in str(w.message)]
