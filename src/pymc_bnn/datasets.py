"""Data the project ships or generates: nothing is downloaded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """A train/test split.

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Inputs, `(n_train, n_features)` and `(n_test, n_features)`, float64.
    y_train, y_test : numpy.ndarray
        Targets, `(n_train,)` and `(n_test,)`.
    feature_names : tuple of str
        One name per column of X.
    description : str
        One line on where the data came from, for reports.

    Examples
    --------
    >>> import numpy as np
    >>> split = Split(np.zeros((3, 1)), np.zeros((1, 1)), np.array([0, 1, 0]), np.array([1]),
    ...               feature_names=("dose",), description="three rows")
    >>> split.X_train.shape, split.feature_names
    ((3, 1), ('dose',))

    `two_moons` returns one.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    description: str


def two_moons_points(n_samples: int = 1000, noise: float = 0.2, *,
                     data_seed: int = 2009) -> tuple[np.ndarray, np.ndarray]:
    """The seed's two-moons points as drawn: unstandardised and unsplit.

    `two_moons` standardises and splits these; a caller with its own splits (the benchmarks'
    panel) takes them here.

    Parameters
    ----------
    n_samples : int, default 1000
        Points in all.
    noise : float, default 0.2
        Sd of the Gaussian noise added to the points, in the moons' own units.
    data_seed : int, default 2009
        Draws the points; 2009 is the seed analysis' value.

    Returns
    -------
    X : numpy.ndarray
        `(n_samples, 2)` float64.
    y : numpy.ndarray
        `(n_samples,)` labels 0/1, int64.

    Examples
    --------
    >>> X, y = two_moons_points()
    >>> X.shape, np.bincount(y).tolist()
    ((1000, 2), [500, 500])
    """
    from sklearn.datasets import make_moons

    X, y = make_moons(noise=noise, n_samples=n_samples, random_state=data_seed)
    return X, y.astype(np.int64)


def two_moons(
    n_samples: int = 1000,
    noise: float = 0.2,
    *,
    data_seed: int = 2009,
    split_seed: int = 0,
    test_size: float = 0.3,
) -> Split:
    """The seed's data: scikit-learn's two moons, standardised, 70/30 split.

    Both features are standardised over all points, as the seed does.

    Parameters
    ----------
    n_samples : int, default 1000
        Points in all, before the split.
    noise : float, default 0.2
        Sd of the Gaussian noise added to the points (in the moons' own units, before
        standardising).
    data_seed : int, default 2009
        Draws the points; 2009 is the seed analysis' value.
    split_seed : int, default 0
        Shuffles the split; the seed analysis passes its run seed.
    test_size : float, default 0.3
        Fraction of the points held out.

    Returns
    -------
    Split
        Labels 0/1 as int64, features named "x0" and "x1".

    Examples
    --------
    >>> data = two_moons(n_samples=100)
    >>> data.X_train.shape, data.X_test.shape, data.y_train.dtype
    ((70, 2), (30, 2), dtype('int64'))
    >>> data.description
    'two moons: 100 points, noise 0.2, standardised, 70%/30% train/test split'
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import scale

    X, y = two_moons_points(n_samples, noise, data_seed=data_seed)
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


def grid_2d(low: float = -3.0, high: float = 3.0, n: int = 100
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n×n grid over [low, high]², for maps of a 2-feature model.

    The default covers ±3 sd of standardised features.

    Parameters
    ----------
    low, high : float, default -3.0 and 3.0
        Range of both axes.
    n : int, default 100
        Points per axis.

    Returns
    -------
    points : numpy.ndarray
        `(n * n, 2)`: every grid point, row by row of the grid.
    xx, yy : numpy.ndarray
        `(n, n)` each, as from `numpy.meshgrid`, for contour plots.

    Examples
    --------
    >>> points, xx, yy = grid_2d(-1.0, 1.0, n=3)
    >>> points.shape, xx.shape
    ((9, 2), (3, 3))
    >>> points[:4]
    array([[-1., -1.],
           [ 0., -1.],
           [ 1., -1.],
           [-1.,  0.]])
    """
    axis = np.linspace(low, high, n)
    xx, yy = np.meshgrid(axis, axis)
    return np.column_stack([xx.ravel(), yy.ravel()]), xx, yy


@dataclass(frozen=True)
class GroupedSplit:
    """A train/test split of grouped data: `groups_*` hold each row's group label (str).

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Inputs, `(n_train, n_features)` and `(n_test, n_features)`, float64.
    y_train, y_test : numpy.ndarray
        Targets, `(n_train,)` and `(n_test,)`.
    groups_train, groups_test : numpy.ndarray
        Each row's group label, `(n_train,)` and `(n_test,)`.
    group_labels : tuple of str
        The groups, in order.
    angles : numpy.ndarray
        `(n_groups,)`, radians: the rotation of each group, in `group_labels` order.
    feature_names : tuple of str
        One name per column of X.
    description : str
        One line on how the data was made, for reports.

    Examples
    --------
    `grouped_moons` returns one:

    >>> data = grouped_moons(n_groups=2, n_train=3, n_test=1)
    >>> data.groups_train.tolist(), data.angles.shape
    (['g00', 'g00', 'g00', 'g01', 'g01', 'g01'], (2,))
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
    rotating.

    Parameters
    ----------
    n_groups : int, default 12
        Number of groups, labelled "g00", "g01", ...
    n_train, n_test : int, default 30 and 100
        Training and held-out points per group.
    noise : float, default 0.2
        Sd of the moons' Gaussian noise.
    angle_mean, angle_sd : float, default 0.0 and 40.0
        Mean and sd of the rotation angles, in degrees.
    data_seed : int, default 0
        Draws the angles, the points and their order.

    Returns
    -------
    GroupedSplit

    Examples
    --------
    >>> data = grouped_moons(n_groups=3, n_train=4, n_test=2)
    >>> data.X_train.shape, data.group_labels
    ((12, 2), ('g00', 'g01', 'g02'))
    >>> data.groups_test.tolist()
    ['g00', 'g00', 'g01', 'g01', 'g02', 'g02']
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
    parts: dict[str, list[np.ndarray]] = {"X_train": [], "X_test": [], "y_train": [],
                                          "y_test": []}
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


def penguins_like(n: int, seed: int = 0, *, missing: float = 0.0):
    """A raw table shaped like palmerpenguins, generated: text columns, and gaps if asked for.

    Species (Adelie, Chinstrap, Gentoo) set the means of bill length, flipper length and body
    mass (near the real species' means); island and sex are text; `tag` is an identifier per
    bird. For tests, examples and benchmarks of `pymc-bnn fit` on a real-looking table without
    downloading one.

    Parameters
    ----------
    n : int
        Rows.
    seed : int, default 0
        Draws everything.
    missing : float, default 0.0
        Share of the rows, drawn independently per column, whose `bill_length_mm` and whose
        `sex` is missing (NaN).

    Returns
    -------
    pandas.DataFrame
        Columns tag, species, island, bill_length_mm, flipper_length_mm, body_mass_g, sex.

    Examples
    --------
    >>> table = penguins_like(5, seed=1)
    >>> list(table.columns)
    ['tag', 'species', 'island', 'bill_length_mm', 'flipper_length_mm', 'body_mass_g', 'sex']
    >>> sorted(set(penguins_like(200, missing=0.1)["species"]))
    ['Adelie', 'Chinstrap', 'Gentoo']
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n)
    centre = {"Adelie": (38.8, 190, 3700), "Chinstrap": (48.8, 196, 3730),
              "Gentoo": (47.5, 217, 5080)}
    means = np.array([centre[s] for s in species])
    table = pd.DataFrame({
        "tag": [f"N{seed}A{i}" for i in range(n)], "species": species,
        "island": np.where(species == "Gentoo", "Biscoe",
                           rng.choice(["Biscoe", "Dream", "Torgersen"], n)),
        "bill_length_mm": means[:, 0] + rng.normal(0, 2.5, n),
        "flipper_length_mm": means[:, 1] + rng.normal(0, 6, n),
        "body_mass_g": (means[:, 2] + rng.normal(0, 400, n)).round(),
        "sex": rng.choice(["male", "female"], n)})
    if missing:
        gaps = rng.random((n, 2)) < missing
        table.loc[gaps[:, 0], "bill_length_mm"] = np.nan
        table.loc[gaps[:, 1], "sex"] = np.nan
    return table
