"""Prediction on data larger than memory, read and written batch by batch.

A fitted posterior's predictive mean and sd, read and written batch by batch (Parquet or
CSV), with a progress bar in rows/s.
"""

from __future__ import annotations

from pathlib import Path

from pymc_bnn._runtime.outputs import check_output, check_replaced_columns
from pymc_bnn.data import ReadAhead, as_source, open_parquet, rebatched, write_batches
from pymc_bnn.data.parquet_files import READ_ROWS
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model import group_labels
from pymc_bnn.posterior import compiled
from pymc_bnn.validation import whole_number


def predict_stream(posterior, data, *, out, max_draws: int | None = None,
                   progress: bool = True, overwrite: bool = False,
                   batch_rows: int = READ_ROWS) -> Path:
    """Write `posterior.predict` of every row of `data` to `out`; returns its path.

    Memory holds a few batches of `batch_rows` rows at a time: the one predicted, and the next
    read meanwhile by a background thread. The rows are cut into batches of exactly
    `batch_rows` whatever sizes `data` gives them in, and the last, shorter batch is padded to
    the rows the compiled prediction of a full batch takes, so one compiled program serves
    every batch.

    Parameters
    ----------
    posterior : Posterior
        A fitted posterior without groups.
    data : str, os.PathLike, BatchSource or callable
        A Parquet file or folder (the fit's feature columns are read by name; a fit without
        names reads every numeric column), a `BatchSource` or a function returning batches.
    out : str or os.PathLike
        .parquet/.pq for Parquet, else CSV; columns `mean` and `std` (multiclass: `mean_<k>`,
        `std_<k>` per class k).
    max_draws : int, optional
        Thin the posterior to this many draws.
    progress : bool, default True
        Show a progress bar.
    overwrite : bool, default False
        Replace an existing `out` that pymc-bnn did not write. One it wrote is replaced
        anyway: a Parquet file that carries pymc-bnn's mark, or a CSV (which cannot carry one)
        whose columns are exactly the ones this writes.
    batch_rows : int, default `pymc_bnn.data.parquet_files.READ_ROWS`
        Rows predicted per batch.

    Returns
    -------
    pathlib.Path
        `out`.

    Raises
    ------
    InvalidSettingError
        A grouped fit (predict it in memory with `groups=`).
    OutputPathError
        `out` is the input, or a file pymc-bnn did not write (without `overwrite`).

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame(tiny_data.X_test, columns=["x0", "x1"]).to_parquet("new_rows.parquet")
    >>> path = predict_stream(fitted, "new_rows.parquet", out="predictions.csv", progress=False)
    >>> table = pd.read_csv(path)
    >>> list(table.columns), len(table)
    (['mean', 'std'], 18)
    """
    import pandas as pd

    if group_labels.is_grouped(posterior.groups):
        raise InvalidSettingError("streamed prediction of a grouped fit is not supported yet; "
                                  "predict it in memory with groups=")
    out = check_output(out, "predictions", inputs={"data": data} if _is_path(data) else None,
                       force=overwrite, option="out", fix="pass overwrite=True to replace it")
    source = as_source(data, features=_feature_columns(posterior, data))
    batch_rows = whole_number(batch_rows, "batch_rows", minimum=1)
    thinned = posterior.thin_index(max_draws)
    # the rows per compiled call of a full batch: a shorter last batch is padded to them
    full_chunk = compiled.chunk_rows(batch_rows, posterior.n_draws if thinned is None
                                     else len(thinned), max(posterior.spec.widths))

    def frames():
        for index, frame in enumerate(summaries()):
            if index == 0:  # its columns are the output's: before anything is written
                check_replaced_columns(out, frame.columns, force=overwrite, option="out",
                                       fix="pass overwrite=True to replace it")
            yield frame

    def summaries():
        with ReadAhead(rebatched(source, batch_rows)) as batches:
            for index, (X, _) in enumerate(batches):
                n_rows = len(X)
                if index and n_rows < full_chunk:
                    X = compiled.padded(X, full_chunk)
                summary = posterior.predict(X, max_draws=max_draws)
                mean, std = summary["mean"].values[:n_rows], summary["std"].values[:n_rows]
                if mean.ndim == 1:
                    yield pd.DataFrame({"mean": mean, "std": std})
                else:
                    yield pd.DataFrame(
                        {**{f"mean_{k}": mean[:, k] for k in range(mean.shape[1])},
                         **{f"std_{k}": std[:, k] for k in range(std.shape[1])}})

    write_batches(frames(), out, total_rows=source.n_rows, progress=progress,
                  mark="predictions")
    return out


def _feature_columns(posterior, data) -> list[str] | None:
    """The fit's feature names, to read by name from a Parquet path.

    None (every numeric column) when the fit had no names (x0, x1, ... generated) and the
    file lacks them.
    """
    names = list(posterior.feature_names)
    generated = names == [f"x{i}" for i in range(posterior.spec.n_inputs)]
    if generated and _is_path(data):
        columns = set(open_parquet(data).schema.names)
        return names if set(names) <= columns else None
    return None if generated else names


def _is_path(data) -> bool:
    return isinstance(data, str) or hasattr(data, "__fspath__")


__all__ = ["predict_stream"]
