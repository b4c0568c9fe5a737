"""Cache keys of a compiled model: its graph's printed structure and its constants' bytes.

`jax_model.compile_model` keys its cache on these, not on the data, so a refit of a model of the
same structure on new data of the same shapes reuses the compiled code.
"""

from __future__ import annotations

import hashlib

import numpy as np


def model_key(model, replace: dict, start: dict, shape: tuple) -> str | None:
    """Fingerprint of the model's own graph, or None where a transform has no fingerprint.

    `model.logp()` is a function of the random variables' graph, the observed values, the
    potentials, the deterministics, each free variable's transform and `check_bounds`: two
    models that agree on all of these have the same log-density graphs, and this key is cheap
    (no logp graph is built). `replace` turns the data containers into inputs and the dim
    lengths into constants, as for the logp graphs.

    Parameters
    ----------
    model : pymc.Model
    replace : dict
        Graph variable → its replacement.
    start : dict
        The model's initial point, value variable name → value.
    shape : tuple
        What else the compiled code is built for (batch size, rows, weighting).

    Returns
    -------
    str or None
        A key starting "model:".

    Examples
    --------
    >>> model = tiny_model.model
    >>> key = model_key(model, {}, model.initial_point(), (None, 48, True))
    >>> key[:6], key == model_key(model, {}, model.initial_point(), (None, 48, True))
    ('model:', True)
    >>> key == model_key(model, {}, model.initial_point(), (None, 64, True))
    False
    """
    from pytensor.graph.replace import clone_replace

    transforms = []
    for rv in model.free_RVs:
        fingerprint = _transform_fingerprint(model.rvs_to_transforms.get(rv))
        if fingerprint is None:
            return None
        transforms.append((rv.name, fingerprint))
    graphs = [*model.free_RVs, *model.observed_RVs,
              *(model.rvs_to_values[rv] for rv in model.observed_RVs),
              *model.potentials, *model.deterministics]
    graphs = clone_replace(graphs, replace=replace)
    extra = repr((transforms, model.check_bounds,
                  [rv.name for rv in model.observed_RVs], [v.name for v in model.value_vars]))
    return "model:" + structure_key(graphs, model, start, shape, extra)


def _transform_fingerprint(transform) -> str | None:
    """A transform's class and settings as text; None where a setting is not plain data.

    (PyMC's interval transform, for one, holds a function of the variable's inputs.)
    """
    if transform is None:
        return "none"
    kind = type(transform)
    settings = {k: v for k, v in vars(transform).items() if k != "__doc__"}
    if "transform_list" in settings:  # a chain of transforms
        parts = [_transform_fingerprint(t) for t in settings.pop("transform_list")]
        if None in parts:
            return None
        settings["transform_list"] = parts
    plain = (bool, int, float, str, type(None))
    if not all(isinstance(v, plain) or (isinstance(v, tuple | list)
                                        and all(isinstance(x, plain) for x in v))
               for v in settings.values()):
        return None
    return f"{kind.__module__}.{kind.__qualname__}{sorted(settings.items())!r}"


def structure_key(graphs, model, start: dict, shape: tuple, extra: str = "") -> str:
    """Fingerprint of the graphs: their printed structure plus every constant's bytes.

    Two models built the same way on data of any values print identically, so they share a key.

    Parameters
    ----------
    graphs : list
        PyTensor variables.
    model : pymc.Model
        Its value variables' names and shapes and its dims enter the key.
    start : dict
        The model's initial point, value variable name → value.
    shape : tuple
        What else the compiled code is built for.
    extra : str, optional
        More text to fingerprint.

    Returns
    -------
    str
        A SHA-256 hex digest.

    Examples
    --------
    >>> model = tiny_model.model
    >>> key = structure_key(model.free_RVs, model, model.initial_point(), (None, 48, True))
    >>> len(key), key == structure_key(model.free_RVs, model, model.initial_point(),
    ...                                (None, 48, True), extra="other")
    (64, False)
    """
    import pytensor
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import graph_inputs

    digest = hashlib.sha256()
    # debugprint is typed to return str | TextIO | Any (no overloads); file="str" returns a str
    printed = pytensor.printing.debugprint(graphs, file="str", print_type=True)
    digest.update(printed.encode())  # type: ignore[union-attr]
    for var in graph_inputs(graphs):
        if isinstance(var, Constant):
            digest.update(np.ascontiguousarray(var.data).tobytes())
        elif isinstance(var, SharedVariable):  # baked into the compiled code as a constant
            value = var.get_value(borrow=True)
            if isinstance(value, np.ndarray | np.generic):
                digest.update(np.ascontiguousarray(value).tobytes())
    digest.update(repr([(v.name, np.shape(start[v.name])) for v in model.value_vars]).encode())
    digest.update(repr((shape, sorted(model.named_vars_to_dims.items()))).encode())
    digest.update(extra.encode())
    return digest.hexdigest()
