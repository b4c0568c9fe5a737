"""One place where user arrays are checked before anything numeric happens."""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError

# The largest count taken: every whole number up to 2^53 is exact in float64.
MAX_COUNT = 2**53


def check_features(X, *, n_features: int | None = None, name: str = "X",
                   feature_names=None) -> np.ndarray:
    """Return `X` as a finite float64 array of shape (n_obs, n_features), or raise InvalidInputError.

    A 1-D `X` is refused rather than guessed at (one feature or one sample?), as scikit-learn does.
    With `feature_names` (the names at fit time), a DataFrame `X` must have exactly those
    columns in that order; arrays carry no names and are only checked for their width.
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
            "reshape a single feature with X.reshape(-1, 1) or a single sample with X.reshape(1, -1)"
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
    """InvalidInputError for dates or durations (datetime64, timedelta64, pandas' datetimes
    with a time zone) among the features: as floats they become nanosecond counts, on a scale
    no network learns from."""
    dtypes = list(X.dtypes) if hasattr(X, "dtypes") and hasattr(X, "columns") else \
        [getattr(X, "dtype", None)]
    if any(getattr(d, "kind", None) in ("M", "m") for d in dtypes):
        raise InvalidInputError(
            f"{name} holds dates or durations (datetime64/timedelta64); turn them into numbers "
            "that mean something to the model first (e.g. days since a start date, day of week)"
        )


def mean_and_scale(values, axis=0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) of finite `values` along `axis`, without overflow or underflow.

    Each slice is divided by its largest absolute value first, so values near 1e300 (whose
    squares overflow to inf) or near 1e-300 (whose squares underflow to 0, making the slice look
    constant) give their true spread. A constant slice gets sd 0.
    """
    values = np.asarray(values, dtype=np.float64)
    largest = np.max(np.abs(values), axis=axis, keepdims=True)
    unit = np.where(largest > 0, largest, 1.0)
    scaled = values / unit
    mean = (scaled.mean(axis=axis, keepdims=True) * unit)
    sd = (scaled.std(axis=axis, keepdims=True) * unit)
    return np.squeeze(mean, axis=axis), np.squeeze(sd, axis=axis)


def refuse_nonfinite(values: dict, *, obs_axis: dict | int = 0, what: str = "predictions") -> None:
    """InvalidInputError when any of `values` (name -> array with an "obs" axis) is NaN or
    infinite, naming the rows: such numbers come from inputs far outside the training range
    (or a target on an extreme scale) and must never be returned silently."""
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


def check_column_names(columns, feature_names, *, name: str = "X") -> None:
    """InvalidInputError unless `columns` are `feature_names` (the fit's), in the same order."""
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


def check_target(y, *, n_obs: int, name: str = "y") -> np.ndarray:
    """Return `y` as a 1-D array of length `n_obs` (dtype kept), or raise InvalidInputError."""
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


def check_labels(y, *, name: str = "y") -> None:
    """InvalidInputError when class labels hold missing values (None, NaN, pandas' NA), which
    cannot be sorted among other labels, naming the first row."""
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


def shown(values, limit: int = 5) -> str:
    """The first `limit` of `values` for an error message: "a, b, c, d, e, ..."."""
    values = list(values)
    return ", ".join(map(str, values[:limit])) + (", ..." if len(values) > limit else "")


_shown = shown  # the name before it was public


def check_binary_labels(y) -> np.ndarray:
    """Labels for the Bernoulli likelihood: {0, 1} (or booleans) with both present, as int64."""
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
    if values.size < 2:
        raise InvalidInputError(
            f"y holds a single class ({values[0] if values.size else 'none'}); a classifier "
            "needs examples of both classes"
        )
    return y.astype(np.int64)


def encode_class_labels(y, classes=None) -> tuple[np.ndarray, list]:
    """Codes 0 … K-1 for arbitrary labels and the JSON-able list of labels in code order.

    Without `classes` the labels found in `y` are used, sorted; with `classes` their order is kept
    and every label in `y` must be among them.
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
    """A real-valued regression target as float64 with some spread, or InvalidInputError."""
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
    """Counts (non-negative whole numbers, not all zero) as int64, or InvalidInputError."""
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


def whole_number(value, what: str, *, minimum: int | None = None) -> int:
    """`value` as an int if it is a whole number (3, 3.0, np.int64(3)), else InvalidSettingError.

    With `minimum`, smaller values are refused too. Booleans are not numbers here.
    """
    try:
        if isinstance(value, bool | np.bool_):
            raise TypeError
        as_float = float(value)
    except (TypeError, ValueError):
        raise InvalidSettingError(f"{what} must be a whole number, got {value!r}") from None
    if not np.isfinite(as_float) or as_float != round(as_float):
        raise InvalidSettingError(f"{what} must be a whole number, got {value!r}")
    if minimum is not None and as_float < minimum:
        raise InvalidSettingError(f"{what} must be at least {minimum}, got {value!r}")
    return int(as_float)
