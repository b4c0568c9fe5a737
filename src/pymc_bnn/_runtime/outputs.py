"""Checking an output path before any work starts.

Before a command works, `check_output` (a file) or `check_output_folder` (the demos' folders)
refuse an output that is the same file as one of the inputs (by resolved path, or by device
and inode, so hard links and symbolic links count), whose folder cannot be created or written,
or which already holds something pymc-bnn did not write (a table given as a model path, a model
given as a CSV path) unless `force=True`. A predictions table is pymc-bnn's when it carries its
mark (Parquet), or when its columns are exactly those about to be written (CSV, which has no
room for a mark: `check_replaced_columns`).

Recognising the files pymc-bnn wrote lives in `pymc_bnn._runtime.file_kinds`, writing them
atomically in `pymc_bnn._runtime.atomic_writes`; their names still import from here.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

# Writing (atomic_writes) and recognising our files (file_kinds) moved out; neither imports
# from this module, and their names still import from here without a warning.
from pymc_bnn._runtime.atomic_writes import (  # noqa: F401 (re-exports)
    FREE_SPACE_MARGIN,
    file_system_error,
    mode_for,
    write_bytes_atomic,
    write_text_atomic,
    written_path,
)
from pymc_bnn._runtime.file_kinds import (  # noqa: F401 (re-exports)
    KINDS,
    PAGE_MARK,
    PARQUET_MARK_KEY,
    PNG_SOFTWARE,
    csv_header,
    head_bytes,
    is_ours,
    is_prediction_layout,
    parquet_mark,
)
from pymc_bnn.errors import OutputPathError

_KIND_BY_SUFFIX = {".html": "report", ".json": "metrics", ".png": "figure", ".nc": "model",
                   ".csv": "predictions"}
# Suffixes a model file must not take: tools would open it as what the suffix says.
_NOT_MODEL_SUFFIXES = {**dict.fromkeys((".csv", ".tsv", ".txt"), "a text table"),
                       **dict.fromkeys((".parquet", ".pq"), "a Parquet table"),
                       ".html": "a web page", ".json": "JSON", ".png": "an image",
                       **dict.fromkeys((".xlsx", ".xls"), "a spreadsheet"),
                       **dict.fromkeys((".pkl", ".pickle"), "a pickle")}
# A file name to suggest inside a folder given where a file of that kind was asked for.
_EXAMPLE_NAMES = {"model": "model.bnn.nc", "predictions": "predictions.csv",
                  "report": "report.html", "metrics": "metrics.json", "figure": "figure.png"}


def _not_ours(path: Path, kind: str, label: str, fix: str) -> OutputPathError:
    """The refusal of an existing file that is not a `kind` output pymc-bnn wrote."""
    why = ""
    if (kind == "predictions" and head_bytes(path, 4) == b"PAR1"
            and is_prediction_layout(_parquet_columns(path))):
        why = (" (its columns are laid out as predictions, but it lacks the mark pymc-bnn "
               "writes into its Parquet predictions: a table of your own, or predictions of an "
               "earlier pymc-bnn)")
    return OutputPathError(
        f"{label} {path} exists and is not {KINDS[kind][0]}{why}, so pymc-bnn will not replace "
        f"it; choose another path, or {fix}")


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception:  # not readable as Parquet: no columns to judge
        return []


# --------------------------------------------------------------------------- checks


def same_file(a, b) -> bool:
    """Same file by resolved path, or by device and inode (hard links, symbolic links).

    Examples
    --------
    >>> same_file("rows.csv", "./rows.csv"), same_file("rows.csv", "other.csv")
    (True, False)
    """
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a symbolic link that loops (RuntimeError before 3.13)
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: nothing to collide with
        return False


def _check_not_input(path: Path, inputs, option: str, label: str) -> None:
    for name, source in inputs:
        if source is not None and same_file(path, source):
            raise OutputPathError(
                f"{label} {path} is the same file as the input {name} {source}; writing there "
                f"would destroy it, so choose another {option} path"
            )
        if source is not None and Path(source).is_dir() and _inside(path, Path(source)):
            raise OutputPathError(
                f"{label} {path} is inside the input folder {name} {source}; the next read of "
                f"that folder would take it for data, so choose an {option} path outside it"
            )


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` (existing or not) lies below `folder`, links resolved."""
    return Path(os.path.realpath(folder)) in Path(os.path.realpath(path)).parents


def _named(inputs) -> list[tuple[str, object]]:
    """(name, path) pairs from a mapping or a sequence of paths."""
    if inputs is None:
        return []
    if isinstance(inputs, dict):
        return list(inputs.items())
    return [("file", p) for p in inputs]


def _check_writable_folder(folder: Path, option: str, shown: Path) -> None:
    """Check that files can be created under `folder`, with FREE_SPACE_MARGIN bytes free.

    The nearest existing ancestor of `folder` is probed with an empty temporary file, so
    read-only mounts are caught even for root.
    """
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(
            f"{option} {shown} cannot be created: {existing} is a file, not a folder; choose "
            "another path"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".pymc-bnn-probe.", dir=existing)
        os.close(fd)
        os.unlink(probe)
        if shutil.disk_usage(existing).free < FREE_SPACE_MARGIN:  # full: say so before the work
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(existing))
    except OSError as exc:
        raise file_system_error(exc, shown) from None


def check_output(path: str | os.PathLike, kind: str, *, inputs=None, force: bool = False,
                 option: str = "--out", label: str | None = None,
                 fix: str = "pass --force to replace it") -> Path:
    """Check an output file before any work: return `path` as a Path or raise.

    kind: what will be written (see `KINDS`). inputs: the command's input files, a mapping
    {"DATA": path, ...} or a sequence; the output may not be any of them, even with `force`.
    An existing file that is not a `kind` pymc-bnn wrote is refused unless `force`. option: the
    option that sets the path (named in the fix); label: how messages name the path (default:
    `option`, e.g. "the default report path"); fix: how to replace a file not ours anyway
    (the Python API's callers name their own option, e.g. "pass overwrite=True …").
    Raises OutputPathError (a collision, a folder in the way, a file not ours) or
    FileSystemError (the folder cannot be written: read-only, permissions).
    """
    if str(path) == "-":  # the shell's "standard output": a file of that name would surprise
        raise OutputPathError(f"{label or option} - (standard output) is not supported; give a "
                              f"file name, e.g. {_EXAMPLE_NAMES.get(kind, 'out')}")
    path = Path(path)
    label = label or option
    try:
        target = written_path(path)
    except OutputPathError as error:
        raise OutputPathError(f"{label} {error}") from None
    _check_not_input(path, _named(inputs), option, label)
    if path.is_dir():
        raise OutputPathError(f"{label} {path} is a folder; give a file name, e.g. "
                              f"{path / _EXAMPLE_NAMES.get(kind, 'out')}")
    if kind == "model" and path.suffix.lower() in _NOT_MODEL_SUFFIXES:
        raise OutputPathError(
            f"{label} {path} has the suffix of {_NOT_MODEL_SUFFIXES[path.suffix.lower()]}, but a "
            f"model file is netCDF; name it e.g. {path.with_suffix('.bnn.nc')}")
    if path.exists() and not force and not is_ours(path, kind):
        raise _not_ours(path, kind, label, fix)
    _check_writable_folder(target.parent, label, path)
    return path


def check_replaced_columns(path: str | os.PathLike, columns, *, force: bool = False,
                           option: str = "--out", fix: str = "pass --force to replace it"
                           ) -> None:
    r"""Before predictions with `columns` replace an existing table at `path`: raise unless ours.

    `check_output` decides before any work, but a CSV carries no mark of who wrote it, so there
    it only rules out a table not laid out as predictions; this, called once the columns to be
    written are known (before the write), replaces a CSV only when its columns are exactly
    `columns`. A Parquet file is judged by its mark, as before. option: the option that sets
    the path; fix: how to replace it anyway.

    Raises
    ------
    OutputPathError
        `path` exists, `force` is False, and it is not predictions pymc-bnn wrote with these
        columns.

    Examples
    --------
    >>> _ = open("pred.csv", "w").write("id,prediction,p_a,p_b\n1,a,0.9,0.1\n")
    >>> check_replaced_columns("pred.csv", ["id", "prediction", "p_a", "p_b"])
    >>> check_replaced_columns("pred.csv", ["id", "prediction", "p_no", "p_yes"])
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.OutputPathError: --out pred.csv exists with the columns id, prediction, ...
    """
    path = Path(path)
    if force or not path.exists() or is_ours(path, "predictions", columns=columns):
        return
    if head_bytes(path, 4) == b"PAR1":
        raise _not_ours(path, "predictions", option, fix)

    def shown(names) -> str:
        names = [str(c) for c in names]
        return ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")

    raise OutputPathError(
        f"{option} {path} exists with the columns {shown(csv_header(path))}, not the ones this "
        f"prediction writes ({shown(columns)}); a CSV carries no mark of who wrote it, so "
        "pymc-bnn replaces one only when its columns are exactly those: choose another path, "
        f"or {fix}")


def check_output_folder(folder: str | os.PathLike, *, inputs=None, force: bool = False,
                        option: str = "--out") -> Path:
    """Check a folder the demos write figures, metrics.json and report.html into.

    The folder may be new, empty, or hold only files pymc-bnn writes there (PNG figures, a
    pymc-bnn metrics.json, a pymc-bnn report); anything else in it is refused unless `force`,
    so `--out .` in a project folder does not overwrite the user's report.html.
    """
    folder = Path(folder)
    _check_not_input(folder, _named(inputs), option, option)
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"{option} {folder} is a file, not a folder; choose a folder path")
    if folder.is_dir() and not force:
        foreign = [p.name for p in sorted(folder.iterdir())
                   if not (p.is_file() and p.suffix in _KIND_BY_SUFFIX
                           and is_ours(p, _KIND_BY_SUFFIX[p.suffix]))]
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputPathError(
                f"{option} {folder} already holds files pymc-bnn did not write ({shown}); "
                "choose a new or empty folder, or pass --force to write into it anyway"
            )
    _check_writable_folder(folder, option, folder)
    return folder


def refuse_unless_ours(path: str | os.PathLike, kind: str, *, force: bool = False) -> None:
    """Raise OutputPathError when `path` exists and is not a `kind` output pymc-bnn wrote.

    The check the Python API's `save` makes; `check_output` makes it for the CLI.
    """
    path = Path(path)
    written_path(path)  # a link that loops is refused
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder; give a file name")
    if path.exists() and not force and not is_ours(path, kind):
        raise OutputPathError(
            f"{path} exists and is not {KINDS[kind][0]}, so pymc-bnn will not replace it; "
            "choose another path, or pass force=True to replace it"
        )
