"""Fixtures of the reliability tests."""

import numpy as np
import pandas as pd
import pytest


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return pd.DataFrame(X, columns=["height", "width", "depth"]).assign(
        label=(X[:, 0] + X[:, 1] > 0).astype(int),
        kind=np.where(X[:, 0] > 0, "big", "small"),
        price=10 + X[:, 0] - X[:, 2],
    )


@pytest.fixture(scope="module")
def table():
    """40 rows: three numeric features, a 0/1 label, a string label and a real target."""
    return _table()


@pytest.fixture(scope="session")
def trained_files(tmp_path_factory):
    """A training CSV (the rows of `table`) and a model fitted on it by `pymc-bnn fit`, in a
    folder of their own: (data path, model path). One fit for every module: they only read
    both files."""
    from pymc_bnn.cli.app import main
    from reliability.helpers import TINY_CLI

    folder = tmp_path_factory.mktemp("trained")
    data = folder / "train.csv"
    _table()[["height", "width", "depth", "label"]].to_csv(data, index=False)
    model = folder / "model.bnn.nc"
    assert main(["fit", str(data), "--target", "label", "--out", str(model), *TINY_CLI]) == 0
    return data, model
