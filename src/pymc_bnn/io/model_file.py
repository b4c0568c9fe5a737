"""The model file format: a fitted Posterior or estimator as one netCDF-4 (HDF5) file.

Layout (written with h5netcdf)::

    /                        attrs pymc_bnn_format = "pymc-bnn-model", pymc_bnn_format_version
    /pymc_bnn/description    the JSON description, UTF-8 bytes in a uint8 variable (no size limit)
    /pymc_bnn/array_<i>      numeric arrays the description refers to (ELBO history, x_mean_ …)
    /idata/…                 the posterior's ArviZ DataTree (posterior, sample_stats, …)
                             without the training data (observed_data, constant_data)

The description holds the format name and version, library versions, every `Posterior` field
but `idata` and, for an estimator, its class, parameters and learned attributes. Values are
encoded generically (`value_codec`), so fields added to `Posterior` later round-trip as long as they
are plain data. Loading never unpickles or evaluates anything: the description is JSON, the rest
are arrays, and objects are rebuilt only through the registries of known likelihoods and priors.

A model file holds the fit, not the data it was fitted to: the `observed_data` and
`constant_data` groups a fit's `idata` carries (`pymc_bnn.model.data_groups`) are left out.
They would make a file grow with the rows (`X` alone is 8 bytes per row and feature: 16 MB
for 100,000 rows of 20 features, where the draws of a (32, 32) network take 2 to 6 MB), and a
file made to be shared and predicted with would carry every training row, which may be
private. `posterior.idata.to_netcdf(path)` keeps every group; `with_data_groups(idata, bnn)`
puts them back beside a loaded fit from the model built on the same rows.

This module writes the file; `model_file_reader` reads it back.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from datetime import UTC, datetime

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.defaults import ESTIMATOR_MODULES
from pymc_bnn.errors import InvalidSettingError, ModelFileError, NotFittedError
from pymc_bnn.io.value_codec import (  # noqa: F401 (re-exports)
    Encoder,
    decode_record,
    encode_record,
)

__getattr__ = moved_names(__name__, {
    name: "pymc_bnn.io.model_file_reader"
    for name in ("read_description", "read_summary", "decode", "decode_with_description")})

FORMAT_NAME = "pymc-bnn-model"
FORMAT_VERSION = 1
META_GROUP = "pymc_bnn"
IDATA_GROUP = "idata"
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

def estimator_class(name: str) -> type:
    """The registered estimator class a model file names, its module imported first.

    Parameters
    ----------
    name : str
        One of `ESTIMATOR_MODULES`.

    Returns
    -------
    type

    Raises
    ------
    ModelFileError
        Any other name.

    Examples
    --------
    >>> estimator_class("BayesianMLPRegressor").__name__
    'BayesianMLPRegressor'
    >>> estimator_class("dict")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.ModelFileError: unknown estimator class 'dict' in the model file
    """
    if name not in ESTIMATOR_MODULES:
        raise ModelFileError(f"unknown estimator class {name!r} in the model file")
    if name not in _REGISTERED:
        import importlib

        importlib.import_module(ESTIMATOR_MODULES[name])  # registers its classes
    return _REGISTERED[name]

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

def describe(obj, encoder: Encoder) -> dict:
    """The JSON description of a Posterior or fitted estimator (arrays collected in `encoder`).

    Examples
    --------
    >>> from pymc_bnn.io.model_file import describe
    >>> from pymc_bnn.io.value_codec import Encoder
    >>> description = describe(fitted, Encoder())
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
        description["estimator"] = {
            "class": name,
            "params": encoder(params, f"{name} parameters"),
            "state": encoder(fitted_state(estimator), f"{name} attributes"),
        }
    return description


def fitted_state(estimator) -> dict:
    """A fitted estimator's attributes besides its posterior: what its model file keeps.

    scikit-learn's fitted attributes (names ending in "_", e.g. `x_mean_`, `classes_`,
    `table_encoding_`), less `posterior_` (the file's posterior part) and a stacked fit's
    `named_estimators_` (its models' own fits stay in memory: the file keeps the mixture it
    predicts with).

    Parameters
    ----------
    estimator : BayesianMLPClassifier or BayesianMLPRegressor
        Fitted.

    Returns
    -------
    dict
        Attribute name → value.

    Examples
    --------
    >>> sorted(fitted_state(fitted_regressor))
    ['n_features_in_', 'table_encoding_', 'x_mean_', 'x_scale_']
    """
    return {key: value for key, value in vars(estimator).items()
            if key.endswith("_") and not key.startswith("_")
            and key not in ("posterior_", "named_estimators_")}


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
    encoder = Encoder()
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
