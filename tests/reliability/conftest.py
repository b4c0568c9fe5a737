"""Fixtures of the reliability tests."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def table():
    """40 rows: three numeric features, a 0/1 label, a string label and a real target."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return pd.DataFrame(X, columns=["height", "width", "depth"]).assign(
        label=(X[:, 0] + X[:, 1] > 0).astype(int),
        kind=np.where(X[:, 0] > 0, "big", "small"),
        price=10 + X[:, 0] - X[:, 2],
    )
