"""Parquet files and folders, opened, checked and read batch by batch.

A file or folder opens as a `pyarrow.dataset` Dataset whose footers are read at once, so a
missing path, a file that is not Parquet, an empty export, a folder of CSV files or a folder
whose files differ in their columns fails on opening, with one line that names the file and the
way on. Its rows are then read file by file, a bounded number at a time; the table's columns are
those `pandas.read_parquet` gives (not a stored index). `pymc_bnn.data.sources` makes a
`BatchSource` of them.
"""

from __future__ import annotations

from pathlib import Path

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.validation import shown

# Rows per Parquet read: large enough that reading costs little per row (Arrow's own default
# is 131,072), small enough that a batch of 100 float64 features stays near 50 MB.
READ_ROWS = 65_536


def read_parquet_batches(dataset, columns=None, rows: int = READ_ROWS):
    """The record batches of a `pyarrow.dataset` Dataset, at most `rows` rows each.

    Its files in order, rows as stored, read file by file with `ParquetFile.iter_batches`,
    without pre-buffering. Arrow's dataset scanner (`Dataset.to_batches`) reads ahead as fast
    as it can decode, so when the consumer is slower (a fit) its memory grew with the file:
    40 → 151 MB of Arrow's pool from 0.4M to 3.2M rows of 10 features; this reader stays at
    40 MB.

    Parameters
    ----------
    dataset : pyarrow.dataset.Dataset
        From `open_parquet`.
    columns : list of str, optional
        The columns to read; default all.
    rows : int, default READ_ROWS
        The most rows per batch.

    Yields
    ------
    pyarrow.RecordBatch

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x0": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "x1": [0, 1, 4, 9, 16, 25],
    ...               "label": ["a", "b", "a", "b", "a", "b"]}).to_parquet("rows.parquet")
    >>> batches = read_parquet_batches(open_parquet("rows.parquet"), ["x0"], rows=4)
    >>> [batch.num_rows for batch in batches]
    [4, 2]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name in dataset.files:
        try:
            with pq.ParquetFile(name, pre_buffer=False,
                                filesystem=dataset.filesystem) as handle:
                yield from handle.iter_batches(batch_size=int(rows), columns=columns)
        except (pa.ArrowException, OSError) as exc:  # a file changed or cut since it was opened
            raise InvalidInputError(
                f"cannot read {name} as Parquet: {reading_error(exc)}; replace or remove that "
                "file") from None


def refuse_empty_file(path) -> None:
    """Refuse a file of 0 bytes (an export that failed) as empty, before a reader's own error.

    pandas would say "EmptyDataError: No columns to parse from file", Arrow "Could not read
    schema … Is this a 'parquet' file?". A folder, or a file with anything in it, passes.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Raises
    ------
    InvalidInputError
        When `path` is a file of 0 bytes.

    Examples
    --------
    >>> _ = open("rows.csv", "w").close()
    >>> refuse_empty_file("rows.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: rows.csv is empty (0 bytes); pass a file that holds ...
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InvalidInputError(f"{path} is empty (0 bytes); pass a file that holds the table")


def open_parquet(path):
    """The `pyarrow.dataset.Dataset` of a Parquet file or folder.

    Parameters
    ----------
    path : str or os.PathLike
        A .parquet file or a folder of them.

    Returns
    -------
    pyarrow.dataset.Dataset
        Its footers already read, so a broken file fails here.

    Raises
    ------
    InvalidInputError
        Saying why `path` cannot be read: missing, not Parquet, a folder without Parquet
        files, or a folder that holds CSV files.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x0": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "x1": [0, 1, 4, 9, 16, 25],
    ...               "label": ["a", "b", "a", "b", "a", "b"]}).to_parquet("rows.parquet")
    >>> open_parquet("rows.parquet").schema.names
    ['x0', 'x1', 'label']
    >>> open_parquet("missing.parquet")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: no data at missing.parquet; check the path

    A folder of CSV files is named as one, with the ways on:

    >>> import os
    >>> os.mkdir("exports")
    >>> pd.DataFrame({"x0": [1.0]}).to_csv("exports/march.csv", index=False)
    >>> open_parquet("exports")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: exports holds CSV files (march.csv), but a folder is ...
    """
    import pyarrow.dataset as ds

    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"no data at {path}; check the path")
    refuse_empty_file(path)
    try:
        dataset = ds.dataset(str(path), format="parquet")
        dataset.schema  # noqa: B018  (reads the footers: a broken file fails here)
    except Exception as exc:  # Arrow's errors all mean "not a readable Parquet dataset"
        _refuse_csv_files(path)
        folder = path.is_dir()
        raise InvalidInputError(
            f"cannot read {path} as Parquet: {reading_error(exc, folder=path if folder else None)}"
            + ("; pass a .parquet file or a folder of them" if folder else
               "; replace the file, or pass a CSV with a header row")) from None
    if not dataset.files:
        raise InvalidInputError(f"{path} holds no Parquet files; pass a .parquet file or a "
                                "folder of them")
    _check_same_columns(dataset, path)
    return dataset


# The longest reason a reading error quotes from a library's message (characters; longer ones
# are cut at a word, with an ellipsis).
REASON_CHARS = 300


def reading_error(exc: BaseException, *, folder: Path | None = None) -> str:
    """Why a file could not be read, from a library's exception, for a one-line message.

    Arrow chains its context before the cause ("Error creating dataset. Could not read schema
    from '/long/path/x.parquet'. …: Could not open Parquet input source '…': Parquet magic
    bytes not found in footer. …"): cutting that at a fixed length quoted half a path and never
    the cause. Here the cause is the last link of the chain (after the last quoted source), and
    in a folder the file Arrow names comes first.

    Parameters
    ----------
    exc : BaseException
        As raised by pyarrow, pandas or Python's decoders.
    folder : Path, optional
        The folder that was read: the file Arrow names is given relative to it.

    Returns
    -------
    str
        "reason (ExceptionType)", at most `REASON_CHARS` characters of reason.

    Examples
    --------
    >>> exc = OSError("Could not open Parquet input source '/data/rows/part-3.parquet': Parquet "
    ...               "magic bytes not found in footer.")
    >>> reading_error(exc, folder=Path("/data/rows"))
    'part-3.parquet: Parquet magic bytes not found in footer (OSError)'
    >>> reading_error(ValueError("Expected 3 fields in line 5, saw 4"))
    'Expected 3 fields in line 5, saw 4 (ValueError)'
    """
    import re

    text = (str(exc).strip().splitlines() or [""])[0]
    sources = re.findall(r"source '([^']+)': ", text)
    reason = text.rsplit("': ", 1)[-1] if sources else text
    reason = reason.strip().rstrip(".") or type(exc).__name__
    if len(reason) > REASON_CHARS:
        reason = reason[:REASON_CHARS].rsplit(" ", 1)[0] + " …"
    if sources and folder is not None:
        where = Path(sources[-1])
        try:
            where = where.relative_to(folder)
        except ValueError:
            pass
        reason = f"{where}: {reason}"
    return f"{reason} ({type(exc).__name__})"


def _refuse_csv_files(path: Path) -> None:
    """Refuse a folder that holds CSV files (Arrow read them as Parquet), naming both ways on.

    Names as Arrow reads a folder: every file below it, less those starting with "." or "_".
    """
    if not path.is_dir():
        return
    csv = sorted(str(file.relative_to(path)) for file in path.rglob("*")
                 if file.is_file() and not any(part.startswith((".", "_"))
                                               for part in file.relative_to(path).parts)
                 and {".csv", ".tsv"} & {suffix.lower() for suffix in file.suffixes[-2:]})
    if csv:
        raise InvalidInputError(
            f"{path} holds CSV files ({shown(csv)}), but a folder is read as Parquet files: "
            "convert them to Parquet (pandas: pd.read_csv(file).to_parquet(...)), or pass each "
            "CSV file on its own")


def table_columns(schema) -> list[str]:
    """The columns of a Parquet schema as `pandas.read_parquet` gives them: not its index.

    pandas stores a DataFrame's index as a column ('__index_level_0__', or the index's name)
    unless it is a plain row count, and `read_parquet` makes that column the index again, so
    it is no feature or column of the table read whole, and none here either.

    Parameters
    ----------
    schema : pyarrow.Schema
        E.g. `open_parquet(path).schema`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x0": [0.0, 1.0, 2.0], "label": ["a", "b", "a"]})
    >>> frame.iloc[[2, 0, 1]].to_parquet("shuffled.parquet")
    >>> open_parquet("shuffled.parquet").schema.names
    ['x0', 'label', '__index_level_0__']
    >>> table_columns(open_parquet("shuffled.parquet").schema)
    ['x0', 'label']
    """
    pandas = schema.pandas_metadata or {}
    # a RangeIndex is stored as a description (a dict), not a column
    index = {name for name in pandas.get("index_columns", []) if isinstance(name, str)}
    return [str(name) for name in schema.names if name not in index]


def _footer(fragment, path: Path):
    """A folder's file's schema, or the error naming that file.

    A broken file (cut short while copying, say) raised Arrow's own error from inside the fit.
    """
    try:
        return fragment.physical_schema
    except Exception as exc:  # Arrow's errors all mean "not a readable Parquet file"
        raise InvalidInputError(
            f"cannot read {path} as Parquet: {reading_error(exc, folder=path)}; replace or "
            "remove that file") from None


def _check_same_columns(dataset, path: Path) -> None:
    """Refuse a folder whose files do not all have the first file's columns.

    Arrow takes a folder's schema from its first file, so a later file without one of its
    columns would fail deep in a read; this names the file and the columns instead.
    """
    fragments = iter(dataset.get_fragments())
    first = next(fragments)
    names = _footer(first, path).names
    for fragment in fragments:
        other = _footer(fragment, path).names
        if set(other) != set(names):  # (the same columns in another order are read by name)
            lacks = [c for c in names if c not in other]
            adds = [c for c in other if c not in names]
            what = "; ".join(part for part in (f"lacks {', '.join(lacks[:5])}" if lacks else "",
                                               f"adds {', '.join(adds[:5])}" if adds else "")
                             if part)
            raise InvalidInputError(
                f"the files of {path} differ in their columns: {Path(fragment.path).name} "
                f"{what}, against {Path(first.path).name}; give every file of the folder the "
                "same columns")
