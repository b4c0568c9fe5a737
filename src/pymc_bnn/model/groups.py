"""Hierarchical BNNs: pooling of weights across groups, the grouped forward pass, group draws.

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
once per group present in the new data (`group_batches`), which keeps memory small. The labels
themselves (checked, encoded, recorded, located for new rows) are `pymc_bnn.model.group_labels`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError

# The labels moved to group_labels (which imports nothing from here); they still import from
# this module, the face of grouping, without a warning.
from pymc_bnn.model.group_labels import (  # noqa: F401 (re-exports)
    UNSEEN_GROUPS,
    check_groups,
    encode_groups,
    group_coords,
    group_record,
    is_grouped,
    label_to_json,
    locate_groups,
    ordered_labels,
    record_labels,
    shown_labels,
    split_group_column,
)
from pymc_bnn.model.network import (
    SKIP_WEIGHT,
    NetworkSpec,
    activation_function,
    bias_name,
    split_skip_weights,
)
from pymc_bnn.model.priors import fan_in_factor

POOLINGS = ("partial", "complete", "none")
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
        unseen = ordered_labels([labels[r] for r in rows])
        if record["pooling"] == "none":
            raise InvalidInputError(
                f"groups not seen in training: {shown_labels(unseen)}; with "
                "pooling='none' groups share nothing, so a new group's network is unknown; "
                "fit with pooling='partial' to predict new groups from the population"
            )
        for label in unseen:
            label_rows = rows[[labels[r] == label for r in rows]]
            yield (label_rows,
                   *_new_group_draws(posterior, index, _label_seed(random_seed, label)))


def _label_seed(random_seed: int, label) -> list[int]:
    return [int(random_seed), zlib.crc32(repr(label_to_json(label)).encode())]


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
