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

from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.defaults import MISSING_POLICIES
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.table_checks import (
    dropping_hint,
    refuse_complex,
    refuse_dates,
    refuse_identifiers,
    refuse_missing,
    refuse_numbers_as_text,
    refuse_text_in_numbers,
)

# The category a missing text value becomes under missing="impute" (scikit-learn's
# SimpleImputer(strategy="constant") default for strings is the same word).
MISSING_CATEGORY = "missing"


@dataclass(frozen=True)
class TableEncoding:
    """What was learned from a training table: the columns' roles and fitted parameters.

    Attributes
    ----------
    columns : tuple of str
        The input columns, in order (the estimator's `feature_names_in_`; "x0", "x1" … for arrays).
    numeric, medians : tuple of str, tuple of float
        Numeric columns and the training median of each (what a missing value becomes).
    indicators : tuple of str
        Numeric columns that had missing values in training: one 0/1 column each.
    categorical, categories : tuple of str, tuple of tuple of str
        One-hot coded columns and their categories (as text), in output order.
    ordinal, ordinal_categories : tuple of str, tuple of tuple of str
        Ordinal-coded columns and their categories in code order.
    missing : {"impute", "drop", "error"}
        The missing-value policy the table was fitted with.

    Examples
    --------
    >>> encoding = TableEncoding(columns=("age", "city"), numeric=("age",), medians=(40.0,),
    ...                          indicators=("age",), categorical=("city",),
    ...                          categories=(("Oslo", "Rome"),))
    >>> encoding.feature_names
    ('age', 'age_missing', 'city=Oslo', 'city=Rome')
    >>> TableEncoding.from_dict(encoding.to_dict()) == encoding  # plain JSON round trip
    True

    A table that has its own ``income_missing`` column keeps it; the generated indicator
    gets its kind added:

    >>> TableEncoding(columns=("income", "income_missing"),
    ...               numeric=("income", "income_missing"), medians=(1.0, 0.0),
    ...               indicators=("income",)).feature_names
    ('income', 'income_missing', 'income_missing (indicator)')
    """

    columns: tuple[str, ...]
    numeric: tuple[str, ...] = ()
    medians: tuple[float, ...] = ()
    indicators: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    ordinal: tuple[str, ...] = ()
    ordinal_categories: tuple[tuple[str, ...], ...] = ()
    missing: str = "impute"

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The encoded matrix's column names, in order (the network's inputs).

        Numeric and ordinal columns keep the table's own names. The generated ones
        (``<col>_missing``, then ``<col>=<category>``, in matrix order) are unique: a name
        already taken by a numeric or ordinal column, or by an earlier generated name, becomes
        ``<name> (indicator)`` or ``<name> (one-hot)``, then ``<name> (indicator 2)`` … until it
        is free. The names follow from the stored fields alone, so a saved model gives the same
        names when it is read back; a table without such clashes gets the plain names.

        Examples
        --------
        >>> TableEncoding(columns=("c", "c=x"), numeric=("c=x",), medians=(0.0,),
        ...               categorical=("c",), categories=(("x", "y"),)).feature_names
        ('c=x', 'c=x (one-hot)', 'c=y')
        """
        taken = {*self.numeric, *self.ordinal}

        def unique(name: str, kind: str) -> str:
            candidate, n = name, 1
            while candidate in taken:
                candidate = f"{name} ({kind})" if n == 1 else f"{name} ({kind} {n})"
                n += 1
            taken.add(candidate)
            return candidate

        indicators = [unique(f"{c}_missing", "indicator") for c in self.indicators]
        onehot = [unique(f"{c}={v}", "one-hot")
                  for c, values in zip(self.categorical, self.categories, strict=True)
                  for v in values]
        return (*self.numeric, *indicators, *onehot, *self.ordinal)

    def to_dict(self) -> dict:
        """Plain JSON: lists of strings and numbers."""
        return {"columns": list(self.columns), "numeric": list(self.numeric),
                "medians": [float(m) for m in self.medians], "indicators": list(self.indicators),
                "categorical": list(self.categorical),
                "categories": [list(c) for c in self.categories],
                "ordinal": list(self.ordinal),
                "ordinal_categories": [list(c) for c in self.ordinal_categories],
                "missing": self.missing}

    @classmethod
    def from_dict(cls, data: dict) -> TableEncoding:
        """The encoding `to_dict` wrote; ValueError naming the first inconsistent entry."""
        def names(key):
            value = data.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"table encoding {key} must be a list of column names")
            return tuple(value)

        def lists(key, n):
            value = data.get(key, [])
            if not (isinstance(value, list) and len(value) == n and all(
                    isinstance(v, list) and v and all(isinstance(s, str) for s in v)
                    for v in value)):
                raise ValueError(f"table encoding {key} must be {n} non-empty lists of text")
            return tuple(tuple(v) for v in value)

        columns, numeric = names("columns"), names("numeric")
        medians = data.get("medians", [])
        if not (isinstance(medians, list) and len(medians) == len(numeric) and all(
                isinstance(m, (int, float)) and not isinstance(m, bool) and np.isfinite(m)
                for m in medians)):
            raise ValueError("table encoding medians must be one finite number per numeric column")
        categorical, ordinal = names("categorical"), names("ordinal")
        encoding = cls(columns=columns, numeric=numeric, medians=tuple(map(float, medians)),
                       indicators=names("indicators"), categorical=categorical,
                       categories=lists("categories", len(categorical)), ordinal=ordinal,
                       ordinal_categories=lists("ordinal_categories", len(ordinal)),
                       missing=str(data.get("missing")))
        if encoding.missing not in MISSING_POLICIES:
            raise ValueError(f"table encoding missing must be one of {', '.join(MISSING_POLICIES)}")
        used = [*numeric, *categorical, *ordinal]
        if sorted(used) != sorted(columns) or not set(encoding.indicators) <= set(numeric):
            raise ValueError("table encoding roles must name each column exactly once")
        return encoding


# --------------------------------------------------------------------------- learning


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


def category_text(value) -> str:
    """A category (or class label) as text.

    Whole floats lose their ".0", so 3 and 3.0 (an int column that has gaps at predict time) are
    one category.

    Examples
    --------
    >>> category_text(3.0), category_text(3), category_text("a")
    ('3', '3', 'a')
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def prepare(frame, numeric, categorical):
    """`frame` with numeric columns as float64 and categorical ones as text.

    Pandas' NA becomes NaN and missing text NaN: the uniform input scikit-learn's imputers and
    encoders expect.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    numeric : collection of str
        Columns to convert to float64 (text that is not a number becomes NaN).
    categorical : collection of str
        Columns to convert to text; whole floats lose their ".0", so 3 and 3.0 are one
        category.

    Returns
    -------
    pandas.DataFrame
        Only the columns named, in `frame`'s order, with `frame`'s index.

    Examples
    --------
    >>> import pandas as pd
    >>> prepared = prepare(pd.DataFrame({"n": ["1", "x"], "code": [3.0, None]}),
    ...                    numeric=["n"], categorical=["code"])
    >>> prepared["n"].tolist(), prepared["code"].tolist()
    ([1.0, nan], ['3', nan])
    """
    import pandas as pd

    out = {}
    for column in frame.columns:
        values = frame[column]
        if column in numeric:
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif column in categorical:
            text = values.astype(object)
            out[column] = text.where(values.isna(), text.map(category_text)).where(
                values.notna(), np.nan)
    return pd.DataFrame(out, index=frame.index)


# --------------------------------------------------------------------------- applying


def build_transformer(encoding: TableEncoding):
    """A fitted scikit-learn `ColumnTransformer` that applies `encoding` to a table.

    Every learned value is a constructor argument (a constant imputer per numeric column with
    its median, the categories given to the encoders), so fitting it on a one-row prototype
    table fixes nothing new: the transformer is the same whether it was just learned or rebuilt
    from a model file.

    Parameters
    ----------
    encoding : TableEncoding
        What was learned.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Its output is float64 `(n_obs, len(encoding.feature_names))`; apply it with `encode`.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "age": [30.0, None, 50.0, 40.0],
    ...     "city": ["Oslo", "Rome", None, "Oslo"],
    ...     "size": pd.Categorical(["S", "L", "M", "S"], categories=["S", "M", "L"],
    ...                            ordered=True)})
    >>> encoding = learn_encoding(table, ordinal=["size"])
    >>> transformer = build_transformer(encoding)
    >>> encode(transformer, encoding, table)
    array([[30.,  0.,  1.,  0.,  0.,  0.],
           [40.,  1.,  0.,  1.,  0.,  2.],
           [50.,  0.,  0.,  0.,  1.,  1.],
           [40.,  0.,  1.,  0.,  0.,  0.]])
    """
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    def filled(encoder):
        return make_pipeline(SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY),
                             encoder)

    parts = [(f"numeric_{i}", SimpleImputer(strategy="constant", fill_value=median), [column])
             for i, (column, median) in enumerate(zip(encoding.numeric, encoding.medians,
                                                      strict=True))]
    if encoding.indicators:
        parts.append(("indicators", MissingIndicator(features="all"), list(encoding.indicators)))
    if encoding.categorical:
        parts.append(("onehot", filled(OneHotEncoder(
            categories=[list(c) for c in encoding.categories], handle_unknown="ignore",
            sparse_output=False)), list(encoding.categorical)))
    if encoding.ordinal:
        parts.append(("ordinal", filled(OrdinalEncoder(
            categories=[list(c) for c in encoding.ordinal_categories],
            handle_unknown="use_encoded_value", unknown_value=-1)), list(encoding.ordinal)))
    prototype = pd.DataFrame(
        {**dict(zip(encoding.numeric, [[m] for m in encoding.medians], strict=True)),
         **{c: pd.Series([values[0]], dtype=object) for c, values in
            zip((*encoding.categorical, *encoding.ordinal),
                (*encoding.categories, *encoding.ordinal_categories), strict=True)}},
        columns=list(encoding.columns))
    # n_jobs=1: None would follow an active joblib backend and fork or spawn processes for
    # a few columns (a fork of a process running JAX can hang)
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0, n_jobs=1).fit(
        prepare(prototype, encoding.numeric, (*encoding.categorical, *encoding.ordinal)))


def as_frame(X, encoding: TableEncoding):
    """X as a DataFrame with the encoding's column names.

    Parameters
    ----------
    X : pandas.DataFrame or array-like
        A DataFrame (its column names become text), or an array whose columns are
        `encoding.columns` in order.
    encoding : TableEncoding
        Names the columns of an array.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> encoding = TableEncoding(columns=("a", "b"), numeric=("a", "b"), medians=(0.0, 0.0))
    >>> list(as_frame(np.array([[1.0, 2.0]]), encoding).columns)
    ['a', 'b']
    """
    import pandas as pd

    if hasattr(X, "columns"):
        return X.set_axis([str(c) for c in X.columns], axis=1)
    return pd.DataFrame(np.asarray(X), columns=list(encoding.columns))


def encode(transformer, encoding: TableEncoding, frame, *, name: str = "X") -> np.ndarray:
    """`frame` encoded as float64 (n_obs, n_encoded).

    Parameters
    ----------
    transformer : sklearn.compose.ColumnTransformer
        From `build_transformer(encoding)`.
    encoding : TableEncoding
        What was learned.
    frame : pandas.DataFrame
        Rows to encode, with the encoding's columns (others are ignored).
    name : str, default "X"
        What error messages call the table.

    Returns
    -------
    numpy.ndarray
        `(n_obs, len(encoding.feature_names))` float64.

    Raises
    ------
    InvalidInputError
        Under missing="drop" or "error", a missing value (naming rows and columns), since there
        is nothing to fill it with.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "age": [30.0, None, 50.0, 40.0],
    ...     "city": ["Oslo", "Rome", None, "Oslo"],
    ...     "size": pd.Categorical(["S", "L", "M", "S"], categories=["S", "M", "L"],
    ...                            ordered=True)})
    >>> encoding = learn_encoding(table, ordinal=["size"])
    >>> new = pd.DataFrame({"age": [None], "city": ["Paris"], "size": ["M"]})
    >>> encode(build_transformer(encoding), encoding, new)  # median, indicator, no city
    array([[40.,  1.,  0.,  0.,  0.,  1.]])
    """
    prepared = _prepared(encoding, frame, name)
    return np.asarray(transformer.transform(prepared), dtype=np.float64)


def _prepared(encoding: TableEncoding, frame, name: str, first_row: int = 0):
    """The encoding's columns of `frame`, `prepare`d: what `encode` and `apply_encoding` code.

    Under missing="drop" or "error" a missing value is refused (InvalidInputError).
    """
    frame = frame[list(encoding.columns)]
    refuse_complex(frame, name)
    if encoding.missing != "impute":  # (a fit under "drop" dropped its rows before this)
        refuse_missing(frame, name, encoding.missing, fitted=True, first_row=first_row)
    refuse_text_in_numbers(frame, encoding.numeric, name, first_row=first_row)
    return prepare(frame, encoding.numeric, (*encoding.categorical, *encoding.ordinal))


def apply_encoding(encoding: TableEncoding, frame, *, name: str = "X",
                   first_row: int = 0) -> np.ndarray:
    """`frame` encoded as `encode` does, without scikit-learn (for predicting from a file).

    The same numbers as `encode(build_transformer(encoding), encoding, frame)`, bit for bit
    (the tests compare them on tables with gaps, unseen categories, booleans, ordered
    categoricals and numeric codes): numeric gaps become the median, each indicator column is
    1.0 where its column was missing, one-hot columns are 1.0 for the row's category (a missing
    value being the category "missing", an unseen one all zeros), ordinal codes are the
    category's position (-1 if unseen). `pymc-bnn predict` uses it so that answering a few rows
    does not import scikit-learn (about a second of SciPy's start-up).

    Parameters
    ----------
    encoding : TableEncoding
        What was learned.
    frame : pandas.DataFrame
        Rows to encode, with the encoding's columns (others are ignored).
    name : str, default "X"
        What error messages call the table.
    first_row : int, default 0
        The row number error messages give `frame`'s first row: its row in the table it is a
        batch of (`pymc-bnn predict` reads Parquet in batches).

    Returns
    -------
    numpy.ndarray
        `(n_obs, len(encoding.feature_names))` float64.

    Raises
    ------
    InvalidInputError
        An infinite number (naming the column and the first row), or under missing="drop"
        or "error" a missing value.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "age": [30.0, None, 50.0, 40.0],
    ...     "city": ["Oslo", "Rome", None, "Oslo"],
    ...     "size": pd.Categorical(["S", "L", "M", "S"], categories=["S", "M", "L"],
    ...                            ordered=True)})
    >>> encoding = learn_encoding(table, ordinal=["size"])
    >>> new = pd.DataFrame({"age": [None], "city": ["Paris"], "size": ["M"]})
    >>> apply_encoding(encoding, new)  # median, indicator, no city (as `encode`)
    array([[40.,  1.,  0.,  0.,  0.,  1.]])
    """
    import pandas as pd

    prepared = _prepared(encoding, frame, name, first_row)
    blocks = []
    if encoding.numeric:
        values = prepared[list(encoding.numeric)].to_numpy(dtype=np.float64)
        infinite = np.isinf(values)
        if infinite.any():
            row, col = np.argwhere(infinite)[0]
            raise InvalidInputError(
                f"{name} column {encoding.numeric[col]} holds an infinite value (first: row "
                f"{row + first_row}); drop or impute those rows before predicting")
        gaps = np.isnan(values)
        blocks.append(np.where(gaps, np.asarray(encoding.medians, dtype=np.float64), values))
        if encoding.indicators:
            where = [encoding.numeric.index(c) for c in encoding.indicators]
            blocks.append(gaps[:, where].astype(np.float64))

    def codes(column, categories):  # position in `categories`; -1 for a category not in it
        return pd.Index(list(categories)).get_indexer(prepared[column].fillna(MISSING_CATEGORY))

    for column, categories in zip(encoding.categorical, encoding.categories, strict=True):
        blocks.append((codes(column, categories)[:, None]
                       == np.arange(len(categories))).astype(np.float64))
    for column, categories in zip(encoding.ordinal, encoding.ordinal_categories, strict=True):
        blocks.append(codes(column, categories)[:, None].astype(np.float64))
    return np.hstack(blocks)  # every column has a role, so there is at least one block


# Names that moved out of this module when it was split: importing them from here still works,
# with a DeprecationWarning, for one release (refuse_missing, which this module uses, is still
# imported here and needs no forward).
__getattr__ = moved_names(__name__, {
    "missing_rows": "pymc_bnn.table_checks",
    **dict.fromkeys(("NewRowCounts", "count_new_rows", "describe_new_row_counts",
                     "describe_new_rows", "describe_unseen_categories"), "pymc_bnn.new_rows")})


__all__ = ["MISSING_CATEGORY", "MISSING_POLICIES", "TableEncoding", "apply_encoding", "as_frame",
           "build_transformer", "category_text", "encode", "learn_encoding", "prepare",
           "weighted_median"]
