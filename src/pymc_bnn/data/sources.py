"""Data that need not fit in memory: a re-readable stream of (X, y) batches.

The batches come from a Parquet file or folder (read by `pyarrow.dataset`) or from the user's
own batches. A `BatchSource` reads nothing until it is iterated, and can be iterated again (a
streamed fit reads it once for the standardisation statistics, then once per epoch). Every
batch is checked as in-memory data are (`check_features`), and an error names the rows it is
about.

Opening a Parquet file or folder, checking it and reading its rows are
`pymc_bnn.data.parquet_files`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from pymc_bnn.data.parquet_files import (  # noqa: F401 (re-exports)
    READ_ROWS,
    REASON_CHARS,
    open_parquet,
    read_parquet_batches,
    reading_error,
    refuse_empty_file,
    table_columns,
)
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.validation import shown


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
