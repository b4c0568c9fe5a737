"""One network's draws read from a posterior: the population's or a group's, thinned.

`network_draws` returns the weights, biases and likelihood variables of one network (the
population network, the one network of a completely pooled fit, or a group's own), thinned
evenly within each chain so that R-hat keeps its chains; `pymc_bnn.posterior.stability`
measures how stable that network is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.model import group_labels
from pymc_bnn.model import groups as grouping
from pymc_bnn.model.network import bias_name
from pymc_bnn.validation import whole_number

__all__ = ["NetworkDraws", "network_draws"]


@dataclass(frozen=True)
class NetworkDraws:
    """Draws of one network with their chain structure.

    Attributes
    ----------
    weights : list of numpy.ndarray
        `weights[i]`: `(C, D, fan_in, fan_out)` in `spec.weight_names` order.
    biases : list of numpy.ndarray or None
        `biases[i]`: `(C, D, fan_out)`.
    params : dict
        The likelihood's own variables, each `(C, D, ...)`.
    network : str
        Which network: "population" or "group <label>".

    Examples
    --------
    See `network_draws`, which returns one.

    >>> draws = network_draws(fitted, max_draws=10)
    >>> draws.network, draws.biases, draws.params
    ('population', None, {})
    """

    weights: list
    biases: list | None
    params: dict
    network: str


def network_draws(posterior, *, group=None, max_draws: int | None = None) -> NetworkDraws:
    """The draws of `posterior`'s network, at most `max_draws` in all.

    Thinned evenly within each chain, so R-hat keeps its chains.

    Parameters
    ----------
    posterior : Posterior
    group : label, optional
        For a grouped fit, that group's network; None: the population network (partial
        pooling) or the one network (complete pooling). A pooling="none" fit has no population
        network and needs `group`.
    max_draws : int, optional
        The most draws over all chains.

    Returns
    -------
    NetworkDraws

    Raises
    ------
    InvalidInputError
        A group the fit does not have.
    InvalidSettingError
        No `group` for a pooling="none" fit, or `max_draws` not a whole number of at least
        the number of chains.

    Examples
    --------
    >>> [w.shape for w in network_draws(fitted, max_draws=10).weights]  # 1 chain of 10
    [(1, 10, 2, 3), (1, 10, 3, 1)]
    >>> network_draws(grouped_posterior, group="g01").network
    'group g01'
    """
    post = posterior.idata["posterior"]
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    if max_draws is not None:
        max_draws = whole_number(max_draws, "max_draws", minimum=1)
        if max_draws < n_chains:
            raise InvalidSettingError(
                f"max_draws={max_draws} is fewer than the fit's {n_chains} chains, and draws "
                f"are thinned within each chain; pass max_draws of at least {n_chains}")
    keep = n_draws if max_draws is None else min(n_draws, max_draws // n_chains)
    index = np.linspace(0, n_draws - 1, keep).round().astype(int)
    spec, record = posterior.spec, posterior.groups

    def read(name, code=None):
        values = np.asarray(post[name].values, dtype=np.float64)[:, index]
        return values if code is None else values[:, :, code]

    code, network = None, "population"
    if group is not None:
        if not record:
            raise InvalidInputError("this model was fitted without groups, so it has no group "
                                    f"{group!r}; drop group=")
        labels = group_labels.record_labels(record)
        if group not in labels:
            raise InvalidInputError(f"group {group!r} was not in the fit; known groups: "
                                    f"{', '.join(map(repr, labels[:10]))}")
        code, network = labels.index(group), f"group {group}"
    elif record and record["pooling"] == "none":
        raise InvalidSettingError("this fit has one network per group (pooling='none') and no "
                                  "population network; pass group= (one of the fitted labels)")
    grouped = code is not None and record["pooling"] != "complete"
    w_name = grouping.group_weight_name if grouped else (lambda name: name)
    b_name = grouping.group_bias_name if grouped else bias_name
    weights = [read(w_name(name), code if grouped else None) for name in spec.weight_names]
    biases = ([read(b_name(i), code if grouped else None) for i in range(spec.n_layers)]
              if spec.bias else None)
    params = {name: read(name) for name in posterior.likelihood_params}
    return NetworkDraws(weights, biases, params, network)
