"""Rows coded with a learned TableEncoding: by the scikit-learn transformer it rebuilds, or NumPy.

`build_transformer` and `encode` are the scikit-learn path (a `ColumnTransformer` with every
learned value passed to its constructor); `apply_encoding` computes the same matrix directly.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.table_checks import (
    refuse_complex,
    refuse_missing,
    refuse_text_in_numbers,
)
from pymc_bnn.table_encoding import MISSING_CATEGORY, TableEncoding, prepare


def build_transformer(encoding: TableEncoding):
    """A fitted scikit-learn `ColumnTransformer` that applies `encoding` to a table.

    It is fitted on a one-row prototype table whose numeric values are the learned medians (one
    median imputer for all numeric columns, whose statistics are then those medians); the
    categories are given to the encoders. So the transformer is the same whether it was just
    learned or rebuilt from a model file.

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
    >>> from pymc_bnn.encoding import learn_encoding
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

    # One imputer for every numeric column (fitted on the prototype's one row of medians, its
    # statistics are the medians): an imputer per column costs scikit-learn's checks per
    # column, in every fit and every prediction
    parts = ([("numeric", SimpleImputer(strategy="median"), list(encoding.numeric))]
             if encoding.numeric else [])
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
    >>> from pymc_bnn.encoding import learn_encoding
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
    # C order whatever the parts: a single part hands on pandas' column-major block, and the
    # column means of the standardisation round otherwise than over the rows of a C array
    return np.ascontiguousarray(transformer.transform(prepared), dtype=np.float64)


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
    >>> from pymc_bnn.encoding import learn_encoding
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
