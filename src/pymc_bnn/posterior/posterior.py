"""The fitted result: posterior draws as ArviZ data and the network's forward pass over them.

Prediction never goes through `pm.sample_posterior_predictive`: it evaluates the network for
every draw directly, in chunks of observations so memory stays bounded, and returns the
distribution's mean per draw (e.g. p for Bernoulli), from which all summaries follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model import groups as grouping
from pymc_bnn.model.network import bias_name
from pymc_bnn.model.record import ModelRecord, RecordFields, record_of
from pymc_bnn.posterior import compiled
from pymc_bnn.validation import check_features, refuse_nonfinite, whole_number

# The idata group of a fit whose predictions go through the network linearised at its MAP
# (a full-network Laplace fit): the expansion point's weights and biases, one per chain.
LINEARISED_GROUP = "linearised_at"


@dataclass(frozen=True, init=False)
class Posterior(RecordFields):
    """A fitted BNN: the network's record, its draws, and how it was fitted.

    Parameters
    ----------
    record : ModelRecord
        What describes the network apart from its draws (spec, likelihood, prior, feature
        names, preprocessing, likelihood parameters, groups): the `BNNModel`'s record, read
        as attributes here too (`posterior.spec` is `posterior.record.spec`). Those fields may
        also be passed one by one instead, as before the record existed.
    idata : xarray.DataTree
        ArviZ data; its `posterior` group holds `w_0 … w_L` (chain, draw, fan_in, fan_out)
        and, with biases, `b_0 … b_L`. Grouped posteriors hold `w_i_group` (chain, draw,
        group, fan_in, fan_out); with partial pooling also the population `w_i` and the
        spreads `group_sd_i`. Their predictions take `groups=` (one label per row of X).
    method : str
        The engine's name.
    settings, timings, diagnostics : dict
        What the engine was run with, how long each part took (seconds), and what it found.
    elbo : ndarray, optional
        ELBO history for VI engines (nats, higher is better).
    interrupted : bool
        Ctrl-C stopped the fit; the draws are from the state reached so far.

    Examples
    --------
    >>> from pymc_bnn import build_model, fit
    >>> from pymc_bnn.datasets import two_moons
    >>> data = two_moons(n_samples=100)
    >>> bnn = build_model(data.X_train, data.y_train, hidden=(4,))
    >>> posterior = fit(bnn, "advi", steps=300, tol=0, draws=50, progress=False)
    >>> posterior.record is bnn.record, posterior.n_draws
    (True, 50)
    >>> posterior.predict(data.X_test)["mean"].shape
    (30,)
    """

    record: ModelRecord
    idata: object = field(repr=False)
    method: str = ""
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    elbo: np.ndarray | None = field(default=None, repr=False)
    interrupted: bool = False
    diagnostics: dict = field(default_factory=dict)

    def __init__(self, record: ModelRecord | None = None, idata: object = None, *,
                 method: str = "", settings: dict | None = None, timings: dict | None = None,
                 elbo: np.ndarray | None = None, interrupted: bool = False,
                 diagnostics: dict | None = None, **record_fields) -> None:
        set_field = object.__setattr__  # frozen
        set_field(self, "record", record_of(record, record_fields, "Posterior"))
        set_field(self, "idata", idata)
        set_field(self, "method", method)
        set_field(self, "settings", {} if settings is None else settings)
        set_field(self, "timings", {} if timings is None else timings)
        set_field(self, "elbo", elbo)
        set_field(self, "interrupted", interrupted)
        set_field(self, "diagnostics", {} if diagnostics is None else diagnostics)

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
                       max_draws: int | None = None) -> np.ndarray:
        """Pre-link output per draw, (S, n_obs, n_outputs), float64, in chunks of rows.

        Hierarchical fits: `groups` gives each row's group (or names a column of a DataFrame X).
        A known group uses its own weights; a group not seen in training uses new weights drawn
        from the population per draw (partial pooling), or raises InvalidInputError naming it
        with `unseen_groups="raise"` (group-only prediction).
        """
        X, codes, labels = self.checked_inputs(X, groups, unseen_groups)
        return self._over_draw_sets(X, codes, labels, max_draws, as_mean=False)

    def checked_inputs(self, X, groups=None, unseen_groups: str = "population"):
        """The one check of a prediction's inputs: (X float64 (n_obs, n_inputs), codes, labels).

        `codes` (n_obs,) gives each row's group (-1: not seen in training) and `labels` the
        labels as given; both trivial for a fit without groups. Raises InvalidInputError for
        bad X (see `pymc_bnn.validation.check_features`) or groups.
        """
        X, groups = grouping.split_group_column(X, groups)
        X = self._checked_features(X)
        codes, labels = grouping.locate_groups(self.groups, groups, n_obs=X.shape[0],
                                               unseen_groups=unseen_groups)
        return X, codes, labels

    def draw_sets(self, codes, labels, max_draws: int | None = None):
        """(rows, weights, biases) for each set of rows that shares draws of the network.

        One set (every row, `parameter_draws`) for a fit without groups; one per group present
        for a hierarchical fit (`pymc_bnn.model.groups.group_batches`). Every prediction goes
        through these, so grouped and plain fits share one compiled path.
        """
        if not grouping.is_grouped(self.groups):
            yield np.arange(len(codes)), *self.parameter_draws(max_draws)
            return
        yield from grouping.group_batches(self, labels, codes, max_draws=max_draws)

    def _over_draw_sets(self, X, codes, labels, max_draws, *, as_mean: bool) -> np.ndarray:
        """`compiled.outputs_over_draws` for every draw set, assembled in row order."""
        out = None
        points = self.expansion_points(max_draws)
        for rows, weights, biases in self.draw_sets(codes, labels, max_draws):
            part = compiled.outputs_over_draws(
                self.spec, X[rows], weights, biases,
                likelihood=self.likelihood if as_mean else None,
                preprocessing=self.preprocessing, points=points)
            if out is None:
                out = np.empty((part.shape[0], X.shape[0], *part.shape[2:]))
            out[:, rows] = part
        return out

    @property
    def linearised(self) -> bool:
        """Whether predictions use the network linearised at the fit's MAP (group
        `linearised_at`): the draws of a full-network Laplace fit are Gaussian in the weights
        of that linear model, and through the non-linear network they would not be its
        predictive."""
        return LINEARISED_GROUP in getattr(self.idata, "children", {})

    def expansion_points(self, max_draws: int | None = None) -> tuple | None:
        """Each draw's expansion point for a linearised fit, (weights, biases) shaped as
        `parameter_draws` gives them (its chain's MAP, repeated); None for other fits."""
        if not self.linearised:
            return None
        group = self.idata[LINEARISED_GROUP]
        per_chain = int(self.idata["posterior"].sizes["draw"])
        chain = np.arange(self.n_draws) // per_chain
        index = self.thin_index(max_draws)
        chain = chain if index is None else chain[index]

        def at(name):
            return np.asarray(group[name].values, dtype=np.float64)[chain]

        return ([at(name) for name in self.spec.weight_names],
                [at(bias_name(i)) for i in range(self.spec.n_layers)] if self.spec.bias else None)

    def _checked_features(self, X) -> np.ndarray:
        """X as checked float64 (n_obs, n_inputs); a DataFrame must have the fit's column names
        unless the fit had none (the generated names x0, x1, ...)."""
        generated = self.feature_names == tuple(f"x{i}" for i in range(self.spec.n_inputs))
        return check_features(X, n_features=self.spec.n_inputs,
                              feature_names=None if generated else self.feature_names)

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
        """The predictive mean per draw, float64.

        P(y=1) (S, n_obs) for binary, class probabilities (S, n_obs, n_classes) for
        multiclass, E[y] (S, n_obs) for regression; `groups`, `unseen_groups` as for
        `network_output`.
        """
        X, codes, labels = self.checked_inputs(X, groups, unseen_groups)
        return self._mean_draws_of_checked(X, codes, labels, max_draws)

    def _mean_draws_of_checked(self, X, codes, labels, max_draws) -> np.ndarray:
        """`mean_draws` of inputs `checked_inputs` has checked (they are not checked again)."""
        if hasattr(self.likelihood, "predictive_mean"):
            return self._over_draw_sets(X, codes, labels, max_draws, as_mean=True)
        eta = self._over_draw_sets(X, codes, labels, max_draws, as_mean=False)  # a user's own
        return compiled.mean_of(self.likelihood.predictive_params(  # likelihood
            eta, self.likelihood_param_draws(max_draws), self.preprocessing))

    def predict(self, X, *, groups=None, unseen_groups: str = "population",
                max_draws: int | None = None, out=None, progress: bool = True):
        """Posterior-predictive mean and its spread over draws, per observation.

        The one entry every reported prediction comes from: the estimators' `predict_proba`
        and `predict`, `uncertainty`'s probabilities and means, and the CLI's tables read it.

        Returns
        -------
        xr.Dataset
            `mean` (E[p] over draws: the predictive probability for classifiers; E[y] for
            regression) and `std` (sd over draws: the weight uncertainty), dims ("obs", ...).
            Computed by `compiled.moments_over_draws` (fused, float32, see the dtype policy
            there) for every set of rows that shares draws (`draw_sets`); a row whose float32
            pass overflows is redone in float64. A full-network Laplace fit (`linearised`) and
            a user's own likelihood without `predictive_mean` reduce the float64 `mean_draws`.

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
        X, codes, labels = self.checked_inputs(X, groups, unseen_groups)
        if self.linearised or not hasattr(self.likelihood, "predictive_mean"):
            mean, std = compiled.moments_of(
                self._mean_draws_of_checked(X, codes, labels, max_draws))
        else:
            mean = std = None
            params = self.likelihood_param_draws(max_draws)
            for rows, weights, biases in self.draw_sets(codes, labels, max_draws):
                part_mean, part_std = compiled.moments_over_draws(
                    self.spec, self.likelihood, self.preprocessing, X[rows], weights, biases,
                    params)
                overflow = ~np.isfinite(part_mean + part_std).reshape(len(rows), -1).all(axis=1)
                if overflow.any():  # float32 overflowed on extreme inputs: redo in float64
                    draws = compiled.outputs_over_draws(
                        self.spec, X[rows], weights, biases, likelihood=self.likelihood,
                        preprocessing=self.preprocessing)  # all rows: errors name them right
                    redone_mean, redone_std = compiled.moments_of(draws[:, overflow])
                    part_mean[overflow], part_std[overflow] = redone_mean, redone_std
                if mean is None:
                    mean = np.empty((X.shape[0], *part_mean.shape[1:]))
                    std = np.empty_like(mean)
                mean[rows], std[rows] = part_mean, part_std
        refuse_nonfinite({"mean": mean, "std": std})
        if self.likelihood.is_classifier and mean.ndim == 2:  # float32 sums: 1 ± 1e-7
            mean = mean / mean.sum(axis=1, keepdims=True)
        dims = ["obs", "class"][: mean.ndim]
        return xr.Dataset({"mean": (dims, mean), "std": (dims, std)},
                          coords={"obs": np.arange(mean.shape[0])})

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


