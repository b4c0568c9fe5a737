"""Writing a table batch by batch (predictions of a data set larger than memory).

Parquet or CSV chosen by the file name, through a temporary file that replaces the target only
once every batch is written, so a failed or interrupted run leaves no half-written output.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pymc_bnn._runtime.outputs import file_system_error, mode_for
from pymc_bnn._runtime.progress import progress_bar

PARQUET_SUFFIXES = (".parquet", ".pq")


def write_batches(frames: Iterable, path, *, total_rows: int | None = None,
                  progress: bool = False, title: str = "[bold]predicting") -> int:
    """Write the pandas DataFrames `frames` (same columns each) one after another to `path`.

    Memory holds one frame at a time.

    Parameters
    ----------
    frames : iterable of pandas.DataFrame
        The batches, all with the same columns.
    path : str or os.PathLike
        Parquet for .parquet/.pq, else CSV (as `DataFrame.to_csv(index=False)` writes it).
    total_rows : int, optional
        Rows in all, when known, for the progress bar.
    progress : bool, default False
        Show rows done and rows/s.
    title : str, default "[bold]predicting"
        The progress bar's title (rich markup).

    Returns
    -------
    int
        The rows written.

    Raises
    ------
    FileSystemError
        `path` cannot be written; an old file there is left as it was.

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
    """
    import time

    path = Path(path)
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                         dir=path.parent if str(path.parent) else ".")
        os.close(fd)
        # mkstemp makes it 0600: the permissions of the file it replaces, or the umask's
        os.chmod(temporary, mode_for(path))
    except OSError as exc:
        raise file_system_error(exc, path) from None
    rows, writer, started = 0, None, time.perf_counter()
    try:
        with progress_bar(progress, title, total_rows or 0, "rows/s …") as bar, \
                open(temporary, "wb") as handle:
            try:
                for frame in frames:
                    if parquet:
                        writer = _write_parquet(frame, handle, writer)
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
        os.replace(temporary, path)
    except OSError as exc:
        raise file_system_error(exc, path) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return rows


def _write_parquet(frame, handle, writer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(handle, table.schema)
    writer.write_table(table)
    return writer
