"""`save` / `load` of fitted posteriors and estimators.

Writes are atomic (temporary file, then rename), so nothing a user saved is ever half-written.
"""

from __future__ import annotations

import os
from pathlib import Path

# The one atomic writer lives in `pymc_bnn._runtime.atomic_writes`, the output checks in
# `pymc_bnn._runtime.outputs`.
from pymc_bnn._runtime.atomic_writes import write_bytes_atomic, write_text_atomic
from pymc_bnn._runtime.outputs import refuse_unless_ours

__all__ = ["load", "read_description", "save", "write_bytes_atomic", "write_text_atomic"]


# --------------------------------------------------------------------------- model files
# The file format itself (what is stored where, and how it is checked) is `pymc_bnn.io.model_file`.


def save(obj, path: str | os.PathLike, *, notes: dict | None = None,
         force: bool = False, draws_precision: int | None = None) -> Path:
    """Write a fitted `Posterior` or pymc-bnn estimator to `path`, atomically.

    The file is netCDF (HDF5, h5netcdf engine): the draws as ArviZ data and a JSON description
    (format version, spec, likelihood, prior, preprocessing, classes, feature names, settings,
    library versions, estimator parameters). Any old file at `path` stays intact until the new
    one is complete. Load with `pymc_bnn.load`.

    Parameters
    ----------
    obj : Posterior or estimator
        A fitted posterior, `BayesianMLPClassifier` or `BayesianMLPRegressor`.
    path : str or os.PathLike
        Where to write (the CLI's convention is a `.bnn.nc` suffix).
    notes : dict, optional
        Plain data kept in the description (the CLI records the target column there).
    force : bool, default False
        Replace an existing file at `path` that is not a pymc-bnn model file (a table, a
        report); without it that is an OutputPathError.
    draws_precision : int, optional
        None (the default) stores the posterior draws exactly as float32. A number of bits,
        1 to 23, rounds each weight's draws to a power-of-two step of at most its posterior sd
        times 2**-bits (every draw moves by at most sd · 2**-(bits + 1)), which makes the file
        much smaller (`pymc_bnn.io.precision`); the file records the precision. `pymc-bnn fit`
        uses `--draws-precision`, default `pymc_bnn.defaults.DRAWS_PRECISION`.

    Returns
    -------
    pathlib.Path
        `path`.

    Examples
    --------
    >>> path = save(fitted, "moons.bnn.nc", notes={"target": "label"})
    >>> loaded = load(path)
    >>> loaded.method, loaded.n_draws
    ('advi', 50)
    >>> read_description(path)["notes"]
    {'target': 'label'}
    >>> compact = load(save(fitted, "compact.bnn.nc", draws_precision=8))
    >>> w, sd = fitted.idata["posterior"]["w_0"], fitted.idata["posterior"]["w_0"].std(
    ...     ("chain", "draw"))
    >>> bool((abs(compact.idata["posterior"]["w_0"] - w) <= sd / 2**9).all())
    True
    """
    from pymc_bnn.io.model_file import encode

    refuse_unless_ours(path, "model", force=force)
    data = encode(obj, notes=notes, draws_precision=draws_precision)
    return write_bytes_atomic(path, data)


def load(path: str | os.PathLike):
    """Read a model file written by `save`: a `Posterior` or a fitted estimator.

    Loading never runs code from the file: everything is rebuilt from checked plain data.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    Posterior or estimator
        What was saved.

    Raises
    ------
    ModelFileError
        The file is missing, truncated, from a newer format version, or not a pymc-bnn model
        file.

    Examples
    --------
    >>> loaded = load(save(fitted, "moons.bnn.nc"))
    >>> new = tiny_data.X_test
    >>> bool((loaded.predict(new)["mean"] == fitted.predict(new)["mean"]).all())
    True
    >>> load("missing.bnn.nc")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.ModelFileError: no model file at missing.bnn.nc; check the path ...
    """
    from pymc_bnn.io.model_file_reader import decode

    return decode(path)


def read_description(path: str | os.PathLike) -> dict:
    """The JSON description of a model file, checked like `load` checks it.

    Format, versions, spec, settings, notes …, without rebuilding the posterior or estimator.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    dict

    Raises
    ------
    ModelFileError
        As for `load`.

    Examples
    --------
    >>> description = read_description(save(fitted, "moons.bnn.nc"))
    >>> description["format"], description["kind"], description["posterior"]["method"]
    ('pymc-bnn-model', 'posterior', 'advi')
    """
    from pymc_bnn.io.model_file_reader import read_description as read

    return read(path)
