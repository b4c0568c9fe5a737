"""Build the PyMC model of a Bayesian neural network from a spec, a prior, a likelihood and data.

The result is an ordinary `pm.Model` (`BNNModel.model`) that users can inspect and extend:
inputs are `pm.Data("X", dims=("obs", "feature"))`, the target `pm.Data("y_data", dims="obs")`,
weights `w_0 … w_L` with dims such as ("feature", "hidden_0"), biases `b_0 … b_L`, the pre-link
output the Deterministic-free tensor `BNNModel.output`, and the observed variable `y`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pymc_bnn.likelihoods import Likelihood, get_likelihood
from pymc_bnn.network import NetworkSpec, bias_name, forward, weight_name
from pymc_bnn.priors import Prior, get_prior
from pymc_bnn.validation import check_features, check_target


@dataclass(frozen=True)
class BNNModel:
    """A built model: the `pm.Model` plus what is needed to predict from its posterior."""

    spec: NetworkSpec
    prior: Prior
    likelihood: Likelihood
    model: object  # pm.Model
    feature_names: tuple[str, ...]
    output: object = field(repr=False)  # pre-link network output, (obs, n_outputs) tensor
    n_obs: int = 0
    preprocessing: dict = field(default_factory=dict)
    likelihood_params: tuple[str, ...] = ()

    @property
    def weight_names(self) -> list[str]:
        return [weight_name(i) for i in range(self.spec.n_layers)]

    @property
    def bias_names(self) -> list[str]:
        return [bias_name(i) for i in range(self.spec.n_layers)] if self.spec.bias else []


def build_model(
    X,
    y,
    spec: NetworkSpec | None = None,
    *,
    hidden: Sequence[int] = (5, 5),
    activation: str = "tanh",
    bias: bool = False,
    prior: str | Prior | None = None,
    likelihood: str | Likelihood = "bernoulli",
    feature_names: Sequence[str] | None = None,
) -> BNNModel:
    """Turn data (X: (n_obs, n_features), y: (n_obs,)) and a network into a `BNNModel`.

    Pass a `NetworkSpec`, or `hidden`/`activation`/`bias` to make one (any depth and widths;
    activations tanh, relu, gelu, softplus, sigmoid, identity); its `n_inputs` and `n_outputs`
    must match the data and likelihood. The defaults are the seed's architecture (two tanh
    layers of 5 units, no biases, Bernoulli likelihood) with the library's default prior
    Normal(0, 1/sqrt(fan_in)), which keeps wide layers from saturating a priori; pass
    `prior=pymc_bnn.priors.SEED_PRIOR` for the seed's unscaled Normal(0, 1).

    `prior` and `likelihood` take a name (see `pymc_bnn.priors.PRIORS`,
    `pymc_bnn.likelihoods.LIKELIHOODS`) or an object, e.g. `HorseshoePrior(global_scale=0.1)`
    or `StudentT(df=4)`.
    """
    import pymc as pm

    X = check_features(X)
    y = check_target(y, n_obs=X.shape[0])
    likelihood = get_likelihood(likelihood)
    prior = get_prior(prior)
    y, preprocessing = likelihood.prepare_target(y)
    n_outputs = likelihood.n_outputs(y)
    if spec is None:
        spec = NetworkSpec(
            n_inputs=X.shape[1], hidden=hidden, n_outputs=n_outputs,
            activation=activation, bias=bias,
        )
    elif spec.n_inputs != X.shape[1] or spec.n_outputs != n_outputs:
        from pymc_bnn.errors import InvalidSettingError

        raise InvalidSettingError(
            f"the spec expects {spec.n_inputs} inputs and {spec.n_outputs} outputs, but the data "
            f"has {X.shape[1]} features and the {likelihood.name} likelihood needs {n_outputs} "
            "outputs; build the spec from the data or leave spec=None"
        )
    check_spec = getattr(prior, "check_spec", None)
    if check_spec is not None:
        check_spec(spec)
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(X.shape[1])]
    feature_names = tuple(str(f) for f in feature_names)

    coords = {
        "obs": np.arange(X.shape[0]),
        "feature": list(feature_names),
        "output": np.arange(spec.n_outputs),
        **{f"hidden_{i}": np.arange(w) for i, w in enumerate(spec.hidden)},
    }
    with pm.Model(coords=coords) as model:
        X_data = pm.Data("X", X, dims=("obs", "feature"))
        y_data = pm.Data("y_data", y, dims="obs")
        weights, biases = [], []
        for layer, shape in enumerate(spec.weight_shapes()):
            dims = spec.layer_dims(layer)
            weights.append(prior.weight(weight_name(layer), shape=shape, dims=dims, layer=layer))
            if spec.bias:
                biases.append(
                    prior.bias(bias_name(layer), shape=(shape[1],), dims=(dims[1],), layer=layer)
                )
        eta = forward(spec, X_data, weights, biases if spec.bias else None, backend="pytensor")
        likelihood_params = likelihood.observe(eta, y_data)
    return BNNModel(
        spec=spec, prior=prior, likelihood=likelihood, model=model,
        feature_names=feature_names, output=eta, n_obs=X.shape[0],
        preprocessing=preprocessing, likelihood_params=tuple(likelihood_params),
    )
