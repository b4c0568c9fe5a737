"""The CLI's table files read, CSV or Parquet, and checked as they are read.

A CSV's separator, encoding and compression are `pymc_bnn.cli.csv_format`'s; Parquet is a file
or a folder of them.

What `fit`, `predict`, `report` and `stability` read before anything is fitted: the whole table
(`read_table`), a Parquet target's distinct values (`target_sample`), and the flags that
apply to CSV files only (`check_csv_flags`). Errors name the file and the fix. The columns
`predict` copies exactly as written are read by `pymc_bnn.cli.copied_columns`.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from pymc_bnn.cli.copied_columns import (  # noqa: F401 (re-exports)
    read_batch_columns,
    read_text_columns,
)
from pymc_bnn.cli.csv_format import (
    CsvFormat,
    csv_format,
    data_suffix,
    decode_fix,
    read_head,
    separator_name,
)
from pymc_bnn.data.parquet_files import REASON_CHARS, reading_error
from pymc_bnn.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


# Table formats read as something else: what the file is, and how to save it as one we read.
OTHER_FORMATS = {
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
        When there is no file at `path` (or a folder), it cannot be parsed, it repeats a column
        name, has no rows or numbers with decimal commas, or `sep`, `encoding` or `decimal` is
        given for a Parquet file; the message says why and what to pass instead.

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

    from pymc_bnn.data.parquet_files import refuse_empty_file

    path = Path(path)
    if path.is_dir():  # not "no data file": the folder is there
        raise InvalidInputError(
            f"{path} is a folder, but this command reads one CSV or Parquet file; "
            "`pymc-bnn fit --stream` and `pymc-bnn predict` read a folder of Parquet files "
            "batch by batch (pass one file otherwise)")
    if not path.is_file():
        raise InvalidInputError(f"no data file at {path}; check the path")
    check_csv_flags(path, sep, encoding, decimal)
    refuse_empty_file(path)
    # a spreadsheet or JSON under a compression suffix (book.xlsx.gz) is no CSV either
    other = OTHER_FORMATS.get(path.suffix.lower()) or OTHER_FORMATS.get(data_suffix(path))
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
        elif text is None:  # Arrow's chained message: its cause, not a cut path
            raise InvalidInputError(
                f"cannot read {path} as Parquet: {reading_error(exc)}; replace the file, or "
                "pass a CSV with a header row") from None
        else:
            fix = "pass a CSV with a header row or a .parquet file"
        raise InvalidInputError(
            f"cannot read {path} as {kind} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:REASON_CHARS]}); {fix}") from None
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
    from pymc_bnn.data.parquet_files import read_parquet_batches
    from pymc_bnn.defaults import MAX_CLASS_LABELS

    seen = None
    for batch in read_parquet_batches(open_parquet(path), [target]):
        values = pc.unique(batch.column(0))
        seen = values if seen is None else pc.unique(pa.concat_arrays([seen, values]))
        if len(seen) > MAX_CLASS_LABELS:
            break
    return seen.to_pandas() if seen is not None else None


__all__ = ["PARQUET_SUFFIXES", "check_csv_flags", "csv_flags_given", "is_parquet",
           "read_batch_columns", "read_table", "read_text_columns", "target_sample"]
