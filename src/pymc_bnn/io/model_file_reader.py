"""A model file read and checked: its description alone, or the Posterior or estimator it holds.

Reading refuses, with ModelFileError naming what is wrong, a missing path, a folder, a file
that is not HDF5 (a pickle, above all), a truncated one, a newer format and a damaged
description (`model_file_checks`); the format itself is `pymc_bnn.io.model_file`'s.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import numpy as np

from pymc_bnn.errors import ModelFileError
from pymc_bnn.io.model_file import (
    FORMAT_NAME,
    FORMAT_VERSION,
    IDATA_GROUP,
    META_GROUP,
    estimator_class,
)
from pymc_bnn.io.value_codec import decode_record, decode_value

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _checked_file(path: Path) -> None:
    """Refuse a missing path, a folder or a file that is not HDF5, naming what is wrong."""
    if not path.exists():
        raise ModelFileError(f"no model file at {path}; check the path (pymc-bnn fit writes "
                             "one; Python: save())")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file; pass the .bnn.nc file")
    with path.open("rb") as file:
        start = file.read(len(_HDF5_SIGNATURE))
    if not start.startswith(_HDF5_SIGNATURE):
        kind = ("it is a Python pickle, and pymc-bnn never loads pickles" if start[:1] == b"\x80"
                else "it is not a netCDF-4/HDF5 file")
        raise ModelFileError(
            f"{path} is not a pymc-bnn model file ({kind}); pass a file written by "
            "pymc_bnn.save or `pymc-bnn fit`"
        )


def _unreadable(path: Path, exc: Exception) -> ModelFileError:
    return ModelFileError(
        f"{path} is truncated or corrupt and cannot be read ({type(exc).__name__}: "
        f"{str(exc)[:120]}); restore it from a backup or save the model again"
    )


def _open(path: Path):
    """The file's DataTree, fully in memory, or ModelFileError naming what is wrong."""
    import xarray as xr

    _checked_file(path)
    data = path.read_bytes()
    try:
        with xr.open_datatree(io.BytesIO(data), engine="h5netcdf") as tree:
            return tree.load()
    except Exception as exc:
        raise _unreadable(path, exc) from None


def _attribute(value):
    """An HDF5 attribute as h5netcdf reads it: one-element arrays unpacked, bytes as text."""
    if isinstance(value, np.ndarray) and value.shape == (1,):
        value = value[0]
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _open_header(path: Path) -> tuple[dict, np.ndarray | None, dict[str, np.ndarray]]:
    """(root attributes, description bytes or None, the description's arrays) read with h5py.

    Only the small `/pymc_bnn` group is read: neither xarray nor the draws are loaded, so
    `pymc-bnn info` answers in a fraction of `load`'s time.
    """
    import re

    import h5py

    _checked_file(path)
    try:
        with h5py.File(path, "r") as file:
            attrs = {name: _attribute(value) for name, value in file.attrs.items()}
            meta = file.get(META_GROUP)
            if not isinstance(meta, h5py.Group):
                return attrs, None, {}
            raw = meta["description"][()] if "description" in meta else np.zeros(0, np.uint8)
            arrays = {name: np.asarray(meta[name][()]) for name in meta
                      if re.fullmatch(r"array_\d+", name)}
    except Exception as exc:
        raise _unreadable(path, exc) from None
    return attrs, np.asarray(raw), arrays


def _description(tree, path: Path) -> dict:
    """The description, its types and ranges checked (`model_file_checks`)."""
    if META_GROUP not in tree.children:
        return _checked_description(tree.attrs, None, path)
    raw = tree[META_GROUP]["description"] if "description" in tree[META_GROUP] else None
    return _checked_description(tree.attrs, None if raw is None else np.asarray(raw.values),
                                path, has_meta=True)


def _checked_description(attrs, raw: np.ndarray | None, path: Path, *,
                         has_meta: bool | None = None) -> dict:
    """The description from the root attributes and its stored bytes, checked."""
    from pymc_bnn.io.model_file_checks import check_attributes, check_description

    has_meta = raw is not None if has_meta is None else has_meta
    version = check_attributes(attrs, path, format_name=FORMAT_NAME)
    if version is None or not has_meta:
        raise ModelFileError(
            f"{path} is a netCDF file but not a pymc-bnn model file (no pymc_bnn_format "
            "attribute); pass a file written by pymc_bnn.save or `pymc-bnn fit`"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model-file format version {version}, newer than this "
            f"pymc-bnn reads (up to {FORMAT_VERSION}); upgrade pymc-bnn to load it"
        )
    try:
        if raw is None:
            raise KeyError("description")
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"stored as {raw.dtype} with {raw.ndim} dimensions, not UTF-8 bytes")
        description = json.loads(raw.tobytes().decode("utf-8"))
    except (KeyError, ValueError) as exc:
        raise ModelFileError(
            f"{path} has a damaged description ({exc}); save the model again") from None
    return check_description(description, path, format_name=FORMAT_NAME, version=version)


def read_description(path: str | os.PathLike) -> dict:
    """The checked JSON description of the model file at `path` (arrays left as references).

    Reads the file's small description group only, not the draws.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymc_bnn import save
    >>> from pymc_bnn.io.model_file_reader import read_description
    >>> path = save(fitted, pathlib.Path(tempfile.mkdtemp()) / "m.bnn.nc")
    >>> read_description(path)["posterior"]["feature_names"]
    {'__tuple__': ['x0', 'x1']}
    """
    path = Path(path)
    attrs, raw, _ = _open_header(path)
    return _checked_description(attrs, raw, path)


# The posterior fields `judge_convergence` reads.
_FIT_FIELDS = ("method", "settings", "diagnostics", "elbo", "interrupted")


def read_summary(path: str | os.PathLike) -> tuple[dict, dict]:
    """(the checked description, the fit's record) of a model file, without loading the draws.

    What `pymc-bnn info` shows: the description and, decoded from the file's small arrays,
    the posterior's `method`, `settings`, `diagnostics`, `elbo` and `interrupted` (what
    `pymc_bnn.posterior.convergence.judge_convergence` reads) and the estimator's `classes`
    (None for a posterior or a regressor). Neither xarray nor the estimator classes are
    imported, and the draws stay on disk.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    description : dict
        As `read_description` gives it.
    record : dict
        The fields named above.

    Raises
    ------
    ModelFileError
        As for `read_description`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymc_bnn import save
    >>> from pymc_bnn.io.model_file_reader import read_summary
    >>> path = save(classifier, pathlib.Path(tempfile.mkdtemp()) / "m.bnn.nc")
    >>> description, record = read_summary(path)
    >>> record["method"], record["classes"].tolist()
    ('advi', [0, 1])
    >>> bool((record["elbo"] == classifier.posterior_.elbo).all())
    True
    """
    path = Path(path)
    attrs, raw, arrays = _open_header(path)
    description = _checked_description(attrs, raw, path)
    try:
        posterior = description["posterior"]
        record = {name: decode_value(posterior.get(name), arrays) for name in _FIT_FIELDS}
        state = (description.get("estimator") or {}).get("state") or {}
        record["classes"] = decode_value(state.get("classes_"), arrays)
    except Exception as exc:
        raise ModelFileError(
            f"{path} could not be read ({type(exc).__name__}: {exc}); it may come from a "
            "different pymc-bnn version — upgrade pymc-bnn or save the model again"
        ) from None
    return description, record


def decode(path: str | os.PathLike):
    """Read a model file: the Posterior or fitted estimator it holds (`pymc_bnn.load`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymc_bnn import save
    >>> from pymc_bnn.io.model_file_reader import decode
    >>> path = save(fitted, pathlib.Path(tempfile.mkdtemp()) / "m.bnn.nc")
    >>> decode(path).record == fitted.record
    True
    """
    return decode_with_description(path)[0]


def decode_with_description(path: str | os.PathLike, *,
                            saved_estimator: bool = False) -> tuple[object, dict]:
    """(the Posterior or fitted estimator, the file's JSON description) of a model file.

    With `saved_estimator`, an estimator file gives a `pymc_bnn.io.saved_estimator.SavedEstimator`
    instead of the estimator: what predicting needs, without importing scikit-learn (which
    `pymc-bnn predict` then never does).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymc_bnn import save
    >>> from pymc_bnn.io.model_file_reader import decode_with_description
    >>> path = save(fitted, pathlib.Path(tempfile.mkdtemp()) / "m.bnn.nc")
    >>> posterior, description = decode_with_description(path)
    >>> posterior.n_draws, description["format_version"]
    (50, 1)
    """
    from pymc_bnn.io.model_file_checks import check_consistency
    from pymc_bnn.model.record import RECORD_FIELDS
    from pymc_bnn.posterior.posterior import Posterior

    path = Path(path)
    tree = _open(path)
    description = _description(tree, path)
    meta = tree[META_GROUP]
    arrays = {name: np.asarray(meta[name].values) for name in meta.data_vars
              if name != "description"}
    try:
        fields = decode_value(description["posterior"], arrays)
        known = set(RECORD_FIELDS) | {f.name for f in dataclasses.fields(Posterior)} - {"record"}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ModelFileError(
                f"{path} holds posterior fields this pymc-bnn does not know "
                f"({', '.join(unknown)}); upgrade pymc-bnn to load it"
            )
        idata = _detached(tree[IDATA_GROUP]) if IDATA_GROUP in tree.children else None
        estimator = description.get("estimator")
        state = None if estimator is None else decode_value(estimator["state"], arrays)  # once
        check_consistency(path, fields, idata, None if estimator is None else
                          {"class": estimator["class"], "state": state})
        if idata is None:  # check_consistency refuses this; here for the type checker
            raise ModelFileError(f"{path} is not a valid model file: it holds no posterior "
                                 "draws; save the model again")
        record, rest = decode_record(fields)
        posterior = Posterior(record, idata, **rest)
        if description["kind"] == "posterior":
            return posterior, description
        if estimator is None or state is None:  # check_description refuses this; for mypy
            raise ModelFileError(f"{path} is not a valid model file: an estimator file needs "
                                 "description.estimator; save the model again")
        params = decode_value(estimator["params"], arrays)
        if saved_estimator:
            from pymc_bnn.io.saved_estimator import SavedEstimator

            return SavedEstimator(class_name=estimator["class"], params=params, state=state,
                                  posterior=posterior), description
        return _rebuild_estimator(estimator["class"], params, state, posterior), description
    except ModelFileError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"{path} could not be rebuilt ({type(exc).__name__}: {exc}); it may come from a "
            "different pymc-bnn version — upgrade pymc-bnn or save the model again"
        ) from None


def _detached(subtree):
    """A copy of `subtree` as a tree of its own (root "/"), as ArviZ expects."""
    import xarray as xr

    return xr.DataTree.from_dict(
        {("/" if node is subtree else "/" + node.relative_to(subtree)):
         node.to_dataset(inherit=False) for node in subtree.subtree}
    )


def _rebuild_estimator(class_name: str, params: dict, state: dict, posterior):
    estimator = estimator_class(class_name)(**params)
    for key, value in state.items():
        setattr(estimator, key, value)
    estimator.posterior_ = posterior
    return estimator
