"""Reading a `BatchSource` for a fit: statistics, fixed-size minibatches, reading ahead.

One pass for the statistics, minibatches of a fixed size epoch after epoch, and a background
thread that reads ahead while the compiled loop runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.data.sources import BatchSource
from pymc_bnn.errors import InvalidInputError

# More distinct target values than this in a classifier's stream is not a set of labels.
MAX_CLASSES = 10_000


@dataclass(frozen=True)
class StreamStatistics:
    """What one pass over a stream learns.

    Parameters
    ----------
    n_rows : int
        Rows read.
    x_mean, x_sd : numpy.ndarray
        `(n_features,)` per-column mean and population sd (as `StandardScaler`).
    y_mean, y_sd : float, optional
        Of a numeric target (None otherwise).
    classes : numpy.ndarray, optional
        Sorted distinct target values when asked for, else None.

    Examples
    --------
    >>> import numpy as np
    >>> StreamStatistics(n_rows=2, x_mean=np.array([2.0]), x_sd=np.array([1.0])).classes is None
    True
    """

    n_rows: int
    x_mean: np.ndarray
    x_sd: np.ndarray
    y_mean: float | None = None
    y_sd: float | None = None
    classes: np.ndarray | None = None


class _Moments:
    """Running count, mean and sum of squared deviations, merged batch by batch.

    Chan et al. (1979): exact for any number of rows, with no sum of squares that overflows
    or cancels.
    """

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        k = values.shape[0]
        mean = values.mean(axis=0)
        m2 = ((values - mean) ** 2).sum(axis=0)
        total = self.n + k
        delta = mean - self.mean
        self.mean = self.mean + delta * (k / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * k / total)
        self.n = total

    def sd(self):
        return np.sqrt(self.m2 / max(self.n, 1))


def stream_statistics(source: BatchSource, *, labels: bool = False,
                      progress: bool = False) -> StreamStatistics:
    """One pass over `source`: row count, feature means and sds, and the target's statistics.

    Parameters
    ----------
    source : BatchSource
        The stream.
    labels : bool, default False
        Collect the target's distinct values (for classifiers) instead of its mean and sd.
    progress : bool, default False
        Show the rows read so far (of `source.n_rows` when known) on the shared progress bar.

    Returns
    -------
    StreamStatistics
        The target's mean and sd only for a numeric target; its distinct values only with
        `labels=True`.

    Raises
    ------
    InvalidInputError
        No rows, or more than `MAX_CLASSES` distinct labels.
    KeyboardInterrupt
        Ctrl-C during the pass (nothing is fitted yet, so nothing is kept), saying how far it
        read.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.data import batch_source
    >>> source = batch_source([(np.array([[1.0], [3.0]]), np.array([2.0, 4.0])),
    ...                        (np.array([[5.0]]), np.array([6.0]))])
    >>> stats = stream_statistics(source)
    >>> stats.n_rows, stats.x_mean, stats.y_mean
    (3, array([3.]), 4.0)
    >>> stream_statistics(source, labels=True).classes
    array([2., 4., 6.])
    """
    x, y = _Moments(), _Moments()
    classes: np.ndarray | None = None
    numeric_target = True
    with progress_bar(progress, "Statistics", source.n_rows, "rows read") as bar:
        try:
            for X, target in source:
                x.add(X)
                bar(completed=x.n)
                if target is None:
                    numeric_target = False
                    continue
                if labels:
                    classes = np.unique(target) if classes is None else np.union1d(classes,
                                                                                   target)
                    if classes.size > MAX_CLASSES:
                        raise InvalidInputError(
                            f"the target of {source.name} has more than {MAX_CLASSES:,} "
                            "distinct values; a classifier needs class labels: use a "
                            "regressor for a numeric target")
                elif numeric_target:
                    try:
                        y.add(np.asarray(target, dtype=np.float64))
                    except (TypeError, ValueError):
                        numeric_target = False
        except KeyboardInterrupt as press:
            of = "" if source.n_rows is None else f" of {source.n_rows:,}"
            raise KeyboardInterrupt(
                f"interrupted while reading {source.name} for its statistics, after {x.n:,}"
                f"{of} rows: nothing was fitted, so nothing was kept") from press
    if x.n == 0:
        raise InvalidInputError(f"{source.name} has no rows; pass data with at least one batch")
    numeric_target = numeric_target and y.n == x.n
    return StreamStatistics(
        n_rows=x.n, x_mean=np.asarray(x.mean), x_sd=np.asarray(x.sd()),
        y_mean=float(y.mean) if numeric_target else None,
        y_sd=float(y.sd()) if numeric_target else None, classes=classes)


def fixed_batches(source: BatchSource,
                  size: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Endless minibatches of exactly `size` rows: the source's rows in order, epoch after epoch.

    The rows are cut every `size` rows; a batch may span the end of one pass and the start of
    the next, so every row is used equally often.

    Parameters
    ----------
    source : BatchSource
        The stream; each pass must give rows, with targets.
    size : int
        Rows per minibatch.

    Yields
    ------
    tuple of numpy.ndarray
        `(X (size, n_features), y (size,))`.

    Raises
    ------
    InvalidInputError
        A pass gave no rows (a source that cannot be read again).

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.data import batch_source
    >>> source = batch_source([(np.zeros((3, 1)), np.array([0, 1, 2]))])
    >>> batches = fixed_batches(source, 2)
    >>> [next(batches)[1].tolist() for _ in range(3)]  # the second spans two passes
    [[0, 1], [2, 0], [1, 2]]
    """
    def passes():
        while True:
            rows_this_pass = 0
            for X, y in source:
                rows_this_pass += len(X)
                yield X, y
            if rows_this_pass == 0:
                raise InvalidInputError(
                    f"{source.name} gave no rows on a new pass; a streamed fit reads its data "
                    "several times: pass a re-readable source")

    return rebatched(passes(), size)


def rebatched(batches, size: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """`(X, y)` batches of any sizes cut again into batches of `size` rows, in order.

    Every batch but the last has exactly `size` rows; a batch that already has them is passed
    on without a copy. y may be None (rows to predict).

    Parameters
    ----------
    batches : iterable of (numpy.ndarray, numpy.ndarray or None)
        `(X (rows, n_features), y (rows,) or None)`.
    size : int
        Rows per batch.

    Yields
    ------
    tuple
        `(X (size, n_features), y (size,) or None)`; the last may have fewer rows.

    Examples
    --------
    >>> import numpy as np
    >>> parts = [(np.zeros((3, 1)), None), (np.ones((4, 1)), None)]
    >>> [X[:, 0].tolist() for X, _ in rebatched(parts, 3)]
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0]]
    """
    pending: list[tuple[np.ndarray, np.ndarray | None]] = []  # read, not yet handed out
    held = 0
    for X, y in batches:
        pending.append((X, y))
        held += len(X)
        while held >= size:
            batch, pending = _take(pending, size)
            held -= size
            yield batch
    if held:
        yield _take(pending, held)[0]


def _take(pending: list, size: int):
    """The first `size` rows of the pending parts, and the parts left: copies only those rows.

    A first part of exactly `size` rows is handed on as it is.
    """
    X_rows, y_rows, need = [], [], size
    while need:
        X, y = pending[0]
        X_rows.append(X[:need])
        y_rows.append(None if y is None else y[:need])
        if len(X) > need:
            pending = [(X[need:], None if y is None else y[need:]), *pending[1:]]
            need = 0
        else:
            pending = pending[1:]
            need -= len(X)
    if len(X_rows) == 1:
        return (X_rows[0], y_rows[0]), pending
    targets = [part for part in y_rows if part is not None]
    y = np.concatenate(targets) if len(targets) == len(y_rows) else None
    return (np.concatenate(X_rows), y), pending


def stacked(batches: Iterator, steps: int,
            dtype=None) -> Iterator[tuple[np.ndarray, ...]]:
    """Groups of `steps` minibatches stacked into arrays (steps, size, ...).

    One compiled chunk of the fitting loop takes one group.

    Parameters
    ----------
    batches : iterator
        Minibatches, each a tuple of arrays of the same shapes.
    steps : int
        Minibatches per group.
    dtype : numpy dtype, optional
        The floating-point type of the stacked float parts (cast as they are copied, in one
        pass: a float32 fit's chunk is never held in float64); integer parts (class codes)
        keep theirs. None keeps every part's own.

    Yields
    ------
    tuple of numpy.ndarray
        One array `(steps, *part.shape)` per part of a minibatch.

    Examples
    --------
    >>> import numpy as np
    >>> batches = iter([(np.zeros((2, 3)), np.zeros(2))] * 4)
    >>> [part.shape for part in next(stacked(batches, 2))]
    [(2, 2, 3), (2, 2)]
    >>> [part.dtype.name for part in next(stacked(batches, 2, dtype=np.float32))]
    ['float32', 'float32']
    """
    def stack(parts):
        if dtype is None or parts[0].dtype.kind != "f":
            return np.stack(parts)
        return np.stack(parts, dtype=dtype)

    while True:
        group = [next(batches) for _ in range(steps)]
        yield tuple(stack(parts) for parts in zip(*group, strict=True))


class ReadAhead:
    """Iterates `items` in a background thread, holding at most `depth` items ready.

    Reading and preparing the next data so overlaps the computation on the current one.
    Errors of the reader are raised where the item is taken. Use as a context manager:
    leaving it stops the thread.

    Parameters
    ----------
    items : iterator
        What to read ahead.
    depth : int, default 2
        The most items held ready.

    Examples
    --------
    >>> with ReadAhead(iter(range(5))) as ahead:
    ...     list(ahead)
    [0, 1, 2, 3, 4]
    """

    _DONE = object()

    def __init__(self, items: Iterator, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(items,), daemon=True,
                                        name="pymc-bnn-read-ahead")
        self._thread.start()

    def _read(self, items) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        self._put(self._DONE)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._DONE:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """Stop the reading thread (waits for it up to 5 s)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
