"""Which of a model's variables the `laplace` engine's Gaussian covers, and where they sit in z.

Also what of a model it refuses (`parameter_layout`, `refuse_potentials_on`) or holds at the MAP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.network import SKIP_WEIGHT, bias_name, weight_name


@dataclass(frozen=True)
class ParameterLayout:
    """Where the network's parameters sit in the flat unconstrained vector z (D,).

    Attributes
    ----------
    network : numpy.ndarray
        Indices of every weight and bias.
    base_precision : numpy.ndarray
        Their prior precision at s = 1 (fan_in for fan-in-scaled weights, else 1), so the
        prior precision is base / s^2.
    model_precision : numpy.ndarray
        What the model's own prior says (base / sigma^2).
    last : numpy.ndarray
        Indices of the output layer (last weights, last bias, skip path).
    last_base_precision : numpy.ndarray
        Their base prior precision.
    last_names : tuple of str
        Those variables, in order.

    Examples
    --------
    See `parameter_layout`, which makes one.

    >>> import numpy as np
    >>> layout = ParameterLayout(network=np.arange(3), base_precision=np.ones(3),
    ...                          model_precision=np.ones(3), last=np.array([2]),
    ...                          last_base_precision=np.ones(1), last_names=("w_0",))
    >>> layout.last_names
    ('w_0',)
    """

    network: np.ndarray
    base_precision: np.ndarray
    model_precision: np.ndarray
    last: np.ndarray
    last_base_precision: np.ndarray
    last_names: tuple[str, ...]


def parameter_layout(bnn, compiled) -> ParameterLayout:
    """The `ParameterLayout` of `bnn`'s network in the compiled model's flat vector.

    Parameters
    ----------
    bnn : BNNModel
        Built by `build_model` with a Normal prior of fixed scale, ungrouped or completely
        pooled.
    compiled : CompiledModel
        `compile_model(bnn.model)`.

    Returns
    -------
    ParameterLayout

    Raises
    ------
    InvalidSettingError
        Another prior, a learned scale, a grouped network, or a model without the network's
        variables.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> layout = parameter_layout(tiny_model, compile_model(tiny_model.model))
    >>> layout.network, layout.last, layout.last_names
    (array([0, 1, 2, 3, 4, 5, 6, 7, 8]), array([6, 7, 8]), ('w_1',))
    >>> layout.base_precision  # fan-in: 2 inputs, then 3 hidden units
    array([2., 2., 2., 2., 2., 2., 3., 3., 3.])
    """
    spec, prior = bnn.spec, bnn.prior
    if getattr(prior, "name", None) != "normal" or getattr(prior, "learn_scale", None) is not None:
        raise InvalidSettingError(
            "the laplace engine needs a Normal prior with a fixed scale (it chooses the scale "
            "itself by the marginal likelihood); build the model with prior='normal' or "
            f"NormalPrior(sigma=...), or use method='advi' for the {getattr(prior, 'name', prior)}"
            " prior")
    if bnn.groups is not None and bnn.groups.get("pooling") not in (None, "complete"):
        raise InvalidSettingError(
            "the laplace engine does not fit grouped (hierarchical) networks yet; use "
            "method='advi' or 'nuts' with groups, or pooling='complete'")
    offsets = value_offsets(compiled)
    network, base, last, last_base, last_names = [], [], [], [], []
    final = spec.n_layers - 1
    scaling = bool(prior.fan_in_scaling)
    for slot in spec.weight_slots:
        names = [(slot.name, float(slot.shape[0]) if scaling else 1.0)]
        if spec.bias and slot.name != SKIP_WEIGHT:
            names.append((bias_name(slot.prior_layer), 1.0))
        for name, precision in names:
            if name not in offsets:
                raise InvalidSettingError(
                    f"the model has no free variable {name!r}: the laplace engine needs the "
                    "network built by build_model")
            network.append(offsets[name])
            base.append(np.full(offsets[name].size, precision))
            if name in (weight_name(final), bias_name(final), SKIP_WEIGHT):
                last.append(offsets[name])
                last_base.append(base[-1])
                last_names.append(name)
    base_precision = np.concatenate(base)
    return ParameterLayout(network=np.concatenate(network), base_precision=base_precision,
                           model_precision=base_precision / float(prior.sigma) ** 2,
                           last=np.concatenate(last),
                           last_base_precision=np.concatenate(last_base),
                           last_names=tuple(last_names))


def network_names(bnn) -> list[str]:
    """The network's weight and bias variables.

    Parameters
    ----------
    bnn : BNNModel

    Returns
    -------
    list of str
        Weights first (`NetworkSpec.weight_names`), then one bias per layer where the network
        has biases.

    Examples
    --------
    >>> network_names(tiny_model)  # built without biases (build_model's default)
    ['w_0', 'w_1']
    """
    return [*bnn.spec.weight_names,
            *(bias_name(i) for i in range(bnn.spec.n_layers) if bnn.spec.bias)]


def refuse_potentials_on(bnn, names) -> None:
    """Refuse a Potential of the user's that depends on a parameter the Gaussian covers.

    The Gaussian's curvature is the log-likelihood's and its prior precision the Normal
    prior's, so such a Potential would shape the MAP but not the spread around it (a pin of sd
    0.05 on the output bias gave draws of sd 1). A Potential on the hidden layers only, which
    sit at the MAP, is kept: the MAP sees it.

    Parameters
    ----------
    bnn : BNNModel
    names : iterable of str
        The variables the Gaussian covers (`ParameterLayout.last_names`, or `network_names`
        with hessian="full").

    Raises
    ------
    InvalidSettingError
        A `pm.Potential` of the model depends on one of `names`.

    Examples
    --------
    >>> refuse_potentials_on(tiny_model, ("w_1", "b_1")) is None  # no Potential: nothing to say
    True
    """
    from pytensor.graph.traversal import ancestors

    model = bnn.model
    covered = {model[name]: name for name in names if name in model.named_vars}
    for potential in model.potentials:
        found = [covered[v] for v in ancestors([potential]) if v in covered]
        if found:
            raise InvalidSettingError(
                f"the model has a Potential {potential.name!r} on {', '.join(sorted(found))}, "
                "which the laplace engine's Gaussian covers but cannot include (its curvature "
                "is the likelihood's, its prior the Normal's); fit this model with "
                "method='nuts', 'advi' or 'fullrank_advi', which use its whole log density")


def held_at_map_warnings(bnn) -> list[str]:
    """The warning that free variables the user added to the model sit at their MAP.

    laplace gives only the network (its output layer, or every layer with hessian='full') a
    distribution; the likelihood's own variables sit at the MAP, as documented, and so do
    variables added inside `with bnn.model:`, whose draws are then all equal.

    Parameters
    ----------
    bnn : BNNModel

    Returns
    -------
    list of str
        One warning naming the added variables, or none.

    Examples
    --------
    >>> held_at_map_warnings(tiny_model)  # the model build_model made: nothing added
    []
    """
    own = set(network_names(bnn)) | set(bnn.likelihood_params)
    added = [rv.name for rv in bnn.model.free_RVs if rv.name not in own]
    if not added:
        return []
    return [f"laplace: {', '.join(added)} {'is' if len(added) == 1 else 'are'} held at "
            "its MAP in every draw (the laplace engine gives only the network's weights a "
            "distribution); for a posterior of the variables you added, fit with "
            "method='advi', 'fullrank_advi' or 'nuts'"]


def value_offsets(compiled) -> dict:
    """Name -> indices of that value variable in the flat vector z.

    Parameters
    ----------
    compiled : CompiledModel
        `compile_model(bnn.model)`.

    Returns
    -------
    dict
        Value variable name → `numpy.ndarray` of its indices in z, in the compiled order.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> offsets = value_offsets(compile_model(tiny_model.model))
    >>> offsets["w_1"]
    array([6, 7, 8])
    """
    offsets, start = {}, 0
    for name, shape in zip(compiled.value_names, compiled.value_shapes, strict=True):
        size = int(np.prod(shape))
        offsets[name] = np.arange(start, start + size)
        start += size
    return offsets
