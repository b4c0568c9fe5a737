"""Data that need not fit in memory: a re-readable stream of (X, y) batches, from a Parquet
file or folder (read by `pyarrow.dataset`) or from the user's own batches.

A `BatchSource` reads nothing until it is iterated, and can be iterated again (a streamed fit
reads it once for the standardisation statistics, then once per epoch). Every batch is checked
as in-memory data are (`check_features`), and an error names the rows it is about.
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
    """The record batches of a `pyarrow.dataset` Dataset (its files in order, rows as stored),
    at most `rows` rows each, read file by file with `ParquetFile.iter_batches`, without
    pre-buffering. Arrow's dataset scanner (`Dataset.to_batches`) reads ahead as fast as it can
    decode, so when the consumer is slower (a fit) its memory grew with the file: 40 → 151 MB
    of Arrow's pool from 0.4M to 3.2M rows of 10 features; this reader stays at 40 MB."""
    import pyarrow.parquet as pq

    for name in dataset.files:
        with pq.ParquetFile(name, pre_buffer=False,
                            filesystem=dataset.filesystem) as handle:
            yield from handle.iter_batches(batch_size=int(rows), columns=columns)


@dataclass(frozen=True)
class BatchSource:
    """A re-readable stream of (X, y) batches.

    open_batches: returns a new iterator of (X (rows, n_features) float64, y (rows,) or None)
    each time it is called, batches in a fixed order. n_rows: rows in one pass (None: unknown
    until read). feature_names: the columns of X, when known. name: what error messages call
    it (a path, say).
    """

    open_batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None]]] = field(repr=False)
    n_rows: int | None = None
    feature_names: tuple[str, ...] | None = None
    name: str = "batches"

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        return self.open_batches()

    def map(self, transform: Callable) -> BatchSource:
        """This source with `transform(X, y) -> (X, y)` applied to every batch as it is read."""
        opened = self.open_batches

        def mapped():
            return (transform(X, y) for X, y in opened())

        return replace(self, open_batches=mapped)


def is_stream(data) -> bool:
    """True for what `as_source` streams: a path (str or os.PathLike), a BatchSource or a
    function returning batches. Arrays, DataFrames and lists are in-memory data."""
    return isinstance(data, str | os.PathLike | BatchSource) or (
        callable(data) and not hasattr(data, "shape") and not hasattr(data, "columns"))


def as_source(data, *, target: str | None = None, features: Sequence[str] | None = None,
              exclude: Sequence[str] = ()) -> BatchSource:
    """A `BatchSource` from a Parquet path (file or folder; `target`, `features`, `exclude` pick
    its columns, see `parquet_batches`), a BatchSource (as it is), or batches (see
    `batch_source`)."""
    if isinstance(data, BatchSource):
        return data
    if isinstance(data, str | os.PathLike):
        return parquet_batches(data, target=target, features=features, exclude=exclude)
    return batch_source(data)


def batch_source(batches, *, n_rows: int | None = None,
                 feature_names: Sequence[str] | None = None) -> BatchSource:
    """A `BatchSource` over the user's own batches of (X, y) (y may be None for prediction).

    batches: a function returning a new iterable of batches at each call (e.g. one that opens
    a file), or a re-iterable collection such as a list of (X, y) tuples. A generator can be
    read only once and a streamed fit reads its data more than once, so it is refused.
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

    target: the column to predict (None: batches carry y=None). features: the columns of X, in
    this order (None: every numeric column but the target and `exclude`). Batches are read
    `read_rows` rows at a time, files in the dataset's order, rows as stored: shuffle the rows
    once when writing the file if they are sorted (e.g. by date or class), since a streamed fit
    takes its minibatches in this order.
    """
    import pyarrow as pa

    dataset = open_parquet(path)
    columns = [str(c) for c in dataset.schema.names]
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
        raise InvalidInputError(
            f"{path} has non-numeric feature column(s): {', '.join(bad)}; encode them as "
            "numbers or leave them out with exclude=")
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
            X = check_features(np.column_stack([
                batch.column(c).to_numpy(zero_copy_only=False).astype(np.float64)
                for c in features]), name=where)
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


def open_parquet(path):
    """The `pyarrow.dataset.Dataset` of a Parquet file or folder, or InvalidInputError saying
    why it cannot be read."""
    import pyarrow.dataset as ds

    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"no data at {path}; check the path")
    try:
        dataset = ds.dataset(str(path), format="parquet")
        dataset.schema  # noqa: B018  (reads the footers: a broken file fails here)
    except Exception as exc:  # Arrow's errors all mean "not a readable Parquet dataset"
        raise InvalidInputError(
            f"cannot read {path} as Parquet ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:150]}); pass a .parquet file or a folder of them"
        ) from None
    if not dataset.files:
        raise InvalidInputError(f"{path} holds no Parquet files; pass a .parquet file or a "
                                "folder of them")
    return dataset
