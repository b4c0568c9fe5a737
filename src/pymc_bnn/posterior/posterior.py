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

from pymc_bnn._runtime.jax_setup import configure_devices
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model import groups as grouping
from pymc_bnn.model.likelihoods import Likelihood
from pymc_bnn.model.network import (
    NetworkSpec,
    bias_name,
    forward_draws_last,
    forward_over_draws,
    uses_draws_last,
)
from pymc_bnn.model.priors import Prior
from pymc_bnn.validation import check_features, refuse_nonfinite, whole_number

# Floats held at once per chunk of the float64 forward pass (draws × obs × widest layer): ~128 MB.
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
    `pymc_bnn.model.groups`), None for an ordinary network. Grouped posteriors hold `w_i_group`
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
        """Weights (S, fan_in, fan_out) and biases (S, fan_out) per layer, chains stacked
        (weights in `spec.weight_names` order: w_skip last when the network has one).

        `max_draws` thins evenly to at most that many draws. A partial-pooling fit gives its
        population weights (a typical group); a pooling="none" fit has no single network.
        """
        if self.groups and self.groups["pooling"] == "none":
            raise InvalidSettingError(
                "this fit has one network per group (pooling='none') and no population network; "
                "read w_i_group from posterior.idata, or predict with groups="
            )
        index = self.thin_index(max_draws)
        weights = [self.stacked(name, index) for name in self.spec.weight_names]
        biases = ([self.stacked(bias_name(i), index) for i in range(self.spec.n_layers)]
                  if self.spec.bias else None)
        return weights, biases

    def thin_index(self, max_draws: int | None) -> np.ndarray | None:
        """Indices of `max_draws` draws evenly spread over all (chain-major) draws, (max_draws,)
        int; None when every draw is kept (`max_draws` None or ≥ `n_draws`)."""
        if max_draws is not None:  # 0 draws would average nothing into NaN
            max_draws = whole_number(max_draws, "max_draws", minimum=1)
        if max_draws is not None and max_draws < self.n_draws:
            return np.linspace(0, self.n_draws - 1, int(max_draws)).round().astype(int)
        return None

    def stacked(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        """Draws of posterior variable `name` with chain and draw merged, float64 (S, ...);
        only the draws at `index` (from `thin_index`) when given."""
        values = np.asarray(self.idata["posterior"][name].values, dtype=np.float64)
        values = values.reshape(-1, *values.shape[2:])
        return values if index is None else values[index]

    _thin_index = thin_index  # the names before they were public
    _stacked = stacked

    def network_output(self, X, *, groups=None, unseen_groups: str = "population",
                       max_draws: int | None = None, _as_mean: bool = False) -> np.ndarray:
        """Pre-link output per draw, (S, n_obs, n_outputs), computed in chunks of observations.

        Hierarchical fits: `groups` gives each row's group (or names a column of a DataFrame X).
        A known group uses its own weights; a group not seen in training uses new weights drawn
        from the population per draw (partial pooling), or raises InvalidInputError naming it
        with `unseen_groups="raise"` (group-only prediction). (`_as_mean`: apply the
        likelihood's `predictive_mean` inside the jitted pass; `mean_draws` uses it.)
        """
        X, groups = grouping.split_group_column(X, groups)
        X = self._checked_features(X)
        codes, labels = grouping.locate_groups(self.groups, groups, n_obs=X.shape[0],
                                               unseen_groups=unseen_groups)
        if not grouping.is_grouped(self.groups):
            weights, biases = self.parameter_draws(max_draws)
            return self._forward_in_chunks(X, weights, biases, _as_mean)
        out = None
        for rows, weights, biases in grouping.group_batches(self, labels, codes,
                                                            max_draws=max_draws):
            part = self._forward_in_chunks(X[rows], weights, biases, _as_mean)
            if out is None:
                out = np.empty((part.shape[0], X.shape[0], *part.shape[2:]))
            out[:, rows] = part
        return out

    def _checked_features(self, X) -> np.ndarray:
        """X as checked float64 (n_obs, n_inputs); a DataFrame must have the fit's column names
        unless the fit had none (the generated names x0, x1, ...)."""
        generated = self.feature_names == tuple(f"x{i}" for i in range(self.spec.n_inputs))
        return check_features(X, n_features=self.spec.n_inputs,
                              feature_names=None if generated else self.feature_names)

    def _forward_in_chunks(self, X: np.ndarray, weights, biases, as_mean: bool = False):
        """`forward` over every draw, (S, n_obs, n_outputs) float64 (with `as_mean`: the
        likelihood's `predictive_mean` of it, (S, n_obs[, K])), by a jitted JAX pass in float64
        chunk by chunk: small networks draws-last, as in `predict` (the NumPy `forward` gives
        the same numbers several times slower)."""
        configure_devices()
        import jax

        n_draws = weights[0].shape[0]
        draws_last = uses_draws_last(self.spec)
        if draws_last:
            weights, biases = _draws_last(weights, biases)
        numbers, rest = _preprocessing_parts(self.preprocessing)
        key = (self.spec, draws_last, self.likelihood if as_mean else None,
               rest if as_mean else None)
        out = None
        with jax.enable_x64(True):
            as64 = lambda a: jax.numpy.asarray(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
            args = ([as64(w) for w in weights],
                    None if biases is None else [as64(b) for b in biases],
                    {k: as64(v) for k, v in numbers.items()})
            try:
                network = _forward_function(*key)
            except TypeError:  # a likelihood object that is not hashable: compile uncached
                network = _forward_function.__wrapped__(*key)
            size = _jax_chunk_rows(X.shape[0], n_draws, max(self.spec.widths), _CHUNK_FLOATS)
            for start in range(0, X.shape[0], size):
                values = np.asarray(network(as64(_padded(X[start:start + size], size)), *args))
                if draws_last:
                    values = np.moveaxis(values, 1, 0)  # (n, S, ...) -> (S, n, ...)
                if out is None:
                    out = np.empty((n_draws, X.shape[0], *values.shape[2:]))
                n_rows = min(size, X.shape[0] - start)
                out[:, start:start + n_rows] = values[:, :n_rows]
        refuse_nonfinite({"output": out}, obs_axis=1, what="network outputs")
        return out

    def likelihood_param_draws(self, max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Posterior draws (S, ...) of the likelihood's own variables (e.g. a noise scale)."""
        return {name: self.stacked(name, self.thin_index(max_draws))
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
        if not hasattr(self.likelihood, "predictive_mean"):  # a user's own likelihood
            return _mean_of(self.predictive_draws(X, groups=groups, unseen_groups=unseen_groups,
                                                  max_draws=max_draws))
        return self.network_output(X, groups=groups, unseen_groups=unseen_groups,
                                   max_draws=max_draws, _as_mean=True)

    def predict(self, X, *, groups=None, unseen_groups: str = "population",
                max_draws: int | None = None, out=None, progress: bool = True):
        """Posterior-predictive mean and its spread over draws, per observation.

        Returns a Dataset with `mean` (E[p] over draws: the predictive probability for
        classifiers) and `std` (sd of p over draws: the weight uncertainty), dims ("obs", ...).
        Computed by a fused, jitted JAX pass over draws in float32, chunk by chunk (memory stays
        bounded); float32 rounding (~1e-7 relative) is far below the Monte Carlo error of the
        draws. `mean_draws` gives the per-draw values in float64. Hierarchical fits need
        `groups` (see `network_output`); their predictions are computed group by group in
        NumPy (float64).

        Data larger than memory: X a Parquet file or folder (or a `pymc_bnn.data.BatchSource`)
        and `out` a .parquet or CSV path: the predictions are written batch by batch with a
        progress bar (`progress`) and the path is returned (see
        `pymc_bnn.posterior.streaming.predict_stream`).
        """
        from pymc_bnn.data import is_stream

        if is_stream(X):
            from pymc_bnn.posterior.streaming import predict_stream

            if out is None:
                raise InvalidSettingError("predicting streamed data writes a file: pass out= "
                                          "(a .parquet or .csv path)")
            return predict_stream(self, X, out=out, max_draws=max_draws, progress=progress)
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
            overflow = ~np.isfinite(mean + std).reshape(len(mean), -1).all(axis=1)
            if overflow.any():  # float32 overflowed on extreme inputs: redo in float64 (all
                draws = self.mean_draws(X, max_draws=max_draws)  # rows: errors name them right)
                mean[overflow], std[overflow] = (draws.mean(axis=0)[overflow],
                                                 draws.std(axis=0)[overflow])
        refuse_nonfinite({"mean": mean, "std": std})
        dims = ["obs", "class"][: mean.ndim]
        return xr.Dataset({"mean": (dims, mean), "std": (dims, std)},
                          coords={"obs": np.arange(mean.shape[0])})

    def _reduce_over_draws(self, X: np.ndarray, max_draws: int | None):
        """(mean, sd) over draws of `mean_draws`, via the jitted `_moments_function`."""
        configure_devices()
        import jax.numpy as jnp

        weights, biases = self.parameter_draws(max_draws)
        n_draws = weights[0].shape[0]
        numbers, rest = _preprocessing_parts(self.preprocessing)
        key = (self.spec, self.likelihood, rest)
        fused = hasattr(self.likelihood, "predictive_mean")  # else: a user's own likelihood
        draws_last = fused and uses_draws_last(self.spec)
        if draws_last:
            weights, biases = _draws_last(weights, biases)
        as32 = lambda a: jnp.asarray(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
        args = ([as32(w) for w in weights], None if biases is None else [as32(b) for b in biases],
                {} if fused else {k: as32(v) for k, v in
                                  self.likelihood_param_draws(max_draws).items()},
                {k: as32(v) for k, v in numbers.items()})
        try:
            moments = _moments_function(*key, draws_last)
        except TypeError:  # a user's likelihood object that is not hashable: compile uncached
            moments = _moments_function.__wrapped__(*key, draws_last)
        size = _jax_chunk_rows(X.shape[0], n_draws, max(self.spec.widths))
        means, sds = [], []
        for start in range(0, X.shape[0], size):
            n_rows = min(size, X.shape[0] - start)
            with np.errstate(over="ignore"):  # inf in float32: `predict` redoes it in float64
                mean, sd = moments(as32(_padded(X[start:start + size], size)), *args)
            means.append(np.asarray(mean, dtype=np.float64)[:n_rows])
            sds.append(np.asarray(sd, dtype=np.float64)[:n_rows])
        return np.concatenate(means), np.concatenate(sds)

    def uncertainty(self, X, *, level=0.9, **options) -> xr.Dataset:
        """Per-point predictive summary with aleatoric and epistemic parts, dims ("obs", ...).

        See `pymc_bnn.posterior.uncertainty.predictive_summary` for the variables and `options`.
        """
        # uncertainty is a higher step of the flow: import on use, never at import time
        from pymc_bnn.posterior.uncertainty import predictive_summary

        return predictive_summary(self, X, level=level, **options)

    def stability(self, X, y=None, **options):
        """How stable the learned network is on X: see `pymc_bnn.posterior.stability.stability`."""
        from pymc_bnn.posterior.stability import (
            stability,  # a higher step of the flow, as uncertainty
        )

        return stability(self, X, y, **options)


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
    likelihood, non-numeric preprocessing, layout) so repeated predictions never recompile;
    the numeric preprocessing comes in as `numbers` (see `_preprocessing_parts`).
    """
    import jax

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()

    rest = json.loads(preprocessing_json)

    def moments(X, weights, biases, params, numbers):
        preprocessing = {**rest, **numbers}
        if draws_last:  # eta (n, S, out): reduce over axis 1
            values = _predictive_mean(likelihood,
                                      forward_draws_last(spec, X, weights, biases), preprocessing)
            axis = 1
        else:  # eta (S, n, out)
            eta = forward_over_draws(spec, X, weights, biases)
            values = (_predictive_mean(likelihood, eta, preprocessing)
                      if hasattr(likelihood, "predictive_mean")
                      else _mean_of(likelihood.predictive_params(eta, params, preprocessing)))
            axis = 0
        mean = values.mean(axis=axis)
        return mean, values.std(axis=axis)

    return jax.jit(moments)


def _jax_chunk_rows(n_obs: int, n_draws: int, width: int, floats: int | None = None) -> int:
    """Rows per call of a jitted pass: memory-bounded (`floats` per chunk), and a power of two
    when fewer rows are asked for, so data sets of different sizes share a few compiled
    shapes."""
    size = max(1, (floats or _JAX_CHUNK_FLOATS) // max(1, n_draws * width))
    return min(size, max(8, 1 << (n_obs - 1).bit_length()))


def _draws_last(weights, biases):
    """Weights (S, fan_in, fan_out) -> (fan_in, fan_out, S), biases (S, fan_out) -> (fan_out, S):
    transposed here, in NumPy, because inside the jitted function it is 5x slower."""
    return ([np.moveaxis(w, 0, -1) for w in weights],
            None if biases is None else [np.moveaxis(b, 0, -1) for b in biases])


def _padded(rows: np.ndarray, size: int) -> np.ndarray:
    """`rows` with zero rows appended up to `size`: every call has one shape, no recompiling."""
    if rows.shape[0] == size:
        return rows
    return np.concatenate([rows, np.zeros((size - rows.shape[0], rows.shape[1]))])


@functools.lru_cache(maxsize=32)
def _forward_function(spec: NetworkSpec, draws_last: bool, likelihood: Likelihood | None,
                      preprocessing_json: str | None):
    """Jitted f(X, weights, biases) -> eta: (n, S, out) draws-last, else (S, n, out); with a
    likelihood, its `predictive_mean` of eta ((n, S[, K]) or (S, n[, K]))."""
    import jax

    from pymc_bnn._runtime.jax_setup import use_compilation_cache

    use_compilation_cache()
    network = forward_draws_last if draws_last else forward_over_draws
    if likelihood is None:
        return jax.jit(lambda X, weights, biases, numbers: network(spec, X, weights, biases))
    rest = json.loads(preprocessing_json)
    return jax.jit(lambda X, weights, biases, numbers: _predictive_mean(
        likelihood, network(spec, X, weights, biases), {**rest, **numbers}))


def _preprocessing_parts(preprocessing: dict) -> tuple[dict, str]:
    """(numbers, JSON of the rest): the jitted passes take a fit's numbers (target mean and sd,
    count offset) as arguments and compile only per the rest (e.g. class labels), so refits on
    new data reuse the compiled prediction."""
    numbers = {k: float(v) for k, v in preprocessing.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    rest = {k: v for k, v in preprocessing.items() if k not in numbers}
    return numbers, json.dumps(rest, sort_keys=True)


def _predictive_mean(likelihood, eta, preprocessing):
    """`predictive_mean` with `_mean_of`'s rule: two class probabilities give P(class 1)."""
    values = likelihood.predictive_mean(eta, preprocessing)
    if likelihood.is_classifier and values.ndim == eta.ndim and values.shape[-1] == 2:
        return values[..., 1]
    return values
