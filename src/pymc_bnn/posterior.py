"""The fitted result: posterior draws as ArviZ data and the network's forward pass over them.

Prediction never goes through `pm.sample_posterior_predictive`: it evaluates the network for
every draw directly, in chunks of observations so memory stays bounded, and returns the
distribution's mean per draw (e.g. p for Bernoulli), from which all summaries follow.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from pymc_bnn import groups as grouping
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.likelihoods import Likelihood
from pymc_bnn.network import (
    NetworkSpec,
    bias_name,
    forward,
    forward_draws_last,
    forward_over_draws,
    uses_draws_last,
    weight_name,
)
from pymc_bnn.priors import Prior
from pymc_bnn.validation import check_features

# Floats held at once per chunk of the forward pass (draws × obs × widest layer): ~128 MB.
_CHUNK_FLOATS = 16_000_000
# The fused JAX path holds float32s: (draws × obs × widest layer) per chunk, ~128 MB.
_JAX_CHUNK_FLOATS = 32_000_000


@dataclass(frozen=True)
class Posterior:
    """A fitted BNN: spec, likelihood and prior it was built with, draws, and how it was fitted.

    idata: ArviZ DataTree; its `posterior` group holds `w_0 … w_L` (chain, draw, fan_in, fan_out)
    and, with biases, `b_0 … b_L`. elbo: ELBO history for VI engines (nats, higher is better).
    preprocessing: JSON-able record of what was done to the data before fitting (e.g. target
    standardisation), so predictions come back in the user's units.
    likelihood_params: names of the likelihood's own posterior variables (e.g. "sigma").
    groups: JSON-able record of a hierarchical fit (pooling, group labels, counts; see
    `pymc_bnn.groups`), None for an ordinary network. Grouped posteriors hold `w_i_group`
    (chain, draw, group, fan_in, fan_out); with partial pooling also the population `w_i` and
    the spreads `group_sd_i`. Their predictions take `groups=` (one label per row of X).
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
    preprocessing: dict = field(default_factory=dict)
    likelihood_params: tuple[str, ...] = ()
    groups: dict | None = None

    @property
    def n_draws(self) -> int:
        post = self.idata["posterior"]
        return int(post.sizes["chain"] * post.sizes["draw"])

    def parameter_draws(self, max_draws: int | None = None) -> tuple[list[np.ndarray], list | None]:
        """Weights (S, fan_in, fan_out) and biases (S, fan_out) per layer, chains stacked.

        `max_draws` thins evenly to at most that many draws. A partial-pooling fit gives its
        population weights (a typical group); a pooling="none" fit has no single network.
        """
        if self.groups and self.groups["pooling"] == "none":
            raise InvalidSettingError(
                "this fit has one network per group (pooling='none') and no population network; "
                "read w_i_group from posterior.idata, or predict with groups="
            )
        index = self._thin_index(max_draws)
        weights = [self._stacked(weight_name(i), index) for i in range(self.spec.n_layers)]
        biases = ([self._stacked(bias_name(i), index) for i in range(self.spec.n_layers)]
                  if self.spec.bias else None)
        return weights, biases

    def _thin_index(self, max_draws: int | None) -> np.ndarray | None:
        if max_draws is not None and max_draws < self.n_draws:
            return np.linspace(0, self.n_draws - 1, int(max_draws)).round().astype(int)
        return None

    def _stacked(self, name: str, index: np.ndarray | None) -> np.ndarray:
        """Draws of posterior variable `name` with chain and draw merged: (S, ...)."""
        values = np.asarray(self.idata["posterior"][name].values, dtype=np.float64)
        values = values.reshape(-1, *values.shape[2:])
        return values if index is None else values[index]

    def network_output(self, X, *, groups=None, unseen_groups: str = "population",
                       max_draws: int | None = None) -> np.ndarray:
        """Pre-link output per draw, (S, n_obs, n_outputs), computed in chunks of observations.

        Hierarchical fits: `groups` gives each row's group (or names a column of a DataFrame X).
        A known group uses its own weights; a group not seen in training uses new weights drawn
        from the population per draw (partial pooling), or raises InvalidInputError naming it
        with `unseen_groups="raise"` (group-only prediction).
        """
        X, groups = grouping.split_group_column(X, groups)
        X = self._checked_features(X)
        codes, labels = grouping.locate_groups(self.groups, groups, n_obs=X.shape[0],
                                               unseen_groups=unseen_groups)
        if not grouping.is_grouped(self.groups):
            weights, biases = self.parameter_draws(max_draws)
            return self._forward_in_chunks(X, weights, biases)
        out = None
        for rows, weights, biases in grouping.group_batches(self, labels, codes,
                                                            max_draws=max_draws):
            part = self._forward_in_chunks(X[rows], weights, biases)
            if out is None:
                out = np.empty((part.shape[0], X.shape[0], self.spec.n_outputs))
            out[:, rows] = part
        return out

    def _checked_features(self, X) -> np.ndarray:
        """X as checked float64 (n_obs, n_inputs); a DataFrame must have the fit's column names
        unless the fit had none (the generated names x0, x1, ...)."""
        generated = self.feature_names == tuple(f"x{i}" for i in range(self.spec.n_inputs))
        return check_features(X, n_features=self.spec.n_inputs,
                              feature_names=None if generated else self.feature_names)

    def _forward_in_chunks(self, X: np.ndarray, weights, biases) -> np.ndarray:
        n_draws = weights[0].shape[0]
        out = np.empty((n_draws, X.shape[0], self.spec.n_outputs))
        for rows in _chunks(X.shape[0], n_draws, max(self.spec.widths)):
            out[:, rows] = forward(self.spec, X[rows], weights, biases)
        return out

    def likelihood_param_draws(self, max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Posterior draws (S, ...) of the likelihood's own variables (e.g. a noise scale)."""
        return {name: self._stacked(name, self._thin_index(max_draws))
                for name in self.likelihood_params}

    def predictive_draws(self, X, *, groups=None, unseen_groups: str = "population",
                         max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution at X, in the user's units.

        Classifiers: {"probs": (S, n_obs, n_classes)}; regression: {"mean", "scale", ...}
        each (S, n_obs). See `Likelihood.predictive_params`; `groups`, `unseen_groups` as for
        `network_output`.
        """
        eta = self.network_output(X, groups=groups, unseen_groups=unseen_groups,
                                  max_draws=max_draws)
        params = self.likelihood_param_draws(max_draws)
        return self.likelihood.predictive_params(eta, params, self.preprocessing)

    def mean_draws(self, X, *, groups=None, unseen_groups: str = "population",
                   max_draws: int | None = None) -> np.ndarray:
        """The predictive mean per draw: P(y=1) (S, n_obs) for binary, class probabilities
        (S, n_obs, n_classes) for multiclass, E[y] (S, n_obs) for regression."""
        return _mean_of(self.predictive_draws(X, groups=groups, unseen_groups=unseen_groups,
                                              max_draws=max_draws))

    def predict(self, X, *, groups=None, unseen_groups: str = "population",
                max_draws: int | None = None) -> xr.Dataset:
        """Posterior-predictive mean and its spread over draws, per observation.

        Returns a Dataset with `mean` (E[p] over draws: the predictive probability for
        classifiers) and `std` (sd of p over draws: the weight uncertainty), dims ("obs", ...).
        Computed by a fused, jitted JAX pass over draws in float32, chunk by chunk (memory stays
        bounded); float32 rounding (~1e-7 relative) is far below the Monte Carlo error of the
        draws. `mean_draws` gives the per-draw values in float64. Hierarchical fits need
        `groups` (see `network_output`); their predictions are computed group by group in
        NumPy (float64).
        """
        if grouping.is_grouped(self.groups):
            draws = self.mean_draws(X, groups=groups, unseen_groups=unseen_groups,
                                    max_draws=max_draws)
            mean, std = draws.mean(axis=0), draws.std(axis=0)
        else:
            X, groups = grouping.split_group_column(X, groups)
            X = self._checked_features(X)
            grouping.locate_groups(self.groups, groups, n_obs=X.shape[0],
                                   unseen_groups=unseen_groups)  # validates groups
            mean, std = self._reduce_over_draws(X, max_draws)
        dims = ["obs", "class"][: mean.ndim]
        return xr.Dataset({"mean": (dims, mean), "std": (dims, std)},
                          coords={"obs": np.arange(mean.shape[0])})

    def _reduce_over_draws(self, X: np.ndarray, max_draws: int | None):
        """(mean, sd) over draws of `mean_draws`, via the jitted `_moments_function`."""
        import jax.numpy as jnp

        weights, biases = self.parameter_draws(max_draws)
        n_draws = weights[0].shape[0]
        key = (self.spec, self.likelihood, json.dumps(self.preprocessing, sort_keys=True))
        fused = hasattr(self.likelihood, "predictive_mean")  # else: a user's own likelihood
        draws_last = fused and uses_draws_last(self.spec)
        if draws_last:  # transposed here, in NumPy: inside the jitted function it is 5x slower
            weights = [np.moveaxis(w, 0, -1) for w in weights]
            biases = None if biases is None else [np.moveaxis(b, 0, -1) for b in biases]
        as32 = lambda a: jnp.asarray(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        args = ([as32(w) for w in weights], None if biases is None else [as32(b) for b in biases],
                {} if fused else {k: as32(v) for k, v in
                                  self.likelihood_param_draws(max_draws).items()})
        try:
            moments = _moments_function(*key, draws_last)
        except TypeError:  # a user's likelihood object that is not hashable: compile uncached
            moments = _moments_function.__wrapped__(*key, draws_last)
        size = _jax_chunk_rows(X.shape[0], n_draws, max(self.spec.widths))
        means, sds = [], []
        for start in range(0, X.shape[0], size):
            rows = X[start:start + size]
            n_rows = rows.shape[0]
            if n_rows < size:  # pad the last chunk so every call has one shape: no recompiling
                rows = np.concatenate([rows, np.zeros((size - n_rows, rows.shape[1]))])
            mean, sd = moments(as32(rows), *args)
            means.append(np.asarray(mean, dtype=np.float64)[:n_rows])
            sds.append(np.asarray(sd, dtype=np.float64)[:n_rows])
        return np.concatenate(means), np.concatenate(sds)

    def uncertainty(self, X, *, level=0.9, **options) -> xr.Dataset:
        """Per-point predictive summary with aleatoric and epistemic parts, dims ("obs", ...).

        See `pymc_bnn.uncertainty.predictive_summary` for the variables and `options`.
        """
        # uncertainty is a higher step of the flow: import on use, never at import time
        from pymc_bnn.uncertainty import predictive_summary

        return predictive_summary(self, X, level=level, **options)


def _mean_of(draws: dict):
    """The predictive mean per draw from `predictive_params` output (see `mean_draws`)."""
    if "probs" in draws:
        probs = draws["probs"]
        return probs[..., 1] if probs.shape[-1] == 2 else probs
    return draws["mean"]


@functools.lru_cache(maxsize=32)
def _moments_function(spec: NetworkSpec, likelihood: Likelihood, preprocessing_json: str,
                      draws_last: bool):
    """A jitted f(X, weights, biases, params) -> (mean, sd) over draws of the predictive mean.

    draws_last: weights come as (fan_in, fan_out, S) and the reduction runs over the
    contiguous draws axis (see `forward_draws_last`). Likelihoods without `predictive_mean`
    (a user's own) go through `predictive_params` and need `params`. Cached per (spec,
    likelihood, preprocessing, layout) so repeated predictions never recompile.
    """
    import jax

    from pymc_bnn.jax_setup import use_compilation_cache

    use_compilation_cache()

    preprocessing = json.loads(preprocessing_json)

    def moments(X, weights, biases, params):
        if draws_last:  # eta (n, S, out): reduce over axis 1
            values = likelihood.predictive_mean(
                forward_draws_last(spec, X, weights, biases), preprocessing)
            axis = 1
        else:  # eta (S, n, out)
            eta = forward_over_draws(spec, X, weights, biases)
            values = (likelihood.predictive_mean(eta, preprocessing)
                      if hasattr(likelihood, "predictive_mean")
                      else _mean_of(likelihood.predictive_params(eta, params, preprocessing)))
            axis = 0
        mean = values.mean(axis=axis)
        return mean, values.std(axis=axis)

    return jax.jit(moments)


def _jax_chunk_rows(n_obs: int, n_draws: int, width: int) -> int:
    """Rows per call of the fused prediction: memory-bounded, and a power of two when fewer
    rows are asked for, so data sets of different sizes share a few compiled shapes."""
    size = max(1, _JAX_CHUNK_FLOATS // max(1, n_draws * width))
    return min(size, max(8, 1 << (n_obs - 1).bit_length()))


def _chunks(n_obs: int, n_draws: int, width: int):
    size = max(1, _CHUNK_FLOATS // max(1, n_draws * width))
    for start in range(0, n_obs, size):
        yield slice(start, min(n_obs, start + size))
