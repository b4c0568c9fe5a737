"""User tables' roles for the CLI's `fit`, `predict` and `report`: the columns the flags name.

Taking the target, group and weight columns from a table read by `pymc_bnn.cli.table_files`,
checking the columns the flags name, and choosing the estimator the target calls for. Errors
name the column or file. A saved model's feature columns matched with DATA's, and the table of
predictions, are `pymc_bnn.cli.model_columns`'s (they also import from here).
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.cli.model_columns import model_features, prediction_table  # noqa: F401 (re-exports)
from pymc_bnn.errors import InvalidInputError


def _separator_hint(table) -> str:
    """A hint when a CSV's column names look like several joined by another separator.

    The separator is found in the header unless it has a comma too ("height, cm;width") or
    several candidates ("a;b|c"): the fix is to name the separator.
    """
    header = " ".join(map(str, table.columns))
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
        if sep in header:
            shown = "tab" if sep == "\t" else f"'{sep}'"
            return (f" (the header looks separated by {name}, not commas: pass "
                    f"--sep {shown})")
    return ""


def split_target(table, target: str, source):
    """Split column `target` off `table`: (features DataFrame, target Series).

    Parameters
    ----------
    table : pandas.DataFrame
        The table read from DATA.
    target : str
        The target column's name (`--target`).
    source : str or pathlib.Path
        What the messages call the table (its path).

    Returns
    -------
    tuple of (pandas.DataFrame, pandas.Series)
        Every other column, and the target.

    Raises
    ------
    InvalidInputError
        When `table` has no column `target` (the message lists the columns it has), or the
        target is missing in some rows.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"bill_mm": [39.1, 46.5], "species": ["Adelie", "Gentoo"]})
    >>> X, y = split_target(table, "species", "penguins.csv")
    >>> list(X.columns), y.tolist()
    (['bill_mm'], ['Adelie', 'Gentoo'])
    >>> split_target(table, "island", "penguins.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: penguins.csv has no column 'island'; its columns are: ...
    """
    if target not in table.columns:
        raise InvalidInputError(
            f"{source} has no column {target!r}; its columns are: "
            f"{', '.join(map(str, table.columns))}{_separator_hint(table)}"
        )
    y = table[target]
    if y.isna().any():
        rows = np.flatnonzero(y.isna().to_numpy())
        raise InvalidInputError(
            f"the target column {target!r} is empty in {rows.size} row(s) "
            f"(first: row {rows[0]}); drop those rows or fill them in"
        )
    numpy_dtype = getattr(y.dtype, "numpy_dtype", None)
    if numpy_dtype is not None and numpy_dtype.kind in "biu":
        # pandas' nullable booleans and integers (Parquet's, with no gap here) as NumPy's, so
        # the labels stay as written (True, 3) where scikit-learn would make them 1.0 and 3.0
        y = y.astype(numpy_dtype)
    return table.drop(columns=[target]), y


def choose_estimator(X, y, likelihood: str, *, categorical=(), ordinal=(), source="X"):
    """The estimator class and likelihood for target `y`, as `--likelihood` asks.

    "auto" and "count" follow `pymc_bnn.model.likelihood_choice.choose_likelihood` (text or
    few whole-number labels: a classifier; whole numbers ≥ 0 near zero, or "count": Poisson, or
    negative binomial when a Poisson GLM on the encoded features is overdispersed; the rest:
    gaussian); any other name is used as asked.

    Parameters
    ----------
    X : pandas.DataFrame or None
        The feature table, for the overdispersion test of counts; None for a streamed table,
        judged by its target alone.
    y : pandas.Series or array-like
        The target (for a streamed table, a sample of its distinct values).
    likelihood : str
        `--likelihood`: "auto", "count" or a likelihood's name.
    categorical, ordinal : sequence of str, default ()
        `--categorical` and `--ordinal`, for encoding `X` as the estimator will.
    source : str or pathlib.Path, default "X"
        What messages call the table.

    Returns
    -------
    tuple
        (`BayesianMLPClassifier` or `BayesianMLPRegressor`, the likelihood to pass it ("auto"
        for a classifier: the estimator picks bernoulli or categorical), the
        `LikelihoodChoice` with the reason shown to the user).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"bill_mm": [39.1, 46.5, 49.0, 37.8]})
    >>> estimator, likelihood, choice = choose_estimator(
    ...     X, pd.Series(["Adelie", "Gentoo", "Gentoo", "Adelie"]), "auto")
    >>> estimator.__name__, likelihood, choice.reason
    ('BayesianMLPClassifier', 'auto', 'text labels (2 distinct values): a classifier')
    >>> estimator, likelihood, choice = choose_estimator(X, pd.Series([3750.0, 4500.5, 5200.0,
    ...                                                                3400.0]), "auto")
    >>> estimator.__name__, likelihood, choice.reason
    ('BayesianMLPRegressor', 'gaussian', 'not whole numbers: a real-valued target, gaussian')
    >>> choose_estimator(X, pd.Series([1, 0, 2, 1]), "poisson")[2].reason
    'poisson, as asked (--likelihood poisson)'
    """
    from pymc_bnn.model.likelihood_choice import LikelihoodChoice, choose_likelihood
    from pymc_bnn.sklearn import (
        CLASSIFIER_LIKELIHOODS,
        BayesianMLPClassifier,
        BayesianMLPRegressor,
    )

    if likelihood not in ("auto", "count"):
        classifier = likelihood in CLASSIFIER_LIKELIHOODS
        _refuse_mismatched_target(y, likelihood, classifier)
        choice = LikelihoodChoice(classifier, likelihood,
                                  f"{likelihood}, as asked (--likelihood {likelihood})")
    else:
        choice = choose_likelihood(
            y, None if X is None else _encoded(X, categorical, ordinal, source),
            counts=likelihood == "count")
    return (BayesianMLPClassifier if choice.classifier else BayesianMLPRegressor,
            choice.likelihood, choice)


def _refuse_mismatched_target(y, likelihood: str, classifier: bool) -> None:
    """Refuse a --likelihood the target cannot take, in the flag's words.

    Class labels for a likelihood of numbers, numbers that are not whole for a likelihood of
    classes (scikit-learn's words would name the other estimator class, not the flag).
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if y is None:
        return
    values = pd.Series(y).dropna()
    numeric = is_numeric_dtype(values) and not is_bool_dtype(values)
    if not classifier and not numeric:
        shown = ", ".join(repr(v) for v in values.unique()[:3])
        raise InvalidInputError(
            f"--likelihood {likelihood} takes numbers, but the target holds labels ({shown}, …); "
            "leave out --likelihood (a classifier is chosen), or name --likelihood categorical")
    if classifier and numeric and not np.all(np.mod(values.to_numpy(dtype=float), 1) == 0):
        shown = ", ".join(f"{v:g}" for v in values.unique()[:3])
        raise InvalidInputError(
            f"--likelihood {likelihood} takes class labels, but the target holds numbers that "
            f"are not whole ({shown}, …); leave out --likelihood (gaussian is chosen), or name "
            "a likelihood for numbers (gaussian, student_t)")


def _encoded(X, categorical, ordinal, source):
    """X encoded as the estimator will (missing values imputed), for the dispersion test.

    Errors (dates, identifier-like text) name `source`.
    """
    from pymc_bnn.encoding import build_transformer, encode, learn_encoding

    encoding = learn_encoding(X, categorical=categorical, ordinal=ordinal, name=str(source))
    return encode(build_transformer(encoding), encoding, X)


def named_columns(texts, columns) -> tuple[str, ...]:
    """The columns that the texts of a repeatable flag (--exclude, --id, …) name, in order.

    A text that is exactly a column's name names that column (a name with a comma or with
    spaces at its ends); any other is a comma-separated list, each name stripped. Repeated
    flags add up, and a column named twice counts once.

    Parameters
    ----------
    texts : sequence of str
        The flag's values, one per time it was given.
    columns : sequence
        The table's column names.

    Returns
    -------
    tuple of str
        Names that are not columns stay in (`check_columns` says so).

    Examples
    --------
    >>> named_columns(["id,w", "id"], ["id", "w", "x"])
    ('id', 'w')
    >>> named_columns(["height, cm", " note "], ["height, cm", " note ", "x"])
    ('height, cm', ' note ')
    """
    known = {str(c) for c in columns}
    named: list[str] = []
    for text in texts:
        parts = [text] if text in known else [p.strip() for p in text.split(",") if p.strip()]
        named.extend(p for p in parts if p not in named)
    return tuple(named)


def check_columns(table, source, **roles) -> None:
    """Check that every column a role (--exclude, --id, …) names is in `table`.

    Parameters
    ----------
    table : pandas.DataFrame
        The features read from DATA.
    source : str or pathlib.Path
        What the message calls the table (its path).
    **roles : sequence of str
        The option's name without "--" → the columns it names; `target=` (a str, not a role)
        is the target's name, which no role may name.

    Raises
    ------
    InvalidInputError
        Naming the option, the columns `table` lacks and the columns it has (or that it names
        the target).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"id": [1, 2], "bill_mm": [39.1, 46.5]})
    >>> check_columns(table, "penguins.csv", id=["id"], exclude=[])
    >>> check_columns(table, "penguins.csv", exclude=["island"])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: --exclude names column(s) penguins.csv does not have: ...
    """
    target = roles.pop("target", None)
    for option, names in roles.items():
        if target is not None and target in names:
            raise InvalidInputError(
                f"--{option} names the target column {target!r}; the target is never a "
                f"feature: leave it out of --{option}")
        unknown = [c for c in names if c not in table.columns]
        if unknown:
            raise InvalidInputError(
                f"--{option} names column(s) {source} does not have: {', '.join(unknown)}; its "
                f"columns are: {', '.join(map(str, table.columns))}")


def split_groups(X, column: str | None, source):
    """Split the group column off `X`.

    Parameters
    ----------
    X : pandas.DataFrame
        The features read from DATA.
    column : str or None
        `--groups` (None: no groups).
    source : str or pathlib.Path
        What the message calls the table (its path).

    Returns
    -------
    tuple
        (X without the group column, its labels as a list), or (X, None) without `column`.

    Raises
    ------
    InvalidInputError
        When `X` has no column `column`; the message lists the columns it has.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"store": ["a", "b", "a"], "price": [1.0, 2.0, 1.5]})
    >>> features, groups = split_groups(X, "store", "sales.csv")
    >>> list(features.columns), groups
    (['price'], ['a', 'b', 'a'])
    >>> split_groups(X, None, "sales.csv")[1] is None
    True
    >>> split_groups(X, "shop", "sales.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: sales.csv has no group column 'shop'; its columns are: ...
    """
    if column is None:
        return X, None
    labels = _role_column(X, column, "group", source).tolist()
    return X.drop(columns=[column]), labels


def _role_column(X, column: str, role: str, source):
    """`X[column]`, or an error naming the role ("group", "weight") and the columns X has."""
    if column not in X.columns:
        raise InvalidInputError(
            f"{source} has no {role} column {column!r}; its columns are: "
            f"{', '.join(map(str, X.columns))}"
        )
    return X[column]


def split_weights(X, column: str | None, source):
    """Split the weight column (`--weight`) off `X`: (X without it, its weights) or (X, None).

    The weights are checked as `fit(sample_weight=...)` checks them, the messages naming the
    column: finite numbers ≥ 0, not all 0, none missing.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"price": [1.0, 2.0], "n": [3, 1]})
    >>> features, weights = split_weights(X, "n", "sales.csv")
    >>> list(features.columns), weights.tolist()
    (['price'], [3.0, 1.0])
    >>> split_weights(X.assign(n=["3", "lots"]), "n", "sales.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: the weight column 'n' of sales.csv must hold numbers ...
    """
    import pandas as pd

    if column is None:
        return X, None
    given = _role_column(X, column, "weight", source)
    weights = pd.to_numeric(given, errors="coerce").astype("float64").to_numpy()
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        value = given.iloc[first]
        shown = ("an empty cell" if pd.isna(value)
                 else repr(value.item() if isinstance(value, np.generic) else value))
        raise InvalidInputError(
            f"the weight column {column!r} of {source} must hold numbers ≥ 0, but "
            f"{int(bad.sum())} row(s) do not (first: {shown} in row {first}); fix those rows, "
            "or give them weight 0 to leave them out")
    if not np.any(weights > 0):
        raise InvalidInputError(f"the weight column {column!r} of {source} is 0 in every row; "
                                "give the rows to fit a positive weight")
    return X.drop(columns=[column]), weights


# Names that moved to `pymc_bnn.cli.table_files` when this module was split: importing them
# from here still works, with a DeprecationWarning, for one release.
__getattr__ = moved_names(__name__, dict.fromkeys(
    ("PARQUET_SUFFIXES", "check_csv_flags", "csv_flags_given", "is_parquet",
     "read_batch_columns", "read_table", "read_text_columns", "target_sample"),
    "pymc_bnn.cli.table_files"))
