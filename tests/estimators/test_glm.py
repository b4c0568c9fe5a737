"""`hidden_layer_sizes=()`: a Bayesian generalised linear model through the same estimators.

References: scikit-learn's `BayesianRidge` (Bayesian linear regression whose weight and noise
precisions maximise the evidence, as `laplace`'s do) for the regressor, and NUTS on the same
model for the classifier. Faces that measure hidden units (stability) say there are none.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import BayesianRidge

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.posterior.stability import stability

RNG = np.random.default_rng(0)
# Inputs on different scales and offsets: the estimators standardise them, BayesianRidge does not.
X = RNG.normal(size=(200, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, 0.0]
Y = X @ [1.0, -0.5, 2.0] + 3.0 + RNG.normal(0.0, 0.7, 200)
X_NEW = RNG.normal(size=(50, 3)) * [1.0, 3.0, 0.5] + [0.0, 5.0, 0.0]
X_BINARY = RNG.normal(size=(300, 2))
Y_BINARY = (X_BINARY @ [1.5, -1.0] + RNG.logistic(size=300) > 0).astype(int)


@pytest.fixture(scope="module")
def glm_regressor():
    return BayesianMLPRegressor(hidden_layer_sizes=(), random_state=0).fit(X, Y)


def test_the_default_glm_regressor_is_bayesian_ridge(glm_regressor):
    """Predictive mean within 0.02 (the noise sd is 0.7) and sd within 2% of BayesianRidge's."""
    mean, sd = glm_regressor.predict(X_NEW, return_std=True)
    ridge_mean, ridge_sd = BayesianRidge().fit(X, Y).predict(X_NEW, return_std=True)
    np.testing.assert_allclose(mean, ridge_mean, atol=0.02)
    np.testing.assert_allclose(sd, ridge_sd, rtol=0.02)
    assert glm_regressor.posterior_.spec.hidden == ()


@pytest.mark.slow  # NUTS
def test_the_glm_classifiers_laplace_predictive_matches_nuts():
    """Logistic regression: the laplace engine's probabilities within 0.02 of NUTS's."""
    X_test = RNG.normal(size=(100, 2))
    fitted = {method: BayesianMLPClassifier(hidden_layer_sizes=(), method=method, prior="normal",
                                            random_state=0).fit(X_BINARY, Y_BINARY)
              for method in ("laplace", "nuts")}
    laplace, nuts = (fitted[m].predict_proba(X_test)[:, 1] for m in ("laplace", "nuts"))
    assert np.abs(laplace - nuts).max() < 0.02
    assert np.mean((laplace > 0.5) == (X_test @ [1.5, -1.0] > 0)) > 0.9


def test_stability_says_a_glm_has_no_representation(glm_regressor):
    with pytest.raises(InvalidSettingError, match="no hidden layer .*generalised linear model"):
        stability(glm_regressor, X_NEW)


@pytest.mark.slow
def test_the_cli_fits_reports_and_predicts_a_glm(tmp_path, capsys):
    from pymc_bnn.cli.app import main

    table = pd.DataFrame({"a": X_BINARY[:, 0], "b": X_BINARY[:, 1], "y": Y_BINARY})
    table.to_csv(tmp_path / "t.csv", index=False)
    model, data = str(tmp_path / "m.bnn.nc"), str(tmp_path / "t.csv")
    assert main(["fit", data, "--target", "y", "--hidden", "none", "--out", model,
                 "--quiet"]) == 0
    assert main(["info", model]) == 0
    assert "2 → 1 (no hidden layer: a generalised linear model" in capsys.readouterr().out
    assert main(["predict", model, data, "--out", str(tmp_path / "p.csv"), "--quiet"]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(table)
    assert main(["report", model, data, "--out", str(tmp_path / "r.html"), "--quiet"]) == 0
    assert "no learned representation" in (tmp_path / "r.html").read_text()
    capsys.readouterr()
    assert main(["stability", model, data, "--out", str(tmp_path / "s"), "--quiet"]) != 0
    assert "no hidden layer" in capsys.readouterr().err
