"""Prior predictive checks: the functions a prior implies before seeing any data.

Weights (and the likelihood's own variables) are drawn from the model's prior by forward
sampling, then pushed through the same NumPy forward pass and `predictive_params` that
prediction uses, so the answer is in the user's units and comparable with the posterior.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.model.network import forward


def prior_draws(bnn, *, draws: int = 500, random_seed: int = 0) -> dict[str, np.ndarray]:
    """Prior draws (S, ...) of every weight, bias and likelihood variable of `bnn`, by name.

    Parameters
    ----------
    bnn : BNNModel
        The model.
    draws : int, default 500
        S.
    random_seed : int, default 0
        Seeds the draws.

    Returns
    -------
    dict
        Name → float64 array `(S, *shape)`.

    Raises
    ------
    InvalidSettingError
        `draws` below 1.

    Examples
    --------
    >>> draws = prior_draws(tiny_model, draws=100)
    >>> {name: value.shape for name, value in draws.items()}
    {'w_0': (100, 2, 3), 'w_1': (100, 3, 1)}
    """
    import pymc as pm

    if int(draws) < 1:
        raise InvalidSettingError(f"draws must be at least 1, got {draws}")
    names = [*bnn.weight_names, *bnn.bias_names, *bnn.likelihood_params]
    values = pm.draw([bnn.model[name] for name in names], draws=int(draws),
                     random_seed=random_seed)
    return {name: np.asarray(value, dtype=np.float64)
            for name, value in zip(names, values, strict=False)}


def prior_predictive(bnn, X=None, *, draws: int = 500, random_seed: int = 0,
                     include_output: bool = False) -> dict[str, np.ndarray]:
    """Per-draw predictive parameters at X under the prior, in the user's units.

    Parameters
    ----------
    bnn : BNNModel
        The model.
    X : array-like, optional
        `(n_obs, n_features)`; default the training inputs.
    draws : int, default 500
        Prior draws.
    random_seed : int, default 0
        Seeds the draws.
    include_output : bool, default False
        Also return "output": the pre-link network output `(S, n_obs, n_outputs)`, whose
        spread is what fan-in scaling keeps in check.

    Returns
    -------
    dict
        The same keys as `Posterior.predictive_draws` (e.g. {"probs": (S, n_obs, K)} or
        {"mean", "scale"} (S, n_obs)).

    Examples
    --------
    >>> prior = prior_predictive(tiny_model, tiny_data.X_test, draws=100, include_output=True)
    >>> prior["probs"].shape, prior["output"].shape
    ((100, 18, 2), (100, 18, 1))
    """
    X = (np.asarray(bnn.model["X"].get_value()) if X is None
         else check_features(X, n_features=bnn.spec.n_inputs))
    sampled = prior_draws(bnn, draws=draws, random_seed=random_seed)
    weights = [sampled[name] for name in bnn.weight_names]
    biases = [sampled[name] for name in bnn.bias_names] or None
    eta = forward(bnn.spec, X, weights, biases)
    params = {name: sampled[name] for name in bnn.likelihood_params}
    result = bnn.likelihood.predictive_params(eta, params, bnn.preprocessing)
    if include_output:
        result["output"] = eta
    return result
