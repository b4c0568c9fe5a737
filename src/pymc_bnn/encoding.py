"""Real tables in: columns coded as numbers, missing values handled by a stated policy.

Text, boolean and categorical columns are coded with scikit-learn's transformers, and what they
learn is kept as plain JSON.

The estimators (`pymc_bnn.sklearn`) and the CLI encode every table through this module, so a
saved model applies to new raw rows exactly the transformation it was fitted with. What is
learned (medians, categories, which columns had gaps) is a `TableEncoding`, a frozen record
whose `to_dict` is plain JSON (no pickle); `build_transformer` turns it back into a fitted
scikit-learn `ColumnTransformer`, with every learned value passed as a constructor argument.
What a column may hold is checked first (`pymc_bnn.table_checks`: dates, identifiers, numbers
stored as text, gaps under a policy that does not fill them); what coding new rows did (gaps
filled, categories never seen) is counted and said by `pymc_bnn.new_rows`.

Columns, in the order of the encoded matrix (the order scikit-learn's
``ColumnTransformer([("numeric", SimpleImputer(strategy="median", add_indicator=True), ...),
("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
OneHotEncoder(handle_unknown="ignore")), ...)])`` gives, so such a `Pipeline` in front of an
estimator sees the same numbers):

1. numeric columns, missing values filled with the training median;
2. one 0/1 indicator per numeric column that had missing values in training (``<col>_missing``);
3. one-hot columns of the categorical columns (``<col>=<category>``), a missing value being the
   category ``"missing"``; a category not seen in training gets zeros in all of its column's
   one-hot columns (no category's effect);
4. ordinal codes (0, 1, … in the categories' order; pandas' order for an ordered Categorical,
   sorted otherwise) of the columns asked for, a missing value being the last code, an unseen
   category -1.

Numeric and ordinal columns keep the table's own names; a generated name that one of them, or an
earlier generated name, already has gets its kind added (``income_missing (indicator)``,
``c=x (one-hot)``; see `TableEncoding.feature_names`).

Scaling is left to the estimator (its `x_mean_`, `x_scale_`, which stay exact for values near
1e300 where scikit-learn's `StandardScaler` overflows), so numeric columns are standardised once.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.defaults import MISSING_POLICIES
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.row_encoding import (
    apply_encoding,
    as_frame,
    build_transformer,
    encode,
)
from pymc_bnn.table_checks import (
    dropping_hint,
    refuse_complex,
    refuse_dates,
    refuse_identifiers,
    refuse_missing,
    refuse_numbers_as_text,
)
from pymc_bnn.table_encoding import (
    MISSING_CATEGORY,
    TableEncoding,
    category_text,
    prepare,
)

# Names that moved out of this module when it was split: importing them from here still works,
# with a DeprecationWarning, for one release (refuse_missing, which this module uses, is still
# imported here and needs no forward).
__getattr__ = moved_names(__name__, {
    "missing_rows": "pymc_bnn.table_checks",
    **dict.fromkeys(("NewRowCounts", "count_new_rows", "describe_new_row_counts",
                     "describe_new_rows", "describe_unseen_categories"), "pymc_bnn.new_rows")})


def learn_encoding(frame, *, categorical=(), ordinal=(), missing: str = "impute",
                   name: str = "X", sample_weight=None) -> TableEncoding:
    """Learn how to encode `frame`, a DataFrame of feature columns.

    Text, boolean and pandas categorical columns are categorical (one-hot), as are the numeric
    columns named in `categorical`; the columns named in `ordinal` are ordinal-coded; the rest
    are numeric. Medians and categories are learned by scikit-learn's `SimpleImputer` and
    `OneHotEncoder`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The training features. Under missing="drop" its rows with missing values are already
        dropped.
    categorical : sequence of str, default ()
        Numeric columns to one-hot code as categories (codes, say).
    ordinal : sequence of str, default ()
        Columns to ordinal-code (pandas' order for an ordered Categorical, sorted otherwise).
    missing : {"impute", "drop", "error"}, default "impute"
        The missing-value policy.
    name : str, default "X"
        What error messages call the table.
    sample_weight : array-like, optional
        `(n_rows,)` non-negative row weights, already checked: the medians are weighted
        (`weighted_median`), as the fit that follows weights its rows, so a row of weight 2
        counts as two copies here too.

    Returns
    -------
    TableEncoding

    Raises
    ------
    InvalidInputError
        Dates, all-empty columns, identifier-like text, unknown column names and, under
        missing="error", the missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "age": [30.0, None, 50.0, 40.0],
    ...     "city": ["Oslo", "Rome", None, "Oslo"],
    ...     "size": pd.Categorical(["S", "L", "M", "S"], categories=["S", "M", "L"],
    ...                            ordered=True)})
    >>> encoding = learn_encoding(table, ordinal=["size"])
    >>> encoding.medians, encoding.categories, encoding.ordinal_categories
    ((40.0,), (('Oslo', 'Rome', 'missing'),), (('S', 'M', 'L'),))
    >>> encoding.feature_names
    ('age', 'age_missing', 'city=Oslo', 'city=Rome', 'city=missing', 'size')
    """
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    for option, named in (("categorical", categorical), ("ordinal", ordinal)):
        unknown = [c for c in named if c not in columns]
        if unknown:
            raise InvalidInputError(f"{option} names column(s) {name} does not have: "
                                    f"{', '.join(map(str, unknown))}; its columns are "
                                    f"{', '.join(columns)}")
    refuse_dates(frame, name)
    refuse_complex(frame, name)
    ordinal = [c for c in columns if c in set(ordinal)]
    named_categorical = categorical
    categorical = [c for c in columns if c not in ordinal
                   and (c in set(categorical) or not _is_numeric(frame[c]))]
    numeric = [c for c in columns if c not in ordinal and c not in categorical]
    for c in categorical:
        if c not in set(named_categorical):
            refuse_numbers_as_text(frame[c], c, name)
    empty = [c for c in columns if frame[c].isna().all()]
    if empty:
        raise InvalidInputError(f"{name} column(s) {', '.join(empty)} hold no values; drop them "
                                f"({dropping_hint(empty)})")
    if missing == "error":
        refuse_missing(frame, name, missing)
    prepared = prepare(frame, numeric, [*categorical, *ordinal])
    medians: tuple[float, ...] = ()
    indicators: tuple[str, ...] = ()
    if numeric:
        imputer = SimpleImputer(strategy="median", add_indicator=True).fit(prepared[numeric])
        medians = tuple(float(m) for m in imputer.statistics_)
        if sample_weight is not None:
            medians = tuple(_weighted_column_median(prepared[c], sample_weight, m)
                            for c, m in zip(numeric, medians, strict=True))
        if imputer.indicator_ is not None:
            indicators = tuple(numeric[i] for i in imputer.indicator_.features_)
    categories: tuple[tuple[str, ...], ...] = ()
    if categorical:
        filled = prepared[categorical].fillna(MISSING_CATEGORY)
        refuse_identifiers(filled, name)
        categories = tuple(tuple(str(v) for v in values)
                           for values in OneHotEncoder().fit(filled).categories_)
    ordinal_categories = tuple(_ordered_categories(frame[c], prepared[c]) for c in ordinal)
    return TableEncoding(columns=tuple(columns), numeric=tuple(numeric), medians=medians,
                         indicators=indicators, categorical=tuple(categorical),
                         categories=categories, ordinal=tuple(ordinal),
                         ordinal_categories=ordinal_categories, missing=missing)


def weighted_median(values, weights) -> float:
    """The median of `values` with each counted `weights` times (NumPy's, for whole weights).

    Half-way between the lower and the upper weighted median: for whole-number weights this is
    `numpy.median` of the values repeated, so weighting a row equals repeating it.

    Parameters
    ----------
    values, weights : array-like
        `(n,)` finite numbers and non-negative weights, not all zero.

    Returns
    -------
    float

    Examples
    --------
    >>> weighted_median([1.0, 2.0, 10.0], [1, 1, 2])  # 1, 2, 10, 10
    6.0
    >>> weighted_median([1.0, 2.0, 10.0], [1, 2, 1]), float(np.median([1, 2, 2, 10]))
    (2.0, 2.0)
    >>> weighted_median([3.0, 1.0, 2.0], [0.5, 0.5, 0.5])
    2.0
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    values, cumulative = values[order], np.cumsum(weights[order])
    half = cumulative[-1] / 2
    # relative tolerance: sums of fractional weights are rounded
    tol = 1e-12 * cumulative[-1]
    lower = values[np.searchsorted(cumulative, half - tol, side="left")]
    upper = values[min(np.searchsorted(cumulative, half + tol, side="right"), values.size - 1)]
    return float((lower + upper) / 2)


def _weighted_column_median(column, sample_weight, unweighted: float) -> float:
    """A numeric column's weighted median over its values present.

    The plain (`unweighted`) median where every present value has weight 0.
    """
    present = column.notna().to_numpy()
    weights = np.asarray(sample_weight, dtype=np.float64)[present]
    if not np.any(weights > 0):
        return unweighted
    return weighted_median(column.to_numpy(dtype=np.float64)[present], weights)


def _is_numeric(series) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(series) and not is_bool_dtype(series)


def _ordered_categories(raw, prepared) -> tuple[str, ...]:
    """Code order: an ordered pandas Categorical's own order, else sorted; "missing" last."""
    if getattr(raw.dtype, "ordered", False):
        values = [category_text(v) for v in raw.cat.categories]
    else:
        values = sorted(prepared.dropna().unique())
    if prepared.isna().any():
        values.append(MISSING_CATEGORY)
    return tuple(values)


# The record (`pymc_bnn.table_encoding`) and the applying (`pymc_bnn.row_encoding`) live in
# their own modules, neither of which imports this one; their names import from here as before.
__all__ = ["MISSING_CATEGORY", "MISSING_POLICIES", "TableEncoding", "apply_encoding", "as_frame",
           "build_transformer", "category_text", "encode", "learn_encoding", "prepare",
           "weighted_median"]
