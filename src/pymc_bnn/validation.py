"""One place where user arrays are checked before anything numeric happens."""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError

# The largest count taken: every whole number up to 2^53 is exact in float64.
MAX_COUNT = 2**53


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


def python_value(value):
    """A NumPy scalar as the Python value it holds (messages show 1, not np.int64(1)).

    Examples
    --------
    >>> python_value(np.int64(1)), python_value("a")
    (1, 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


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


def shown(values, limit: int = 5) -> str:
    """The first `limit` of `values` for an error message: "a, b, c, d, e, ...".

    Parameters
    ----------
    values : iterable
        Anything with a readable `str`.
    limit : int, default 5
        How many to show before "...".

    Returns
    -------
    str

    Examples
    --------
    >>> shown(range(3))
    '0, 1, 2'
    >>> shown(range(10), limit=2)
    '0, 1, ...'
    """
    values = list(values)
    return ", ".join(map(str, values[:limit])) + (", ..." if len(values) > limit else "")


_shown = shown  # the name before it was public


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


def whole_number(value, what: str, *, minimum: int | None = None) -> int:
    """`value` as an int if it is a whole number (3, 3.0, np.int64(3)), else InvalidSettingError.

    Booleans are not numbers here.

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
    >>> whole_number(0, "steps", minimum=1)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: steps must be at least 1, got 0
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
