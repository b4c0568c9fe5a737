"""The fitted result: posterior draws as ArviZ data and the network's forward pass over them.

Prediction never goes through `pm.sample_posterior_predictive`: it evaluates the network for
every draw directly, in chunks of observations so memory stays bounded, and returns the
distribution's mean per draw (e.g. p for Bernoulli), from which all summaries follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.feature_checks import check_features
from pymc_bnn.model import group_labels
from pymc_bnn.model import groups as grouping
from pymc_bnn.model.network import bias_name
from pymc_bnn.model.record import ModelRecord, RecordFields, record_of, set_fields
from pymc_bnn.posterior import compiled
from pymc_bnn.validation import refuse_nonfinite, whole_number

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
    idata: xr.DataTree = field(repr=False)
    method: str = ""
    settings: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    elbo: np.ndarray | None = field(default=None, repr=False)
    interrupted: bool = False
    diagnostics: dict = field(default_factory=dict)

    def __init__(self, record: ModelRecord | None = None, idata: Any = None, *,
                 method: str = "", settings: dict | None = None, timings: dict | None = None,
                 elbo: np.ndarray | None = None, interrupted: bool = False,
                 diagnostics: dict | None = None, **record_fields) -> None:
        set_fields(self, record=record_of(record, record_fields, "Posterior"), idata=idata,
                   method=method, settings={} if settings is None else settings,
                   timings={} if timings is None else timings, elbo=elbo,
                   interrupted=interrupted,
                   diagnostics={} if diagnostics is None else diagnostics)

    @property
    def n_draws(self) -> int:
        """Draws over all chains.

        Examples
        --------
        >>> fitted.n_draws
        50
        """
        post = self.idata["posterior"]
        return int(post.sizes["chain"] * post.sizes["draw"])

    def parameter_draws(self, max_draws: int | None = None) -> tuple[list[np.ndarray], list | None]:
        """Weights (S, fan_in, fan_out) and biases (S, fan_out) per layer, chains stacked.

        Weights come in `spec.weight_names` order (w_skip last when the network has one);
        biases are None for a network without them. `max_draws` thins evenly to at most that
        many draws. A partial-pooling fit gives its population weights (a typical group); a
        pooling="none" fit has no single network.

        Examples
        --------
        >>> weights, biases = fitted.parameter_draws(max_draws=10)
        >>> [w.shape for w in weights], biases
        ([(10, 2, 3), (10, 3, 1)], None)
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
        """Indices (max_draws,) of `max_draws` draws evenly spread over all (chain-major) draws.

        None when every draw is kept (`max_draws` None or ≥ `n_draws`).

        Examples
        --------
        >>> fitted.thin_index(3).tolist(), fitted.thin_index(None)
        ([0, 24, 49], None)
        """
        if max_draws is not None:  # 0 draws would average nothing into NaN
            max_draws = whole_number(max_draws, "max_draws", minimum=1)
        if max_draws is not None and max_draws < self.n_draws:
            return np.linspace(0, self.n_draws - 1, int(max_draws)).round().astype(int)
        return None

    def stacked(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        """Draws of posterior variable `name` with chain and draw merged, float64 (S, ...).

        Only the draws at `index` (from `thin_index`) when given.

        Examples
        --------
        >>> fitted.stacked("w_0").shape, fitted.stacked("w_0", fitted.thin_index(5)).shape
        ((50, 2, 3), (5, 2, 3))
        """
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

        Examples
        --------
        >>> fitted.network_output([[0.0, 1.0], [1.0, 0.0]]).shape  # (draws, rows, outputs)
        (50, 2, 1)
        """
        X, codes, labels = self.checked_inputs(X, groups, unseen_groups)
        return self._over_draw_sets(X, codes, labels, max_draws, as_mean=False)

    def checked_inputs(self, X, groups=None, unseen_groups: str = "population"):
        """The one check of a prediction's inputs: (X float64 (n_obs, n_inputs), codes, labels).

        `codes` (n_obs,) gives each row's group (-1: not seen in training) and `labels` the
        labels as given; both trivial for a fit without groups. Raises InvalidInputError for
        bad X (see `pymc_bnn.feature_checks.check_features`) or groups.

        Examples
        --------
        >>> X, codes, labels = fitted.checked_inputs([[0, 1]])
        >>> X.dtype, codes.tolist()
        (dtype('float64'), [0])
        """
        X, groups = group_labels.split_group_column(X, groups)
        X = self._checked_features(X)
        codes, labels = group_labels.locate_groups(self.groups, groups, n_obs=X.shape[0],
                                               unseen_groups=unseen_groups)
        return X, codes, labels

    def draw_sets(self, codes, labels, max_draws: int | None = None):
        """(rows, weights, biases) for each set of rows that shares draws of the network.

        One set (every row, `parameter_draws`) for a fit without groups; one per group present
        for a hierarchical fit (`pymc_bnn.model.groups.group_batches`). Every prediction goes
        through these, so grouped and plain fits share one compiled path.

        Examples
        --------
        >>> X, codes, labels = fitted.checked_inputs([[0.0, 1.0], [1.0, 0.0]])
        >>> [(rows.tolist(), len(weights)) for rows, weights, _ in fitted.draw_sets(codes, labels)]
        [([0, 1], 2)]
        """
        if not group_labels.is_grouped(self.groups):
            yield np.arange(len(codes)), *self.parameter_draws(max_draws)
            return
        yield from grouping.group_batches(self, labels, codes, max_draws=max_draws)

    def _over_draw_sets(self, X, codes, labels, max_draws, *, as_mean: bool) -> np.ndarray:
        """`compiled.outputs_over_draws` for every draw set, assembled in row order."""
        points = self.expansion_points(max_draws)
        parts = [(rows, compiled.outputs_over_draws(
                      self.spec, X[rows], weights, biases,
                      likelihood=self.likelihood if as_mean else None,
                      preprocessing=self.preprocessing, points=points))
                 for rows, weights, biases in self.draw_sets(codes, labels, max_draws)]
        first = parts[0][1]
        out = np.empty((first.shape[0], X.shape[0], *first.shape[2:]))
        for rows, part in parts:
            out[:, rows] = part
        return out

    @property
    def linearised(self) -> bool:
        """Whether predictions use the network linearised at the fit's MAP (`linearised_at`).

        The draws of a full-network Laplace fit are Gaussian in the weights of that linear
        model, and through the non-linear network they would not be its predictive.

        Examples
        --------
        >>> fitted.linearised  # an ADVI fit predicts through the network itself
        False
        """
        return LINEARISED_GROUP in getattr(self.idata, "children", {})

    def expansion_points(self, max_draws: int | None = None) -> tuple | None:
        """Each draw's expansion point for a linearised fit; None for other fits.

        (weights, biases) shaped as `parameter_draws` gives them: its chain's MAP, repeated.

        Examples
        --------
        >>> fitted.expansion_points() is None
        True
        """
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
        """X as checked float64 (n_obs, n_inputs).

        A DataFrame must have the fit's column names unless the fit had none (the generated
        names x0, x1, ...).
        """
        generated = self.feature_names == tuple(f"x{i}" for i in range(self.spec.n_inputs))
        return check_features(X, n_features=self.spec.n_inputs,
                              feature_names=None if generated else self.feature_names)

    def has_network_draws(self) -> bool:
        """Whether this posterior holds draws of its network.

        False only for a stacking whose weights left the network out (`network_part` has
        nothing to return; the report says so instead of measuring it).

        Examples
        --------
        >>> from pymc_bnn.posterior.stacking import stack_posteriors
        >>> linear_only = stack_posteriors({"network": fitted, "linear": fitted_linear},
        ...                                {"network": 0.0, "linear": 1.0}, n_draws=40)
        >>> fitted.has_network_draws(), linear_only.has_network_draws()
        (True, False)
        """
        stacking = self.settings.get("stacking")
        return not stacking or stacking["network"] in stacking["order"]

    def network_part(self) -> Posterior:
        """The network member's draws of a stacked fit (`stack_linear=True`); else itself.

        A stacked posterior (`pymc_bnn.posterior.stacking.stack_posteriors`) holds its members'
        draws one after another, as `settings["stacking"]` records; stability and the report
        measure its network on these.

        Returns
        -------
        Posterior
            The stacked architecture (its skip path zero in these draws), one chain of the
            network's draws, `settings["stacking"]` kept.

        Raises
        ------
        InvalidSettingError
            If the stacking gave the network no draws (weight 0).

        Examples
        --------
        >>> from pymc_bnn.posterior.stacking import stack_posteriors
        >>> stacked = stack_posteriors({"network": fitted, "linear": fitted_linear},
        ...                            {"network": 0.25, "linear": 0.75}, n_draws=40)
        >>> stacked.network_part().n_draws, fitted.network_part() is fitted
        (10, True)
        """
        import dataclasses

        stacking = self.settings.get("stacking")
        if not stacking:
            return self
        if not self.has_network_draws():
            raise InvalidSettingError(
                "this stacked posterior gave the network no draws (its weight is 0): it is the "
                "linear model alone; fit with stack_linear=False (pymc-bnn fit "
                "--no-stack-linear) to measure a network")
        name, order = stacking["network"], stacking["order"]
        start = sum(stacking["draws"][n] for n in order[:order.index(name)])
        count = stacking["draws"][name]
        draws = self.idata["posterior"].to_dataset().isel(draw=slice(start, start + count))
        idata = xr.DataTree.from_dict({"posterior": draws.assign_coords(draw=np.arange(count))})
        return dataclasses.replace(self, idata=idata)

    def likelihood_param_draws(self, max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Posterior draws (S, ...) of the likelihood's own variables (e.g. a noise scale).

        Examples
        --------
        >>> fitted.likelihood_param_draws()  # a Bernoulli likelihood has none
        {}
        """
        return {name: self.stacked(name, self.thin_index(max_draws))
                for name in self.likelihood_params}

    def predictive_draws(self, X, *, groups=None, unseen_groups: str = "population",
                         max_draws: int | None = None) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution at X, in the user's units.

        Classifiers: {"probs": (S, n_obs, n_classes)}; regression: {"mean", "scale", ...}
        each (S, n_obs). See `Likelihood.predictive_params`; `groups`, `unseen_groups` as for
        `network_output`.

        Examples
        --------
        >>> fitted.predictive_draws([[0.0, 1.0]], max_draws=20)["probs"].shape
        (20, 1, 2)
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

        Examples
        --------
        >>> p = fitted.mean_draws([[0.0, 1.0], [1.0, 0.0]])
        >>> p.shape, bool(((p >= 0) & (p <= 1)).all())
        ((50, 2), True)
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
            For a regression `std` is the sd of the *mean* only, without the noise: the total
            predictive sd (noise and weights, what `BayesianMLPRegressor.predict(X,
            return_std=True)` returns) is `uncertainty.predictive_summary`'s `sd`.
            Computed by `compiled.moments_over_draw_sets` (fused, float32, see the dtype
            policy there) for every set of rows that shares draws (`draw_sets`); a row whose
            float32 pass overflows is redone in float64. A full-network Laplace fit
            (`linearised`) and a user's own likelihood without `predictive_mean` reduce the
            float64 `mean_draws`.

        Data larger than memory: X a Parquet file or folder (or a `pymc_bnn.data.BatchSource`)
        and `out` a .parquet or CSV path: the predictions are written batch by batch with a
        progress bar (`progress`) and the path is returned (see
        `pymc_bnn.posterior.streaming.predict_stream`).

        Examples
        --------
        >>> prediction = fitted.predict([[0.0, 1.0], [1.0, 0.0]])
        >>> prediction["mean"].dims, prediction["std"].shape
        (('obs',), (2,))
        """
        from pymc_bnn.data import is_stream

        if is_stream(X):
            from pymc_bnn.posterior.streaming import predict_stream

            if out is None:
                raise InvalidSettingError("predicting streamed data writes a file: pass out= "
                                          "(a .parquet or .csv path)")
            return predict_stream(self, X, out=out, max_draws=max_draws, progress=progress)
        X, codes, labels = self.checked_inputs(X, groups, unseen_groups)
        mean: np.ndarray | None
        std: np.ndarray | None
        if self.linearised or not hasattr(self.likelihood, "predictive_mean"):
            mean, std = compiled.moments_of(
                self._mean_draws_of_checked(X, codes, labels, max_draws))
        else:
            mean, std = compiled.moments_over_draw_sets(
                self.spec, self.likelihood, self.preprocessing, X,
                self.draw_sets(codes, labels, max_draws), self.likelihood_param_draws(max_draws))
        refuse_nonfinite({"mean": mean, "std": std})
        if self.likelihood.is_classifier and mean.ndim == 2:  # float32 sums: 1 ± 1e-7
            mean = mean / mean.sum(axis=1, keepdims=True)
        dims = ["obs", "class"][: mean.ndim]
        return xr.Dataset({"mean": (dims, mean), "std": (dims, std)},
                          coords={"obs": np.arange(mean.shape[0])})

    def uncertainty(self, X, *, level=0.9, **options) -> xr.Dataset:
        """Per-point predictive summary with aleatoric and epistemic parts, dims ("obs", ...).

        See `pymc_bnn.posterior.uncertainty.predictive_summary` for the variables and `options`.

        Examples
        --------
        >>> summary = fitted.uncertainty([[0.0, 1.0]])
        >>> bool(summary["mutual_information"][0] >= 0)  # epistemic part, nats
        True
        """
        # uncertainty is a higher step of the flow: import on use, never at import time
        from pymc_bnn.posterior.uncertainty import predictive_summary

        return predictive_summary(self, X, level=level, **options)

    def stability(self, X, y=None, **options):
        """How stable the learned network is on X: see `pymc_bnn.posterior.stability.stability`.

        Examples
        --------
        See `pymc_bnn.posterior.stability.stability`.
        """
        from pymc_bnn.posterior.stability import (
            stability,  # a higher step of the flow, as uncertainty
        )

        return stability(self, X, y, **options)


