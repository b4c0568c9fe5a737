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


@dataclass(frozen=True)
class GroupedSplit:
    """A train/test split of grouped data: `groups_*` hold each row's group label (str).

    X_*: (n, n_features) float64; y_*, groups_*: (n,); angles: (n_groups,) radians, the
    rotation of each group (in `group_labels` order).
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    groups_train: np.ndarray
    groups_test: np.ndarray
    group_labels: tuple[str, ...]
    angles: np.ndarray
    feature_names: tuple[str, ...]
    description: str


def grouped_moons(
    n_groups: int = 12,
    n_train: int = 30,
    n_test: int = 100,
    noise: float = 0.2,
    *,
    angle_mean: float = 0.0,
    angle_sd: float = 40.0,
    data_seed: int = 0,
) -> GroupedSplit:
    """Two moons per group, each rotated about the origin by its own angle.

    Angles (degrees) are drawn from Normal(angle_mean, angle_sd): the groups share one shape
    up to a rotation, so what one group teaches helps the others, yet one network for all
    (complete pooling) blurs the rotations and `n_train` points (per group) are too few to learn
    a group alone. Points are standardised with the two moons' overall mean and sd before
    rotating. Labels are "g00", "g01", ...; each group has `n_train` training and `n_test`
    held-out points.
    """
    from sklearn.datasets import make_moons

    rng = np.random.default_rng(data_seed)
    angles = np.deg2rad(rng.normal(angle_mean, angle_sd, size=n_groups))
    labels = tuple(f"g{g:02d}" for g in range(n_groups))
    per_group = n_train + n_test
    X, y = make_moons(n_samples=n_groups * per_group, noise=noise,
                      random_state=int(rng.integers(2**31)))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    order = rng.permutation(X.shape[0])
    X, y = X[order], y[order].astype(np.int64)
    parts = {"X_train": [], "X_test": [], "y_train": [], "y_test": []}
    for g, angle in enumerate(angles):
        cos, sin = np.cos(angle), np.sin(angle)
        rows = slice(g * per_group, (g + 1) * per_group)
        rotated = X[rows] @ np.array([[cos, sin], [-sin, cos]])
        parts["X_train"].append(rotated[:n_train])
        parts["X_test"].append(rotated[n_train:])
        parts["y_train"].append(y[rows][:n_train])
        parts["y_test"].append(y[rows][n_train:])
    return GroupedSplit(
        **{key: np.concatenate(value) for key, value in parts.items()},
        groups_train=np.repeat(np.array(labels), n_train),
        groups_test=np.repeat(np.array(labels), n_test),
        group_labels=labels,
        angles=angles,
        feature_names=("x0", "x1"),
        description=(
            f"grouped two moons: {n_groups} groups, each rotated by an angle drawn from "
            f"Normal({angle_mean:g}°, {angle_sd:g}°); {n_train} training and {n_test} held-out "
            f"points per group; noise {noise}"
        ),
    )
