"""The model file format: a fitted Posterior or estimator as one netCDF-4 (HDF5) file.

Layout (written with h5netcdf)::

    /                        attrs pymc_bnn_format = "pymc-bnn-model", pymc_bnn_format_version
    /pymc_bnn/description    the JSON description, UTF-8 bytes in a uint8 variable (no size limit)
    /pymc_bnn/array_<i>      numeric arrays the description refers to (ELBO history, x_mean_ …)
    /idata/…                 the posterior's ArviZ DataTree (posterior, sample_stats, …)
                             without the training data (observed_data, constant_data)

The description holds the format name and version, library versions, every `Posterior` field
but `idata` and, for an estimator, its class, parameters and learned attributes. Values are
encoded generically (`_encode`), so fields added to `Posterior` later round-trip as long as they
are plain data. Loading never unpickles or evaluates anything: the description is JSON, the rest
are arrays, and objects are rebuilt only through the registries of known likelihoods and priors.

A model file holds the fit, not the data it was fitted to: the `observed_data` and
`constant_data` groups a fit's `idata` carries (`pymc_bnn.model.data_groups`) are left out.
They would make a file grow with the rows (`X` alone is 8 bytes per row and feature: 16 MB
for 100,000 rows of 20 features, where the draws of a (32, 32) network take 2 to 6 MB), and a
file made to be shared and predicted with would carry every training row, which may be
private. `posterior.idata.to_netcdf(path)` keeps every group; `with_data_groups(idata, bnn)`
puts them back beside a loaded fit from the model built on the same rows.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pymc_bnn.defaults import ESTIMATOR_MODULES
from pymc_bnn.errors import InvalidSettingError, ModelFileError, NotFittedError

FORMAT_NAME = "pymc-bnn-model"
FORMAT_VERSION = 1
META_GROUP = "pymc_bnn"
IDATA_GROUP = "idata"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# The estimator classes a file may name, and the module that defines each
# (`pymc_bnn.defaults.ESTIMATOR_MODULES`). The format knows no
# estimator class itself (the estimators sit above it and use it to save): a class registers
# with `register_estimator` when its module is imported, and `load` imports that module first.
_ESTIMATORS = tuple(ESTIMATOR_MODULES)
_REGISTERED: dict[str, type] = {}


def register_estimator(cls: type) -> type:
    """Class decorator: let model files name `cls` (one of `ESTIMATOR_MODULES`) and rebuild it.

    Examples
    --------
    The estimators register themselves where they are defined:

    >>> from pymc_bnn.io.model_file import register_estimator
    >>> from pymc_bnn.sklearn import BayesianMLPClassifier
    >>> register_estimator(BayesianMLPClassifier) is BayesianMLPClassifier
    True
    >>> register_estimator(dict)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: dict is not an estimator model files can hold; ...
    """
    if cls.__name__ not in ESTIMATOR_MODULES:
        raise InvalidSettingError(f"{cls.__name__} is not an estimator model files can hold; "
                                  f"add it to ESTIMATOR_MODULES ({', '.join(_ESTIMATORS)})")
    _REGISTERED[cls.__name__] = cls
    return cls


def _estimator_class(name: str) -> type:
    if name not in ESTIMATOR_MODULES:
        raise ModelFileError(f"unknown estimator class {name!r} in the model file")
    if name not in _REGISTERED:
        import importlib

        importlib.import_module(ESTIMATOR_MODULES[name])  # registers its classes
    return _REGISTERED[name]


# --------------------------------------------------------------------------- value codec


class _Encoder:
    """Turns values into JSON; numeric arrays go to `arrays` and are referenced by name."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, value, where: str):
        from pymc_bnn.model.network import NetworkSpec

        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
            return value.item() if isinstance(value, np.generic) else value
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "iuf":
                name = f"array_{len(self.arrays)}"
                self.arrays[name] = value
                return {"__array__": name}
            return {"__ndarray__": self(value.tolist(), where), "dtype": value.dtype.str}
        if isinstance(value, tuple):
            return {"__tuple__": [self(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise InvalidSettingError(
                    f"{where} has a non-string key {bad[0]!r}; model files store dicts with "
                    "string keys only"
                )
            return {k: self(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, NetworkSpec):
            return {"__spec__": value.to_dict()}
        for tag, methods in _OBJECT_TAGS.items():
            if all(hasattr(value, m) for m in methods):
                encoded = {tag: self(value.to_dict(), where)}
                _check_rebuildable(tag, encoded[tag], where, self.arrays)
                return encoded
        raise InvalidSettingError(
            f"{where} is a {type(value).__name__}, which a model file cannot hold (it stores "
            "plain data only and never pickles); use numbers, strings, lists, dicts or arrays"
        )


_OBJECT_TAGS = {
    "__likelihood__": ("prepare_target", "observe", "predictive_params", "to_dict"),
    "__prior__": ("weight", "bias", "to_dict"),
}


def _rebuild_object(tag: str, data: dict):
    from pymc_bnn.model.likelihoods import likelihood_from_dict
    from pymc_bnn.model.priors import prior_from_dict

    return (likelihood_from_dict if tag == "__likelihood__" else prior_from_dict)(data)


def _check_rebuildable(tag: str, encoded: dict, where: str, arrays: dict) -> None:
    """Refuse at save time what load could not rebuild (e.g. a user-defined prior class)."""
    try:
        _rebuild_object(tag, _decode(encoded, arrays))
    except Exception as exc:
        raise InvalidSettingError(
            f"{where} cannot be saved: loading could not rebuild it ({exc}). Model files only "
            "rebuild pymc-bnn's own likelihoods and priors, because loading never runs code"
        ) from None


def _decode(value, arrays: dict[str, np.ndarray]):
    from pymc_bnn.model.network import NetworkSpec

    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__ndarray__" in value:
        return np.array(_decode(value["__ndarray__"], arrays), dtype=np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    if "__spec__" in value:
        return NetworkSpec.from_dict(value["__spec__"])
    for tag in _OBJECT_TAGS:
        if tag in value:
            return _rebuild_object(tag, _decode(value[tag], arrays))
    return {k: _decode(v, arrays) for k, v in value.items()}


# --------------------------------------------------------------------------- writing


def _versions() -> dict:
    from importlib.metadata import version

    import pymc_bnn

    out = {"pymc_bnn": pymc_bnn.__version__, "python": platform.python_version()}
    for package in ("pymc", "arviz", "numpy", "xarray"):
        out[package] = version(package)
    return out


def _split(obj):
    """(posterior, estimator or None) of what is being saved."""
    from pymc_bnn.posterior.posterior import Posterior

    if isinstance(obj, Posterior):
        return obj, None
    if type(obj).__name__ in _ESTIMATORS:
        posterior = getattr(obj, "posterior_", None)
        if posterior is None:  # the library's NotFittedError, as predict's is one
            raise NotFittedError(
                f"this {type(obj).__name__} is not fitted; call fit(X, y) before save"
            )
        return posterior, obj
    raise InvalidSettingError(
        f"save takes a fitted Posterior or a pymc-bnn estimator, got {type(obj).__name__}"
    )


def encode_record(record, encoder: _Encoder) -> dict:
    """The description's entries of a `ModelRecord`, one per field; arrays go to `encoder`.

    The entries sit flat beside the Posterior's own fields, as format version 1 has always
    written them, so files from before the record and after it read the same.

    Examples
    --------
    >>> from pymc_bnn.io.model_file import _decode, _Encoder, decode_record, encode_record
    >>> encoder = _Encoder()
    >>> entries = encode_record(fitted.record, encoder)
    >>> entries["feature_names"]
    {'__tuple__': ['x0', 'x1']}
    >>> record, rest = decode_record(_decode({**entries, "method": "advi"}, encoder.arrays))
    >>> record == fitted.record, rest
    (True, {'method': 'advi'})
    """
    from pymc_bnn.model.record import RECORD_FIELDS

    return {name: encoder(getattr(record, name), f"Posterior.{name}") for name in RECORD_FIELDS}


def decode_record(fields: dict) -> tuple:
    """(the `ModelRecord`, the other fields) of a description's decoded posterior entries.

    Examples
    --------
    >>> from pymc_bnn.io.model_file import _decode, _Encoder, encode_record
    >>> encoder = _Encoder()
    >>> entries = encode_record(fitted.record, encoder)
    >>> record, rest = decode_record(_decode({**entries, "method": "advi"}, encoder.arrays))
    >>> record.spec == fitted.spec, rest
    (True, {'method': 'advi'})
    """
    from pymc_bnn.model.record import RECORD_FIELDS, ModelRecord

    record = ModelRecord(**{name: fields[name] for name in RECORD_FIELDS if name in fields})
    return record, {name: value for name, value in fields.items() if name not in RECORD_FIELDS}


def describe(obj, encoder: _Encoder) -> dict:
    """The JSON description of a Posterior or fitted estimator (arrays collected in `encoder`).

    Examples
    --------
    >>> from pymc_bnn.io.model_file import _Encoder, describe
    >>> description = describe(fitted, _Encoder())
    >>> description["kind"], description["posterior"]["method"]
    ('posterior', 'advi')
    """
    posterior, estimator = _split(obj)
    fields = encode_record(posterior.record, encoder)
    fields |= {f.name: encoder(getattr(posterior, f.name), f"Posterior.{f.name}")
               for f in dataclasses.fields(posterior) if f.name not in ("idata", "record")}
    description = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kind": "posterior" if estimator is None else "estimator",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "posterior": fields,
    }
    if estimator is not None:
        name = type(estimator).__name__
        params = estimator.get_params(deep=False)
        if isinstance(params.get("random_state"), np.random.RandomState):
            params["random_state"] = None  # a generator's state is not plain data
        state = {key: value for key, value in vars(estimator).items()
                 if key.endswith("_") and not key.startswith("_") and key != "posterior_"}
        description["estimator"] = {
            "class": name,
            "params": encoder(params, f"{name} parameters"),
            "state": encoder(state, f"{name} attributes"),
        }
    return description


def encode(obj, notes: dict | None = None, draws_precision: int | None = None) -> bytes:
    """The bytes of a model file holding `obj` (a Posterior or fitted estimator).

    `draws_precision` None stores the posterior draws exactly; a number of bits rounds them
    (`pymc_bnn.io.precision.round_draws`) and is recorded as the description's
    `draws_precision`.

    Examples
    --------
    >>> from pymc_bnn.io.model_file import encode
    >>> encode(fitted)[1:4]  # netCDF-4 is HDF5
    b'HDF'
    >>> encode(fitted, draws_precision=0)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: draws_precision must be None (exact draws) or ...
    """
    import xarray as xr

    from pymc_bnn.io.precision import check_draws_precision, round_draws

    draws_precision = check_draws_precision(draws_precision)
    posterior, _ = _split(obj)
    encoder = _Encoder()
    description = describe(obj, encoder)
    if draws_precision is not None:
        description["draws_precision"] = draws_precision
    if notes is not None:
        description["notes"] = encoder(notes, "notes")
    text = json.dumps(description, allow_nan=True).encode("utf-8")
    meta = xr.Dataset(
        {"description": ("description_bytes", np.frombuffer(text, dtype=np.uint8)),
         **{name: ([f"{name}_dim_{i}" for i in range(a.ndim)], a)
            for name, a in encoder.arrays.items()}},
    )
    root = xr.Dataset(attrs={"pymc_bnn_format": FORMAT_NAME,
                             "pymc_bnn_format_version": FORMAT_VERSION})
    tree = xr.DataTree.from_dict({"/": root, f"/{META_GROUP}": meta})
    tree[IDATA_GROUP] = round_draws(_without_raw_draws(_without_training_data(posterior.idata)),
                                    draws_precision)
    return bytes(tree.to_netcdf(engine="h5netcdf", encoding=_compressed(tree)))


def _without_training_data(idata):
    """`idata` without its `observed_data` and `constant_data` (see the module docstring)."""
    from pymc_bnn.model.data_groups import DATA_GROUPS

    if idata is None or not set(DATA_GROUPS) & set(idata.children):
        return idata
    tree = idata.copy()
    for name in DATA_GROUPS:
        if name in tree.children:
            del tree[name]
    return tree


def _without_raw_draws(idata):
    """`idata` without the raw draws of its weights, which predicting never reads.

    Each Deterministic `<name>` (`pymc_bnn.model.priors.base`, `pymc_bnn.model.groups`) comes
    with its non-centred draws `<name>_raw`: the same numbers in other units, and for a grouped
    network most of the file.
    """
    if idata is None or "posterior" not in idata.children:
        return idata
    node = idata["posterior"]
    raw = [name for name in node.data_vars
           if name.endswith("_raw") and name.removesuffix("_raw") in node.data_vars]
    if not raw:
        return idata
    import xarray as xr

    tree = idata.copy()
    tree["posterior"] = xr.DataTree(node.to_dataset(inherit=False).drop_vars(raw))
    return tree


# gzip level 4 with byte shuffling on every numeric array of COMPRESS_MIN_BYTES or more:
# draws of layers that do not vary (laplace's hidden layers, fixed at the MAP) shrink to almost
# nothing; random float32 draws by about a tenth. Level 4 writes about twice as fast as 9 for
# nearly the same size, and reading is fast at any level.
COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}
COMPRESS_MIN_BYTES = 4096


# HDF5 chunks of up to this many bytes: gzip (a 32 kB window) compresses a few large chunks of
# rounded draws about a tenth better than the netCDF library's default chunks of ~64 kB, and
# `load` reads every array whole anyway.
CHUNK_BYTES = 8 * 2**20


def _chunks(shape: tuple, itemsize: int) -> tuple:
    """Chunk sizes for an array of `shape`: whole, or its largest axes halved to CHUNK_BYTES."""
    chunks = list(shape)
    while int(np.prod(chunks)) * itemsize > CHUNK_BYTES and max(chunks) > 1:
        largest = int(np.argmax(chunks))
        chunks[largest] = -(-chunks[largest] // 2)
    return tuple(chunks)


def _compressed(tree) -> dict:
    """The `encoding` that compresses `tree`'s large numeric arrays, by group path."""
    encoding = {}
    for node in tree.subtree:
        found = {name: {**COMPRESSION, "chunksizes": _chunks(var.shape, var.dtype.itemsize)}
                 for name, var in node.data_vars.items()
                 if var.dtype.kind in "fiub" and var.nbytes >= COMPRESS_MIN_BYTES
                 and var.ndim > 0}
        if found:
            encoding[node.path] = found
    return encoding


# --------------------------------------------------------------------------- reading


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
    >>> from pymc_bnn.io.model_file import read_description
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
    >>> from pymc_bnn.io.model_file import read_summary
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
        record = {name: _decode(posterior.get(name), arrays) for name in _FIT_FIELDS}
        state = (description.get("estimator") or {}).get("state") or {}
        record["classes"] = _decode(state.get("classes_"), arrays)
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
    >>> from pymc_bnn.io.model_file import decode
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
    >>> from pymc_bnn.io.model_file import decode_with_description
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
        fields = _decode(description["posterior"], arrays)
        known = set(RECORD_FIELDS) | {f.name for f in dataclasses.fields(Posterior)} - {"record"}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ModelFileError(
                f"{path} holds posterior fields this pymc-bnn does not know "
                f"({', '.join(unknown)}); upgrade pymc-bnn to load it"
            )
        idata = _detached(tree[IDATA_GROUP]) if IDATA_GROUP in tree.children else None
        estimator = description.get("estimator")
        state = None if estimator is None else _decode(estimator["state"], arrays)  # once
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
        params = _decode(estimator["params"], arrays)
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
    estimator = _estimator_class(class_name)(**params)
    for key, value in state.items():
        setattr(estimator, key, value)
    estimator.posterior_ = posterior
    return estimator
