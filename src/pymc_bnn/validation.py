"""One place where user arrays are checked before anything numeric happens.

Targets' shapes, row weights, predictions and whole-number settings here, with what the checks'
messages are made of (`shown`, `python_value`) and a mean and sd no finite input overflows
(`mean_and_scale`); the features (X) in `pymc_bnn.feature_checks`; the values of targets and
class labels (binary, categorical, real, counts, numbers stored as text) in
`pymc_bnn.label_checks`.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.errors import InvalidInputError, InvalidSettingError


def mean_and_scale(values, axis=0, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of finite `values` along `axis`, without overflow or underflow.

    Each slice is divided by its largest absolute value first, so values near 1e300 (whose
    squares overflow to inf) or near 1e-300 (whose squares underflow to 0, making the slice
    look constant) give their true spread. A constant slice gets sd 0.

    Parameters
    ----------
    values : array-like
        Finite numbers.
    axis : int, default 0
        The axis reduced over (0: per column of an `(n_obs, n_features)` array).
    weights : array-like, optional
        One weight ≥ 0 per entry along `axis` (not all 0): the mean and sd of the values
        repeated as many times (a value of weight 0 leaves no mark, beyond its scaling).

    Returns
    -------
    mean, sd : numpy.ndarray
        float64, `values`' shape without `axis`.

    Examples
    --------
    >>> mean, sd = mean_and_scale([[1e300, 0.0], [-1e300, 0.0]])
    >>> mean.tolist(), sd.tolist()
    ([0.0, 0.0], [1e+300, 0.0])
    """
    values = np.asarray(values, dtype=np.float64)
    largest = np.max(np.abs(values), axis=axis, keepdims=True)
    unit = np.where(largest > 0, largest, 1.0)
    scaled = values / unit
    if weights is None:
        mean = scaled.mean(axis=axis, keepdims=True)
        sd = scaled.std(axis=axis, keepdims=True)
    else:
        shape = [1] * scaled.ndim
        shape[axis] = -1
        w = np.reshape(np.asarray(weights, dtype=np.float64), shape)
        mean = np.sum(w * scaled, axis=axis, keepdims=True) / np.sum(w)
        sd = np.sqrt(np.sum(w * (scaled - mean) ** 2, axis=axis, keepdims=True) / np.sum(w))
    return np.squeeze(mean * unit, axis=axis), np.squeeze(sd * unit, axis=axis)


def refuse_nonfinite(values: dict, *, obs_axis: dict | int = 0, what: str = "predictions") -> None:
    """Raise InvalidInputError when any of `values` is NaN or infinite, naming the rows.

    Such numbers come from inputs far outside the training range (or a target on an extreme
    scale) and must never be returned silently.

    Parameters
    ----------
    values : dict of str to array-like
        Arrays with an observation axis; integer and boolean arrays are skipped.
    obs_axis : int or dict of str to int, default 0
        The observation axis, one for all or per name (absent names: 0).
    what : str, default "predictions"
        What the message calls the values.

    Raises
    ------
    InvalidInputError
        Naming the rows where any array is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> refuse_nonfinite({"mean": np.array([0.2, 0.7])})
    >>> refuse_nonfinite({"mean": np.array([[0.2, np.inf, 0.1]])}, obs_axis=1)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: the predictions of 1 row(s) are not finite numbers (rows ...
    """
    bad = None
    for name, array in values.items():
        array = np.asarray(array)
        if array.dtype.kind not in "fc":
            continue
        axis = obs_axis if isinstance(obs_axis, int) else obs_axis.get(name, 0)
        others = tuple(i for i in range(array.ndim) if i != axis)
        rows = ~np.all(np.isfinite(array), axis=others)
        bad = rows if bad is None else bad | rows
    if bad is not None and bad.any():
        rows = np.flatnonzero(bad)
        raise InvalidInputError(
            f"the {what} of {rows.size} row(s) are not finite numbers (rows "
            f"{shown(rows.tolist())}): their features are far outside the range seen in "
            "training, or the scale of the numbers overflows; check those rows' units, or "
            "rescale the data (e.g. to thousands) and fit again"
        )


def check_target(y, *, n_obs: int, name: str = "y") -> np.ndarray:
    """Return `y` as a 1-D array of length `n_obs` (dtype kept), or raise InvalidInputError.

    A column vector `(n_obs, 1)` is flattened; NaN/inf and None are refused.

    Parameters
    ----------
    y : array-like
        One target per row of X.
    n_obs : int
        Rows of X.
    name : str, default "y"
        What the messages call the array.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`.

    Raises
    ------
    InvalidInputError
        On another shape or length, or missing values.

    Examples
    --------
    >>> check_target([[1], [0], [1]], n_obs=3)
    array([1, 0, 1])
    >>> check_target([1, 0], n_obs=3)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X has 3 rows but y has 2; pass one target per row of X
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D with one target per row, got shape {arr.shape}"
        )
    if arr.shape[0] != n_obs:
        raise InvalidInputError(
            f"X has {n_obs} rows but {name} has {arr.shape[0]}; pass one target per row of X"
        )
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        n_bad = int((~np.isfinite(arr)).sum())
        raise InvalidInputError(
            f"{name} contains {n_bad} NaN/inf value(s); drop those rows or impute the target"
        )
    if arr.dtype == object and any(v is None for v in arr):
        raise InvalidInputError(f"{name} contains missing values (None); drop those rows")
    return arr


def check_sample_weight(sample_weight, *, n_obs: int) -> np.ndarray | None:
    """`sample_weight` as `(n_obs,)` float64 non-negative weights, or None for none given.

    Parameters
    ----------
    sample_weight : array-like or None
        One weight per row of X (a scalar is every row's weight).
    n_obs : int
        Rows of X.

    Returns
    -------
    numpy.ndarray or None

    Raises
    ------
    InvalidInputError
        Another length, a weight that is not a finite number ≥ 0, or weights that are all 0.

    Examples
    --------
    >>> check_sample_weight([1, 2, 0], n_obs=3)
    array([1., 2., 0.])
    >>> check_sample_weight([1.0, -1.0], n_obs=2)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: sample_weight must be finite and ≥ 0; row 1 is -1.0 ...
    """
    if sample_weight is None:
        return None
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("sample_weight must be numbers, one per row of X; got "
                                f"{shown(np.ravel(np.asarray(sample_weight, dtype=object)))}"
                                ) from None
    if weight.ndim == 0:
        weight = np.full(n_obs, float(weight))
    if weight.ndim == 2 and weight.shape[1] == 1:
        weight = weight[:, 0]
    if weight.shape != (n_obs,):
        raise InvalidInputError(f"sample_weight has shape {weight.shape} but X has {n_obs} rows; "
                                "pass one weight per row of X")
    bad = np.flatnonzero(~np.isfinite(weight) | (weight < 0))
    if bad.size:
        raise InvalidInputError(
            f"sample_weight must be finite and ≥ 0; row {int(bad[0])} is {float(weight[bad[0]])} "
            f"({bad.size} such row(s)); give such rows weight 0 or drop them")
    if not np.any(weight > 0):
        raise InvalidInputError("every sample_weight is zero, which leaves no data to fit; "
                                "give the rows to fit a positive weight")
    return weight


def python_value(value):
    """A NumPy scalar as the Python value it holds (messages show 1, not np.int64(1)).

    Examples
    --------
    >>> python_value(np.int64(1)), python_value("a")
    (1, 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


def shown(values, limit: int = 5, *, count: bool = False) -> str:
    """The first `limit` of `values` for an error message: "a, b, c, d, e, ...".

    Parameters
    ----------
    values : iterable
        Anything with a readable `str`.
    limit : int, default 5
        How many to show before "...".
    count : bool, default False
        Say how many are left out ("a, b and 8 more") instead of "...".

    Returns
    -------
    str

    Examples
    --------
    >>> shown(range(3))
    '0, 1, 2'
    >>> shown(range(10), limit=2)
    '0, 1, ...'
    >>> shown(range(10), limit=2, count=True)
    '0, 1 and 8 more'
    """
    values = list(values)
    first = ", ".join(map(str, values[:limit]))
    if len(values) <= limit:
        return first
    return f"{first} and {len(values) - limit} more" if count else f"{first}, ..."


_shown = shown  # the name before it was public


def whole_number(value, what: str, *, minimum: int | None = None) -> int:
    """`value` as an int if it is a whole number (3, 3.0, np.int64(3)), else InvalidSettingError.

    Booleans and text are not numbers here ("3" is refused: a setting read from text is
    converted where it is read, e.g. by the command line's flags).

    Parameters
    ----------
    value : object
        The setting as given.
    what : str
        The setting's name, for the messages.
    minimum : int, optional
        Smaller values are refused too.

    Returns
    -------
    int

    Raises
    ------
    InvalidSettingError
        On a fraction, a non-number, a bool or a value below `minimum`.

    Examples
    --------
    >>> whole_number(3.0, "steps")
    3
    >>> whole_number("3", "steps")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: steps must be a whole number, got '3'
    >>> whole_number(0, "steps", minimum=1)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: steps must be at least 1, got 0
    """
    try:
        if isinstance(value, bool | np.bool_ | str | bytes):
            raise TypeError
        as_float = float(value)
    except (TypeError, ValueError):
        raise InvalidSettingError(f"{what} must be a whole number, got {value!r}") from None
    if not np.isfinite(as_float) or as_float != round(as_float):
        raise InvalidSettingError(f"{what} must be a whole number, got {value!r}")
    if minimum is not None and as_float < minimum:
        raise InvalidSettingError(f"{what} must be at least {minimum}, got {value!r}")
    return int(as_float)


# Names that moved to `pymc_bnn.label_checks` when this module was split (targets and class
# labels there, arrays, weights and settings here), and to `pymc_bnn.feature_checks` when it was
# split again (the features there): importing them from here still works, with a
# DeprecationWarning, for one release.
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(
        ("MAX_COUNT", "check_labels", "numbers_but_a_few", "numbers_as_text",
         "check_binary_labels", "encode_class_labels", "check_real_target", "check_count_target"),
        "pymc_bnn.label_checks"),
    **dict.fromkeys(("check_features", "refuse_datetimes", "check_column_names"),
                    "pymc_bnn.feature_checks"),
})
