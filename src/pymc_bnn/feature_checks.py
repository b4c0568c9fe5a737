"""Features checked before anything numeric happens: X as a finite float64 array, the fit's columns.

One check for every entry that takes X (fit, predict, a batch of a streamed source): a 2-D
array of finite numbers, no dates or durations, and a DataFrame's columns those of the fit, in
the same order. The messages name the columns or rows and the fix.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.validation import shown


def check_features(X, *, n_features: int | None = None, name: str = "X",
                   feature_names=None) -> np.ndarray:
    """Return `X` as a finite float64 array `(n_obs, n_features)`, or raise InvalidInputError.

    A 1-D `X` is refused rather than guessed at (one feature or one sample?), as scikit-learn
    does. With `feature_names` (the names at fit time), a DataFrame `X` must have exactly those
    columns in that order; arrays carry no names and are only checked for their width.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        `(n_obs, n_features)`, numeric or boolean.
    n_features : int, optional
        The width the model was fitted with; None skips that check.
    name : str, default "X"
        What the messages call the array.
    feature_names : sequence of str, optional
        The fit's column names, checked against a DataFrame's columns.

    Returns
    -------
    numpy.ndarray
        `(n_obs, n_features)`, float64, every value finite.

    Raises
    ------
    InvalidInputError
        On a shape other than 2-D, no rows or columns, the wrong width or column names,
        non-numeric, complex, date or NaN/inf values; the message names the fix.

    Examples
    --------
    >>> check_features([[1, 2], [3, 4]])
    array([[1., 2.],
           [3., 4.]])
    >>> check_features([[1.0, float("nan")]])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X contains NaN values in 1 row(s) (first: row 0); drop ...
    """
    frame = hasattr(X, "dtypes") and hasattr(X, "columns")
    if frame:  # a DataFrame: say which columns are bad
        if feature_names is not None:
            check_column_names(X.columns, feature_names, name=name)
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        repeated = X.columns[X.columns.duplicated()].unique()
        if len(repeated):
            raise InvalidInputError(
                f"{name} has repeated column names: {shown(repeated)}; give every column its "
                "own name"
            )
        bad = [str(c) for c in X.columns if not (is_numeric_dtype(X[c]) or is_bool_dtype(X[c]))]
        if bad:
            raise InvalidInputError(
                f"{name} has non-numeric columns: {', '.join(bad)}; encode them as numbers "
                "(e.g. one-hot) or drop them"
            )
    refuse_datetimes(X, name=name)
    try:
        complex_values = np.iscomplexobj(X)
    except (TypeError, ValueError):  # ragged or odd input: the conversion below says so
        complex_values = False
    if complex_values:
        raise InvalidInputError(
            f"{name} holds complex numbers; pass real features (e.g. split them into real and "
            "imaginary columns)"
        )
    try:
        # a DataFrame's missing values (NaN, and pandas' NA in nullable columns) become NaN
        arr = (X.to_numpy(dtype=np.float64, na_value=np.nan) if frame
               else np.asarray(X, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} must be numeric; could not convert it to floats ({exc}). "
            "Encode text or categorical columns as numbers first"
        ) from None
    if arr.ndim != 2:
        raise InvalidInputError(
            f"{name} must be 2-D (n_obs, n_features), got shape {arr.shape}; "
            "reshape a single feature with X.reshape(-1, 1) or a single sample with "
            "X.reshape(1, -1)"
        )
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{name} is empty (0 rows); pass at least one observation")
    if arr.shape[1] == 0:
        raise InvalidInputError(f"{name} has 0 features; pass at least one column")
    if n_features is not None and arr.shape[1] != n_features:
        raise InvalidInputError(
            f"{name} has {arr.shape[1]} features but the model was fitted with {n_features}; "
            f"pass the same {n_features} columns, in the same order, as at fit time"
        )
    if not np.all(np.isfinite(arr)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        kind = "NaN" if np.isnan(arr).any() else "inf"
        raise InvalidInputError(
            f"{name} contains {kind} values in {bad_rows.size} row(s) (first: row {bad_rows[0]}); "
            "drop or impute those rows before fitting or predicting"
        )
    return arr


def refuse_datetimes(X, *, name: str = "X") -> None:
    """Raise InvalidInputError for dates or durations among the features.

    As floats, datetime64 and timedelta64 values (and pandas' datetimes with a time zone)
    become nanosecond counts, on a scale no network learns from.

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        The features; a DataFrame is checked column by column.
    name : str, default "X"
        What the message calls the array.

    Raises
    ------
    InvalidInputError
        When any column holds dates or durations.

    Examples
    --------
    >>> import numpy as np
    >>> refuse_datetimes(np.zeros((2, 2)))  # numbers pass
    >>> refuse_datetimes(np.array(["2024-01-01"], dtype="datetime64[D]"))
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X holds dates or durations (datetime64/timedelta64); ...
    """
    dtypes = list(X.dtypes) if hasattr(X, "dtypes") and hasattr(X, "columns") else \
        [getattr(X, "dtype", None)]
    if any(getattr(d, "kind", None) in ("M", "m") for d in dtypes):
        raise InvalidInputError(
            f"{name} holds dates or durations (datetime64/timedelta64); turn them into numbers "
            "that mean something to the model first (e.g. days since a start date, day of week)"
        )


def check_column_names(columns, feature_names, *, name: str = "X") -> None:
    """Raise InvalidInputError unless `columns` are `feature_names`, in the same order.

    Parameters
    ----------
    columns : sequence
        A DataFrame's columns (compared as str).
    feature_names : sequence
        The names at fit time.
    name : str, default "X"
        What the message calls the array.

    Raises
    ------
    InvalidInputError
        Naming the missing, extra or reordered columns and the order expected.

    Examples
    --------
    >>> check_column_names(["age", "income"], ["age", "income"])
    >>> check_column_names(["income", "age"], ["age", "income"])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X has the fit's columns in another order; pass the ...
    """
    columns, expected = [str(c) for c in columns], [str(f) for f in feature_names]
    if columns == expected:
        return
    missing = [f for f in expected if f not in columns]
    extra = [c for c in columns if c not in expected]
    problem = (f"lacks {shown(missing)}" if missing
               else f"has columns not seen at fit time: {shown(extra)}" if extra
               else "has the fit's columns in another order")
    raise InvalidInputError(
        f"{name} {problem}; pass the columns the model was fitted on, in this order: "
        f"{shown(expected, limit=10)} (e.g. X[list(posterior.feature_names)])"
    )
