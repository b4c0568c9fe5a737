"""The columns `pymc-bnn predict` copies to its output, exactly as DATA holds them.

`read_text_columns` reads a CSV's cells as written (007 stays 007, an empty cell ""), and
`read_batch_columns` a Parquet batch's columns with whole numbers kept whole beside a gap; the
table itself is read by `pymc_bnn.cli.table_files`.
"""

from __future__ import annotations

from pathlib import Path

from pymc_bnn.cli.csv_format import csv_format
from pymc_bnn.errors import InvalidInputError

__all__ = ["read_batch_columns", "read_text_columns"]


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
    >>> from pymc_bnn.cli.table_files import read_table
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
