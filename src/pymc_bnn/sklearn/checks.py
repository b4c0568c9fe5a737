"""The estimators' input checks: X and y as scikit-learn checks them, in pymc-bnn's errors.

Every array an estimator is given passes through here once, at its public entry (`fit`,
`predict` ...): `validated_Xy` for training data (which also learns the table encoding),
`posterior_inputs` for data to predict on. scikit-learn's messages say what is wrong; ours add
how to fix it (`FIXES`), and the error is pymc-bnn's `InvalidInputError`, so
`except pymc_bnn.PymcBnnError` catches it as well as scikit-learn's own checks do.
"""

from __future__ import annotations

import numpy as np
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    check_X_y,
    validate_data,
)

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn.encoding import (
    TableEncoding,
    as_frame,
    build_transformer,
    encode,
    learn_encoding,
)
from pymc_bnn.errors import (
    InvalidInputError,
    NotFittedError,
    PymcBnnError,
    UnseenCategoryWarning,
)
from pymc_bnn.feature_checks import check_features, refuse_datetimes
from pymc_bnn.new_rows import describe_unseen_categories
from pymc_bnn.table_checks import missing_rows as missing_value_rows
from pymc_bnn.validation import check_sample_weight


class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):
    """An estimator used before `fit`: pymc-bnn's NotFittedError and scikit-learn's at once.

    So `except pymc_bnn.PymcBnnError` and scikit-learn's own checks both catch it.

    Examples
    --------
    >>> from pymc_bnn.sklearn import BayesianMLPClassifier, EstimatorNotFittedError
    >>> try:
    ...     BayesianMLPClassifier().predict([[0.0, 1.0]])
    ... except EstimatorNotFittedError as error:
    ...     print(error)
    this BayesianMLPClassifier is not fitted yet; call fit(X, y) before using it
    """


class InvalidInputTypeError(InvalidInputError, TypeError):
    """Input of a type that cannot be numbers (e.g. dicts, sparse matrices).

    pymc-bnn's InvalidInputError, and a TypeError as scikit-learn's own checks expect.

    Examples
    --------
    >>> from pymc_bnn.sklearn.checks import InvalidInputTypeError
    >>> issubclass(InvalidInputTypeError, TypeError)
    True
    """


def is_frame(X) -> bool:
    """Whether X is a table with named, typed columns (a pandas DataFrame).

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.sklearn.checks import is_frame
    >>> is_frame(pd.DataFrame({"a": [1.0]})), is_frame([[1.0]])
    (True, False)
    """
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def in_memory(X):
    """A Dask DataFrame as the pandas DataFrame it computes to; anything else as it is.

    The estimators fit and predict rows in memory, and a Dask array becomes one as NumPy
    reads it; a Dask DataFrame is computed here, at the entry, so that its columns are read
    by name as a pandas DataFrame's are (the table encoding's pandas calls do not exist on it).

    Examples
    --------
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from pymc_bnn.sklearn.checks import in_memory
    >>> frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    >>> in_memory(dd.from_pandas(frame, npartitions=2)).equals(frame)
    True
    >>> in_memory(frame) is frame
    True
    """
    if is_frame(X) and hasattr(X, "__dask_graph__") and hasattr(X, "compute"):
        return X.compute()
    return X


def validated_X(estimator, X, *, reset: bool) -> np.ndarray:
    """X as float64 (n_obs, n_features), checked as scikit-learn checks it.

    The path of estimators loaded from model files written before the table encoding (numeric
    columns only). DataFrames first go through pymc-bnn's own check, which names non-numeric
    columns.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from pymc_bnn.sklearn.checks import validated_X
    >>> validated_X(BaseEstimator(), [[1, 2], [3, 4]], reset=True).dtype
    dtype('float64')
    """
    def check(X):
        refuse_datetimes(X)
        if is_frame(X):
            check_features(X)
        return validate_data(estimator, X, reset=reset, dtype=np.float64)

    return as_invalid_input(check, X)


def validated_Xy(estimator, X, y, sample_weight=None, **check_params):
    """(encoded X (n_obs, n_encoded) float64, y, rows kept (n_obs,) bool) of training data.

    The table encoding (`pymc_bnn.encoding`) is learned from X after the rows
    `estimator.missing == "drop"` removes (its medians weighted by `sample_weight`, as the
    fit weights the rows), and set as `estimator.table_encoding_`; then scikit-learn's checks
    of the numbers. `check_params` go to `check_X_y` (e.g. `y_numeric=True`).

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn import BayesianMLPRegressor
    >>> from pymc_bnn.sklearn.checks import validated_Xy
    >>> X = np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]])
    >>> X_checked, y, kept = validated_Xy(BayesianMLPRegressor(missing="drop"), X, [1, 2, 3])
    >>> X_checked.shape, kept.tolist()
    ((2, 2), [True, False, True])
    """
    X, y, keep = as_invalid_input(_check_Xy, estimator, X, y, sample_weight, **check_params)
    if X.shape[0] < 2:
        raise InvalidInputError(
            f"got {X.shape[0]} sample; a Bayesian network needs at least 2 samples to fit "
            "(n_samples=1 is not enough)"
        )
    return X, y, keep


def _check_Xy(estimator, X, y, sample_weight=None, **check_params):
    if is_frame(X):
        validate_data(estimator, X, reset=True, skip_check_array=True)  # names and width
        check_consistent_length(X, y)
    else:
        refuse_datetimes(X)
        X, y = validate_data(estimator, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                             accept_sparse=True, **check_params)
        X = dense(X)
    frame = as_frame(X, TableEncoding(columns=tuple(f"x{i}" for i in range(X.shape[1]))))
    if len(frame) == 0:
        raise InvalidInputError("X is empty (0 rows); pass at least one observation")
    missing = estimator.missing
    keep = ~missing_value_rows(frame) if missing == "drop" else np.ones(len(frame), bool)
    if not keep.any():
        raise InvalidInputError("every row has a missing value, so missing='drop' leaves "
                                "nothing to fit; use missing='impute'")
    encoding = learn_encoding(frame[keep], categorical=estimator.categorical or (),
                              ordinal=estimator.ordinal or (), missing=missing,
                              sample_weight=kept_weights(sample_weight, keep))
    estimator.table_encoding_ = encoding.to_dict()
    estimator._table_transformer = build_transformer(encoding)
    X = encode(estimator._table_transformer, encoding, frame[keep])
    if not keep.all():
        y = y.iloc[keep] if hasattr(y, "iloc") else np.asarray(y)[keep]
    return (*check_X_y(X, y, dtype=np.float64, **check_params), keep)


# A sparse X is made dense (the network multiplies dense rows): up to this many bytes, so a
# one-hot ColumnTransformer's output fits, but not a matrix meant to stay sparse.
MAX_DENSE_BYTES = 2 * 1024**3


def dense(X):
    """A SciPy sparse `X` as a dense float64 array (anything else as it is).

    Pipelines hand sparse matrices on (a `ColumnTransformer` with a `OneHotEncoder`, by
    default), as scikit-learn's MLP accepts them.

    Examples
    --------
    >>> import scipy.sparse
    >>> from pymc_bnn.sklearn.checks import dense
    >>> dense(scipy.sparse.eye(2, format="csr")).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    import scipy.sparse

    if not scipy.sparse.issparse(X):
        return X
    size = X.shape[0] * X.shape[1] * 8
    if size > MAX_DENSE_BYTES:
        raise InvalidInputError(
            f"X is a sparse matrix of {X.shape[0]:,} × {X.shape[1]:,}, {size / 1024**3:.1f} GiB "
            f"dense (the network takes dense rows, at most {MAX_DENSE_BYTES / 1024**3:.0f} GiB); "
            "keep fewer columns (e.g. OneHotEncoder(max_categories=...)) or fewer rows")
    return np.asarray(X.toarray(), dtype=np.float64)


def posterior_inputs(estimator, X) -> np.ndarray:
    """X as a fitted estimator's posterior sees it: encoded and standardised.

    Returns float64 `(n_obs, posterior_.spec.n_inputs)`, the columns named by
    `posterior_.feature_names`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn.checks import posterior_inputs
    >>> rows = np.zeros((2, 3))
    >>> scaled = posterior_inputs(fitted_classifier, rows)
    >>> centre, scale = fitted_classifier.x_mean_, fitted_classifier.x_scale_
    >>> scaled.shape, bool(np.allclose(scaled, -centre / scale))
    ((2, 3), True)
    """
    require_fitted(estimator)
    refuse_stream(X)
    X = in_memory(X)
    if getattr(estimator, "table_encoding_", None) is None:  # a file from before the encoding
        X = validated_X(estimator, X, reset=False)
    else:
        X = as_invalid_input(_encoded_X, estimator, X)
    return (X - estimator.x_mean_) / estimator.x_scale_


def refuse_stream(X) -> None:
    """InvalidInputError for streamed data given to predict: the estimators predict in memory.

    A Parquet path would otherwise be read as text ("could not convert string to float"), and a
    `BatchSource` as an object; the message names the batch-by-batch route instead.

    Examples
    --------
    >>> from pymc_bnn.sklearn.checks import refuse_stream
    >>> refuse_stream([[0.0, 1.0]])
    >>> refuse_stream("new_rows/")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X is a path ('new_rows/'), but the estimators predict ...
    """
    from pymc_bnn.data import BatchSource, is_stream

    if not is_stream(X):
        return
    what = ("a stream of batches" if isinstance(X, BatchSource) or callable(X)
            else f"a path ({str(X)!r})")
    raise InvalidInputError(
        f"X is {what}, but the estimators predict rows in memory (an array or DataFrame); "
        "predict data larger than memory batch by batch with the saved model: "
        "estimator.save('m.bnn.nc'), then `pymc-bnn predict m.bnn.nc DATA --out "
        "predictions.parquet` (DATA a Parquet file or folder), or pass the rows a part at a time")


def _encoded_X(estimator, X) -> np.ndarray:
    if is_frame(X):
        validate_data(estimator, X, reset=False, skip_check_array=True)
    else:
        refuse_datetimes(X)
        encoding = TableEncoding.from_dict(estimator.table_encoding_)
        # text columns of the fit: an array of objects keeps its text for the table encoding
        text = bool(encoding.categorical or encoding.ordinal)
        X = dense(validate_data(estimator, X, reset=False,
                                dtype=None if text else np.float64,
                                ensure_all_finite=False if text else "allow-nan",
                                accept_sparse=True))
    encoding = TableEncoding.from_dict(estimator.table_encoding_)
    if getattr(estimator, "_table_transformer", None) is None:  # loaded from a model file
        estimator._table_transformer = build_transformer(encoding)
    frame = as_frame(X, encoding)
    if len(frame) == 0:
        raise InvalidInputError("X is empty (0 rows); pass at least one row to predict")
    if encoding.categorical or encoding.ordinal:
        unseen = describe_unseen_categories(encoding, frame)
        if unseen is not None:  # e.g. a true/false column given as 0/1: silently all-zero
            warn_caller(f"X: {unseen}; pass them as in training (same spelling and type)",
                        UnseenCategoryWarning)
    return check_array(encode(estimator._table_transformer, encoding, frame), dtype=np.float64)


def require_fitted(estimator) -> None:
    """EstimatorNotFittedError unless `estimator` has been fitted (has `posterior_`).

    Examples
    --------
    >>> from pymc_bnn import BayesianMLPClassifier
    >>> from pymc_bnn.sklearn.checks import require_fitted
    >>> require_fitted(fitted_classifier)  # fitted: nothing happens
    >>> require_fitted(BayesianMLPClassifier())
    Traceback (most recent call last):
    ...
    pymc_bnn.sklearn.checks.EstimatorNotFittedError: this BayesianMLPClassifier is not fitted ...
    """
    try:
        check_is_fitted(estimator, "posterior_")
    except AttributeError:  # scikit-learn's NotFittedError: ours says the same, in our family
        raise EstimatorNotFittedError(
            f"this {type(estimator).__name__} is not fitted yet; call fit(X, y) before using it"
        ) from None


def kept(groups, keep):
    """The group labels of the rows kept (all of them unless missing="drop" dropped some).

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn.checks import kept
    >>> kept(["a", "b", "c"], np.array([True, False, True]))
    ['a', 'c']
    """
    if groups is None or keep.all():
        return groups
    return [label for label, kept_row in zip(groups, keep, strict=True) if kept_row]


def kept_weights(sample_weight, keep):
    """`sample_weight` (one per row given) checked, for the rows kept; None stays None.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn.checks import kept_weights
    >>> kept_weights([1, 2, 3], np.array([True, False, True]))
    array([1., 3.])
    >>> kept_weights([0, 2, 3], np.array([True, False, False]))
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: every sample_weight left after missing='drop' is zero ...
    """
    if sample_weight is None:
        return None
    weight = check_sample_weight(sample_weight, n_obs=keep.size)[keep]
    if not np.any(weight > 0):
        raise InvalidInputError("every sample_weight left after missing='drop' is zero "
                                "(it dropped the rows with missing values); nothing is left to fit")
    return weight


def require_target(estimator, y) -> None:
    """In-memory data need y (it may be left out only for streamed batches that carry it).

    Examples
    --------
    >>> from pymc_bnn.sklearn import BayesianMLPRegressor
    >>> from pymc_bnn.sklearn.checks import require_target
    >>> require_target(BayesianMLPRegressor(), None)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: BayesianMLPRegressor requires y to be passed, ...
    """
    if y is None:
        raise InvalidInputError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None; "
            "pass one target value per row of X")


def check_numeric_target(y) -> None:
    """InvalidInputError naming the fix when a regressor's target is not numbers.

    Examples
    --------
    >>> from pymc_bnn.sklearn.checks import check_numeric_target
    >>> check_numeric_target(["cat", "dog"])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: a regressor needs a numeric target, got values like cat, ...
    """
    try:
        np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        values = ", ".join(sorted({str(v) for v in np.ravel(np.asarray(y, dtype=object))})[:5])
        raise InvalidInputError(
            f"a regressor needs a numeric target, got values like {values}; use "
            "BayesianMLPClassifier for class labels, or convert the target to numbers"
        ) from None


# scikit-learn's validation messages say what is wrong but not always how to fix it: the fix
# for each, found by a phrase of the message (kept whole, so scikit-learn's own checks match).
FIXES = (
    ("features, but", "pass the same columns, in the same order, as at fit time "
                      "(see n_features_in_)"),
    ("feature names should match", "pass the columns seen at fit time, with the same names "
                                   "and order (see feature_names_in_)"),
    ("Input X contains", "drop or impute those rows before fitting or predicting"),
    ("Input y contains", "drop those rows or impute the target"),
    ("0 sample(s)", "pass at least one row"),
    ("0 feature(s)", "pass at least one column"),
    ("could not convert", "pass numbers: encode text as numbers first"),
    ("Mix of label input types", "pass labels of the same type as those fitted (classes_)"),
    ("Mix type of y", "pass labels of the same type as those fitted (classes_)"),
)


def as_invalid_input(check, *args, **kwargs):
    """Run scikit-learn's validation `check`; its ValueErrors become InvalidInputError.

    The message keeps scikit-learn's statement of the problem and adds the fix (`FIXES`);
    a TypeError (e.g. sparse X) becomes `InvalidInputTypeError`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils.validation import check_array
    >>> from pymc_bnn.sklearn.checks import as_invalid_input
    >>> as_invalid_input(check_array, [[1.0, np.inf]])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: Input contains infinity ...
    """
    try:
        return check(*args, **kwargs)
    except PymcBnnError:
        raise
    except (ValueError, TypeError) as exc:  # scikit-learn raises TypeError for sparse X
        message = str(exc).strip()
        for phrase, fix in FIXES:
            if phrase in message:
                # the first paragraph states the problem; scikit-learn's long advice after it
                # (other estimators, URLs) is replaced by the fix
                problem = message.split("\n")[0].rstrip(". ") if phrase.startswith("Input") \
                    else " ".join(message.split())
                message = f"{problem.rstrip('. ')}; {fix}"
                break
        error = InvalidInputError if isinstance(exc, ValueError) else InvalidInputTypeError
        raise error(message) from None
