"""The estimators against the library they wrap and inside scikit-learn's tools."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pymc_bnn import (
    BayesianMLPClassifier,
    BayesianMLPRegressor,
    InvalidInputError,
    load,
    save,
)

# the network alone: these tests are about the estimators' interface (a stacked default's is
# tests/posterior/test_stacking.py's and scikit-learn's checks')
QUICK = dict(steps=400, draws=60, engine_options={"tol": 0, "restarts": 1}, random_state=0,
             stack_linear=False)
# The classifiers draw the output layer from the Gaussian: the sampled default (three or more
# classes) compiles a NUTS sampler in each process, and labels, pipelines and parallel search
# do not depend on it (tests/inference/test_output_sampler.py and the bundled data sets in
# tests/acceptance/test_bundled_data.py fit the default).
CLASSIFIER = dict(QUICK, engine_options={**QUICK["engine_options"], "output_layer": "gaussian"})


@pytest.fixture(scope="module")
def iris():
    data = load_iris(as_frame=True)
    X = data.frame[data.feature_names]
    y = data.target_names[data.target]  # string labels
    return X, y


@pytest.mark.parametrize("labels", [
    pytest.param(lambda codes: pd.Series(np.array(["b", "c", "a"], dtype=object)[codes]),
                 id="text-in-a-series"),
    pytest.param(lambda codes: np.array([30, 10, 20])[codes], id="integers"),
])
@pytest.mark.slow
def test_a_multiclass_fits_draws_name_its_classes_in_idata_and_its_file(labels, tmp_path):
    """The network is fitted to class codes 0 … K-1; `posterior_.idata` names each output by
    its class, as `predict_proba`'s columns, and a saved model keeps the names."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(45, 2))
    y = labels(np.digitize(X[:, 0], [-0.4, 0.4]))
    model = BayesianMLPClassifier((2,), method="advi", steps=60, draws=10, random_state=0,
                                  engine_options={"tol": 0, "restarts": 1}).fit(X, y)
    outputs = model.posterior_.idata["posterior"]["w_1"]["output"].values
    assert outputs.tolist() == model.classes_.tolist() == sorted(set(np.asarray(y).tolist()))
    np.testing.assert_array_equal(model.posterior_.idata["observed_data"]["y"].values,
                                  np.searchsorted(model.classes_, np.asarray(y)))
    loaded = load(save(model, tmp_path / "model.bnn.nc"))
    assert loaded.posterior_.idata["posterior"]["output"].values.tolist() == outputs.tolist()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.slow
def test_classifier_encodes_any_labels_and_reads_dataframes(iris):
    X, y = iris
    est = BayesianMLPClassifier((8,), **CLASSIFIER).fit(X, y)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    assert est.posterior_.likelihood.name == "categorical"
    assert list(est.feature_names_in_) == list(X.columns) and est.n_features_in_ == 4
    assert est.posterior_.feature_names == tuple(X.columns)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(est.predict(X)) <= set(est.classes_)
    assert est.score(X, y) > 0.8
    summary = est.uncertainty(X.iloc[:5])
    assert list(summary["class"].values) == list(est.classes_)
    np.testing.assert_array_equal(summary["predicted_class"].values, est.predict(X.iloc[:5]))
    with pytest.raises(InvalidInputError, match="feature names"):
        est.predict(X.rename(columns={X.columns[0]: "other"}))

    two = y != "setosa"
    binary = BayesianMLPClassifier((8,), **CLASSIFIER).fit(X[two], y[two])
    assert binary.posterior_.likelihood.name == "bernoulli"
    assert list(binary.classes_) == ["versicolor", "virginica"]


@pytest.mark.slow
def test_regressor_return_std_is_the_total_predictive_sd(rng):
    X = rng.normal(size=(120, 2))
    y = 3.0 + 2.0 * X[:, 0] + 0.5 * rng.normal(size=120)
    est = BayesianMLPRegressor((8,), **QUICK).fit(X, y)
    mean, sd = est.predict(X, return_std=True)
    draws = est.posterior_.predictive_draws((X - est.x_mean_) / est.x_scale_)
    # law of total variance over posterior draws: E[noise variance] + Var[mean]
    # mean and sd come from the one fused float32 pass (the dtype policy): float32 rounding
    np.testing.assert_allclose(mean, draws["mean"].mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sd, np.sqrt((draws["scale"] ** 2).mean(axis=0)
                                           + draws["mean"].var(axis=0)), rtol=2e-6)
    np.testing.assert_array_equal(est.predict(X), mean)
    assert est.score(X, y) > 0.8


@pytest.mark.slow
def test_pipeline_cross_validation_and_parallel_grid_search(iris):
    X, y = iris
    # the network of test_classifier_encodes_any_labels_and_reads_dataframes: this process's
    # refit reuses its compiled fit
    pipe = make_pipeline(StandardScaler(), BayesianMLPClassifier((8,), **CLASSIFIER))
    # A grid over steps keeps one network shape, so each worker compiles the model once.
    search = GridSearchCV(pipe, {"bayesianmlpclassifier__steps": [200, 400]}, cv=2, n_jobs=2)
    search.fit(X, y)
    # the pipeline cross-validated (the scaler fitted on each training fold): every held-out
    # fold of both settings (a separate cross_val_score repeated the 400-step folds)
    folds = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(2)])
    assert folds.shape == (2, 2) and folds.min() > 0.6
    assert search.best_score_ > 0.6
    assert search.best_params_["bayesianmlpclassifier__steps"] in (200, 400)
    assert search.predict(X).shape == (len(X),)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_a_dask_dataframe_fits_and_predicts_as_its_pandas_rows():
    """A Dask DataFrame is computed at the estimators' entry (as NumPy reads a Dask array):
    its columns were read with pandas calls it lacks (AttributeError: 'DataFrame' object has
    no attribute 'set_axis')."""
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(80, 2)), columns=["a", "b"])
    frame["site"] = np.repeat(["n", "s"], 40)
    y = (frame["a"] > 0).astype(int)
    lazy = dd.from_pandas(frame, npartitions=3)
    settings = dict(method="advi", hidden_layer_sizes=(2,), steps=100, draws=20,
                    random_state=0, engine_options={"tol": 0})
    eager = BayesianMLPClassifier(**settings).fit(frame, y, groups="site")
    model = BayesianMLPClassifier(**settings).fit(lazy, y, groups="site")
    assert model.feature_names_in_.tolist() == ["a", "b"]
    np.testing.assert_allclose(model.predict_proba(lazy.drop(columns="site"), groups=frame["site"]),
                               eager.predict_proba(frame.drop(columns="site"),
                                                   groups=frame["site"]), rtol=1e-12)
