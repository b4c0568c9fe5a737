"""Writing a table batch by batch (predictions of a data set larger than memory).

Parquet or CSV chosen by the file name, through a temporary file that replaces the target only
once every batch is written, so a failed or interrupted run leaves no half-written output. A
symbolic link is written through (its target replaced, the link kept), and predictions written
as Parquet carry pymc-bnn's mark in the schema's metadata.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pymc_bnn._runtime.atomic_writes import file_system_error, mode_for, written_path
from pymc_bnn._runtime.file_kinds import parquet_mark
from pymc_bnn._runtime.progress import progress_bar
from pymc_bnn.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


def write_batches(frames: Iterable, path, *, total_rows: int | None = None,
                  progress: bool = False, title: str = "[bold]predicting",
                  mark: str | None = None) -> int:
    """Write the pandas DataFrames `frames` (same columns each) one after another to `path`.

    Memory holds one frame at a time.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        The batches, all with the same columns.
    path : str or os.PathLike
        Parquet for .parquet/.pq, else CSV (as `DataFrame.to_csv(index=False)` writes it);
        missing folders are created. A symbolic link is written through: its target is
        replaced, and the link stays.
    total_rows : int, optional
        Rows in all, when known, for the progress bar.
    progress : bool, default False
        Show rows done and rows/s.
    title : str, default "[bold]predicting"
        The progress bar's title (rich markup).
    mark : str, optional
        The kind of pymc-bnn output this is ("predictions"): a Parquet file carries it in its
        schema's metadata (`pymc_bnn._runtime.file_kinds.parquet_mark`), by which pymc-bnn later
        knows it may replace the file without being forced. A CSV has no room for it. None
        (the default): unmarked, a table like any other.

    Returns
    -------
    int
        The rows written.

    Raises
    ------
    FileSystemError
        `path` cannot be written; an old file there is left as it was.
    InvalidInputError
        A Parquet `path`, and a frame's column holds values that do not fit its type in the
        first frame (decimals where the first held whole numbers); an old file is kept.

    Examples
    --------
    >>> import pandas as pd
    >>> frames = (pd.DataFrame({"mean": [0.25, 0.5]}), pd.DataFrame({"mean": [0.75]}))
    >>> write_batches(frames, "predictions.csv")
    3
    >>> print(open("predictions.csv").read().strip())
    mean
    0.25
    0.5
    0.75
    >>> import pyarrow.parquet as pq
    >>> write_batches([pd.DataFrame({"mean": [0.25]})], "predictions.parquet",
    ...               mark="predictions")
    1
    >>> pq.read_schema("predictions.parquet").metadata[b"pymc_bnn"]
    b'{"kind": "predictions"}'
    """
    import time

    path = Path(path)
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    target = written_path(path)  # a link's target: replacing the link would leave it stale
    metadata = parquet_mark(mark) if mark is not None else None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # as write_bytes_atomic makes them
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                         dir=target.parent if str(target.parent) else ".")
        os.close(fd)
        # mkstemp makes it 0600: the permissions of the file it replaces, or the umask's
        os.chmod(temporary, mode_for(target))
    except OSError as exc:
        raise file_system_error(exc, path) from None
    rows, writer, started = 0, None, time.perf_counter()
    try:
        with progress_bar(progress, title, total_rows or 0, "rows/s …") as bar, \
                open(temporary, "wb") as handle:
            try:
                for frame in frames:
                    if parquet:
                        writer = _write_parquet(frame, handle, writer, path, metadata)
                    else:
                        handle.write(frame.to_csv(index=False, header=rows == 0).encode("utf-8"))
                    rows += len(frame)
                    speed = rows / max(time.perf_counter() - started, 1e-9)
                    bar(completed=rows, status=f"{speed:,.0f} rows/s")
            except BaseException:
                # closed while its file is open: left to the garbage collector, the writer
                # wrote to the closed file and Python printed that error's traceback at exit
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()
                raise
            if writer is not None:
                writer.close()
        os.replace(temporary, target)
    except OSError as exc:
        raise file_system_error(exc, path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return rows


def _write_parquet(frame, handle, writer, path, metadata=None):
    """Append `frame` to the Parquet `writer` (a new one on `handle` for the first frame).

    A later frame whose columns' types differ from the first's (a folder's files holding a
    column as whole numbers in one and decimals in another) is cast to the first's types;
    values that do not fit are refused, naming the column. metadata: added to the schema's
    metadata (pymc-bnn's mark) when the writer is made.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        schema = table.schema
        if metadata:
            schema = schema.with_metadata({**(schema.metadata or {}), **metadata})
            table = table.replace_schema_metadata(schema.metadata)
        writer = pq.ParquetWriter(handle, schema)
    elif not table.schema.equals(writer.schema, check_metadata=False):
        try:
            table = table.cast(writer.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            first, later = next((a, b) for a, b in zip(writer.schema, table.schema, strict=True)
                                if a.type != b.type and not _fits(table.column(b.name), a.type))
            held = ("no type (every value empty, stored without one)"
                    if first.type == pa.null() else f"the type {first.type}")
            raise InvalidInputError(
                f"cannot write {path}: column {later.name!r} has {held} in the first batch and "
                f"{later.type} values that do not fit it in a later one; give the column one "
                "type in every file") from None
    writer.write_table(table)
    return writer


def _fits(column, type_) -> bool:
    """Whether the Arrow `column` casts to `type_` without losing a value."""
    import pyarrow as pa

    try:
        column.cast(type_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
