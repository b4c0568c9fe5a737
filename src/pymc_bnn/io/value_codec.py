"""The description's values as JSON, numeric arrays set aside to be stored beside it.

A model file's description (`pymc_bnn.io.model_file`) is JSON: `Encoder` turns plain data,
arrays, the network's spec and pymc-bnn's own likelihoods and priors into it, and refuses at
save time what `decode_value` could not rebuild; `decode_value` never unpickles or evaluates
anything. `encode_record` and `decode_record` do a `ModelRecord`'s fields.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError


class Encoder:
    """Turns values into JSON; numeric arrays go to `arrays` and are referenced by name.

    Call it with a value and `where` (the value's name in error messages): numbers, strings,
    lists, tuples, string-keyed dicts, arrays, a `NetworkSpec` and pymc-bnn's own likelihoods
    and priors; anything else is refused with InvalidSettingError.

    Attributes
    ----------
    arrays : dict
        `"array_<i>"` → each numeric array met so far.

    Examples
    --------
    >>> import numpy as np
    >>> encoder = Encoder()
    >>> encoded = encoder({"sd": np.ones(3), "sizes": (2, 3)}, "example")
    >>> encoded, list(encoder.arrays)
    ({'sd': {'__array__': 'array_0'}, 'sizes': {'__tuple__': [2, 3]}}, ['array_0'])
    >>> decode_value(encoded, encoder.arrays)
    {'sd': array([1., 1., 1.]), 'sizes': (2, 3)}
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, value, where: str):
        """`value` as JSON, its numeric arrays kept in `arrays`; `where` names it in errors."""
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
        _rebuild_object(tag, decode_value(encoded, arrays))
    except Exception as exc:
        raise InvalidSettingError(
            f"{where} cannot be saved: loading could not rebuild it ({exc}). Model files only "
            "rebuild pymc-bnn's own likelihoods and priors, because loading never runs code"
        ) from None


def decode_value(value, arrays: dict[str, np.ndarray]):
    """The value an `Encoder` turned into `value`, its arrays looked up in `arrays`.

    Parameters
    ----------
    value
        JSON data as `Encoder` writes it.
    arrays : dict
        The arrays it refers to by name.

    Returns
    -------
    object
        Tuples, arrays, a `NetworkSpec`, likelihoods and priors rebuilt (the last through
        their registries: no code is run).

    Examples
    --------
    >>> decode_value({"__tuple__": [1, {"__array__": "array_0"}]}, {"array_0": np.zeros(2)})
    (1, array([0., 0.]))
    """
    from pymc_bnn.model.network import NetworkSpec

    if isinstance(value, list):
        return [decode_value(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__ndarray__" in value:
        return np.array(decode_value(value["__ndarray__"], arrays), dtype=np.dtype(value["dtype"]))
    if "__tuple__" in value:
        return tuple(decode_value(v, arrays) for v in value["__tuple__"])
    if "__spec__" in value:
        return NetworkSpec.from_dict(value["__spec__"])
    for tag in _OBJECT_TAGS:
        if tag in value:
            return _rebuild_object(tag, decode_value(value[tag], arrays))
    return {k: decode_value(v, arrays) for k, v in value.items()}


def encode_record(record, encoder: Encoder) -> dict:
    """The description's entries of a `ModelRecord`, one per field; arrays go to `encoder`.

    The entries sit flat beside the Posterior's own fields, as format version 1 has always
    written them, so files from before the record and after it read the same.

    Examples
    --------
    >>> encoder = Encoder()
    >>> entries = encode_record(fitted.record, encoder)
    >>> entries["feature_names"]
    {'__tuple__': ['x0', 'x1']}
    >>> record, rest = decode_record(decode_value({**entries, "method": "advi"}, encoder.arrays))
    >>> record == fitted.record, rest
    (True, {'method': 'advi'})
    """
    from pymc_bnn.model.record import RECORD_FIELDS

    return {name: encoder(getattr(record, name), f"Posterior.{name}") for name in RECORD_FIELDS}


def decode_record(fields: dict) -> tuple:
    """(the `ModelRecord`, the other fields) of a description's decoded posterior entries.

    Examples
    --------
    >>> encoder = Encoder()
    >>> entries = encode_record(fitted.record, encoder)
    >>> record, rest = decode_record(decode_value({**entries, "method": "advi"}, encoder.arrays))
    >>> record.spec == fitted.spec, rest
    (True, {'method': 'advi'})
    """
    from pymc_bnn.model.record import RECORD_FIELDS, ModelRecord

    record = ModelRecord(**{name: fields[name] for name in RECORD_FIELDS if name in fields})
    return record, {name: value for name, value in fields.items() if name not in RECORD_FIELDS}
