"""Model files: exact round trips, atomic saves, and refusal of files that are not good models."""

import dataclasses
import os
import pickle

import numpy as np
import pytest
import xarray as xr

import pymc_bnn
from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, ModelFileError, load, save
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model_file import FORMAT_VERSION

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
    return BayesianMLPRegressor(**FAST).fit(*data)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, classifier):
    path = tmp_path_factory.mktemp("models") / "classifier.bnn.nc"
    classifier.save(path)
    return path


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
    assert set(loaded.idata.groups) == set(posterior.idata.groups)


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
    for a, b in zip(reloaded.predict(X, return_std=True), regressor.predict(X, return_std=True)):
        np.testing.assert_array_equal(a, b)


def test_pickle_renamed_to_our_extension_is_refused(tmp_path, classifier):
    path = tmp_path / "evil.bnn.nc"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelFileError, match="pickle"):
        load(path)


def test_truncated_file_is_refused(tmp_path, saved):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 600):
        path = tmp_path / f"cut{cut}.bnn.nc"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated or corrupt"):
            load(path)


def test_foreign_netcdf_missing_and_empty_files_are_refused(tmp_path):
    foreign = tmp_path / "other.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(ModelFileError, match="not a pymc-bnn model file"):
        load(foreign)
    with pytest.raises(ModelFileError, match="no model file"):
        load(tmp_path / "missing.bnn.nc")
    (tmp_path / "empty.bnn.nc").write_bytes(b"")
    with pytest.raises(ModelFileError, match="not a pymc-bnn model file"):
        load(tmp_path / "empty.bnn.nc")


def test_newer_format_version_is_refused(tmp_path, classifier, monkeypatch):
    from pymc_bnn import model_file

    monkeypatch.setattr(model_file, "FORMAT_VERSION", FORMAT_VERSION + 1)
    path = save(classifier, tmp_path / "future.bnn.nc")
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}.*upgrade pymc-bnn"):
        load(path)


def test_failed_save_leaves_the_previous_file_intact(tmp_path, saved, classifier, data):
    path = tmp_path / "model.bnn.nc"
    path.write_bytes(saved.read_bytes())
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk full")

    original = os.fsync
    os.fsync = crash
    try:
        with pytest.raises(OSError, match="disk full"):
            save(classifier, path)
    finally:
        os.fsync = original
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bnn.nc"]  # no temp file left
    np.testing.assert_array_equal(load(path).predict_proba(data[0]),
                                  classifier.predict_proba(data[0]))


def test_what_load_could_not_rebuild_is_refused_at_save(tmp_path, classifier):
    class MyPrior:
        name = "mine"

        def weight(self, *a, **k): ...
        def bias(self, *a, **k): ...
        def to_dict(self):
            return {"name": "mine"}

    custom = dataclasses.replace(classifier.posterior_, prior=MyPrior())
    with pytest.raises(InvalidSettingError, match="cannot be saved.*never runs code"):
        save(custom, tmp_path / "x.bnn.nc")
    odd = dataclasses.replace(classifier.posterior_, settings={"callback": print})
    with pytest.raises(InvalidSettingError, match="settings.callback"):
        save(odd, tmp_path / "x.bnn.nc")
    assert not (tmp_path / "x.bnn.nc").exists()
    with pytest.raises(InvalidSettingError, match="not fitted"):
        save(BayesianMLPClassifier(), tmp_path / "x.bnn.nc")


def test_load_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used while loading")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    assert type(load(saved)) is BayesianMLPClassifier


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
