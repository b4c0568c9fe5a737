"""Model files are untrusted input: the schema and consistency checks run before anything is built.

`check_attributes` checks the root attributes, `check_description` the JSON description (types,
ranges, known names), and `check_consistency` that the network spec, feature count, class list
and likelihood agree with each other and with the shapes of the stored weights. Each failure is a
`ModelFileError` naming the file, the field and what was expected, so a crafted or damaged file
never reaches a `ValueError`, `IndexError` or a broadcasting error deep inside a prediction.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

import numpy as np

from pymc_bnn.defaults import ESTIMATOR_MODULES
from pymc_bnn.errors import ModelFileError
from pymc_bnn.io.precision import MAX_BITS

_KINDS = ("posterior", "estimator")
_SAVE_AGAIN = "save the model again from the original fit, or restore the file from a backup"


def _fail(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{path} is not a valid model file: {what}; {_SAVE_AGAIN}")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)


def _refusal(path: Path, field: str, expected: str, value) -> ModelFileError:
    return _fail(path, f"{field} must be {expected}, got {_shown(value)}")


def _need(path: Path, ok: bool, field: str, expected: str, value) -> None:
    if not ok:
        raise _refusal(path, field, expected, value)


# --------------------------------------------------------------------------- attributes


def check_attributes(attrs, path: Path, *, format_name: str) -> int | None:
    """The format version in the root attributes (None when the file is not ours at all).

    The version must be one whole number: a list, an array, a string or a bool is refused.

    Parameters
    ----------
    attrs : mapping
        The file's root attributes.
    path : pathlib.Path
        The file, for messages.
    format_name : str
        The format's name, `pymc_bnn.io.model_file.FORMAT_NAME`.

    Returns
    -------
    int or None

    Raises
    ------
    ModelFileError
        A pymc-bnn file whose version is not a whole number ≥ 1.

    Examples
    --------
    >>> from pathlib import Path
    >>> ours = {"pymc_bnn_format": "pymc-bnn-model", "pymc_bnn_format_version": 1}
    >>> check_attributes(ours, Path("m.nc"), format_name="pymc-bnn-model")
    1
    >>> check_attributes({}, Path("m.nc"), format_name="pymc-bnn-model") is None
    True
    >>> check_attributes({**ours, "pymc_bnn_format_version": "1"}, Path("m.nc"),
    ...                  format_name="pymc-bnn-model")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.ModelFileError: m.nc is not a valid model file: the attribute ...
    """
    name = attrs.get("pymc_bnn_format")
    if isinstance(name, np.ndarray) and name.size == 1:
        name = name.item()
    if name != format_name if isinstance(name, str) else True:
        return None
    version = attrs.get("pymc_bnn_format_version")
    if isinstance(version, np.ndarray) and version.ndim == 0:
        version = version.item()
    if isinstance(version, np.generic):
        version = version.item()
    _need(path, _whole(version) and version >= 1, "the attribute pymc_bnn_format_version",
          "a whole number ≥ 1", version)
    return int(version)


# --------------------------------------------------------------------------- description


def _tagged(path: Path, value, tag: str, field: str) -> dict:
    _need(path, isinstance(value, dict) and isinstance(value.get(tag), dict),
          field, f"an object {{{tag!r}: {{...}}}}", value)
    return value[tag]


def _tuple_of_str(path: Path, value, field: str) -> list:
    items = value.get("__tuple__") if isinstance(value, dict) else value
    if not (isinstance(items, list) and all(isinstance(v, str) for v in items)):
        raise _refusal(path, field, "a list of strings", value)
    return items


def _check_spec(path: Path, spec) -> dict:
    from pymc_bnn.model.activations import ACTIVATIONS

    spec = _tagged(path, spec, "__spec__", "posterior.spec")
    for key in ("n_inputs", "n_outputs"):
        _need(path, _whole(spec.get(key)) and spec[key] >= 1, f"spec.{key}",
              "a whole number ≥ 1", spec.get(key))
    hidden = spec.get("hidden")
    _need(path, isinstance(hidden, list) and all(_whole(w) and w >= 1 for w in hidden),
          "spec.hidden", "a list of whole numbers ≥ 1", hidden)
    _need(path, spec.get("activation") in ACTIVATIONS, "spec.activation",
          f"one of {', '.join(ACTIVATIONS)}", spec.get("activation"))
    for key in ("bias", "skip"):
        _need(path, isinstance(spec.get(key, False), bool), f"spec.{key}", "true or false",
              spec.get(key))
    return spec


def _check_named(path: Path, value, tag: str, field: str, registry: dict) -> dict:
    data = _tagged(path, value, tag, field)
    _need(path, data.get("name") in registry, f"{field}.name",
          f"one of {', '.join(sorted(registry))}", data.get("name"))
    return data


def check_description(description, path: Path, *, format_name: str, version: int) -> dict:
    """Check the types and ranges of every field the loader uses; returns the description.

    Parameters
    ----------
    description : object
        The decoded JSON description.
    path : pathlib.Path
        The file, for messages.
    format_name : str
        The format's name.
    version : int
        The format version of the file's attributes, which the description must repeat.

    Returns
    -------
    dict
        `description`, unchanged.

    Raises
    ------
    ModelFileError
        Naming the first field that is missing, of the wrong type or unknown.

    Examples
    --------
    >>> from pathlib import Path
    >>> from pymc_bnn.io import read_description, save
    >>> description = read_description(save(fitted, "moons.bnn.nc"))
    >>> check_description(description, Path("moons.bnn.nc"), format_name="pymc-bnn-model",
    ...                   version=1) is description
    True
    >>> description["posterior"]["likelihood"]["__likelihood__"]["name"] = "binomial"
    >>> check_description(description, Path("moons.bnn.nc"), format_name="pymc-bnn-model",
    ...                   version=1)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.ModelFileError: moons.bnn.nc is not a valid model file: ...
    """
    from pymc_bnn.model.likelihoods import LIKELIHOODS
    from pymc_bnn.model.priors import PRIORS

    _need(path, isinstance(description, dict), "the description", "a JSON object",
          type(description).__name__)
    _need(path, description.get("format") == format_name, "description.format",
          repr(format_name), description.get("format"))
    format_version = description.get("format_version")
    if format_version != version or isinstance(format_version, bool):
        raise _fail(path, f"the description's format_version ({_shown(format_version)}) "
                          f"differs from the file's attribute ({version})")
    _need(path, description.get("kind") in _KINDS, "description.kind", "'posterior' or "
          "'estimator'", description.get("kind"))
    precision = description.get("draws_precision")
    _need(path, precision is None or (_whole(precision) and 1 <= precision <= MAX_BITS),
          "description.draws_precision", f"null or a whole number of bits from 1 to {MAX_BITS}",
          precision)
    posterior = description.get("posterior")
    _need(path, isinstance(posterior, dict), "description.posterior", "a JSON object", posterior)
    _check_spec(path, posterior.get("spec"))
    _check_named(path, posterior.get("likelihood"), "__likelihood__", "posterior.likelihood",
                 LIKELIHOODS)
    _check_named(path, posterior.get("prior"), "__prior__", "posterior.prior", PRIORS)
    _tuple_of_str(path, posterior.get("feature_names"), "posterior.feature_names")
    _tuple_of_str(path, posterior.get("likelihood_params", []), "posterior.likelihood_params")
    _need(path, isinstance(posterior.get("method", ""), str), "posterior.method", "a string",
          posterior.get("method"))
    _need(path, isinstance(posterior.get("interrupted", False), bool), "posterior.interrupted",
          "true or false", posterior.get("interrupted"))
    for key in ("settings", "timings", "diagnostics", "preprocessing"):
        _need(path, isinstance(posterior.get(key, {}), dict), f"posterior.{key}",
              "a JSON object", posterior.get(key))
    groups = posterior.get("groups")
    _need(path, groups is None or (isinstance(groups, dict) and "pooling" in groups),
          "posterior.groups", "null or an object with a 'pooling' entry", groups)
    if description["kind"] == "estimator":
        estimator = description.get("estimator")
        _need(path, isinstance(estimator, dict), "description.estimator", "a JSON object",
              estimator)
        _need(path, estimator.get("class") in ESTIMATOR_MODULES, "estimator.class",
              f"one of {', '.join(ESTIMATOR_MODULES)}", estimator.get("class"))
        for key in ("params", "state"):
            _need(path, isinstance(estimator.get(key), dict), f"estimator.{key}",
                  "a JSON object", estimator.get(key))
    return description


# --------------------------------------------------------------------------- consistency


def _n_classes(path: Path, likelihood, spec, preprocessing: dict) -> int | None:
    """The number of classes the likelihood and spec imply (None for a non-classifier)."""
    if not getattr(likelihood, "is_classifier", False):
        return None
    classes = preprocessing.get("classes")
    if not (isinstance(classes, list) and len(classes) >= 2):
        raise _refusal(path, "preprocessing.classes", "a list of at least two classes", classes)
    expected_outputs = 1 if likelihood.name == "bernoulli" else len(classes)
    if likelihood.name == "bernoulli" and len(classes) != 2:
        raise _fail(path, "likelihood 'bernoulli' has two classes, but the file lists "
                          f"{len(classes)}")
    if spec.n_outputs != expected_outputs:
        raise _fail(path, f"likelihood {likelihood.name!r} with {len(classes)} classes needs "
                          f"{expected_outputs} network outputs, but spec.n_outputs is "
                          f"{spec.n_outputs}")
    own = getattr(likelihood, "classes", None)
    if own is not None and len(own) != len(classes):
        raise _fail(path, f"the likelihood lists {len(own)} classes but preprocessing lists "
                          f"{len(classes)}")
    return len(classes)


def _check_preprocessing(path: Path, likelihood, spec, preprocessing: dict) -> int | None:
    from pymc_bnn.model.regression_likelihoods import OFFSET

    n_classes = _n_classes(path, likelihood, spec, preprocessing)
    if n_classes is not None:
        return n_classes
    probe = likelihood.n_outputs(np.zeros(1))
    if spec.n_outputs != probe:
        raise _fail(path, f"likelihood {likelihood.name!r} needs {probe} network output(s), but "
                          f"spec.n_outputs is {spec.n_outputs}")
    for key in ("y_mean", "y_scale", OFFSET):
        if key not in preprocessing:
            continue
        value = preprocessing[key]
        # decoded JSON: a number here is an int or a float (numpy scalars never reach here)
        _need(path, isinstance(value, int | float) and not isinstance(value, bool)
              and np.isfinite(value) and (key != "y_scale" or value > 0), f"preprocessing.{key}",
              "a finite number" + (" > 0" if key == "y_scale" else ""), value)
    try:  # the likelihood reads what it needs (y_mean and y_scale, or the count offset)
        likelihood.predictive_mean(np.zeros((1, spec.n_outputs)), preprocessing)
    except KeyError as exc:
        raise _fail(path, f"likelihood {likelihood.name!r} needs preprocessing.{exc.args[0]}, "
                          "which the file does not hold") from None
    return None


def _check_weights(path: Path, posterior_group, spec, grouped: bool) -> None:
    """Every weight and bias the spec names is stored, with the spec's trailing shape."""
    from pymc_bnn.model.network import SKIP_WEIGHT, bias_name

    for dim in ("chain", "draw"):
        if posterior_group.sizes.get(dim, 0) < 1:
            raise _fail(path, f"the stored draws have no '{dim}' dimension (or it is empty)")
    expected = dict(zip(spec.weight_names[:spec.n_layers], spec.weight_shapes(), strict=True))
    if spec.skip:
        expected[SKIP_WEIGHT] = (spec.n_inputs, spec.n_outputs)
    if spec.bias:
        expected.update({bias_name(i): (shape[1],)
                         for i, shape in enumerate(spec.weight_shapes())})
    for name, shape in expected.items():
        stored = [n for n in (name, f"{name}_group") if n in posterior_group.data_vars]
        if not stored:
            raise _fail(path, f"the spec needs weights {name!r} of shape {shape}, which the file "
                              "does not hold")
        for found in stored:
            trailing = tuple(posterior_group[found].shape[-len(shape):])
            if trailing != shape:
                raise _fail(path, f"weights {found!r} have shape {trailing}, but the spec "
                                  f"(n_inputs={spec.n_inputs}, hidden={list(spec.hidden)}, "
                                  f"n_outputs={spec.n_outputs}) needs {shape}")
            if not grouped and found == name and posterior_group[found].ndim != 2 + len(shape):
                raise _fail(path, f"weights {found!r} have {posterior_group[found].ndim} "
                                  f"dimensions; expected (chain, draw, …{shape})")


def _n_input_columns(path: Path, state: dict, spec) -> int:
    """How many columns the estimator takes.

    The table encoding's (checked to feed exactly the spec's inputs), or the spec's inputs for
    files written before the encoding.
    """
    from pymc_bnn.encoding import TableEncoding

    encoding = state.get("table_encoding_")
    if encoding is None:
        return spec.n_inputs
    try:
        encoding = TableEncoding.from_dict(encoding if isinstance(encoding, dict) else {})
    except ValueError as exc:
        raise _fail(path, f"its {exc}") from None
    if len(encoding.feature_names) != spec.n_inputs:
        raise _fail(path, f"its table encoding makes {len(encoding.feature_names)} inputs, but "
                          f"the spec has {spec.n_inputs}")
    return len(encoding.columns)


def _check_estimator_state(path: Path, state: dict, spec, n_classes: int | None, cls: str) -> None:
    n_columns = _n_input_columns(path, state, spec)
    n_features = state.get("n_features_in_")
    _need(path, n_features is None or (_whole(n_features) and n_features == n_columns),
          "estimator n_features_in_", f"the table's column count ({n_columns})", n_features)
    value = state.get("feature_names_in_")
    if value is not None and np.shape(value) != (n_columns,):
        raise _fail(path, f"estimator feature_names_in_ has shape {np.shape(value)}, but the "
                          f"model takes {n_columns} columns")
    for key in ("x_mean_", "x_scale_"):  # every fitted estimator has both (zeros and ones
        value = state.get(key)           # without standardisation)
        if not (isinstance(value, np.ndarray) and value.dtype.kind in "iuf"
                and value.shape == (spec.n_inputs,) and np.isfinite(value).all()
                and (key == "x_mean_" or (value > 0).all())):
            raise _fail(path, f"estimator {key} must be {spec.n_inputs} finite numbers"
                              f"{' > 0' if key == 'x_scale_' else ''} (one per feature), got "
                              f"{_shown(value)}")
    names = state.get("feature_names_in_")
    if names is not None and not all(isinstance(name, str) for name in np.asarray(names).tolist()):
        raise _fail(path, f"estimator feature_names_in_ must be column names (strings), got "
                          f"{_shown(np.asarray(names).tolist())}")
    if cls == "BayesianMLPClassifier":
        classes = state.get("classes_")
        if classes is None or np.ndim(classes) != 1 or len(classes) != n_classes:
            listed = (len(classes) if classes is not None and np.ndim(classes) == 1
                      else _shown(classes))
            raise _fail(path, f"estimator classes_ lists {listed}"
                              f" classes, but the likelihood and network have {n_classes}")


def check_consistency(path: Path, fields: dict, idata, estimator: dict | None) -> None:
    """Spec, feature names, likelihood, classes, estimator state and stored weights agree.

    Parameters
    ----------
    path : pathlib.Path
        The file, for messages.
    fields : dict
        The decoded `Posterior` fields (spec, likelihood, feature_names, preprocessing,
        groups).
    idata : DataTree
        The stored draws.
    estimator : dict or None
        The decoded {"class", "state"} of an estimator file.

    Raises
    ------
    ModelFileError
        Naming what disagrees.

    Examples
    --------
    >>> from pathlib import Path
    >>> fields = {"spec": fitted.spec, "likelihood": fitted.likelihood,
    ...           "feature_names": ("x0", "x1"), "preprocessing": fitted.preprocessing}
    >>> check_consistency(Path("m.nc"), fields, fitted.idata, None)  # agrees: nothing
    >>> check_consistency(Path("m.nc"), {**fields, "feature_names": ("x0",)}, fitted.idata,
    ...                   None)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.ModelFileError: m.nc is not a valid model file: it names 1 features but ...
    """
    spec, likelihood = fields["spec"], fields["likelihood"]
    names = fields["feature_names"]
    if len(names) != spec.n_inputs:
        raise _fail(path, f"it names {len(names)} features but its network takes "
                          f"{spec.n_inputs} inputs")
    if estimator is not None:
        is_classifier = estimator["class"] == "BayesianMLPClassifier"
        if is_classifier != bool(getattr(likelihood, "is_classifier", False)):
            raise _fail(path, f"a {estimator['class']} cannot hold the "
                              f"{'regression' if is_classifier else 'classification'} "
                              f"likelihood {likelihood.name!r}")
    n_classes = _check_preprocessing(path, likelihood, spec, fields.get("preprocessing", {}))
    if "posterior" not in getattr(idata, "children", {}):
        raise _fail(path, "it holds no posterior draws (no idata/posterior group)")
    _check_weights(path, idata["posterior"], spec, grouped=bool(fields.get("groups")))
    if estimator is not None:
        _check_estimator_state(path, estimator["state"], spec, n_classes, estimator["class"])
