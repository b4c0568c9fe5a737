"""Data that need not fit in memory: a re-readable stream of (X, y) batches.

The batches come from a Parquet file or folder (read by `pyarrow.dataset`) or from the user's
own batches. A `BatchSource` reads nothing until it is iterated, and can be iterated again (a
streamed fit reads it once for the standardisation statistics, then once per epoch). Every
batch is checked as in-memory data are (`check_features`), and an error names the rows it is
about.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.validation import check_features, shown

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


@dataclass(frozen=True)
class BatchSource:
    """A re-readable stream of (X, y) batches.

    Iterating it opens a new pass over the batches.

    Parameters
    ----------
    open_batches : callable
        Returns a new iterator of `(X (rows, n_features) float64, y (rows,) or None)` each
        time it is called, batches in a fixed order.
    n_rows : int, optional
        Rows in one pass (None: unknown until read).
    feature_names : tuple of str, optional
        The columns of X, when known.
    name : str, default "batches"
        What error messages call it (a path, say).

    Examples
    --------
    Usually made by `parquet_batches` or `batch_source`; a source of one batch:

    >>> import numpy as np
    >>> source = BatchSource(lambda: iter([(np.ones((2, 3)), np.zeros(2))]), n_rows=2)
    >>> [X.shape for X, y in source]
    [(2, 3)]
    >>> doubled = source.map(lambda X, y: (2 * X, y))
    >>> next(iter(doubled))[0].sum()
    np.float64(12.0)
    """

    open_batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None]]] = field(repr=False)
    n_rows: int | None = None
    feature_names: tuple[str, ...] | None = None
    name: str = "batches"

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        return self.open_batches()

    def map(self, transform: Callable) -> BatchSource:
        """A copy of this source that applies `transform(X, y) -> (X, y)` to every batch read.

        Parameters
        ----------
        transform : callable
            `transform(X, y) -> (X, y)`.

        Returns
        -------
        BatchSource
            A new source; this one is unchanged.
        """
        opened = self.open_batches

        def mapped():
            return (transform(X, y) for X, y in opened())

        return replace(self, open_batches=mapped)


def is_stream(data) -> bool:
    """Whether `as_source` streams `data` rather than reading it into memory.

    True for a path (str or os.PathLike), a BatchSource or a function returning batches.
    Arrays, DataFrames and lists are in-memory data.

    Parameters
    ----------
    data : object
        What a user passed as X.

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> is_stream("rows.parquet"), is_stream(np.zeros((2, 2)))
    (True, False)
    """
    return isinstance(data, str | os.PathLike | BatchSource) or (
        callable(data) and not hasattr(data, "shape") and not hasattr(data, "columns"))


def as_source(data, *, target: str | None = None, features: Sequence[str] | None = None,
              exclude: Sequence[str] = ()) -> BatchSource:
    """A `BatchSource` from a Parquet path, a BatchSource (as it is), or batches.

    Parameters
    ----------
    data : str, os.PathLike, BatchSource, callable or collection
        A Parquet file or folder (see `parquet_batches`), a source, or batches (see
        `batch_source`).
    target, features, exclude
        Pick the columns of a Parquet path, see `parquet_batches`.

    Returns
    -------
    BatchSource

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x0": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "x1": [0, 1, 4, 9, 16, 25],
    ...               "label": ["a", "b", "a", "b", "a", "b"]}).to_parquet("rows.parquet")
    >>> as_source("rows.parquet", target="label").feature_names
    ('x0', 'x1')
    >>> source = as_source("rows.parquet", target="label")
    >>> as_source(source) is source
    True
    """
    if isinstance(data, BatchSource):
        return data
    if isinstance(data, str | os.PathLike):
        return parquet_batches(data, target=target, features=features, exclude=exclude)
    return batch_source(data)


def batch_source(batches, *, n_rows: int | None = None,
                 feature_names: Sequence[str] | None = None) -> BatchSource:
    """A `BatchSource` over the user's own batches of (X, y) (y may be None for prediction).

    Parameters
    ----------
    batches : callable or collection
        A function returning a new iterable of batches at each call (e.g. one that opens a
        file), or a re-iterable collection such as a list of (X, y) tuples. A generator can be
        read only once and a streamed fit reads its data more than once, so it is refused.
    n_rows : int, optional
        Rows in one pass, when known (for progress bars).
    feature_names : sequence of str, optional
        The columns of X; every batch must then have that many.

    Returns
    -------
    BatchSource
        Each batch checked as it is read (finite numbers, one y per row); an error names the
        rows.

    Raises
    ------
    InvalidInputError
        `batches` is an iterator (read once only) or not iterable.

    Examples
    --------
    >>> import numpy as np
    >>> source = batch_source([(np.ones((2, 3)), np.zeros(2)), (np.ones((1, 3)), np.ones(1))])
    >>> [(X.shape, y.tolist()) for X, y in source]
    [((2, 3), [0.0, 0.0]), ((1, 3), [1.0])]
    >>> batch_source(iter([]))
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: batches must be re-readable, got list_iterator: ...
    """
    if callable(batches):
        opener = batches
    elif isinstance(batches, Iterator) or not isinstance(batches, Iterable):
        raise InvalidInputError(
            f"batches must be re-readable, got {type(batches).__name__}: a streamed fit reads "
            "the data once for its statistics and again for every pass; pass a function that "
            "returns a new iterator of (X, y) batches (e.g. lambda: my_batches(path)) or a list")
    else:
        def opener():
            return iter(batches)

    names = None if feature_names is None else tuple(str(f) for f in feature_names)

    def checked():
        start = 0
        for item in opener():
            X, y = _split_batch(item)
            X = check_features(X, n_features=None if names is None else len(names),
                               name=f"batch rows {start:,}-{start + len(X) - 1:,}")
            if y is not None and np.shape(y) != (len(X),):
                raise InvalidInputError(
                    f"batch rows {start:,}-{start + len(X) - 1:,}: y has shape {np.shape(y)} but "
                    f"X has {len(X)} rows; give one target value per row")
            start += len(X)
            yield X, y

    return BatchSource(open_batches=checked, n_rows=n_rows, feature_names=names)


def _split_batch(item):
    if isinstance(item, tuple | list) and len(item) == 2:
        return item[0], (None if item[1] is None else np.asarray(item[1]))
    return item, None


def parquet_batches(path, *, target: str | None = None, features: Sequence[str] | None = None,
                    exclude: Sequence[str] = (), read_rows: int = READ_ROWS) -> BatchSource:
    """A `BatchSource` over a Parquet file or a folder of Parquet files (`pyarrow.dataset`).

    Batches are read `read_rows` rows at a time, files in the dataset's order, rows as
    stored: shuffle the rows once when writing the file if they are sorted (e.g. by date or
    class), since a streamed fit takes its minibatches in this order.

    Parameters
    ----------
    path : str or os.PathLike
        A .parquet file or a folder of them.
    target : str, optional
        The column to predict (None: batches carry y=None).
    features : sequence of str, optional
        The columns of X, in this order (None: every column but the target, `exclude` and a
        pandas index saved in the file, `__index_level_0__` or the index's name, which
        `pandas.read_parquet` makes the index again; they must be numeric).
    exclude : sequence of str, default ()
        Columns that are not features (identifiers, say).
    read_rows : int, default READ_ROWS
        The most rows per batch.

    Returns
    -------
    BatchSource
        Named by `path`, with `n_rows` and `feature_names` known.

    Raises
    ------
    InvalidInputError
        An unreadable path, a missing or non-numeric column, or a table without rows.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x0": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "x1": [0, 1, 4, 9, 16, 25],
    ...               "label": ["a", "b", "a", "b", "a", "b"]}).to_parquet("rows.parquet")
    >>> source = parquet_batches("rows.parquet", target="label", read_rows=4)
    >>> source.n_rows, source.feature_names
    (6, ('x0', 'x1'))
    >>> [(X.shape, y.tolist()) for X, y in source]
    [((4, 2), ['a', 'b', 'a', 'b']), ((2, 2), ['a', 'b'])]
    """
    import pyarrow as pa

    dataset = open_parquet(path)
    columns = table_columns(dataset.schema)
    if target is not None and target not in columns:
        raise InvalidInputError(f"{path} has no column {target!r}; its columns are: "
                                f"{shown(columns, 20)}")
    unknown = [c for c in [*(features or ()), *exclude] if c not in columns]
    if unknown:
        raise InvalidInputError(f"{path} has no column(s) {', '.join(unknown)}; its columns "
                                f"are: {shown(columns, 20)}")
    if features is None:
        features = [c for c in columns if c != target and c not in set(exclude)]
    features = [str(f) for f in features]
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
    bad = [c for c in features
           if not any(check(dataset.schema.field(c).type) for check in numeric)]
    if bad:
        # fit(path, target) and predict(path, out=) have no exclude=: they take the source
        picked = "" if target is None else f"target={target!r}, "
        raise InvalidInputError(
            f"{path} has non-numeric feature column(s): {', '.join(bad)}; encode them as "
            f"numbers or leave them out with exclude= (Python: pass "
            f"parquet_batches({str(path)!r}, {picked}exclude={bad!r}) in place of the path)")
    if not features:
        raise InvalidInputError(f"{path} has no feature columns besides the target; pass a "
                                "table with at least one numeric feature")
    n_rows = int(dataset.count_rows())
    if n_rows == 0:
        raise InvalidInputError(f"{path} has no rows; pass a table with data")
    read = features + ([target] if target is not None else [])

    def batches():
        start = 0
        for batch in read_parquet_batches(dataset, read, read_rows):
            if batch.num_rows == 0:
                continue
            where = f"{path} rows {start:,}-{start + batch.num_rows - 1:,}"
            # columns written into a column-major array: one contiguous copy each (the
            # row-major layout a step takes is made once, when minibatches are stacked)
            X = np.empty((batch.num_rows, len(features)), order="F")
            for j, c in enumerate(features):
                X[:, j] = batch.column(c).to_numpy(zero_copy_only=False)
            X = check_features(X, name=where)
            y = None
            if target is not None:
                column = batch.column(target)
                if column.null_count:
                    raise InvalidInputError(
                        f"{where}: the target column {target!r} is empty in "
                        f"{column.null_count} row(s); drop those rows or fill them in")
                y = column.to_numpy(zero_copy_only=False)
            start += batch.num_rows
            yield X, y

    return BatchSource(open_batches=batches, n_rows=n_rows, feature_names=tuple(features),
                       name=str(path))


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
