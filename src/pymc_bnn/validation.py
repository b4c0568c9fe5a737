"""One place where user arrays are checked before anything numeric happens."""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError


def check_features(X, *, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """Return `X` as a finite float64 array of shape (n_obs, n_features), or raise InvalidInputError.

    A 1-D `X` is refused rather than guessed at (one feature or one sample?), as scikit-learn does.
    """
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # a DataFrame: say which columns are bad
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        bad = [str(c) for c in X.columns if not (is_numeric_dtype(X[c]) or is_bool_dtype(X[c]))]
        if bad:
            raise InvalidInputError(
                f"{name} has non-numeric columns: {', '.join(bad)}; encode them as numbers "
                "(e.g. one-hot) or drop them"
            )
    try:
        arr = np.asarray(X, dtype=np.float64)
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
