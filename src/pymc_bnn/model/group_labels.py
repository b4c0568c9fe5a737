"""Group labels: checked and encoded per row, recorded with a grouped fit, located for new rows.

A label is a string, number, boolean or tuple of them; the record (`group_record`) keeps the
fitted labels as JSON, so that a saved model predicts the same groups.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.validation import shown as shown_values

UNSEEN_GROUPS = ("population", "raise")


def _normalise_label(label):
    """A label as plain Python (NumPy scalars → int/float/str/bool, tuples kept), or raise."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, tuple):
        return tuple(_normalise_label(part) for part in label)
    if label is None or (isinstance(label, float) and not np.isfinite(label)):
        raise InvalidInputError(
            "groups contains missing labels (None/NaN); give every row a group or drop those rows"
        )
    if isinstance(label, (str, int, float, bool)):
        return label
    raise InvalidInputError(
        f"group labels must be strings, numbers, booleans or tuples of them, got "
        f"{type(label).__name__} {label!r}; convert the labels, e.g. with str()"
    )


def label_to_json(label):
    """A label as JSON keeps it: tuples become lists (`record_labels` turns them back).

    Parameters
    ----------
    label : str, int, float, bool or tuple
        A normalised label.

    Returns
    -------
    str, int, float, bool or list

    Examples
    --------
    >>> label_to_json(("store", 1)), label_to_json("online")
    (['store', 1], 'online')
    """
    return [label_to_json(part) for part in label] if isinstance(label, tuple) else label


def _label_from_json(label):
    return tuple(_label_from_json(part) for part in label) if isinstance(label, list) else label


def check_groups(groups, *, n_obs: int, name: str = "groups") -> list:
    """One normalised label per row: a 1-D sequence of length `n_obs`, or InvalidInputError.

    Parameters
    ----------
    groups : sequence
        One label per row (strings, numbers, booleans or tuples of them; a pandas column
        works).
    n_obs : int
        Rows of X.
    name : str, default "groups"
        What messages call it.

    Returns
    -------
    list
        The labels as plain Python values (NumPy scalars converted, lists as tuples).

    Raises
    ------
    InvalidInputError
        Not one label per row, missing labels, or labels of other types.

    Examples
    --------
    >>> import numpy as np
    >>> check_groups(np.array(["b", "a", "b"]), n_obs=3)
    ['b', 'a', 'b']
    >>> check_groups(["a", None], n_obs=2)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: groups contains missing labels (None/NaN); ...
    """
    if hasattr(groups, "to_numpy"):  # pandas Series / Index / Categorical column
        groups = groups.to_numpy()
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise InvalidInputError(
            f"{name} must be a sequence with one group label per row of X, got {groups!r}"
        )
    values = [tuple(v) if isinstance(v, list) else v for v in groups]
    if any(isinstance(v, np.ndarray) for v in values):
        raise InvalidInputError(f"{name} must be 1-D: one label per row of X")
    if len(values) != n_obs:
        raise InvalidInputError(
            f"X has {n_obs} rows but {name} has {len(values)} labels; pass one group label per row"
        )
    return [_normalise_label(v) for v in values]


def ordered_labels(labels: list) -> list:
    """Distinct labels, sorted when they can be, else in order of first appearance.

    Parameters
    ----------
    labels : list
        Normalised labels, with repeats.

    Returns
    -------
    list

    Examples
    --------
    >>> ordered_labels(["b", "a", "b"]), ordered_labels(["b", 1, "b"])
    (['a', 'b'], ['b', 1])
    """
    distinct = list(dict.fromkeys(labels))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def encode_groups(groups, *, n_obs: int) -> tuple[np.ndarray, list]:
    """Integer codes (n_obs,) into the distinct labels, and those labels (sorted where possible).

    Parameters
    ----------
    groups : sequence
        One label per row.
    n_obs : int
        Rows of X.

    Returns
    -------
    codes : numpy.ndarray
        `(n_obs,)` int64.
    labels : list
        The distinct labels; sorted when they can be, else in order of first appearance.

    Examples
    --------
    >>> encode_groups(["b", "a", "b"], n_obs=3)
    (array([1, 0, 1]), ['a', 'b'])
    """
    labels = check_groups(groups, n_obs=n_obs)
    known = ordered_labels(labels)
    lookup = {label: code for code, label in enumerate(known)}
    return np.array([lookup[v] for v in labels], dtype=np.int64), known


def group_coords(labels: list) -> list:
    """Coordinate values of the `group` dim.

    The labels as strings (netCDF-safe) when those are distinct, else positions 0 … G-1 (the
    record keeps the real labels either way).

    Parameters
    ----------
    labels : list
        The distinct labels.

    Returns
    -------
    list

    Examples
    --------
    >>> group_coords(["a", 2]), group_coords([1, "1"])
    (['a', '2'], [0, 1])
    """
    text = [str(label) for label in labels]
    return text if len(set(text)) == len(text) else list(range(len(labels)))


def group_record(pooling: str, labels: list, codes: np.ndarray, group_spread: float) -> dict:
    """The JSON-able description of a grouped fit that `Posterior.groups` holds.

    Parameters
    ----------
    pooling : {"partial", "complete", "none"}
        The pooling.
    labels : list
        The distinct labels, in code order.
    codes : numpy.ndarray
        `(n_obs,)` each training row's code.
    group_spread : float
        The spread prior's scale.

    Returns
    -------
    dict
        pooling, labels (tuples as lists), coords, counts (training rows per group) and
        group_spread.

    Examples
    --------
    >>> import numpy as np
    >>> group_record("partial", ["a", "b"], np.array([1, 0, 1]), 1.0)
    {'pooling': 'partial', 'labels': ['a', 'b'], 'coords': ['a', 'b'], 'counts': [1, 2],
     'group_spread': 1.0}
    """
    return {
        "pooling": pooling,
        "labels": [label_to_json(label) for label in labels],
        "coords": group_coords(labels),
        "counts": np.bincount(codes, minlength=len(labels)).astype(int).tolist(),
        "group_spread": float(group_spread),
    }


def record_labels(record: dict) -> list:
    """The group labels of a record made by `group_record` (also after a JSON round trip).

    Parameters
    ----------
    record : dict

    Returns
    -------
    list
        Labels that were tuples are tuples again.

    Examples
    --------
    >>> record_labels({"labels": [["store", 1], "online"]})
    [('store', 1), 'online']
    """
    return [_label_from_json(label) for label in record["labels"]]

def is_grouped(record: dict | None) -> bool:
    """True when predictions need each row's group (partial or no pooling).

    Parameters
    ----------
    record : dict or None
        `Posterior.groups`.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_grouped({"pooling": "partial"}), is_grouped({"pooling": "complete"}), is_grouped(None)
    (True, False, False)
    """
    return bool(record and record["pooling"] != "complete")


def locate_groups(record: dict | None, groups, *, n_obs: int,
                  unseen_groups: str) -> tuple[np.ndarray, list | None]:
    """Codes of new rows' groups in the fitted labels, and the rows' normalised labels.

    Parameters
    ----------
    record : dict or None
        `Posterior.groups`.
    groups : sequence or None
        One label per new row.
    n_obs : int
        New rows.
    unseen_groups : {"population", "raise"}
        What a group not seen in training gets: draws from the population, or an error.

    Returns
    -------
    codes : numpy.ndarray
        `(n_obs,)`, -1 for a group not seen in training.
    labels : list or None
        None when no groups were given.

    Raises
    ------
    InvalidInputError
        Groups missing for a grouped model, given for an ungrouped one, or unseen while
        `unseen_groups="raise"` (naming the unseen labels).

    Examples
    --------
    >>> import numpy as np
    >>> record = group_record("partial", ["a", "b"], np.array([0, 1]), 1.0)
    >>> locate_groups(record, ["b", "new"], n_obs=2, unseen_groups="population")
    (array([ 1, -1]), ['b', 'new'])
    >>> locate_groups(record, ["new"], n_obs=1, unseen_groups="raise")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: groups not seen in training: 'new'; ...
    """
    if unseen_groups not in UNSEEN_GROUPS:
        raise InvalidSettingError(
            f"unseen_groups must be one of {', '.join(map(repr, UNSEEN_GROUPS))}, "
            f"got {unseen_groups!r}"
        )
    if record is None:
        if groups is not None:
            raise InvalidInputError(
                "this model was fitted without groups, so it cannot use groups=; drop the "
                "argument or refit with build_model(..., groups=labels)"
            )
        return np.zeros(n_obs, dtype=np.int64), None
    if groups is None:
        if is_grouped(record):
            new_group = ("for a new group pass any unused label (it gets the population "
                         "network)" if record["pooling"] == "partial" else
                         "it has no population network, so only the fitted groups can be "
                         "predicted")
            raise InvalidInputError(
                f"this model was fitted with pooling={record['pooling']!r}, so predictions need "
                f"groups= (one label per row of X); {new_group}"
            )
        return np.zeros(n_obs, dtype=np.int64), None
    labels = check_groups(groups, n_obs=n_obs)
    lookup = {label: code for code, label in enumerate(record_labels(record))}
    codes = np.array([lookup.get(v, -1) for v in labels], dtype=np.int64)
    if unseen_groups == "raise" and (codes < 0).any():
        unseen = ordered_labels([v for v, c in zip(labels, codes, strict=False) if c < 0])
        fix = ("; a model fitted with pooling='none' has no population network, so only its "
               "fitted groups can be predicted; fit with pooling='partial' to predict new groups"
               if record["pooling"] == "none" else
               ", or pass unseen_groups='population' to predict them from the population")
        raise InvalidInputError(
            f"groups not seen in training: {shown_labels(unseen)}; group-only prediction needs a "
            f"group the model was fitted on (known: {shown_labels(record_labels(record))}){fix}"
        )
    return codes, labels

def shown_labels(labels: list) -> str:
    """The first ten labels, quoted as Python shows them (so "1" and 1 differ), for messages.

    Parameters
    ----------
    labels : list

    Returns
    -------
    str

    Examples
    --------
    >>> shown_labels(["1", 1])
    "'1', 1"
    """
    return shown_values(map(repr, labels), limit=10)

def split_group_column(X, groups):
    """Take the group column out of X when `groups` names one: lets users write groups="store".

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        The features.
    groups : str, sequence or None
        A column name of the DataFrame X, or the labels themselves.

    Returns
    -------
    X : array-like or pandas.DataFrame
        Without the column when `groups` named one; otherwise unchanged.
    groups : sequence or None
        The column's values, or `groups` unchanged.

    Raises
    ------
    InvalidInputError
        `groups` names a column X does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x0": [1.0, 2.0], "store": ["north", "south"]})
    >>> features, groups = split_group_column(X, "store")
    >>> list(features.columns), groups.tolist()
    (['x0'], ['north', 'south'])
    """
    columns = getattr(X, "columns", None)
    if isinstance(groups, str) and columns is not None:
        if groups not in columns:
            raise InvalidInputError(
                f"groups={groups!r} is not a column of X (columns: "
                f"{', '.join(map(str, list(columns)[:10]))}); pass the column name or the labels"
            )
        return X.drop(columns=[groups]), X[groups]
    return X, groups
