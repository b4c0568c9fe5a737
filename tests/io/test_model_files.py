"""Model files: exact round trips, atomic saves, and refusal of files that are not good models."""

import dataclasses

import numpy as np
import pytest

import pymc_bnn
from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, load, save
from pymc_bnn.io import read_description

FAST = dict(hidden_layer_sizes=(6,), steps=300, draws=40, engine_options={"tol": 0}, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(80, 3))
    return X, X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=80)


@pytest.fixture(scope="module")
def classifier(data):
    X, signal = data
    labels = np.array(["low", "mid", "high"])[np.digitize(signal, [-0.5, 0.5])]
    return BayesianMLPClassifier(**FAST).fit(X, labels)


@pytest.fixture(scope="module")
def regressor(data):
    """With a skip path, so both round trips cover one (the classifier has none)."""
    return BayesianMLPRegressor(**FAST, skip=True).fit(*data)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, classifier):
    path = tmp_path_factory.mktemp("models") / "classifier.bnn.nc"
    classifier.save(path)
    return path


@pytest.mark.slow
def test_posterior_round_trip_predicts_identically_and_keeps_every_field(tmp_path, regressor, data):
    X, _ = data
    posterior = regressor.posterior_
    # Plain data in dict fields (as other features add) must come back as it went in.
    posterior = dataclasses.replace(posterior, diagnostics={
        "groups": {"levels": ("a", "b"), "sizes": np.array([3, 5]), "ok": True, "r": 0.1 + 0.2}})
    path = save(posterior, tmp_path / "post.bnn.nc")
    loaded = load(path)
    for field in dataclasses.fields(posterior):
        if field.name in ("idata", "elbo", "diagnostics"):
            continue
        assert getattr(loaded, field.name) == getattr(posterior, field.name), field.name
    np.testing.assert_array_equal(loaded.elbo, posterior.elbo)
    groups = loaded.diagnostics["groups"]
    assert groups["levels"] == ("a", "b") and groups["ok"] is True and groups["r"] == 0.1 + 0.2
    np.testing.assert_array_equal(groups["sizes"], [3, 5])
    for key, value in posterior.predictive_draws(X).items():
        np.testing.assert_array_equal(loaded.predictive_draws(X)[key], value)
    # every group but the training data, which model files leave out (the next test)
    assert set(loaded.idata.children) == set(posterior.idata.children) - {"observed_data",
                                                                           "constant_data"}


def test_a_model_file_leaves_the_training_data_out_and_the_fit_keeps_it(tmp_path, regressor,
                                                                        data):
    """A model file is the fit, not its rows: `observed_data` and `constant_data` stay in the
    fitted posterior, the file is no larger for them, and a model built on the same rows puts
    them back beside the loaded draws."""
    import h5py

    from pymc_bnn import build_model
    from pymc_bnn.model.data_groups import DATA_GROUPS, with_data_groups

    X, y = data
    posterior = regressor.posterior_
    assert set(DATA_GROUPS) <= set(posterior.idata.children)
    path = save(posterior, tmp_path / "fit.bnn.nc")
    with h5py.File(path, "r") as file:
        assert not set(DATA_GROUPS) & set(file["idata"])
    assert set(DATA_GROUPS) <= set(posterior.idata.children)  # saving changed nothing
    without = dataclasses.replace(posterior, idata=posterior.idata.copy())
    for name in DATA_GROUPS:
        del without.idata[name]
    size = save(without, tmp_path / "without.bnn.nc").stat().st_size
    assert abs(path.stat().st_size - size) < 64  # the same file (but its time stamp)
    loaded = load(path)
    assert not set(DATA_GROUPS) & set(loaded.idata.children)
    np.testing.assert_array_equal(loaded.predict(X)["mean"], posterior.predict(X)["mean"])
    # the estimator's model: its standardised inputs, the target as given
    bnn = build_model(regressor._scaled(X), y, hidden=(2,), likelihood="gaussian",
                      feature_names=posterior.feature_names)
    restored = with_data_groups(loaded.idata, bnn)
    for name in DATA_GROUPS:
        ours, fitted = restored[name].to_dataset(), posterior.idata[name].to_dataset()
        assert ours.drop_attrs().identical(fitted.drop_attrs()), name
        assert {k: v for k, v in ours.attrs.items() if k != "created_at"} == {
            k: v for k, v in fitted.attrs.items() if k != "created_at"}


@pytest.mark.slow
def test_a_classifiers_draws_name_its_classes_through_the_file(classifier, saved, data):
    """The estimator fits class codes; its categorical network's outputs are named by
    `classes_` in `idata`, and a loaded model keeps the names and its predictions."""
    loaded = load(saved)
    for fitted in (classifier, loaded):
        last = fitted.posterior_.idata["posterior"]["w_1"]
        assert last.dims[-1] == "output"
        assert last["output"].values.tolist() == ["high", "low", "mid"]
        assert fitted.classes_.tolist() == ["high", "low", "mid"]
    np.testing.assert_array_equal(loaded.predict_proba(data[0]), classifier.predict_proba(data[0]))


@pytest.mark.slow  # fits of several seconds
def test_estimators_round_trip_exactly(tmp_path, classifier, regressor, data, saved):
    X, _ = data
    loaded = load(saved)
    assert type(loaded) is BayesianMLPClassifier
    assert loaded.get_params() == classifier.get_params()
    np.testing.assert_array_equal(loaded.classes_, classifier.classes_)
    assert loaded.classes_.dtype == classifier.classes_.dtype
    np.testing.assert_array_equal(loaded.predict_proba(X), classifier.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), classifier.predict(X))

    pymc_bnn.save(regressor, tmp_path / "reg.bnn.nc")
    reloaded = load(tmp_path / "reg.bnn.nc")
    assert reloaded.skip and reloaded.posterior_.spec.skip
    for a, b in zip(reloaded.predict(X, return_std=True), regressor.predict(X, return_std=True), strict=False):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_hierarchical_posterior_round_trips_with_its_groups(tmp_path):
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import grouped_moons

    data = grouped_moons()
    bnn = build_model(data.X_train, data.y_train, groups=data.groups_train)
    posterior = fit(bnn, steps=100, draws=20, tol=0, progress=False)
    loaded = load(save(posterior, tmp_path / "grouped.bnn.nc"))
    assert loaded.groups == posterior.groups
    for groups in (data.groups_test, ["a group never seen"] * len(data.X_test)):
        np.testing.assert_array_equal(
            loaded.predictive_draws(data.X_test, groups=groups)["probs"],
            posterior.predictive_draws(data.X_test, groups=groups)["probs"])


def test_rounded_draws_stay_within_the_stated_fraction_of_their_spread(tmp_path, regressor, data):
    """draws_precision=6: every stored draw within sd/2**7 of the fit's, sd that weight's
    posterior sd; the predictive mean moves by far less than its Monte Carlo error."""
    X, _ = data
    posterior = regressor.posterior_
    path = save(posterior, tmp_path / "compact.bnn.nc", draws_precision=6)
    assert read_description(path)["draws_precision"] == 6
    loaded = load(path)
    moved = 0
    for name, stored in loaded.idata["posterior"].data_vars.items():
        fitted = posterior.idata["posterior"][name]
        sd = fitted.std(("chain", "draw"))
        assert bool((abs(stored - fitted) <= sd / 2**7).all()), name
        assert stored.dtype == fitted.dtype
        moved += int((stored != fitted).sum())
    assert moved > 0
    before, after = posterior.predict(X), loaded.predict(X)
    # Monte Carlo error of the mean over 40 draws: std / sqrt(40) ≈ 0.16 std
    assert bool((abs(after["mean"] - before["mean"]) <= 0.01 * before["std"]).all())


def test_a_bad_draws_precision_is_refused_when_saving_and_loading(tmp_path, regressor):
    from pathlib import Path

    from pymc_bnn.errors import InvalidSettingError, ModelFileError
    from pymc_bnn.io.model_file_checks import check_description

    with pytest.raises(InvalidSettingError, match="draws_precision must be None"):
        save(regressor, tmp_path / "m.bnn.nc", draws_precision=24)
    assert not (tmp_path / "m.bnn.nc").exists()
    description = read_description(save(regressor, tmp_path / "m.bnn.nc"))
    assert "draws_precision" not in description  # exact by default
    with pytest.raises(ModelFileError, match="draws_precision must be null or a whole number"):
        check_description({**description, "draws_precision": "8"}, Path("m.bnn.nc"),
                          format_name="pymc-bnn-model", version=1)


@pytest.mark.slow  # a fit of several seconds
def test_a_saved_estimator_predicts_as_the_estimator_without_being_one(tmp_path, data, regressor):
    """What `pymc-bnn predict` reads (`SavedEstimator`, no scikit-learn) gives the estimator's
    numbers exactly, on raw rows with text, gaps and an unseen category."""
    import pandas as pd

    from pymc_bnn.io.model_file_reader import decode_with_description
    from pymc_bnn.io.saved_estimator import SavedEstimator

    X, signal = data
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "shade": rng.choice(["red", "blue"], 80)})
    table.loc[::9, "a"] = np.nan
    table.loc[::11, "shade"] = None
    labels = np.where(signal > 0, "up", "down")
    classifier = BayesianMLPClassifier(**FAST).fit(table, labels)
    new = table.head(12).copy()
    new.loc[[0, 1], "shade"] = "green"  # unseen
    new.loc[2, "b"] = np.nan            # a gap where training had none
    saved, description = decode_with_description(classifier.save(tmp_path / "c.bnn.nc"),
                                                 saved_estimator=True)
    assert isinstance(saved, SavedEstimator) and description["kind"] == "estimator"
    assert saved.class_name == "BayesianMLPClassifier"
    assert saved.params == classifier.get_params()
    np.testing.assert_array_equal(saved.classes_, classifier.classes_)
    np.testing.assert_array_equal(saved.posterior_inputs(new), classifier.posterior_inputs(new))
    np.testing.assert_array_equal(saved.predict_proba(new), classifier.predict_proba(new))
    expected = classifier.uncertainty(new, level=0.8)
    got = saved.uncertainty(new, level=0.8)
    assert got.equals(expected) and got["predicted_class"].values.dtype.kind in "OU"

    reloaded, _ = decode_with_description(regressor.save(tmp_path / "r.bnn.nc"),
                                          saved_estimator=True)
    with pytest.raises(AttributeError, match="a BayesianMLPRegressor has no classes_"):
        _ = reloaded.classes_
    assert reloaded.table_encoding_ == regressor.table_encoding_
    assert reloaded.uncertainty(X[:10], level=0.9).equals(regressor.uncertainty(X[:10], level=0.9))
