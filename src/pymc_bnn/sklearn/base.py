"""What both estimators share: their parameters, the fit through the public API, the outputs.

`BayesianMLPBase` stores the parameters (`__init__` only stores them; their allowed values are
declared once in `_parameter_constraints`), fits through `build_model` → `fit` like a user
would, and answers `uncertainty`, `predictive_draws`, `convergence_` and `save` the same way
for classifiers and regressors. The defaults of `method="auto"` and `prior="auto"` are here,
with the measurements behind them.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils._param_validation import HasMethods, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_random_state

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn._runtime.workers import use_private_compiledir
from pymc_bnn.constraints import LayerWidths, WholeNumbers
from pymc_bnn.data import as_source, is_stream, stream_statistics
from pymc_bnn.defaults import DEFAULT_DRAWS
from pymc_bnn.encoding import MISSING_POLICIES, TableEncoding
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.inference import ENGINES, STREAMING_ENGINES, fit
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.model.activations import ACTIVATIONS
from pymc_bnn.model.build import build_model, build_streaming_model
from pymc_bnn.model.group_labels import split_group_column
from pymc_bnn.model.groups import POOLINGS
from pymc_bnn.model.priors import PRIORS, HorseshoePrior, NormalPrior
from pymc_bnn.posterior.uncertainty import predictive_summary, with_class_labels
from pymc_bnn.sklearn import checks
from pymc_bnn.sklearn.group_fits import fit_groups
from pymc_bnn.sklearn.members import fit_members
from pymc_bnn.sklearn.stacked_fit import (
    fit_stacked,
    named_estimators,
    stacking_words,
    stacks_by_default,
)
from pymc_bnn.validation import mean_and_scale

# prior="auto" under advi and nuts: a horseshoe on every row switches off the hidden units
# mean-field VI does not use, which otherwise add noise to every prediction.
AUTO_PRIOR = HorseshoePrior(layers="all")
# prior="auto" under laplace, for classifiers: a MAP under Normal(0, 1/sqrt(fan_in)) can
# settle in a nearly linear function (two moons, (32, 32) units: accuracy 0.81, against 0.98
# at scale 4). Regressors: no one scale serves every table (on diabetes a MAP at scale 2 or
# more fits the noise and its noise sd collapses; the 1-D gap set underfits at scale 1), so
# they choose the MAP's scale on held-out rows (`LAPLACE_REGRESSION_OPTIONS`); the model
# itself is built at scale 1 (what the fit falls back to with under 48 rows). Their noise sd is
# the evidence's, RSS / (n − γ), not the MAP's RSS / n, which is too small wherever the network
# follows the rows (`pymc_bnn.inference.noise_sd`).
LAPLACE_PRIOR = NormalPrior(sigma=4.0)
LAPLACE_REGRESSION_PRIOR = NormalPrior(sigma=1.0)
LAPLACE_REGRESSION_OPTIONS = {"map_scale": "holdout", "noise_sd": "evidence"}
# method="auto": laplace (a MAP fit, then a Gaussian output layer, sampled exactly for three or
# more classes: seconds on small tables, and the best held-out log loss of the engines in
# benchmarks/tabular.py); it does not fit
# hierarchical networks yet, so grouped fits use advi.
AUTO_METHOD = "laplace"
GROUPED_METHOD = "advi"
# method="auto" on streamed data: laplace needs every row at once.
STREAMED_METHOD = "advi"
# method="auto" with a prior other than a Normal of fixed scale (horseshoe, ARD, spike and slab,
# Laplace, a learned scale): laplace chooses its own Normal scale and takes no other prior.
SHRINKAGE_PRIOR_METHOD = "advi"


def resolve_method(method: str, *, grouped: bool = False, streamed: bool = False,
                   prior="auto") -> str:
    """The engine an estimator with `method` fits with.

    `method`, or for "auto" `AUTO_METHOD` (`GROUPED_METHOD` with groups, `STREAMED_METHOD` for
    streamed data, `SHRINKAGE_PRIOR_METHOD` for a `prior` that is not a Normal of fixed scale).

    Examples
    --------
    >>> resolve_method("auto"), resolve_method("auto", grouped=True), resolve_method("nuts")
    ('laplace', 'advi', 'nuts')
    >>> resolve_method("auto", prior="horseshoe"), resolve_method("auto", prior="normal")
    ('advi', 'laplace')
    """
    if method != "auto":
        return method
    if streamed:
        return STREAMED_METHOD
    if grouped:
        return GROUPED_METHOD
    return AUTO_METHOD if _fixed_normal(prior) else SHRINKAGE_PRIOR_METHOD


def _fixed_normal(prior) -> bool:
    """Whether `prior` ("auto", a name or a Prior) is a Normal of fixed scale, as laplace takes."""
    if prior is None or isinstance(prior, str):
        return prior in (None, "auto", "normal")
    return (getattr(prior, "name", None) == "normal"
            and getattr(prior, "learn_scale", None) is None)


class BayesianMLPBase(BaseEstimator):
    """The parameters, fit and outputs `BayesianMLPClassifier` and `BayesianMLPRegressor` share.

    Not an estimator on its own: its subclasses add `fit`, `predict` and `score`. Parameters
    are documented on `BayesianMLPClassifier`.

    Examples
    --------
    >>> from pymc_bnn.sklearn import BayesianMLPClassifier, BayesianMLPRegressor
    >>> from pymc_bnn.sklearn.base import BayesianMLPBase
    >>> issubclass(BayesianMLPClassifier, BayesianMLPBase)
    True
    >>> BayesianMLPRegressor(hidden_layer_sizes=8).get_params()["hidden_layer_sizes"]
    8
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [LayerWidths()],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "bias": ["boolean"],
        "skip": ["boolean"],
        "stack_linear": ["boolean", StrOptions({"auto"})],
        "prior": [None, StrOptions({"auto", *PRIORS}), HasMethods(["weight", "bias", "to_dict"])],
        "method": [StrOptions({"auto", *ENGINES})],
        "steps": [None, WholeNumbers(1)],
        "draws": [WholeNumbers(1)],
        "engine_options": [None, dict],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "pooling": [StrOptions(set(POOLINGS))],
        "missing": [StrOptions(set(MISSING_POLICIES))],
        "categorical": [None, list, tuple],
        "ordinal": [None, list, tuple],
        "batch_size": [WholeNumbers(1)],
        "n_jobs": [None, Integral],
    }

    def __init__(self, hidden_layer_sizes=(32, 32), *, activation="tanh", bias=True, skip=False,
                 stack_linear="auto", likelihood="auto", prior="auto", method="auto", steps=None,
                 draws=DEFAULT_DRAWS, engine_options=None, standardize=True, random_state=None,
                 verbose=False, pooling="partial", missing="impute", categorical=None,
                 ordinal=None, batch_size=1024, n_jobs=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.bias = bias
        self.skip = skip
        self.stack_linear = stack_linear
        self.likelihood = likelihood
        self.prior = prior
        self.method = method
        self.steps = steps
        self.draws = draws
        self.engine_options = engine_options
        self.standardize = standardize
        self.random_state = random_state
        self.verbose = verbose
        self.pooling = pooling
        self.missing = missing
        self.categorical = categorical
        self.ordinal = ordinal
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a fixed random_state gives bit-identical fits
        tags.input_tags.allow_nan = self.missing == "impute"
        tags.input_tags.sparse = True  # made dense (checks.dense), as pipelines hand it on
        return tags

    def _validate_params(self):
        """scikit-learn's parameter validation, raising pymc-bnn's InvalidSettingError."""
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            raise InvalidSettingError(str(exc)) from None

    def _scaled(self, X) -> np.ndarray:
        """X standardised with the training statistics (identity when standardize=False)."""
        return (X - self.x_mean_) / self.x_scale_

    def _set_input_scaling(self, X, sample_weight=None) -> None:
        """`x_mean_`, `x_scale_` from training X (zeros and ones with standardize=False).

        With `sample_weight`, the weighted mean and sd (as of the rows repeated by weight).
        """
        if self.standardize:
            # no overflow at 1e300, no underflow
            self.x_mean_, scale = mean_and_scale(X, weights=sample_weight)
            # Constant features keep scale 1 (as StandardScaler does), not a division by zero.
            self.x_scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.x_mean_ = np.zeros(X.shape[1])
            self.x_scale_ = np.ones(X.shape[1])

    def posterior_inputs(self, X) -> np.ndarray:
        """X as the posterior sees it: encoded (the table encoding of `fit`) and standardised.

        Returns
        -------
        ndarray
            float64 `(n_obs, posterior_.spec.n_inputs)`, the columns named by
            `posterior_.feature_names`; for `Posterior` methods and
            `pymc_bnn.posterior.stability`.

        Examples
        --------
        >>> fitted_classifier.posterior_inputs([[0.0, 1.0, 2.0]]).shape
        (1, 3)
        """
        return checks.posterior_inputs(self, X)

    # ------------------------------------------------------------------ the fit
    def _hidden(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if isinstance(sizes, Integral) else tuple(int(s) for s in sizes)

    def _random_seed(self) -> int:
        """An int seed is used as is (same result as `fit(..., random_seed=seed)`).

        None or a RandomState draws one, as scikit-learn estimators do.
        """
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _method(self, groups, streamed: bool = False) -> str:
        """The engine (`resolve_method`)."""
        return resolve_method(self.method, grouped=groups is not None, streamed=streamed,
                              prior=self.prior)

    def _engine_options(self, method: str) -> dict:
        options = dict(self.engine_options or {})
        if self.steps is not None and method != "nuts":
            options.setdefault("steps", int(self.steps))
        if (method == "laplace" and not is_classifier(self) and isinstance(self.prior, str)
                and self.prior == "auto" and options.get("prior_scale", "marglik") == "marglik"):
            for name, value in LAPLACE_REGRESSION_OPTIONS.items():
                options.setdefault(name, value)
        return options

    def _prior(self, groups, method: str):
        """The prior to build with.

        "auto": `LAPLACE_PRIOR` for the laplace engine, `AUTO_PRIOR` for the others, except for a
        grouped fit with pooling="none" (which takes only normal or laplace priors): the library
        default there. Anything else as given (None: the library default Normal(0, 1/sqrt(fan_in))).
        """
        if isinstance(self.prior, str) and self.prior == "auto":
            if method == "laplace":
                return LAPLACE_PRIOR if is_classifier(self) else LAPLACE_REGRESSION_PRIOR
            return None if groups is not None and self.pooling == "none" else AUTO_PRIOR
        return self.prior

    def _fit_rows(self, X, y, groups, sample_weight=None, **check_params):
        """The fit both estimators share: checked rows, the target the model takes, the fit.

        Streamed data go to `_fit_stream`. Subclasses say how their target is checked
        (`_check_target`) and encoded (`_model_target`); `check_params` go to `check_X_y`.
        """
        if is_stream(X):
            if sample_weight is not None:
                raise InvalidSettingError(
                    "sample_weight cannot be used with streamed data (its minibatches carry no "
                    "weights yet); fit rows in memory to weight them, or leave sample_weight out")
            self._fit_stream(X, y, groups)
            self.posterior_ = self._named_outputs(self.posterior_)
            return self
        checks.require_target(self, y)
        X, groups = split_group_column(checks.in_memory(X), groups)
        self._check_target(y)
        X, y, keep = checks.validated_Xy(self, X, y, sample_weight, **check_params)
        weight = checks.kept_weights(sample_weight, keep)
        y, likelihood = self._model_target(y)
        self._set_input_scaling(X, weight)
        self._fit_posterior(X, y, likelihood, checks.kept(groups, keep), weight)
        self.posterior_ = self._named_outputs(self.posterior_)
        return self

    def _network_noise(self, likelihood, groups) -> str:
        """A stacked fit's `network_noise` (`fit_stacked`): one noise sd here."""
        return "constant"

    def _fit_posterior(self, X, y, likelihood, groups=None, sample_weight=None) -> None:
        if self.n_jobs == 0:  # joblib's meaning of the count; 0 has none (checked before fits)
            raise InvalidSettingError("n_jobs=0 runs no fit; give how many fits run at a time "
                                      "(1 or more, -1 for one per core), or leave out n_jobs=")
        use_private_compiledir()  # a worker of GridSearchCV under loky, Dask or Ray
        feature_names = TableEncoding.from_dict(self.table_encoding_).feature_names
        method = self._method(groups)
        options = check_engine_options(method, self._engine_options(method))  # before building
        build = {"X": self._scaled(X), "y": y, "hidden": self._hidden(),
                 "activation": self.activation, "bias": self.bias, "skip": self.skip,
                 "prior": self._prior(groups, method), "likelihood": likelihood,
                 "feature_names": list(feature_names), "groups": groups,
                 "pooling": None if groups is None else self.pooling,
                 "sample_weight": sample_weight}
        self.__dict__.pop("named_estimators_", None)  # an earlier stacked fit's
        if len(members := self._stack_members(y, likelihood, groups)) > 1:
            self.posterior_, parts = fit_stacked(
                build, method, options, draws=int(self.draws), random_seed=self._random_seed(),
                classifier=is_classifier(self), progress=bool(self.verbose), n_jobs=self.n_jobs,
                classes=getattr(self, "classes_", None), return_parts=True, members=members,
                network_noise=self._network_noise(likelihood, groups))
            self.named_estimators_ = named_estimators(self, parts)
        elif self.n_jobs is not None and options.get("ensemble"):
            self.posterior_ = fit_members(build, method, options, draws=int(self.draws),
                                          random_seed=self._random_seed(), n_jobs=self.n_jobs,
                                          progress=bool(self.verbose))
        elif self.n_jobs is not None and groups is not None and self.pooling == "none":
            self.posterior_ = fit_groups(build, method, options, draws=int(self.draws),
                                         random_seed=self._random_seed(), n_jobs=self.n_jobs,
                                         progress=bool(self.verbose))
        else:
            self.posterior_ = fit(build_model(**build), method, draws=int(self.draws),
                                  random_seed=self._random_seed(), progress=bool(self.verbose),
                                  **options)
        _warn_if_interrupted(self.posterior_)

    def _fit_stream(self, data, target, groups) -> None:
        """Fit to streamed data.

        one pass for the row count, the inputs' means and sds (the standardisation) and the target's
        statistics or labels, then minibatches of `batch_size` rows, standardised and encoded as
        they are read, through a streaming engine (`pymc_bnn.inference.STREAMING_ENGINES`).
        """
        if len(members := self._stack_members()) > 1:  # asked for by name: streams are refused
            asked = stacking_words(members)
            raise InvalidSettingError(f"{asked} cannot fit streamed data (its cross-validation "
                                      "needs every row at once); load the rows into memory or "
                                      f"leave out {asked}")
        if groups is not None:
            raise InvalidSettingError("grouped networks cannot be fitted to streamed data yet; "
                                      "load the data into memory to fit groups")
        if target is not None and not isinstance(data, str) and not hasattr(data, "__fspath__"):
            raise InvalidInputError(
                "y must be left out when X is a stream of (X, y) batches; it names the target "
                "column only when X is a Parquet path")
        if target is None and (isinstance(data, str) or hasattr(data, "__fspath__")):
            raise InvalidInputError("fit(path, y): name the target column as y, e.g. "
                                    "fit('rows.parquet', 'label')")
        use_private_compiledir()
        self.__dict__.pop("named_estimators_", None)  # an earlier stacked fit's
        if hasattr(self, "table_encoding_"):  # from an earlier in-memory fit: rows come coded
            del self.table_encoding_
        method = self._method(None, streamed=True)
        if method not in STREAMING_ENGINES:
            raise InvalidSettingError(
                f"method={method!r} cannot fit streamed data (it needs every row at once); use "
                f"one of {', '.join(STREAMING_ENGINES)} or 'auto'")
        options = check_engine_options(method, self._engine_options(method))
        if self.n_jobs is not None and options.get("ensemble"):
            raise InvalidSettingError(
                "separate fits of an ensemble's members (n_jobs=) need in-memory rows; a "
                "streamed fit runs its members together in one program: leave out n_jobs=")
        source = as_source(data, target=target)
        stats = stream_statistics(source, labels=is_classifier(self), progress=bool(self.verbose))
        self.n_features_in_ = int(stats.x_mean.size)
        if source.feature_names is not None:
            self.feature_names_in_ = np.asarray(source.feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if self.standardize:
            self.x_mean_ = stats.x_mean
            self.x_scale_ = np.where(stats.x_sd > 0, stats.x_sd, 1.0)
        else:
            self.x_mean_, self.x_scale_ = np.zeros_like(stats.x_mean), np.ones_like(stats.x_mean)
        likelihood, encode, stats = self._stream_target(stats)
        mean, scale = self.x_mean_, self.x_scale_

        def standardised(X, y):
            X = X - mean  # a new array (the source's batch is not changed), then in place
            X /= scale
            return X, encode(y)

        scaled = source.map(standardised)
        bnn = build_streaming_model(
            scaled, batch_size=int(self.batch_size), statistics=stats, likelihood=likelihood,
            hidden=self._hidden(), activation=self.activation, bias=self.bias, skip=self.skip,
            prior=self._prior(None, method))
        self.posterior_ = fit(bnn, method, draws=int(self.draws),
                              random_seed=self._random_seed(), progress=bool(self.verbose),
                              **options)
        _warn_if_interrupted(self.posterior_)

    def _check_target(self, y) -> None:
        """InvalidInputError for a target the estimator cannot take: a regressor's numbers."""
        checks.check_numeric_target(y)

    def _stack_members(self, y=None, likelihood=None, groups=None) -> tuple[str, ...]:
        """The models stacked (`fit_stacked`'s members); ("network",) alone: no stacking.

        `stack_linear="auto"` stacks the GLM where `stacks_by_default` says, for the fit of
        target `y` (codes or values; None: streamed data, never stacked by default).
        """
        linear = self.stack_linear
        if isinstance(linear, str) and y is not None:  # "auto", rows in memory
            method = self._method(groups)
            linear = stacks_by_default(
                y, likelihood, classifier=is_classifier(self), hidden=self._hidden(),
                grouped=groups is not None, method=method, options=self._engine_options(method))
        elif isinstance(linear, str):  # "auto" never stacks streamed rows
            linear = False
        return ("network", "linear") if linear else ("network",)

    def _model_target(self, y):
        """(the target as the model takes it, the likelihood): a regressor's y as it is."""
        return y, self.likelihood

    def _stream_target(self, stats):
        """(likelihood, y -> y for the model, statistics of the encoded stream).

        a regressor's target passes as it is.
        """
        return self.likelihood, _unchanged, stats

    def _named_outputs(self, posterior):
        """The fitted posterior with its outputs named where the estimator knows their names.

        A regressor's outputs have no names: the posterior as it is.
        """
        return posterior

    # ------------------------------------------------------------------ shared outputs
    def uncertainty(self, X, *, level=0.9, **options):
        """Predictive summary at X, the uncertainty split into aleatoric and epistemic parts.

        `pymc_bnn.posterior.uncertainty.predictive_summary` on X encoded and scaled as in
        `fit` (see there for the variables and `options`); grouped fits take `groups=` too.

        Returns
        -------
        xarray.Dataset
            Dims ("obs", ...). A classifier's `class` coordinate and `predicted_class` hold
            the original labels (`classes_`).

        Examples
        --------
        >>> summary = fitted_classifier.uncertainty([[0.0, 1.0, 2.0]])
        >>> summary["predicted_class"].values.tolist() in (["no"], ["yes"])
        True
        >>> float(summary["predictive_entropy"][0]) <= 0.6932  # nats: at most log 2
        True
        """
        if "groups" in options:
            X, options["groups"] = split_group_column(X, options["groups"])
        X = self.posterior_inputs(X)
        summary = predictive_summary(self.posterior_, X, level=level, **options)
        if hasattr(self, "classes_"):
            summary = with_class_labels(summary, self.classes_)
        return summary

    def predictive_draws(self, X, *, groups=None, max_draws=None) -> dict:
        """Per-draw parameters of the predictive distribution at X.

        `Posterior.predictive_draws` on X encoded and scaled as in `fit`.

        Returns
        -------
        dict of ndarray
            A classifier {"probs": (S, n_obs, n_classes)} in `classes_` order, a regressor
            {"mean", ...} each (S, n_obs) in the target's units.

        Examples
        --------
        >>> fitted_regressor.predictive_draws([[0.0, 1.0, 2.0]], max_draws=10)["mean"].shape
        (10, 1)
        """
        if groups is not None:
            X, groups = split_group_column(X, groups)
        return self.posterior_.predictive_draws(self.posterior_inputs(X), groups=groups,
                                                max_draws=max_draws)

    @property
    def convergence_(self):
        """Whether the fit converged, and why not (`posterior.convergence.judge_convergence`).

        A `Convergence` (`converged`, `problems` each with the `pymc-bnn fit` flag that fixes
        it, `checks`, `summary()`), computed from `posterior_` on each access.

        Examples
        --------
        >>> type(fitted_classifier.convergence_.converged)
        <class 'bool'>
        """
        from pymc_bnn.posterior.convergence import judge_convergence

        checks.require_fitted(self)
        return judge_convergence(self.posterior_)

    def save(self, path):
        """Write the fitted estimator to `path` (netCDF + JSON description; see `pymc_bnn.io`).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from pymc_bnn import load
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.bnn.nc"
        >>> loaded = load(fitted_classifier.save(path))
        >>> (loaded.predict_proba([[0.0, 1.0, 2.0]])
        ...  == fitted_classifier.predict_proba([[0.0, 1.0, 2.0]])).all()
        np.True_
        """
        from pymc_bnn.io import save

        checks.require_fitted(self)  # the NotFittedError predict gives, not a settings error
        return save(self, path)


def _warn_if_interrupted(posterior) -> None:
    """Warn, at the user's line, that Ctrl-C stopped the fit.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     _warn_if_interrupted(fitted)  # a whole fit: nothing to say
    >>> said
    []
    """
    if posterior.interrupted:
        warn_caller("the fit was interrupted; the estimator holds the state reached so far")


def _unchanged(y):
    return y
