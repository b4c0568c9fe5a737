"""Data the project ships or generates: nothing is downloaded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """A train/test split. X_*: (n, n_features) float64; y_*: (n,)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    description: str


def two_moons(
    n_samples: int = 1000,
    noise: float = 0.2,
    *,
    data_seed: int = 2009,
    split_seed: int = 0,
    test_size: float = 0.3,
) -> Split:
    """The seed's data: scikit-learn's two moons, standardised, 70/30 split.

    `data_seed` draws the points (the seed uses 2009); `split_seed` shuffles the split (the seed
    passes its run seed). Both features are standardised over all points, as the seed does.
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import scale

    X, y = make_moons(noise=noise, n_samples=n_samples, random_state=data_seed)
    X = scale(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=split_seed
    )
    return Split(
        X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64),
        feature_names=("x0", "x1"),
        description=(
            f"two moons: {n_samples} points, noise {noise}, standardised, "
            f"{1 - test_size:.0%}/{test_size:.0%} train/test split"
        ),
    )


def grid_2d(low: float = -3.0, high: float = 3.0, n: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n×n grid over [low, high]²: (points (n*n, 2), xx (n, n), yy (n, n))."""
    axis = np.linspace(low, high, n)
    xx, yy = np.meshgrid(axis, axis)
    return np.column_stack([xx.ravel(), yy.ravel()]), xx, yy
