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
