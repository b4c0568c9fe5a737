"""Everything pymc-bnn writes goes through here.

Output paths are checked before any work starts, writes are atomic, and operating-system errors
become one line that names the path and the fix.

Before a command works, `check_output` (a file) or `check_output_folder` (the demos' folders)
refuse an output that is the same file as one of the inputs (by resolved path, or by device
and inode, so hard links and symbolic links count), whose folder cannot be created or written,
or which already holds something pymc-bnn did not write (a table given as a model path, a model
given as a CSV path) unless `force=True`. A predictions table is pymc-bnn's when it carries its
mark (Parquet), or when its columns are exactly those about to be written (CSV, which has no
room for a mark: `check_replaced_columns`). `write_bytes_atomic` then writes through a temporary
file in the same folder and `os.replace`: a crash, Ctrl-C, full disk or read-only folder leaves
the previous file as it was and no temporary file behind. An output that is a symbolic link is
written through (`written_path`): its target is replaced, in the target's folder, and the link
stays, as the shell's `>` leaves it; a link that loops is refused.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from pymc_bnn.errors import FileSystemError, OutputPathError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Room kept free beyond the bytes of a write: file-system metadata and the temporary file's
# directory entry. A write that would leave less than this is refused before it starts.
FREE_SPACE_MARGIN = 64 * 1024


# --------------------------------------------------------------------------- what is ours


def _head(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _is_model_file(path: Path) -> bool:
    if not _head(path, 8).startswith(_HDF5_SIGNATURE):
        return False
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            value = handle.attrs.get("pymc_bnn_format")
    except OSError:
        return False
    return (value.decode() if isinstance(value, bytes) else value) == "pymc-bnn-model"


# The columns pymc-bnn's predictions put after `prediction` (besides the class
# probabilities p_<label>, with _lower/_upper): `pymc_bnn.cli.tables.prediction_table`.
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


def _csv_header(path: Path) -> list[str]:
    """The column names in the first row of a CSV (as pandas writes them: quoted when needed)."""
    import csv
    import io

    text = _head(path, 1 << 20).decode("utf-8-sig", "replace")
    return [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]


def _is_predictions(path: Path, columns=None) -> bool:
    """Whether `path` is a predictions table pymc-bnn wrote (CSV or Parquet).

    Parquet: it carries pymc-bnn's mark (`parquet_mark`). CSV, which has no room for one: its
    columns are exactly `columns`, those about to be written; without `columns` (a check before
    they are known), only whether they are laid out as predictions (`is_prediction_layout`),
    which `check_replaced_columns` confirms before the write.
    """
    if _head(path, 4) == b"PAR1":
        return _parquet_kind(path) == "predictions"
    header = _csv_header(path)
    if columns is None:
        return is_prediction_layout(header)
    return header == [str(c) for c in columns]


# What every page and figure pymc-bnn writes carries (`pymc_bnn.reporting.html`): a page its
# generator meta tag, a PNG its Software text (any page that merely mentions pymc-bnn, or any
# PNG, is not enough).
PAGE_MARK = b'<meta name="generator" content="pymc-bnn">'
PNG_SOFTWARE = "pymc-bnn"


def _is_page(path: Path) -> bool:
    head = _head(path)
    return head.lstrip().lower().startswith(b"<!doctype html") and PAGE_MARK in head


def _is_metrics(path: Path) -> bool:
    import json

    try:
        data = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and "pymc_bnn" in (data.get("versions") or {})


def _is_png(path: Path) -> bool:
    head = _head(path, 4096)  # the text chunks come before the image data
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


def _not_ours(path: Path, kind: str, label: str, fix: str) -> OutputPathError:
    """The refusal of an existing file that is not a `kind` output pymc-bnn wrote."""
    why = ""
    if (kind == "predictions" and _head(path, 4) == b"PAR1"
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


def written_path(path: str | os.PathLike) -> Path:
    r"""The file a write to `path` replaces: a symbolic link's target, else `path` itself.

    pymc-bnn writes through a link, as the shell's `>` does: the target (followed through
    every link) is replaced and the link stays; replacing the link itself would leave the
    target stale. A link that loops is refused.

    Raises
    ------
    OutputPathError
        `path` is a symbolic link that loops.

    Examples
    --------
    >>> import os
    >>> _ = open("runs_latest.csv", "w").write("mean,std\n")
    >>> os.symlink("runs_latest.csv", "latest.csv")
    >>> written_path("latest.csv").name, written_path("other.csv").name
    ('runs_latest.csv', 'other.csv')
    """
    path = Path(path)
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops at a loop
        raise OutputPathError(f"{path} is a symbolic link that loops (it leads back to itself); "
                              "remove the link or choose another path")
    return target


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
    if _head(path, 4) == b"PAR1":
        raise _not_ours(path, "predictions", option, fix)

    def shown(names) -> str:
        names = [str(c) for c in names]
        return ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")

    raise OutputPathError(
        f"{option} {path} exists with the columns {shown(_csv_header(path))}, not the ones this "
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


# --------------------------------------------------------------------------- errors


# keyed by OSError.errno, which may be None (then no advice matches)
_ADVICE: dict[int | None, tuple[str, str]] = {
    errno.EROFS: ("is on a read-only file system", "write to another folder"),
    errno.ENOSPC: ("is on a full disk (no space left on the device)",
                   "free some space or write to another disk"),
    errno.EDQUOT: ("is over the disk quota", "free some space or write to another disk"),
    errno.EACCES: ("cannot be written: permission denied",
                   "choose a folder you can write to, or change its permissions"),
    errno.EPERM: ("cannot be written: operation not permitted",
                  "choose a folder you can write to, or change its permissions"),
    errno.ENOTDIR: ("cannot be created: a part of its folder path is a file, not a folder",
                    "choose another path"),
    errno.EEXIST: ("cannot be created: a part of its folder path is a file, not a folder",
                   "choose another path"),
    errno.ENOENT: ("does not exist", "check the path"),
    errno.EISDIR: ("is a folder, not a file", "give a file name"),
}


def file_system_error(exc: OSError, path: str | os.PathLike, *,
                      action: str = "write") -> FileSystemError:
    """`exc` as a FileSystemError: one line naming `path`, what went wrong and the fix."""
    problem, fix = _ADVICE.get(exc.errno, (f"could not {action} ({exc.strerror or exc})",
                                           "check the path and the disk"))
    error = FileSystemError(f"{path} {problem}; {fix}")
    error.errno, error.path = exc.errno, str(path)  # not .filename: str() would show it
    return error


# --------------------------------------------------------------------------- writing


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    r"""Write `data` to `path` through a temporary file in the same folder, then rename.

    Missing folders are created. A crash, Ctrl-C or operating-system error mid-write leaves the
    old file (if any) untouched and no temporary file behind; operating-system errors are raised
    as FileSystemError naming `path` and the fix. A write that would not fit in the free space
    is refused before it starts. A symbolic link at `path` is written through
    (`written_path`): its target is replaced, in the target's folder, and the link stays.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; an existing one is replaced (its permissions are kept).
    data : bytes
        The whole content.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    FileSystemError
        The folder cannot be created or written (read-only, permissions, full disk).
    OutputPathError
        `path` is a symbolic link that loops.

    Examples
    --------
    >>> import os
    >>> write_bytes_atomic("out/data.bin", b"\x00\x01").read_bytes()
    b'\x00\x01'
    >>> os.listdir("out")  # no temporary file left behind
    ['data.bin']
    """
    path = Path(path)
    target = written_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise file_system_error(exc, path) from exc
    try:
        if shutil.disk_usage(target.parent).free < len(data) + FREE_SPACE_MARGIN:
            os.close(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileSystemError):
            raise file_system_error(exc, path) from exc
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    r"""`write_bytes_atomic` of `text` as UTF-8.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        The whole content.

    Returns
    -------
    pathlib.Path
        `path`.

    Examples
    --------
    >>> path = write_text_atomic("notes.txt", "grüße\n")
    >>> path.read_bytes()
    b'gr\xc3\xbc\xc3\x9fe\n'
    """
    return write_bytes_atomic(path, text.encode("utf-8"))


def mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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

