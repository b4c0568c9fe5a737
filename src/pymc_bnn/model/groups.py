"""Hierarchical BNNs: group labels, pooling of weights across groups, the grouped forward pass.

A grouping variable (one label per row) makes a network hierarchical. Three poolings:

==========  =====================================================  ==========================
pooling     weights of group g                                     a group unseen in training
==========  =====================================================  ==========================
`partial`   w_g = w + group_sd_i · z_g, z_g ~ N(0, 1) per layer i  new z per draw: population
`complete`  w (one network; the labels are only recorded)          the same network
`none`      w_g from the ordinary prior, independently per group   unknown: an error
==========  =====================================================  ==========================

Partial pooling is non-centred: the free variables are the population weights `w_i` (with the
model's prior), one spread `group_sd_i` ~ HalfNormal(group_spread · fan-in factor) per layer
(`group_sd_skip` for a skip path) and the standardised deviations `w_i_group_raw` (group,
fan_in, fan_out); the group weights `w_i_group` are Deterministics. Groups with little data
stay near the population, groups with much data move away from it, and the spreads say how
much groups differ at each layer.

In the model the forward pass gathers each observation's group weights and multiplies in a
batch (`grouped_forward`); prediction over posterior draws instead runs the ordinary `forward`
once per group present in the new data (`group_batches`), which keeps memory small.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.model.network import (
    SKIP_WEIGHT,
    NetworkSpec,
    activation_function,
    bias_name,
    split_skip_weights,
)
from pymc_bnn.model.priors import fan_in_factor
from pymc_bnn.validation import shown as shown_values

POOLINGS = ("partial", "complete", "none")
UNSEEN_GROUPS = ("population", "raise")
GROUP_DIM = "group"
GROUP_INDEX = "group_index"
# Priors whose `weight` accepts a leading group dim (pooling="none" needs it).
_GROUP_DIM_PRIORS = ("normal", "laplace")


def group_weight_name(name: str) -> str:
    """The group weights of population weights `name` (e.g. w_0 → w_0_group).

    Parameters
    ----------
    name : str
        A weight variable's name.

    Returns
    -------
    str

    Examples
    --------
    >>> group_weight_name("w_skip")
    'w_skip_group'
    """
    return f"{name}_group"


def group_bias_name(layer: int) -> str:
    """The variable name of layer `layer`'s per-group biases: b_0_group, ...

    Parameters
    ----------
    layer : int

    Returns
    -------
    str

    Examples
    --------
    >>> group_bias_name(1)
    'b_1_group'
    """
    return f"{bias_name(layer)}_group"


def group_sd_name(key: str) -> str:
    """The spread of one weight slot's group weights (`WeightSlot.key`: "0", "1", …, "skip").

    Parameters
    ----------
    key : str

    Returns
    -------
    str

    Examples
    --------
    >>> group_sd_name("0"), group_sd_name("skip")
    ('group_sd_0', 'group_sd_skip')
    """
    return f"group_sd_{key}"


# ---------------------------------------------------------------------------- labels


def _normalise_label(label):
    """A label as plain Python (NumPy scalars → int/float/str/bool, tuples kept), or raise."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, tuple):
        return tuple(_normalise_label(part) for part in label)
    if label is None or (isinstance(label, float) and not np.isfinite(label)):
        raise InvalidInputError(
            "groups contains missing labels (None/NaN); give every row a group or drop those rows"
        )
    if isinstance(label, (str, int, float, bool)):
        return label
    raise InvalidInputError(
        f"group labels must be strings, numbers, booleans or tuples of them, got "
        f"{type(label).__name__} {label!r}; convert the labels, e.g. with str()"
    )


def _label_to_json(label):
    return [_label_to_json(part) for part in label] if isinstance(label, tuple) else label


def _label_from_json(label):
    return tuple(_label_from_json(part) for part in label) if isinstance(label, list) else label


def check_groups(groups, *, n_obs: int, name: str = "groups") -> list:
    """One normalised label per row: a 1-D sequence of length `n_obs`, or InvalidInputError.

    Parameters
    ----------
    groups : sequence
        One label per row (strings, numbers, booleans or tuples of them; a pandas column
        works).
    n_obs : int
        Rows of X.
    name : str, default "groups"
        What messages call it.

    Returns
    -------
    list
        The labels as plain Python values (NumPy scalars converted, lists as tuples).

    Raises
    ------
    InvalidInputError
        Not one label per row, missing labels, or labels of other types.

    Examples
    --------
    >>> import numpy as np
    >>> check_groups(np.array(["b", "a", "b"]), n_obs=3)
    ['b', 'a', 'b']
    >>> check_groups(["a", None], n_obs=2)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: groups contains missing labels (None/NaN); ...
    """
    if hasattr(groups, "to_numpy"):  # pandas Series / Index / Categorical column
        groups = groups.to_numpy()
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise InvalidInputError(
            f"{name} must be a sequence with one group label per row of X, got {groups!r}"
        )
    values = [tuple(v) if isinstance(v, list) else v for v in groups]
    if any(isinstance(v, np.ndarray) for v in values):
        raise InvalidInputError(f"{name} must be 1-D: one label per row of X")
    if len(values) != n_obs:
        raise InvalidInputError(
            f"X has {n_obs} rows but {name} has {len(values)} labels; pass one group label per row"
        )
    return [_normalise_label(v) for v in values]


def _ordered_labels(labels: list) -> list:
    """Distinct labels, sorted when they can be, else in order of first appearance."""
    distinct = list(dict.fromkeys(labels))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def encode_groups(groups, *, n_obs: int) -> tuple[np.ndarray, list]:
    """Integer codes (n_obs,) into the distinct labels, and those labels (sorted where possible).

    Parameters
    ----------
    groups : sequence
        One label per row.
    n_obs : int
        Rows of X.

    Returns
    -------
    codes : numpy.ndarray
        `(n_obs,)` int64.
    labels : list
        The distinct labels; sorted when they can be, else in order of first appearance.

    Examples
    --------
    >>> encode_groups(["b", "a", "b"], n_obs=3)
    (array([1, 0, 1]), ['a', 'b'])
    """
    labels = check_groups(groups, n_obs=n_obs)
    known = _ordered_labels(labels)
    lookup = {label: code for code, label in enumerate(known)}
    return np.array([lookup[v] for v in labels], dtype=np.int64), known


def group_coords(labels: list) -> list:
    """Coordinate values of the `group` dim.

    The labels as strings (netCDF-safe) when those are distinct, else positions 0 … G-1 (the
    record keeps the real labels either way).

    Parameters
    ----------
    labels : list
        The distinct labels.

    Returns
    -------
    list

    Examples
    --------
    >>> group_coords(["a", 2]), group_coords([1, "1"])
    (['a', '2'], [0, 1])
    """
    text = [str(label) for label in labels]
    return text if len(set(text)) == len(text) else list(range(len(labels)))


def group_record(pooling: str, labels: list, codes: np.ndarray, group_spread: float) -> dict:
    """The JSON-able description of a grouped fit that `Posterior.groups` holds.

    Parameters
    ----------
    pooling : {"partial", "complete", "none"}
        The pooling.
    labels : list
        The distinct labels, in code order.
    codes : numpy.ndarray
        `(n_obs,)` each training row's code.
    group_spread : float
        The spread prior's scale.

    Returns
    -------
    dict
        pooling, labels (tuples as lists), coords, counts (training rows per group) and
        group_spread.

    Examples
    --------
    >>> import numpy as np
    >>> group_record("partial", ["a", "b"], np.array([1, 0, 1]), 1.0)
    {'pooling': 'partial', 'labels': ['a', 'b'], 'coords': ['a', 'b'], 'counts': [1, 2],
     'group_spread': 1.0}
    """
    return {
        "pooling": pooling,
        "labels": [_label_to_json(label) for label in labels],
        "coords": group_coords(labels),
        "counts": np.bincount(codes, minlength=len(labels)).astype(int).tolist(),
        "group_spread": float(group_spread),
    }


def record_labels(record: dict) -> list:
    """The group labels of a record made by `group_record` (also after a JSON round trip).

    Parameters
    ----------
    record : dict

    Returns
    -------
    list
        Labels that were tuples are tuples again.

    Examples
    --------
    >>> record_labels({"labels": [["store", 1], "online"]})
    [('store', 1), 'online']
    """
    return [_label_from_json(label) for label in record["labels"]]


def check_pooling(pooling: str | None, groups, prior) -> str | None:
    """The pooling to build with (None: an ordinary, ungrouped model), or InvalidSettingError.

    Parameters
    ----------
    pooling : str or None
        "partial", "complete", "none", or None ("partial" with groups).
    groups : sequence or None
        The labels, if any.
    prior : Prior
        pooling="none" needs a prior whose weights take a group dim (normal, laplace).

    Returns
    -------
    str or None

    Raises
    ------
    InvalidSettingError
        Pooling without groups, an unknown pooling, or "none" with another prior.

    Examples
    --------
    >>> from pymc_bnn.model.priors import DEFAULT_PRIOR
    >>> check_pooling(None, ["a", "b"], DEFAULT_PRIOR), check_pooling(None, None, DEFAULT_PRIOR)
    ('partial', None)
    >>> check_pooling("partial", None, DEFAULT_PRIOR)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: pooling='partial' needs groups: ...
    """
    if groups is None:
        if pooling is not None:
            raise InvalidSettingError(
                f"pooling={pooling!r} needs groups: pass groups= (one label per row of X), "
                "or drop pooling="
            )
        return None
    pooling = "partial" if pooling is None else pooling
    if pooling not in POOLINGS:
        raise InvalidSettingError(
            f"unknown pooling {pooling!r}; use one of {', '.join(map(repr, POOLINGS))}"
        )
    if pooling == "none" and getattr(prior, "name", None) not in _GROUP_DIM_PRIORS:
        raise InvalidSettingError(
            f"pooling='none' works with the normal and laplace priors, not "
            f"{getattr(prior, 'name', prior)!r}; use one of those or pooling='partial'"
        )
    return pooling


# ---------------------------------------------------------------------------- the model


def add_group_parameters(spec: NetworkSpec, prior, pooling: str, *, group_spread: float):
    """Create the weights of a grouped network in the model in context.

    Needs the model's `group` coordinate.

    Parameters
    ----------
    spec : NetworkSpec
    prior : Prior
        The population weights' prior (with pooling="none": each group's).
    pooling : {"partial", "none"}
        The pooling.
    group_spread : float
        Partial pooling: each layer's spread is HalfNormal(group_spread · fan-in factor).

    Returns
    -------
    weights : list
        Per layer a tensor `(group, fan_in, fan_out)`.
    biases : list or None
        Per layer `(group, fan_out)`, or None without biases.

    Examples
    --------
    >>> import pymc as pm
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> from pymc_bnn.model.priors import DEFAULT_PRIOR
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> coords = {"group": ["a", "b"], "feature": range(2), "hidden_0": range(3),
    ...           "output": range(1)}
    >>> with pm.Model(coords=coords) as model:
    ...     weights, biases = add_group_parameters(spec, DEFAULT_PRIOR, "partial",
    ...                                            group_spread=1.0)
    >>> sorted(model.free_RVs, key=str)
    [group_sd_0, group_sd_1, w_0, w_0_group_raw, w_1, w_1_group_raw]
    >>> model.named_vars_to_dims["w_0_group"]
    ('group', 'feature', 'hidden_0')
    """
    import pymc as pm

    if not np.isfinite(group_spread) or group_spread <= 0:
        raise InvalidSettingError(f"group_spread must be a positive number, got {group_spread}")
    weights, biases = [], []
    for slot in spec.weight_slots:
        layer, w_dims = slot.prior_layer, (GROUP_DIM, *slot.dims)
        with_bias = spec.bias and slot.name != SKIP_WEIGHT
        b_dims = (GROUP_DIM, slot.dims[1])
        if pooling == "none":
            weights.append(prior.weight(group_weight_name(slot.name), shape=slot.shape,
                                        dims=w_dims, layer=layer))
            if with_bias:
                biases.append(prior.bias(group_bias_name(layer), shape=(slot.shape[1],),
                                         dims=b_dims, layer=layer))
            continue
        population_w = prior.weight(slot.name, shape=slot.shape, dims=slot.dims, layer=layer)
        factor = fan_in_factor(slot.shape[0], getattr(prior, "fan_in_scaling", True))
        spread = pm.HalfNormal(group_sd_name(slot.key), group_spread * factor)
        weights.append(_around(group_weight_name(slot.name), population_w, spread, w_dims))
        if with_bias:
            population_b = prior.bias(bias_name(layer), shape=(slot.shape[1],),
                                      dims=(slot.dims[1],), layer=layer)
            biases.append(_around(group_bias_name(layer), population_b, spread, b_dims))
    return weights, (biases if spec.bias else None)


def _around(var_name: str, population, spread, dims):
    """Non-centred group values: population + spread · z, z ~ N(0, 1) named `<var_name>_raw`."""
    import pymc as pm

    z = pm.Normal(f"{var_name}_raw", 0.0, 1.0, dims=dims)
    return pm.Deterministic(var_name, population[None] + spread * z, dims=dims)


def grouped_forward(spec: NetworkSpec, X, group_index, weights, biases=None,
                    backend: str = "numpy"):
    """Pre-link output (n_obs, n_outputs), each row through its own group's network.

    Each row's weights are gathered, `(n_obs, fan_in, fan_out)`, and applied as a batched
    product. With `spec.skip`, w_skip `(group, n_inputs, n_outputs)` comes last in `weights`,
    as for `forward`.

    Parameters
    ----------
    spec : NetworkSpec
    X : array
        `(n_obs, n_inputs)`.
    group_index : array
        `(n_obs,)` integer codes.
    weights : sequence of array
        `weights[i]`: `(group, fan_in, fan_out)`.
    biases : sequence of array, optional
        `biases[i]`: `(group, fan_out)`.
    backend : {"numpy", "pytensor", "jax"}, default "numpy"
        The activation's implementation.

    Returns
    -------
    array
        `(n_obs, n_outputs)`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.model.network import NetworkSpec, forward
    >>> rng = np.random.default_rng(0)
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    >>> weights = [rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 1))]  # two groups
    >>> X, codes = rng.normal(size=(4, 2)), np.array([0, 1, 0, 1])
    >>> out = grouped_forward(spec, X, codes, weights)
    >>> out.shape
    (4, 1)
    >>> bool(np.allclose(out[codes == 1], forward(spec, X[codes == 1], [w[1] for w in weights])))
    True
    """
    act = activation_function(spec.activation, backend)
    weights, skip = split_skip_weights(spec, weights)
    h = X
    last = spec.n_layers - 1
    for i, W in enumerate(weights):
        h = (h[:, :, None] * W[group_index]).sum(axis=1)
        if biases is not None:
            h = h + biases[i][group_index]
        if i < last:
            h = act(h)
    if skip is not None:
        h = h + (X[:, :, None] * skip[group_index]).sum(axis=1)
    # The rows' count taken from X (not the broadcast of X with the gathered weights), so
    # PyTensor's JAX backend sees a concrete shape where a likelihood needs one (the
    # categorical's arange over rows failed to compile without this).
    return h.reshape((X.shape[0], spec.n_outputs))


# ---------------------------------------------------------------------------- prediction


def is_grouped(record: dict | None) -> bool:
    """True when predictions need each row's group (partial or no pooling).

    Parameters
    ----------
    record : dict or None
        `Posterior.groups`.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_grouped({"pooling": "partial"}), is_grouped({"pooling": "complete"}), is_grouped(None)
    (True, False, False)
    """
    return bool(record and record["pooling"] != "complete")


def locate_groups(record: dict | None, groups, *, n_obs: int,
                  unseen_groups: str) -> tuple[np.ndarray, list | None]:
    """Codes of new rows' groups in the fitted labels, and the rows' normalised labels.

    Parameters
    ----------
    record : dict or None
        `Posterior.groups`.
    groups : sequence or None
        One label per new row.
    n_obs : int
        New rows.
    unseen_groups : {"population", "raise"}
        What a group not seen in training gets: draws from the population, or an error.

    Returns
    -------
    codes : numpy.ndarray
        `(n_obs,)`, -1 for a group not seen in training.
    labels : list or None
        None when no groups were given.

    Raises
    ------
    InvalidInputError
        Groups missing for a grouped model, given for an ungrouped one, or unseen while
        `unseen_groups="raise"` (naming the unseen labels).

    Examples
    --------
    >>> import numpy as np
    >>> record = group_record("partial", ["a", "b"], np.array([0, 1]), 1.0)
    >>> locate_groups(record, ["b", "new"], n_obs=2, unseen_groups="population")
    (array([ 1, -1]), ['b', 'new'])
    >>> locate_groups(record, ["new"], n_obs=1, unseen_groups="raise")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: groups not seen in training: 'new'; ...
    """
    if unseen_groups not in UNSEEN_GROUPS:
        raise InvalidSettingError(
            f"unseen_groups must be one of {', '.join(map(repr, UNSEEN_GROUPS))}, "
            f"got {unseen_groups!r}"
        )
    if record is None:
        if groups is not None:
            raise InvalidInputError(
                "this model was fitted without groups, so it cannot use groups=; drop the "
                "argument or refit with build_model(..., groups=labels)"
            )
        return np.zeros(n_obs, dtype=np.int64), None
    if groups is None:
        if is_grouped(record):
            new_group = ("for a new group pass any unused label (it gets the population "
                         "network)" if record["pooling"] == "partial" else
                         "it has no population network, so only the fitted groups can be "
                         "predicted")
            raise InvalidInputError(
                f"this model was fitted with pooling={record['pooling']!r}, so predictions need "
                f"groups= (one label per row of X); {new_group}"
            )
        return np.zeros(n_obs, dtype=np.int64), None
    labels = check_groups(groups, n_obs=n_obs)
    lookup = {label: code for code, label in enumerate(record_labels(record))}
    codes = np.array([lookup.get(v, -1) for v in labels], dtype=np.int64)
    if unseen_groups == "raise" and (codes < 0).any():
        unseen = _ordered_labels([v for v, c in zip(labels, codes, strict=False) if c < 0])
        fix = ("; a model fitted with pooling='none' has no population network, so only its "
               "fitted groups can be predicted; fit with pooling='partial' to predict new groups"
               if record["pooling"] == "none" else
               ", or pass unseen_groups='population' to predict them from the population")
        raise InvalidInputError(
            f"groups not seen in training: {_shown(unseen)}; group-only prediction needs a group "
            f"the model was fitted on (known: {_shown(record_labels(record))}){fix}"
        )
    return codes, labels


def group_batches(posterior, labels, codes: np.ndarray, *, max_draws: int | None,
                  random_seed: int = 0) -> Iterator[tuple[np.ndarray, list, list | None]]:
    """(rows, weights, biases) per group present: draws of the network each set of rows uses.

    A group not seen in training (code -1) gets, per draw, new weights w + group_sd · z with
    fresh z ~ N(0, 1) (partial pooling): the predictive of a new group, wider than a known
    group's. The z are seeded by (`random_seed`, label), so the same label gets the same draws
    in every call.

    Parameters
    ----------
    posterior : Posterior
        A grouped fit (partial or no pooling).
    labels : list
        The new rows' labels (from `locate_groups`).
    codes : numpy.ndarray
        Their codes (from `locate_groups`).
    max_draws : int or None
        Thin the draws to this many.
    random_seed : int, default 0
        Seeds the new groups' draws.

    Yields
    ------
    rows : numpy.ndarray
        Positions of the rows that share the draws.
    weights : list of numpy.ndarray
        `weights[i]`: `(S, fan_in, fan_out)`.
    biases : list of numpy.ndarray or None
        `biases[i]`: `(S, fan_out)`.

    Raises
    ------
    InvalidInputError
        A new group under pooling="none".

    Examples
    --------
    `grouped_posterior` holds random draws of a partially pooled network over g00, g01, g02:

    >>> codes, labels = locate_groups(grouped_posterior.groups, ["g01", "new", "g01"], n_obs=3,
    ...                               unseen_groups="population")
    >>> [(rows.tolist(), weights[0].shape)
    ...  for rows, weights, biases in group_batches(grouped_posterior, labels, codes,
    ...                                             max_draws=None)]
    [([1], (20, 2, 3)), ([0, 2], (20, 2, 3))]
    """
    record = posterior.groups
    n_layers = posterior.spec.n_layers
    index = posterior.thin_index(max_draws)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        if code >= 0:
            weights = [posterior.stacked(group_weight_name(name), index)[:, code]
                       for name in posterior.spec.weight_names]
            biases = ([posterior.stacked(group_bias_name(i), index)[:, code]
                       for i in range(n_layers)] if posterior.spec.bias else None)
            yield rows, weights, biases
            continue
        unseen = _ordered_labels([labels[r] for r in rows])
        if record["pooling"] == "none":
            raise InvalidInputError(
                f"groups not seen in training: {_shown(unseen)}; with "
                "pooling='none' groups share nothing, so a new group's network is unknown; "
                "fit with pooling='partial' to predict new groups from the population"
            )
        for label in unseen:
            label_rows = rows[[labels[r] == label for r in rows]]
            yield (label_rows,
                   *_new_group_draws(posterior, index, _label_seed(random_seed, label)))


def _shown(labels: list) -> str:
    """The first ten labels, quoted as Python shows them (so "1" and 1 differ)."""
    return shown_values(map(repr, labels), limit=10)


def _label_seed(random_seed: int, label) -> list[int]:
    return [int(random_seed), zlib.crc32(repr(_label_to_json(label)).encode())]


def _new_group_draws(posterior, index, seed) -> tuple[list, list | None]:
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for slot in posterior.spec.weight_slots:
        spread = posterior.stacked(group_sd_name(slot.key), index)[:, None, None]
        population = posterior.stacked(slot.name, index)
        weights.append(population + spread * rng.standard_normal(population.shape))
        if posterior.spec.bias and slot.name != SKIP_WEIGHT:
            population = posterior.stacked(bias_name(slot.prior_layer), index)
            biases.append(population + spread[:, :, 0] * rng.standard_normal(population.shape))
    return weights, (biases if posterior.spec.bias else None)


def split_group_column(X, groups):
    """Take the group column out of X when `groups` names one: lets users write groups="store".

    Parameters
    ----------
    X : array-like or pandas.DataFrame
        The features.
    groups : str, sequence or None
        A column name of the DataFrame X, or the labels themselves.

    Returns
    -------
    X : array-like or pandas.DataFrame
        Without the column when `groups` named one; otherwise unchanged.
    groups : sequence or None
        The column's values, or `groups` unchanged.

    Raises
    ------
    InvalidInputError
        `groups` names a column X does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x0": [1.0, 2.0], "store": ["north", "south"]})
    >>> features, groups = split_group_column(X, "store")
    >>> list(features.columns), groups.tolist()
    (['x0'], ['north', 'south'])
    """
    columns = getattr(X, "columns", None)
    if isinstance(groups, str) and columns is not None:
        if groups not in columns:
            raise InvalidInputError(
                f"groups={groups!r} is not a column of X (columns: "
                f"{', '.join(map(str, list(columns)[:10]))}); pass the column name or the labels"
            )
        return X.drop(columns=[groups]), X[groups]
    return X, groups
