"""Recognising the files pymc-bnn wrote, so that it replaces only its own.

A model file carries its format attribute (HDF5), a Parquet table of predictions its mark
(`parquet_mark`), a page its generator meta tag (`PAGE_MARK`), a figure its PNG Software text
(`PNG_SOFTWARE`), a metrics.json pymc-bnn's version; a CSV, which has no room for a mark, is
judged by its columns (`is_prediction_layout`, and exactly the columns about to be written).
`is_ours` asks whichever test `KINDS` names. The checks before a write
(`pymc_bnn._runtime.outputs`) refuse a file that fails it unless told to replace it.
"""

from __future__ import annotations

import os
from pathlib import Path

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def head_bytes(path: Path, n: int = 4096) -> bytes:
    r"""The first `n` bytes of the file at `path`: what the sniffers below judge a file by.

    Examples
    --------
    >>> _ = open("rows.csv", "w").write("id,prediction\n1,a\n")
    >>> head_bytes("rows.csv", 4)
    b'id,p'
    """
    with open(path, "rb") as fh:
        return fh.read(n)


def _is_model_file(path: Path) -> bool:
    if not head_bytes(path, 8).startswith(_HDF5_SIGNATURE):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            value = handle.attrs.get("pymc_bnn_format")
    except OSError:
        return False
    return (value.decode() if isinstance(value, bytes) else value) == "pymc-bnn-model"


# The columns pymc-bnn's predictions put after `prediction` (besides the class
# probabilities p_<label>, with _lower/_upper): `pymc_bnn.cli.model_columns.prediction_table`.
_SUMMARY_COLUMNS = frozenset({"sd", "aleatoric_sd", "epistemic_sd", "lower", "upper",
                              "predictive_entropy", "expected_entropy", "mutual_information",
                              "variation_ratio"})


def is_prediction_layout(columns) -> bool:
    """Whether a table's column names are those of predictions pymc-bnn writes.

    `pymc-bnn predict`: the input's other columns, then `prediction` followed only by the
    summary columns (`p_<label>` and `_SUMMARY_COLUMNS`); `predict_stream`: exactly `mean`,
    `std` (or `mean_k`, `std_k` per output). A user's table with a `prediction` column among
    others (hand labels, another model's output) or with mean and std beside other columns
    (summary statistics) is not one of them.

    Examples
    --------
    >>> is_prediction_layout(["id", "prediction", "p_no", "p_yes"])
    True
    >>> is_prediction_layout(["id", "prediction", "notes"]), is_prediction_layout(
    ...     ["variable", "mean", "std"])
    (False, False)
    """
    columns = [str(c) for c in columns]
    if columns == ["mean", "std"]:
        return True
    half = len(columns) // 2
    if columns and len(columns) % 2 == 0 and columns == (
            [f"mean_{k}" for k in range(half)] + [f"std_{k}" for k in range(half)]):
        return True
    if "prediction" not in columns:
        return False
    after = columns[columns.index("prediction") + 1:]
    return bool(after) and all(c.startswith("p_") or c in _SUMMARY_COLUMNS for c in after)


# The mark every Parquet table of predictions pymc-bnn writes carries: a key of its schema's
# metadata (`pymc_bnn.data.write_batches` with `mark="predictions"`). Tools that read the table
# and write it anew (pandas, polars) drop it, so a table the user made from ours is theirs.
PARQUET_MARK_KEY = b"pymc_bnn"


def parquet_mark(kind: str = "predictions") -> dict[bytes, bytes]:
    """The schema metadata that marks a Parquet file as a `kind` output pymc-bnn wrote.

    Examples
    --------
    >>> parquet_mark()
    {b'pymc_bnn': b'{"kind": "predictions"}'}
    """
    import json

    return {PARQUET_MARK_KEY: json.dumps({"kind": kind}).encode()}


def _parquet_kind(path: Path) -> str | None:
    """The kind of output a Parquet file's mark names; None: not readable, or not marked."""
    import json

    import pyarrow.parquet as pq

    try:
        mark = (pq.read_schema(path).metadata or {}).get(PARQUET_MARK_KEY)
        kind = json.loads(mark)["kind"] if mark is not None else None
    except Exception:  # not readable as Parquet, or a mark that is not ours: not ours
        return None
    return kind if isinstance(kind, str) else None


def csv_header(path: Path) -> list[str]:
    r"""The column names in the first row of a CSV (as pandas writes them: quoted when needed).

    Examples
    --------
    >>> _ = open("pred.csv", "w").write('id,"a,b",prediction\n1,2,a\n')
    >>> csv_header("pred.csv")
    ['id', 'a,b', 'prediction']
    """
    import csv
    import io

    text = head_bytes(path, 1 << 20).decode("utf-8-sig", "replace")
    return [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]


def _is_predictions(path: Path, columns=None) -> bool:
    """Whether `path` is a predictions table pymc-bnn wrote (CSV or Parquet).

    Parquet: it carries pymc-bnn's mark (`parquet_mark`). CSV, which has no room for one: its
    columns are exactly `columns`, those about to be written; without `columns` (a check before
    they are known), only whether they are laid out as predictions (`is_prediction_layout`),
    which `check_replaced_columns` confirms before the write.
    """
    if head_bytes(path, 4) == b"PAR1":
        return _parquet_kind(path) == "predictions"
    header = csv_header(path)
    if columns is None:
        return is_prediction_layout(header)
    return header == [str(c) for c in columns]


# What every page and figure pymc-bnn writes carries (`pymc_bnn.reporting.html`): a page its
# generator meta tag, a PNG its Software text (any page that merely mentions pymc-bnn, or any
# PNG, is not enough).
PAGE_MARK = b'<meta name="generator" content="pymc-bnn">'
PNG_SOFTWARE = "pymc-bnn"


def _is_page(path: Path) -> bool:
    head = head_bytes(path)
    return head.lstrip().lower().startswith(b"<!doctype html") and PAGE_MARK in head


def _is_metrics(path: Path) -> bool:
    import json

    try:
        data = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "pymc_bnn" in (data.get("versions") or {})


def _is_png(path: Path) -> bool:
    head = head_bytes(path, 4096)  # the text chunks come before the image data
    return head.startswith(_PNG_SIGNATURE) and b"Software\x00" + PNG_SOFTWARE.encode() in head


# What each kind of output is called in messages, and how a file pymc-bnn wrote is recognised
# (a file that fails the test is the user's and is not replaced without force).
KINDS = {
    "model": ("a pymc-bnn model file", _is_model_file),
    "predictions": ("a predictions table pymc-bnn wrote", _is_predictions),
    "report": ("a pymc-bnn HTML report", _is_page),
    "metrics": ("a pymc-bnn metrics.json", _is_metrics),
    "figure": ("a PNG figure pymc-bnn wrote", _is_png),
}


def is_ours(path: str | os.PathLike, kind: str, *, columns=None) -> bool:
    """Whether the existing file at `path` is a `kind` output pymc-bnn wrote.

    Kinds: model, predictions, report, metrics, figure. columns: for predictions, the columns
    about to be written; a CSV is ours only when it has exactly those (see `_is_predictions`).

    Examples
    --------
    >>> import pandas as pd
    >>> _ = pd.DataFrame({"id": [1], "prediction": ["a"], "p_a": [0.9]}).to_csv(
    ...     "theirs.csv", index=False)
    >>> is_ours("theirs.csv", "predictions", columns=["id", "prediction", "p_a"])
    True
    >>> is_ours("theirs.csv", "predictions", columns=["id", "prediction", "p_a", "p_b"])
    False
    """
    try:
        if kind == "predictions":
            return _is_predictions(Path(path), columns)
        return KINDS[kind][1](Path(path))
    except OSError:
        return False
