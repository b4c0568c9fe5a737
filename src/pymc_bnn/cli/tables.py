"""User tables in and out for the CLI's `fit`, `predict` and `report`.

Reading a CSV or Parquet file (a CSV's separator, encoding and compression:
`pymc_bnn.cli.csv_format`), taking the target and group columns from it, matching a saved
model's feature columns, the columns `predict` copies as they are, and the table of predictions
with their uncertainty. Errors name the column or file.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np

from pymc_bnn.cli.csv_format import (
    CsvFormat,
    csv_format,
    data_suffix,
    decode_fix,
    read_head,
    separator_name,
)
from pymc_bnn.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


# Table formats read as something else: what the file is, and how to save it as one we read.
_OTHER_FORMATS = {
    **dict.fromkeys((".xlsx", ".xlsm", ".xls", ".ods"), (
        "a spreadsheet", "in the spreadsheet: Save As CSV; or pandas.read_excel(...).to_csv(...)")),
    ".json": ("JSON", "pandas.read_json(...).to_csv(..., index=False)"),
    ".jsonl": ("JSON lines", "pandas.read_json(..., lines=True).to_csv(..., index=False)"),
    ".feather": ("Feather", "pandas.read_feather(...).to_parquet(...)"),
    ".arrow": ("Arrow IPC", "pandas.read_feather(...).to_parquet(...)"),
    ".pkl": ("a pickle", "pandas.read_pickle(...).to_parquet(...)"),
    ".pickle": ("a pickle", "pandas.read_pickle(...).to_parquet(...)"),
    ".h5": ("HDF5", "pandas.read_hdf(...).to_parquet(...)"),
    ".hdf5": ("HDF5", "pandas.read_hdf(...).to_parquet(...)"),
    ".sav": ("an SPSS file", "pandas.read_spss(...).to_parquet(...)"),
    ".dta": ("a Stata file", "pandas.read_stata(...).to_parquet(...)"),
    ".sas7bdat": ("a SAS file", "pandas.read_sas(...).to_parquet(...)"),
}


def read_table(path: str | Path, *, sep: str | None = None, encoding: str | None = None,
               decimal: str | None = None):
    r"""A CSV (any other suffix) or Parquet (.parquet, .pq) file as a DataFrame.

    A CSV may be compressed (.csv.gz, .tsv.zip …); its separator and encoding are `sep` and
    `encoding`, or found as `pymc_bnn.cli.csv_format.csv_format` finds them: a tab for .tsv,
    ';', tab or '|' when the header line has that one and no comma, else commas; UTF-8. Its
    numbers have a decimal point, or `decimal`; without `decimal`, a column of numbers written
    with decimal commas (read as text) is refused, naming the flag.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; a CSV needs a header row.
    sep : str, optional
        A CSV's separator (`--sep`), one character; default: found as above.
    encoding : str, optional
        A CSV's text encoding (`--encoding`), a Python codec name; default: UTF-8, with or
        without a byte-order mark.
    decimal : str, optional
        A CSV's decimal mark (`--decimal`), "." or ","; default: ".", and a column of numbers
        with decimal commas is refused (`--decimal .` reads such a column as text).

    Returns
    -------
    pandas.DataFrame
        The table, at least one row, every column named once.

    Raises
    ------
    InvalidInputError
        When there is no file at `path`, it cannot be parsed, it repeats a column name, has
        no rows or numbers with decimal commas, or `sep`, `encoding` or `decimal` is given for
        a Parquet file; the message says why and what to pass instead.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"bill_mm": [39.1, 46.5], "mass_g": [3750, 4500],
    ...               "species": ["Adelie", "Gentoo"]}).to_csv("penguins.csv", index=False)
    >>> read_table("penguins.csv")
       bill_mm  mass_g species
    0     39.1    3750  Adelie
    1     46.5    4500  Gentoo
    >>> read_table("penguin.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: no data file at penguin.csv; check the path
    >>> pd.DataFrame([[1, 2]], columns=["a", "a"]).to_csv("twice.csv", index=False)
    >>> read_table("twice.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: twice.csv repeats column name(s) a; give every column ...

    Excel's CSV in much of Europe: semicolons, decimal commas, cp1252 on Windows.

    >>> with open("excel.csv", "w", encoding="cp1252") as file:
    ...     _ = file.write("bill_mm;mass_g;island\n39,1;3750;Biscoe\n46,5;4500;Tórshavn\n")
    >>> read_table("excel.csv", encoding="cp1252", decimal=",")
       bill_mm  mass_g    island
    0     39.1    3750    Biscoe
    1     46.5    4500  Tórshavn
    >>> read_table("excel.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: cannot read excel.csv as CSV (UnicodeDecodeError: ...
    >>> read_table("excel.csv", encoding="cp1252")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: column 'bill_mm' of excel.csv holds numbers written ...
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"no data file at {path}; check the path")
    check_csv_flags(path, sep, encoding, decimal)
    # a spreadsheet or JSON under a compression suffix (book.xlsx.gz) is no CSV either
    other = _OTHER_FORMATS.get(path.suffix.lower()) or _OTHER_FORMATS.get(data_suffix(path))
    if other is not None:  # read as CSV it would fail, or look like a table without rows
        raise InvalidInputError(
            f"{path} is {other[0]}, which pymc-bnn does not read; save the table as CSV or "
            f"Parquet ({other[1]})")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    text = None if parquet else csv_format(path, sep, encoding, decimal)
    if text is not None and codecs.lookup(text.encoding).name not in ("utf-8", "utf-8-sig") and (
            read_head(path, 3) == codecs.BOM_UTF8):
        raise InvalidInputError(
            f"{path} begins with UTF-8's byte-order mark, so it is UTF-8, not {text.encoding}; "
            "leave out --encoding")
    if text is not None and text.sep == text.decimal:
        raise InvalidInputError(
            f"{path} cannot be read with {separator_name(text.sep)} as both its separator and "
            "its decimal mark; pass the separator with --sep (Excel writes ';' beside decimal "
            "commas)")
    try:
        if text is None:
            table = pd.read_parquet(path)
            header = [str(c) for c in table.columns]
        else:
            table = pd.read_csv(path, sep=text.sep, encoding=text.encoding,
                                decimal=text.decimal)
            # pandas renames a repeated CSV header (a, a.1): compare the header as written
            header = [str(c) for c in pd.read_csv(
                path, sep=text.sep, encoding=text.encoding, header=None, nrows=1,
                dtype=str).iloc[0].tolist()]
    except Exception as exc:  # parser, encoding and Arrow errors all mean "not a readable table"
        kind = "Parquet" if text is None else "CSV"
        if isinstance(exc, UnicodeDecodeError):
            fix = decode_fix(path, encoding)
        elif isinstance(exc, pd.errors.ParserError) and text is not None:
            how = {"--sep": "given by --sep", ".tsv": "as a .tsv file",
                   "header": "as its header line is", "default": "the default"}[text.source]
            fix = (f"it was read as separated by {separator_name(text.sep)} ({how}): pass the "
                   "file's separator with --sep if it is another, or check the rows the "
                   "message names")
        else:
            fix = "pass a CSV with a header row or a .parquet file"
        raise InvalidInputError(
            f"cannot read {path} as {kind} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:150]}); {fix}"
        ) from None
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InvalidInputError(
            f"{path} repeats column name(s) {', '.join(repeated)}; give every column its own "
            "name (the CLI picks columns by name)"
        )
    if table.shape[0] == 0:
        raise InvalidInputError(f"{path} has no rows; pass a table with data")
    if text is not None and decimal != ".":
        _refuse_other_decimal_mark(table, path, text)
    return table


# Thousands groups with commas ("1,234"): in a comma-separated file, what quoted commas in
# numbers most often are (left to the encoding's own message, which names `thousands=`).
_THOUSANDS = r"[-+]?\d{1,3}(,\d{3})+"


def _refuse_other_decimal_mark(table, path, text: CsvFormat) -> None:
    """Refuse a column of numbers written with the other decimal mark, which read as text.

    As text it would be coded with a category per number, or refused as an identifier or as
    numbers stored as text with a fix that does not apply. Read with a point (no `--decimal`):
    numbers with decimal commas ("3,5"), the fix `--decimal ,`; read with `--decimal ,`:
    numbers with decimal points, the fix to leave it out.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    other = "." if text.decimal == "," else ","
    number = rf"[-+]?\d+({re.escape(other)}\d+)?"
    for column in table.columns:
        values = table[column]
        if is_numeric_dtype(values) or is_bool_dtype(values):
            continue
        filled = values.dropna().astype(str).str.strip()
        # the first rows first: most text columns are told apart without a pass over all
        if (filled.empty or not filled.iloc[:1000].str.fullmatch(number).all()
                or not filled.str.fullmatch(number).all()):
            continue
        marked = filled[filled.str.contains(other, regex=False)]
        if marked.empty or (other == "," and text.sep == ","
                            and marked.str.fullmatch(_THOUSANDS).all()):
            continue
        examples = ", ".join(repr(v) for v in marked.unique()[:3])
        if other == ",":
            raise InvalidInputError(
                f"column {column!r} of {path} holds numbers written with decimal commas "
                f"({examples}, …), which read as text; pass --decimal ',' to read them as "
                "numbers (or --decimal . to keep the column as text)")
        raise InvalidInputError(
            f"column {column!r} of {path} holds numbers written with decimal points "
            f"({examples}, …), which read as text with --decimal ','; leave out --decimal, or "
            "save the file with one decimal mark throughout")


def check_csv_flags(path, sep: str | None = None, encoding: str | None = None,
                    decimal: str | None = None) -> None:
    """Refuse `--sep`, `--encoding` or `--decimal` for Parquet DATA: they are how to read CSV.

    Parameters
    ----------
    path : str or pathlib.Path
        DATA: a file, or a folder of Parquet files.
    sep, encoding, decimal : str, optional
        The flags' values (None: not given).

    Raises
    ------
    InvalidInputError
        When any is given and `path` is Parquet (`is_parquet`), naming the flags.

    Examples
    --------
    >>> check_csv_flags("rows.csv", sep=";", encoding="cp1252")
    >>> check_csv_flags("rows.parquet")
    >>> check_csv_flags("rows.parquet", sep=";")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: --sep applies to CSV files; rows.parquet is Parquet, ...
    """
    given = csv_flags_given(sep, encoding, decimal)
    if given and is_parquet(path):
        what = ("a folder of Parquet files" if Path(path).is_dir() else "Parquet")
        raise InvalidInputError(
            f"{given} appl{'ies' if ' ' not in given else 'y'} to CSV files; {path} is {what}, "
            f"which stores its own column types and text: leave out {given}")


def csv_flags_given(sep: str | None = None, encoding: str | None = None,
                    decimal: str | None = None) -> str:
    """The CSV flags given, in words ("--sep and --encoding"); "" when none is.

    Examples
    --------
    >>> csv_flags_given(sep=";"), csv_flags_given(";", "cp1252", ","), csv_flags_given()
    ('--sep', '--sep, --encoding and --decimal', '')
    """
    given = [flag for flag, value in (("--sep", sep), ("--encoding", encoding),
                                      ("--decimal", decimal)) if value is not None]
    return " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)


def read_text_columns(path: str | Path, table, columns, *, sep: str | None = None,
                      encoding: str | None = None):
    r"""Columns of a CSV (or .tsv) file as written: each cell's text, an empty cell "".

    `read_table` parses numbers, so a copied column would come back changed: 007 as 7, a
    19-digit id beside an empty cell as a float that rounds it, whole numbers beside a gap as
    3.0. `pymc-bnn predict` copies these instead. The file is read a second time with the
    same options (the separator and encoding `read_table` used, found the same way), only
    those columns, each cell as a string.

    Parameters
    ----------
    path : str or pathlib.Path
        The text file `read_table` read.
    table : pandas.DataFrame
        What `read_table` returned for it: its columns locate `columns` in the file.
    columns : list of str
        Columns of `table`, in the order wanted.
    sep, encoding : str, optional
        As given to `read_table`.

    Returns
    -------
    pandas.DataFrame
        `columns` as text, one row per row of `table` (with its index).

    Raises
    ------
    InvalidInputError
        When the file changed since `read_table` read it (other rows or columns).

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"bill_mm": [39.1, 46.5], "tag": ["007", "010"],
    ...               "band": ["12", None]}).to_csv("tags.csv", index=False)
    >>> print(open("tags.csv").read().strip())
    bill_mm,tag,band
    39.1,007,12
    46.5,010,
    >>> table = read_table("tags.csv")
    >>> table["tag"].tolist(), table["band"].tolist()
    ([7, 10], [12.0, nan])
    >>> text = read_text_columns("tags.csv", table, ["tag", "band"])
    >>> text["tag"].tolist(), text["band"].tolist()
    (['007', '010'], ['12', ''])
    >>> _ = open("tags_eu.csv", "w").write("bill_mm;tag\n39,1;007\n")  # semicolons: found
    >>> table = read_table("tags_eu.csv", decimal=",")
    >>> table["bill_mm"].tolist(), read_text_columns("tags_eu.csv", table, ["tag"])["tag"].tolist()
    ([39.1], ['007'])
    """
    import pandas as pd

    path = Path(path)
    if not columns:
        return table[[]]
    names = [str(c) for c in table.columns]
    positions = sorted(names.index(c) for c in columns)
    written = csv_format(path, sep, encoding)
    try:
        text = pd.read_csv(path, sep=written.sep, encoding=written.encoding, usecols=positions,
                           dtype=str, keep_default_na=False, na_filter=False)
    except Exception as exc:  # the file read a moment ago: changed or removed since
        raise InvalidInputError(
            f"cannot read {path} again to copy its columns ({type(exc).__name__}); "
            "leave the file unchanged while pymc-bnn predict runs"
        ) from None
    if text.shape != (table.shape[0], len(positions)):
        raise InvalidInputError(f"{path} changed while it was read; leave the file unchanged "
                                "while pymc-bnn predict runs")
    text.columns = [names[k] for k in positions]  # as read_table named them (e.g. Unnamed: 1)
    text.index = table.index
    return text[list(columns)]


def read_batch_columns(batch, columns):
    """Columns of a Parquet record batch as pandas columns holding the same values.

    A whole-number column with a gap becomes pandas' nullable integer type (Int64 …), not
    floats: `RecordBatch.to_pandas` would make a 19-digit id a float that rounds it, and 3 a
    3.0. Every other type converts as `to_pandas` converts it. `pymc-bnn predict` copies
    these columns of Parquet DATA to its output.

    Parameters
    ----------
    batch : pyarrow.RecordBatch
        Rows of DATA.
    columns : list of str
        Columns of `batch`, in the order wanted.

    Returns
    -------
    pandas.DataFrame
        `columns`, one row per row of `batch`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"x": [0.5, 1.5], "tag": [1234567890123456789, None]})
    >>> batch.to_pandas()["tag"].tolist()
    [1.2345678901234568e+18, nan]
    >>> read_batch_columns(batch, ["tag"])["tag"].tolist()
    [1234567890123456789, <NA>]
    """
    import pandas as pd
    import pyarrow as pa

    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}
    return batch.select(list(columns)).to_pandas(types_mapper=nullable.get)


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


def is_parquet(path) -> bool:
    """Whether `path` is a Parquet file (by its suffix) or a folder (of Parquet files).

    Examples
    --------
    >>> is_parquet("rows.parquet"), is_parquet("rows.PQ"), is_parquet("rows.csv")
    (True, True, False)
    >>> import os
    >>> os.mkdir("parts")
    >>> is_parquet("parts")
    True
    """
    path = Path(path)
    return path.suffix.lower() in PARQUET_SUFFIXES or path.is_dir()


def target_sample(path, target: str):
    """The distinct values of column `target` of a Parquet file or folder.

    The column is read one batch at a time, stopping past `MAX_CLASS_LABELS` distinct values:
    enough for `choose_estimator` to tell labels from numbers without reading it whole.

    Parameters
    ----------
    path : str or pathlib.Path
        A Parquet file, or a folder of them.
    target : str
        The column's name.

    Returns
    -------
    pandas.Series or None
        The distinct values in the order first seen; None for a source without rows.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4],
    ...               "species": ["Adelie", "Gentoo", "Adelie", "Chinstrap"]}
    ...              ).to_parquet("penguins.parquet")
    >>> target_sample("penguins.parquet", "species").tolist()
    ['Adelie', 'Gentoo', 'Chinstrap']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from pymc_bnn.data import open_parquet
    from pymc_bnn.data.sources import read_parquet_batches
    from pymc_bnn.defaults import MAX_CLASS_LABELS

    seen = None
    for batch in read_parquet_batches(open_parquet(path), [target]):
        values = pc.unique(batch.column(0))
        seen = values if seen is None else pc.unique(pa.concat_arrays([seen, values]))
        if len(seen) > MAX_CLASS_LABELS:
            break
    return seen.to_pandas() if seen is not None else None


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

def model_features(model, table, source) -> tuple[list[str], list[str]]:
    """Match a saved model's feature columns with the columns of DATA.

    Parameters
    ----------
    model : estimator
        A fitted estimator; its `feature_names_in_` are the columns needed. An estimator
        fitted on an array has none: its table encoding names the columns "x0", "x1" … (as
        the estimator names an array's), and DATA must have those.
    table : pandas.DataFrame or pyarrow.Schema
        DATA, or the schema of a Parquet file (its `names`).
    source : str or pathlib.Path
        What the message calls DATA (its path).

    Returns
    -------
    tuple of (list of str, list of str)
        The model's feature columns in the model's order, and DATA's other columns (copied to
        the predictions by `pymc-bnn predict`).

    Raises
    ------
    InvalidInputError
        Naming the columns DATA lacks, and every column the model needs.

    Examples
    --------
    Any object with `feature_names_in_` stands in for a fitted estimator here:

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(feature_names_in_=["bill_mm", "mass_g"])
    >>> rows = pd.DataFrame({"id": [7], "mass_g": [3750], "bill_mm": [39.1]})
    >>> model_features(model, rows, "new.csv")
    (['bill_mm', 'mass_g'], ['id'])
    >>> model_features(model, rows[["id", "mass_g"]], "new.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: new.csv lacks column(s) the model was fitted on: bill_mm; ...
    """
    named = hasattr(model, "feature_names_in_")
    encoding = getattr(model, "table_encoding_", None) or {}
    features = [str(c) for c in (model.feature_names_in_ if named
                                 else encoding.get("columns", []))]
    columns = [str(c) for c in (table.columns if hasattr(table, "columns") else table.names)]
    missing = [c for c in features if c not in columns]
    if missing:
        unnamed = ("" if named else f" (it was fitted on an array: its columns are called "
                   f"{features[0]} … {features[-1]} here; name DATA's columns so)")
        raise InvalidInputError(
            f"{source} lacks column(s) the model was fitted on: {', '.join(missing)}; "
            f"the model needs {', '.join(features)}{unnamed}"
        )
    return features, [c for c in columns if c not in features]


def prediction_table(model, X, level: float | None = None, groups=None):
    """Predictions at X (DataFrame of the model's features), with interval columns on request.

    Classifier: `prediction` (most probable label) and `p_<label>` per class (predictive
    probability), the estimator's `predict_proba` (one compiled pass). With `level`, from
    `estimator.uncertainty` (`pymc_bnn.posterior.uncertainty.predictive_summary`) also
    `p_<label>_lower`/`_upper` (the central `level` interval of each probability over draws),
    `predictive_entropy` (total), `expected_entropy` (aleatoric), `mutual_information`
    (epistemic), all nats, and `variation_ratio`. Regressor: `prediction` (predictive mean),
    `sd` (total predictive sd) = `aleatoric_sd` (noise) and `epistemic_sd` (weights) added as
    variances, and with `level` `lower`/`upper`, the central `level` predictive interval (the
    quantiles of the predictive mixture, most of the work, hence on request). The columns
    computed either way hold the same numbers.

    Parameters
    ----------
    model : BayesianMLPClassifier, BayesianMLPRegressor or SavedEstimator
        A fitted estimator, or one read from its file without scikit-learn
        (`pymc_bnn.io.saved_estimator`).
    X : pandas.DataFrame or array-like
        The rows to predict, the model's features only.
    level : float, optional
        Probability of the interval columns; None (default): no intervals (and for a
        classifier no entropies, which need every draw).
    groups : sequence, optional
        Each row's group label, for models fitted with groups.

    Returns
    -------
    pandas.DataFrame
        One row per row of `X`, with the columns above.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(4, 3))
    >>> list(prediction_table(fitted_classifier, X).columns)
    ['prediction', 'p_no', 'p_yes']
    >>> table = prediction_table(fitted_classifier, X, level=0.9)
    >>> table.shape
    (4, 11)
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['prediction', 'p_no', 'p_yes', 'p_no_lower', 'p_yes_lower', 'p_no_upper', 'p_yes_upper',
     'predictive_entropy', 'expected_entropy', 'mutual_information', 'variation_ratio']
    >>> list(prediction_table(fitted_regressor, X).columns)
    ['prediction', 'sd', 'aleatoric_sd', 'epistemic_sd']
    >>> list(prediction_table(fitted_regressor, X, level=0.8).columns)
    ['prediction', 'sd', 'aleatoric_sd', 'epistemic_sd', 'lower', 'upper']
    """
    import pandas as pd

    options = {} if groups is None else {"groups": groups}
    classifier = hasattr(model, "classes_")
    if classifier and level is None:  # `predict_proba` alone: no per-draw pass
        probability = model.predict_proba(X, **options)
        columns = {"prediction": model.classes_[probability.argmax(axis=1)]}
        for k, label in enumerate(model.classes_):
            columns[f"p_{label}"] = probability[:, k]
        return pd.DataFrame(columns)
    summary = model.uncertainty(X, level=level, **options)
    if classifier:
        columns = {"prediction": summary["predicted_class"].values}
        labels = summary["class"].values
        for name, suffix in (("probability", ""), ("probability_lower", "_lower"),
                             ("probability_upper", "_upper")):
            for k, label in enumerate(labels if name in summary else ()):
                columns[f"p_{label}{suffix}"] = summary[name].values[:, k]
        skip = {"predicted_class"}
    else:
        columns = {"prediction": summary["mean"].values}
        skip = {"mean"}
    for name, variable in summary.data_vars.items():
        if variable.dims == ("obs",) and name not in skip:
            columns[name] = variable.values
    return pd.DataFrame(columns)
