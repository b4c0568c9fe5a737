"""Files: atomic writes (temporary file, then rename), so nothing a user saved is ever half-written,
and `save` / `load` of fitted posteriors and estimators."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename.

    A crash or Ctrl-C mid-write leaves the old file (if any) untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# --------------------------------------------------------------------------- model files
# The file format itself (what is stored where, and how it is checked) is `pymc_bnn.model_file`.


def save(obj, path: str | os.PathLike, *, notes: dict | None = None) -> Path:
    """Write a fitted `Posterior` or pymc-bnn estimator to `path`, atomically.

    The file is netCDF (HDF5, h5netcdf engine): the draws as ArviZ data and a JSON description
    (format version, spec, likelihood, prior, preprocessing, classes, feature names, settings,
    library versions, estimator parameters). `notes`: plain data kept in the description (the
    CLI records the target column there). Any old file at `path` stays intact until the new one
    is complete. Returns the path. Load with `pymc_bnn.load`.
    """
    from pymc_bnn.model_file import encode

    data = encode(obj, notes=notes)
    return write_bytes_atomic(path, data)


def load(path: str | os.PathLike):
    """Read a model file written by `save`: a `Posterior` or a fitted estimator.

    Raises ModelFileError when the file is missing, truncated, from a newer format version, or
    not a pymc-bnn model file. Loading never runs code from the file.
    """
    from pymc_bnn.model_file import decode

    return decode(path)


def read_description(path: str | os.PathLike) -> dict:
    """The JSON description of a model file (format, versions, spec, settings, notes …),
    checked like `load` checks it."""
    from pymc_bnn.model_file import read_description as read

    return read(path)
