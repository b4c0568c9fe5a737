"""Targets and class labels checked before a fit: binary, categorical, real-valued and counts.

What each likelihood's target may hold, and labels that are numbers stored as text (a column of
"1", "2" and one "?"), refused with the fix named; `pymc_bnn.validation` checks the arrays
themselves (shapes, features, weights).
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.validation import python_value, shown

# The largest count taken: every whole number up to 2^53 is exact in float64.
MAX_COUNT = 2**53


def check_labels(y, *, name: str = "y") -> None:
    """Raise InvalidInputError when class labels hold missing values, naming the first row.

    None, NaN and pandas' NA cannot be sorted among other labels, nor can numbers among text
    (refused too). Arrays that are not 1-D pass through: the shape checks refuse them with their
    own message.

    Parameters
    ----------
    y : array-like
        Class labels.
    name : str, default "y"
        What the message calls the array.

    Raises
    ------
    InvalidInputError
        When a label is missing.

    Examples
    --------
    >>> check_labels(["cat", "dog"])
    >>> check_labels(["cat", None, "dog"])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: y has 1 missing label(s) (None/NaN; first: row 1); drop ...
    """
    arr = np.asarray(y)
    if arr.ndim != 1:  # None, or a shape the shape checks will refuse with their own message
        return
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
    elif arr.dtype == object:
        import pandas as pd

        missing = np.asarray(pd.isna(arr), dtype=bool)
    else:
        return
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidInputError(
            f"{name} has {rows.size} missing label(s) (None/NaN; first: row {rows[0]}); drop "
            "those rows or give them a label"
        )
    if arr.dtype == object:  # numbers beside text cannot be sorted into one set of classes
        is_text = np.array([isinstance(v, str | bytes) for v in arr])
        if is_text.any() and not is_text.all():
            number, text = arr[np.flatnonzero(~is_text)[0]], arr[np.flatnonzero(is_text)[0]]
            raise InvalidInputError(
                f"{name} mixes numbers and text as labels (e.g. {python_value(number)!r} and "
                f"{python_value(text)!r}); give "
                "every label the same type, e.g. all text: y.astype(str)"
            )


def numbers_but_a_few(values, *, max_labels: int = 10) -> tuple[list[str], int, int] | None:
    """Whether a column of text is numbers but for a few values (a typo, a placeholder "?").

    Numbers in at least 90% of the filled rows, and more distinct numbers than `max_labels`
    (fewer would be codes or labels): such a column read as text has a category per number.

    Parameters
    ----------
    values : pandas.Series
        The column (missing values are left out).
    max_labels : int, default 10
        At most this many distinct numbers may be labels (`defaults.MAX_CLASS_LABELS`).

    Returns
    -------
    tuple or None
        (the odd values as text, sorted; how many rows hold one; the first such row's position
        in `values`), or None for any other column.

    Examples
    --------
    >>> import pandas as pd
    >>> numbers_but_a_few(pd.Series([str(v) for v in range(20)] + ["?"]))
    (['?'], 1, 20)
    >>> numbers_but_a_few(pd.Series(["a", "b", "1"])) is None
    True
    """
    parsed = _text_as_numbers(values)
    if parsed is None:
        return None
    filled, numbers = parsed
    odd = numbers.isna().to_numpy()
    if not odd.any() or odd.mean() > 0.1 or numbers.nunique() <= max_labels:
        return None
    first = int(np.flatnonzero(values.index == filled.index[odd][0])[0])
    return sorted({str(v) for v in filled[odd]}), int(odd.sum()), first


def numbers_as_text(values, *, max_labels: int = 10) -> tuple[int, list] | None:
    """Whether a column of text holds numbers only, more distinct than `max_labels` could be codes.

    Such a column (a Parquet or DataFrame column of strings "3.50 ", where a CSV copy of the
    same table reads numbers) read as text has a category (or class) per number.

    Parameters
    ----------
    values : pandas.Series
        The column (missing values are left out).
    max_labels : int, default 10
        At most this many distinct numbers may be labels (`defaults.MAX_CLASS_LABELS`).

    Returns
    -------
    tuple or None
        (how many distinct numbers, the first three distinct values as given), or None for
        any other column.

    Examples
    --------
    >>> import pandas as pd
    >>> numbers_as_text(pd.Series([f"{v}.5 " for v in range(12)]))
    (12, ['0.5 ', '1.5 ', '2.5 '])
    >>> numbers_as_text(pd.Series(["1", "2", "1"])) is None  # few: codes or labels
    True
    """
    parsed = _text_as_numbers(values, strip=True)
    if parsed is None:
        return None
    filled, numbers = parsed
    if not numbers.notna().all() or numbers.nunique() <= max_labels:
        return None
    return int(numbers.nunique()), filled.drop_duplicates().iloc[:3].tolist()


def _text_as_numbers(values, *, strip: bool = False):
    """(the filled values, each read as a number or NaN); None for an empty or boolean column.

    What `numbers_but_a_few` and `numbers_as_text` judge.
    """
    import pandas as pd

    filled = values.dropna()
    if filled.empty or pd.api.types.is_bool_dtype(values):
        return None
    text = filled.astype(str)
    return filled, pd.to_numeric(text.str.strip() if strip else text, errors="coerce")


def check_binary_labels(y, *, both: bool = True) -> np.ndarray:
    """Labels for the Bernoulli likelihood: {0, 1} (or booleans) with both present, as int64.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` labels.
    both : bool, default True
        Require both classes. False for part of the data (one minibatch of a stream, one
        group's rows), which may hold a single class where the whole data holds both.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, int64.

    Raises
    ------
    InvalidInputError
        On labels other than 0/1, or a single class.

    Examples
    --------
    >>> check_binary_labels([True, False, True])
    array([1, 0, 1])
    >>> check_binary_labels([0, 2])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: the bernoulli likelihood needs labels 0 and 1, got 0, 2; ...
    >>> check_binary_labels([1, 1], both=False)
    array([1, 1])
    """
    y = np.asarray(y)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    values = np.unique(y)
    if not set(values.tolist()) <= {0, 1}:
        raise InvalidInputError(
            f"the bernoulli likelihood needs labels 0 and 1, got {shown(values)}; encode the two "
            "classes as 0/1 (BayesianMLPClassifier does this for you) or use "
            "likelihood='categorical', which takes any labels"
        )
    if both and values.size < 2:
        raise InvalidInputError(
            f"y holds a single class ({values[0] if values.size else 'none'}); a classifier "
            "needs examples of both classes"
        )
    return y.astype(np.int64)


def encode_class_labels(y, classes=None) -> tuple[np.ndarray, list]:
    """Codes 0 … K-1 for arbitrary labels, and the JSON-able list of labels in code order.

    Without `classes` the labels found in `y` are used, sorted; with `classes` their order is
    kept and every label in `y` must be among them.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` labels of one sortable type.
    classes : sequence, optional
        The labels in code order; a class may be absent from `y`.

    Returns
    -------
    codes : numpy.ndarray
        `(n_obs,)`, int64.
    classes : list
        Label of each code.

    Raises
    ------
    InvalidInputError
        On a single class, unsortable labels, or labels not among `classes`.

    Examples
    --------
    >>> codes, classes = encode_class_labels(["b", "a", "c", "a"])
    >>> codes, classes
    (array([1, 0, 2, 0]), ['a', 'b', 'c'])
    >>> encode_class_labels(["b"], classes=["b", "a"])[0]
    array([0])
    """
    y = np.asarray(y)
    try:
        found = np.unique(y)
    except TypeError:
        raise InvalidInputError(
            "y mixes label types that cannot be sorted (e.g. numbers and strings); "
            "convert every label to one type, e.g. y.astype(str)"
        ) from None
    if classes is None:
        if found.size < 2:
            raise InvalidInputError(
                f"y holds a single class ({found[0] if found.size else 'none'}); a classifier "
                "needs examples of at least two classes"
            )
        classes = found.tolist()
    else:
        classes = list(classes)
        unknown = [v for v in found.tolist() if v not in classes]
        if unknown:
            raise InvalidInputError(
                f"y has labels not among the declared classes: {shown(unknown)}; add them to "
                "classes= or drop those rows"
            )
    lookup = {label: code for code, label in enumerate(classes)}
    codes = np.array([lookup[v] for v in y.tolist()], dtype=np.int64)
    return codes, classes


def check_real_target(y, *, likelihood: str) -> np.ndarray:
    """A real-valued regression target as float64 with some spread, or InvalidInputError.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` numbers.
    likelihood : str
        The likelihood's name, for the messages.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, float64.

    Raises
    ------
    InvalidInputError
        On non-numeric, NaN/inf or constant targets.

    Examples
    --------
    >>> check_real_target([1, 2, 4], likelihood="gaussian")
    array([1., 2., 4.])
    >>> check_real_target([3, 3], likelihood="gaussian")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: y is constant (3); a regression target needs at least ...
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"the {likelihood} likelihood needs a numeric target, got values like "
            f"{shown(np.unique(y.astype(str)))}; for class labels use likelihood='categorical'"
        )
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise InvalidInputError("y contains NaN/inf values; drop those rows or impute the target")
    if y.size < 2 or np.ptp(y) == 0:
        raise InvalidInputError(
            f"y is constant ({y[0]:g}); a regression target needs at least two different values"
        )
    return y


def check_count_target(y, *, likelihood: str) -> np.ndarray:
    """Counts (non-negative whole numbers, not all zero) as int64, or InvalidInputError.

    Counts above 2^53 are refused: beyond it float64 skips whole numbers.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` counts; floats such as 3.0 are taken.
    likelihood : str
        The likelihood's name, for the messages.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, int64.

    Raises
    ------
    InvalidInputError
        On negative, fractional, huge, non-numeric or all-zero counts.

    Examples
    --------
    >>> check_count_target([0.0, 3.0, 1.0], likelihood="poisson")
    array([0, 3, 1])
    >>> check_count_target([1, 2.5], likelihood="poisson")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: the poisson likelihood needs counts (0, 1, 2, ...), but ...
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"the {likelihood} likelihood needs counts (0, 1, 2, ...), got non-numeric values"
        )
    y_float = y.astype(np.float64)
    bad = ~np.isfinite(y_float) | (y_float < 0) | (y_float != np.round(y_float))
    huge = np.isfinite(y_float) & (y_float > MAX_COUNT)
    if huge.any():  # beyond 2^53 floats skip whole numbers; beyond 2^63 int64 wraps negative
        raise InvalidInputError(
            f"the {likelihood} likelihood needs counts up to 2^53 ({MAX_COUNT:.3g}), but "
            f"{int(huge.sum())} value(s) are larger (first: {y[huge][0].item()} in row "
            f"{int(np.flatnonzero(huge)[0])}); use likelihood='gaussian' on a log scale instead"
        )
    if bad.any():
        raise InvalidInputError(
            f"the {likelihood} likelihood needs counts (0, 1, 2, ...), but {int(bad.sum())} "
            f"value(s) are negative or fractional (first: {y[bad][0].item()} in row "
            f"{int(np.flatnonzero(bad)[0])}); use likelihood='gaussian' for real-valued targets"
        )
    if not y_float.any():
        raise InvalidInputError(
            f"every count is 0; the {likelihood} likelihood cannot learn a rate from no events"
        )
    return y_float.astype(np.int64)
