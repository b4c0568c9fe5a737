"""Bad input gets a clear error naming the problem and the fix."""

import numpy as np
import pytest

from pymc_bnn import InvalidInputError, InvalidSettingError, NormalPrior, build_model, fit


def test_labels_other_than_0_1_for_bernoulli(moons):
    y = moons.y_train + 1  # labels 1 and 2
    with pytest.raises(InvalidInputError, match="needs labels 0 and 1, got 1, 2.*encode"):
        build_model(moons.X_train, y)


def test_single_class(moons):
    with pytest.raises(InvalidInputError, match="single class"):
        build_model(moons.X_train, np.zeros(len(moons.X_train), dtype=int))


def test_nan_and_inf_in_X(moons):
    X = moons.X_train.copy()
    X[5, 0] = np.inf
    with pytest.raises(InvalidInputError, match="inf values.*drop or impute"):
        build_model(X, moons.y_train)


def test_nan_in_y(moons):
    y = moons.y_train.astype(float)
    y[3] = np.nan
    with pytest.raises(InvalidInputError, match="y contains 1 NaN/inf"):
        build_model(moons.X_train, y)


def test_length_mismatch(moons):
    with pytest.raises(InvalidInputError, match="X has 700 rows but y has 699"):
        build_model(moons.X_train, moons.y_train[:-1])


def test_one_dimensional_X(moons):
    with pytest.raises(InvalidInputError, match=r"must be 2-D.*reshape\(-1, 1\)"):
        build_model(moons.X_train[:, 0], moons.y_train)


def test_empty_X():
    with pytest.raises(InvalidInputError, match="empty"):
        build_model(np.zeros((0, 2)), np.zeros(0))


def test_non_numeric_dataframe_column(moons):
    import pandas as pd

    frame = pd.DataFrame({"a": moons.X_train[:, 0], "colour": ["red"] * len(moons.X_train)})
    with pytest.raises(InvalidInputError, match="non-numeric columns: colour"):
        build_model(frame, moons.y_train)


def test_bad_settings(moons):
    bnn = build_model(moons.X_train, moons.y_train)
    with pytest.raises(InvalidSettingError, match="unknown inference method 'magic'"):
        fit(bnn, "magic")
    with pytest.raises(InvalidSettingError, match="draws must be at least 1"):
        fit(bnn, "pymc_advi", draws=0)
    with pytest.raises(InvalidSettingError, match="positive"):
        build_model(moons.X_train, moons.y_train, prior=NormalPrior(sigma=-1))


@pytest.fixture(scope="module")
def tiny_bnn(small_moons):
    return build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))


@pytest.mark.parametrize(
    ("method", "settings", "message"),
    [
        ("advi", {"draws": 0}, "draws must be at least 1"),
        ("advi", {"draws": "many"}, "draws must be a whole number"),
        ("advi", {"draws": 2.5}, "draws must be a whole number"),
        ("advi", {"random_seed": "x"}, "random_seed must be a whole number"),
        ("advi", {"random_seed": -1}, "random_seed must be at least 0"),
        ("mcmc", {}, "unknown inference method 'mcmc'; use one of"),
        ("advi", {"stepz": 10}, r"unknown option\(s\) \['stepz'\]"),
        ("pymc_advi", {"stepz": 10}, r"unknown option\(s\) \['stepz'\] for pymc_advi; use steps"),
        ("pymc_advi", {"steps": 0}, "steps must be at least 1"),
        ("pymc_advi", {"learning_rate": -1.0}, "learning_rate must be a positive number"),
    ],
)
def test_impossible_fit_settings_are_refused(tiny_bnn, method, settings, message):
    with pytest.raises(InvalidSettingError, match=message):
        fit(tiny_bnn, method, progress=False, **settings)


@pytest.mark.parametrize(
    ("hidden", "message"),
    [((0,), "at least 1 unit"), ((2.5,), "whole number, got 2.5"),
     ("5,5", "sequence of layer widths such as"), ((-3, 2), "at least 1 unit")],
)
def test_impossible_architectures_are_refused(small_moons, hidden, message):
    with pytest.raises(InvalidSettingError, match=message):
        build_model(small_moons.X_train, small_moons.y_train, hidden=hidden)


def test_complex_features_are_refused(small_moons):
    with pytest.raises(InvalidInputError, match="complex numbers; pass real features"):
        build_model(small_moons.X_train + 1j, small_moons.y_train)
