"""The fitted result: posterior draws as ArviZ data and the network's forward pass over them.

Prediction never goes through `pm.sample_posterior_predictive`: it evaluates the network for
every draw directly, in chunks of observations so memory stays bounded, and returns the
distribution's mean per draw (e.g. p for Bernoulli), from which all summaries follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from pymc_bnn.likelihoods import Likelihood
from pymc_bnn.network import NetworkSpec, bias_name, forward, weight_name
from pymc_bnn.priors import Prior
from pymc_bnn.validation import check_features

# Floats held at once per chunk of the forward pass (draws × obs × widest layer): ~128 MB.
_CHUNK_FLOATS = 16_000_000


@dataclass(frozen=True)
class Posterior:
    """A fitted BNN: spec, likelihood and prior it was built with, draws, and how it was fitted.

    idata: ArviZ DataTree; its `posterior` group holds `w_0 … w_L` (chain, draw, fan_in, fan_out)
    and, with biases, `b_0 … b_L`. elbo: ELBO history for VI engines (nats, higher is better).
    """

    spec: NetworkSpec
    likelihood: Likelihood
    prior: Prior
    feature_names: tuple[str, ...]
    idata: object = field(repr=False)
    method: str = ""
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    elbo: np.ndarray | None = field(default=None, repr=False)
    interrupted: bool = False
    diagnostics: dict = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        post = self.idata["posterior"]
        return int(post.sizes["chain"] * post.sizes["draw"])

    def parameter_draws(self, max_draws: int | None = None) -> tuple[list[np.ndarray], list | None]:
        """Weights (S, fan_in, fan_out) and biases (S, fan_out) per layer, chains stacked.

        `max_draws` thins evenly to at most that many draws.
        """
        post = self.idata["posterior"]
        index = None
        if max_draws is not None and max_draws < self.n_draws:
            index = np.linspace(0, self.n_draws - 1, int(max_draws)).round().astype(int)

        def stacked(name):
            values = np.asarray(post[name].values, dtype=np.float64)
            values = values.reshape(-1, *values.shape[2:])
            return values if index is None else values[index]

        weights = [stacked(weight_name(i)) for i in range(self.spec.n_layers)]
        biases = [stacked(bias_name(i)) for i in range(self.spec.n_layers)] if self.spec.bias else None
        return weights, biases

    def network_output(self, X, *, max_draws: int | None = None) -> np.ndarray:
        """Pre-link output per draw, (S, n_obs, n_outputs), computed in chunks of observations."""
        X = check_features(X, n_features=self.spec.n_inputs)
        weights, biases = self.parameter_draws(max_draws)
        n_draws = weights[0].shape[0]
        out = np.empty((n_draws, X.shape[0], self.spec.n_outputs))
        for rows in _chunks(X.shape[0], n_draws, max(self.spec.widths)):
            out[:, rows] = forward(self.spec, X[rows], weights, biases)
        return out

    def mean_draws(self, X, *, max_draws: int | None = None) -> np.ndarray:
        """The likelihood's mean per draw: for Bernoulli p = P(y=1), shape (S, n_obs)."""
        return self.likelihood.mean(self.network_output(X, max_draws=max_draws))

    def predict(self, X, *, max_draws: int | None = None) -> xr.Dataset:
        """Posterior-predictive mean and its spread over draws, per observation.

        Returns a Dataset with `mean` (E[p] over draws: the predictive probability for
        classifiers) and `std` (sd of p over draws: the weight uncertainty), dims ("obs", ...).
        """
        draws = self.mean_draws(X, max_draws=max_draws)
        dims = ["obs", "class"][: draws.ndim - 1]
        return xr.Dataset(
            {"mean": (dims, draws.mean(axis=0)), "std": (dims, draws.std(axis=0))},
            coords={"obs": np.arange(draws.shape[1])},
        )


def _chunks(n_obs: int, n_draws: int, width: int):
    size = max(1, _CHUNK_FLOATS // max(1, n_draws * width))
    for start in range(0, n_obs, size):
        yield slice(start, min(n_obs, start + size))
