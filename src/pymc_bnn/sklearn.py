"""scikit-learn estimators over the library: `BayesianMLPClassifier` and `BayesianMLPRegressor`.

They follow the estimator contract (parameters stored unchanged in `__init__`, learned state in
trailing-underscore attributes, `fit` returns self), so they work in `Pipeline`,
`cross_val_score` and `GridSearchCV`. Each fit calls the same functions a user would:
`build_model` → `fit` → `Posterior`; the fitted posterior is `posterior_`.

Inputs are standardised with the training data's mean and sd by default (`standardize=True`):
the priors' widths assume unit-scale inputs, as the network's prior predictive does.

Data larger than memory: `fit` also takes a Parquet file or folder (with the target column's
name as `y`), a `pymc_bnn.data.BatchSource` or a function returning (X, y) batches; it then
streams minibatches of `batch_size` rows through `advi` (see `_fit_stream`).

Defaults (`method="auto"`, `prior="auto"`): the `laplace` engine on a network with Normal
weights of scale 4/sqrt(fan_in), the output layer's prior precision chosen by the marginal
likelihood; grouped fits use `advi` with a regularised horseshoe (partial and complete pooling)
or the fan-in Normal (`pooling="none"`). Why, with numbers: `benchmarks/tabular.py` and its
table in `benchmarks/README.md`.
"""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils._param_validation import (
    HasMethods,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    check_random_state,
    check_X_y,
    validate_data,
)

from pymc_bnn._runtime.workers import use_private_compiledir
from pymc_bnn.constraints import LayerWidths, WholeNumbers
from pymc_bnn.data import as_source, is_stream, stream_statistics
from pymc_bnn.defaults import CLASSIFIER_LIKELIHOODS, DEFAULT_DRAWS, REGRESSOR_LIKELIHOODS
from pymc_bnn.encoding import (
    MISSING_POLICIES,
    TableEncoding,
    as_frame,
    build_transformer,
    encode,
    learn_encoding,
    missing_rows,
)
from pymc_bnn.errors import (
    InvalidInputError,
    InvalidSettingError,
    NotFittedError,
    PymcBnnError,
)
from pymc_bnn.inference import ENGINES, STREAMING_ENGINES, fit
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.io.model_file import register_estimator
from pymc_bnn.model.build import build_model, build_streaming_model
from pymc_bnn.model.groups import POOLINGS, split_group_column
from pymc_bnn.model.likelihoods import Categorical
from pymc_bnn.model.network import ACTIVATIONS
from pymc_bnn.model.priors import PRIORS, HorseshoePrior, NormalPrior
from pymc_bnn.posterior.uncertainty import (
    as_class_probabilities,
    predictive_summary,
    regression_moments,
)
from pymc_bnn.validation import (
    check_features,
    check_labels,
    encode_class_labels,
    mean_and_scale,
    refuse_datetimes,
)

# CLASSIFIER_LIKELIHOODS, REGRESSOR_LIKELIHOODS and DEFAULT_DRAWS (1000, see there) come from
# pymc_bnn.defaults, where the CLI reads them without importing scikit-learn.

# prior="auto" under advi and nuts: a horseshoe on every row switches off the hidden units
# mean-field VI does not use, which otherwise add noise to every prediction.
AUTO_PRIOR = HorseshoePrior(layers="all")
# prior="auto" under laplace, for classifiers: a MAP under Normal(0, 1/sqrt(fan_in)) can
# settle in a nearly linear function (two moons, (32, 32) units: accuracy 0.81, against 0.98
# at scale 4). Regressors keep scale 1: a MAP at scale 2 or more fits the noise, and the noise
# sd collapses towards 0 (diabetes: held-out NLL 5.4 at scale 0.5 or 1, over 300 at 2).
LAPLACE_PRIOR = NormalPrior(sigma=4.0)
LAPLACE_REGRESSION_PRIOR = NormalPrior(sigma=1.0)
# method="auto": laplace (a MAP fit, then a Gaussian output layer: seconds on small tables,
# and the best held-out log loss of the engines in benchmarks/tabular.py); it does not fit
# hierarchical networks yet, so grouped fits use advi.
AUTO_METHOD = "laplace"
GROUPED_METHOD = "advi"
# method="auto" on streamed data: laplace needs every row at once.
STREAMED_METHOD = "advi"


def resolve_method(method: str, *, grouped: bool = False, streamed: bool = False) -> str:
    """The engine an estimator with `method` fits with: `method`, or for "auto"
    `AUTO_METHOD` (`GROUPED_METHOD` with groups, `STREAMED_METHOD` for streamed data).

    Examples
    --------
    >>> resolve_method("auto"), resolve_method("auto", grouped=True), resolve_method("nuts")
    ('laplace', 'advi', 'nuts')
    """
    if method != "auto":
        return method
    if streamed:
        return STREAMED_METHOD
    return GROUPED_METHOD if grouped else AUTO_METHOD


class EstimatorNotFittedError(NotFittedError, SklearnNotFittedError):
    """An estimator used before `fit`: pymc-bnn's NotFittedError and scikit-learn's at once, so
    `except pymc_bnn.PymcBnnError` and scikit-learn's own checks both catch it."""


class InvalidInputTypeError(InvalidInputError, TypeError):
    """Input of a type that cannot be numbers (e.g. dicts, sparse matrices): pymc-bnn's
    InvalidInputError, and a TypeError as scikit-learn's own checks expect."""


class _BayesianMLP(BaseEstimator):
    """What both estimators share: parameters, input validation, the fit through the public API."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [LayerWidths()],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "bias": ["boolean"],
        "skip": ["boolean"],
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
    }

    def __init__(self, hidden_layer_sizes=(32, 32), *, activation="tanh", bias=True, skip=False,
                 likelihood="auto", prior="auto", method="auto", steps=None,
                 draws=DEFAULT_DRAWS, engine_options=None, standardize=True, random_state=None,
                 verbose=False, pooling="partial", missing="impute", categorical=None,
                 ordinal=None, batch_size=1024):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.bias = bias
        self.skip = skip
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a fixed random_state gives bit-identical fits
        tags.input_tags.allow_nan = self.missing == "impute"
        return tags

    def _validate_params(self):
        """scikit-learn's parameter validation, raising pymc-bnn's InvalidSettingError."""
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            raise InvalidSettingError(str(exc)) from None

    # ------------------------------------------------------------------ input handling
    def _validated_X(self, X, *, reset: bool) -> np.ndarray:
        """X as float64 (n_obs, n_features), checked like scikit-learn: the path of estimators
        loaded from model files written before the table encoding (numeric columns only).
        DataFrames first go through pymc-bnn's own check, which names non-numeric columns."""
        return _as_invalid_input(self._check_X, X, reset=reset)

    def _check_X(self, X, *, reset: bool) -> np.ndarray:
        refuse_datetimes(X)
        if hasattr(X, "columns") and hasattr(X, "dtypes"):
            check_features(X)
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def _validated_Xy(self, X, y, **check_params):
        """(encoded X, y, rows kept) checked as scikit-learn checks them."""
        X, y, keep = _as_invalid_input(self._check_Xy, X, y, **check_params)
        if X.shape[0] < 2:
            raise InvalidInputError(
                f"got {X.shape[0]} sample; a Bayesian network needs at least 2 samples to fit "
                "(n_samples=1 is not enough)"
            )
        return X, y, keep

    def _check_Xy(self, X, y, **check_params):
        """(encoded X, y, rows kept): the table encoding (`pymc_bnn.encoding`) learned from X
        after the missing="drop" rows are removed, then scikit-learn's checks of the numbers."""
        if _is_frame(X):
            validate_data(self, X, reset=True, skip_check_array=True)  # names and width
            check_consistent_length(X, y)
        else:
            refuse_datetimes(X)
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan",
                                 **check_params)
        frame = as_frame(X, TableEncoding(columns=tuple(f"x{i}" for i in range(X.shape[1]))))
        if len(frame) == 0:
            raise InvalidInputError("X is empty (0 rows); pass at least one observation")
        keep = ~missing_rows(frame) if self.missing == "drop" else np.ones(len(frame), bool)
        if not keep.any():
            raise InvalidInputError("every row has a missing value, so missing='drop' leaves "
                                    "nothing to fit; use missing='impute'")
        encoding = learn_encoding(frame[keep], categorical=self.categorical or (),
                                  ordinal=self.ordinal or (), missing=self.missing)
        self.table_encoding_ = encoding.to_dict()
        self._table_transformer = build_transformer(encoding)
        X = encode(self._table_transformer, encoding, frame[keep])
        if not keep.all():
            y = y.iloc[keep] if hasattr(y, "iloc") else np.asarray(y)[keep]
        return (*check_X_y(X, y, dtype=np.float64, **check_params), keep)

    def _encoded_X(self, X) -> np.ndarray:
        """X through the fitted table encoding, as float64 (n_obs, n_encoded)."""
        if _is_frame(X):
            validate_data(self, X, reset=False, skip_check_array=True)
        else:
            refuse_datetimes(X)
            X = validate_data(self, X, reset=False, dtype=np.float64,
                              ensure_all_finite="allow-nan")
        encoding = TableEncoding.from_dict(self.table_encoding_)
        if getattr(self, "_table_transformer", None) is None:  # loaded from a model file
            self._table_transformer = build_transformer(encoding)
        return check_array(encode(self._table_transformer, encoding, as_frame(X, encoding)),
                           dtype=np.float64)

    def _scaled(self, X) -> np.ndarray:
        """X standardised with the training statistics (identity when standardize=False)."""
        return (X - self.x_mean_) / self.x_scale_

    def _set_input_scaling(self, X) -> None:
        if self.standardize:
            self.x_mean_, scale = mean_and_scale(X)  # no overflow at 1e300, no underflow
            # Constant features keep scale 1 (as StandardScaler does), not a division by zero.
            self.x_scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.x_mean_ = np.zeros(X.shape[1])
            self.x_scale_ = np.ones(X.shape[1])

    def _require_fitted(self) -> None:
        try:
            check_is_fitted(self, "posterior_")
        except AttributeError:  # scikit-learn's NotFittedError: ours says the same, in our family
            raise EstimatorNotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, y) before using it"
            ) from None

    def posterior_inputs(self, X) -> np.ndarray:
        """X as the posterior sees it: encoded (the table encoding of `fit`) and standardised.

        Returns float64 `(n_obs, posterior_.spec.n_inputs)`, the columns named by
        `posterior_.feature_names`; for `Posterior` methods and `pymc_bnn.posterior.stability`.
        """
        self._require_fitted()
        if getattr(self, "table_encoding_", None) is None:  # a model file from before encoding
            return self._scaled(self._validated_X(X, reset=False))
        return self._scaled(_as_invalid_input(self._encoded_X, X))

    # ------------------------------------------------------------------ the fit
    def _hidden(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if isinstance(sizes, Integral) else tuple(int(s) for s in sizes)

    def _random_seed(self) -> int:
        """An int seed is used as is (same result as `fit(..., random_seed=seed)`); None or a
        RandomState draws one, as scikit-learn estimators do."""
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _method(self, groups, streamed: bool = False) -> str:
        """The engine (`resolve_method`)."""
        return resolve_method(self.method, grouped=groups is not None, streamed=streamed)

    def _engine_options(self, method: str) -> dict:
        options = dict(self.engine_options or {})
        if self.steps is not None and method != "nuts":
            options.setdefault("steps", int(self.steps))
        return options

    def _prior(self, groups, method: str):
        """The prior to build with. "auto": `LAPLACE_PRIOR` for the laplace engine,
        `AUTO_PRIOR` for the others, except for a grouped fit with pooling="none" (which takes
        only normal or laplace priors): the library default there. Anything else as given
        (None: the library default Normal(0, 1/sqrt(fan_in)))."""
        if isinstance(self.prior, str) and self.prior == "auto":
            if method == "laplace":
                return LAPLACE_PRIOR if is_classifier(self) else LAPLACE_REGRESSION_PRIOR
            return None if groups is not None and self.pooling == "none" else AUTO_PRIOR
        return self.prior

    def _fit_posterior(self, X, y, likelihood, groups=None) -> None:
        use_private_compiledir()  # a worker of GridSearchCV under loky, Dask or Ray
        feature_names = TableEncoding.from_dict(self.table_encoding_).feature_names
        method = self._method(groups)
        options = check_engine_options(method, self._engine_options(method))  # before building
        bnn = build_model(
            self._scaled(X), y, hidden=self._hidden(), activation=self.activation, bias=self.bias,
            skip=self.skip, prior=self._prior(groups, method), likelihood=likelihood,
            feature_names=list(feature_names),
            groups=groups, pooling=None if groups is None else self.pooling,
        )
        self.posterior_ = fit(bnn, method, draws=int(self.draws),
                              random_seed=self._random_seed(), progress=bool(self.verbose),
                              **options)
        if self.posterior_.interrupted:
            warnings.warn("the fit was interrupted; the estimator holds the state reached so far",
                          stacklevel=3)

    def _fit_stream(self, data, target, groups) -> None:
        """Fit to streamed data: one pass for the row count, the inputs' means and sds (the
        standardisation) and the target's statistics or labels, then minibatches of
        `batch_size` rows, standardised and encoded as they are read, through a streaming
        engine (`pymc_bnn.inference.STREAMING_ENGINES`)."""
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
        if hasattr(self, "table_encoding_"):  # from an earlier in-memory fit: rows come coded
            del self.table_encoding_
        method = self._method(None, streamed=True)
        if method not in STREAMING_ENGINES:
            raise InvalidSettingError(
                f"method={method!r} cannot fit streamed data (it needs every row at once); use "
                f"one of {', '.join(STREAMING_ENGINES)} or 'auto'")
        options = check_engine_options(method, self._engine_options(method))
        source = as_source(data, target=target)
        stats = stream_statistics(source, labels=is_classifier(self))
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
        scaled = source.map(lambda X, y: ((X - mean) / scale, encode(y)))
        bnn = build_streaming_model(
            scaled, batch_size=int(self.batch_size), statistics=stats, likelihood=likelihood,
            hidden=self._hidden(), activation=self.activation, bias=self.bias, skip=self.skip,
            prior=self._prior(None, method))
        self.posterior_ = fit(bnn, method, draws=int(self.draws),
                              random_seed=self._random_seed(), progress=bool(self.verbose),
                              **options)

    def _stream_target(self, stats):
        """(likelihood, y -> y for the model, statistics of the encoded stream): a regressor's
        target passes as it is."""
        return self.likelihood, _unchanged, stats

    # ------------------------------------------------------------------ shared outputs
    def uncertainty(self, X, *, level=0.9, **options):
        """Predictive summaries at X from `pymc_bnn.posterior.uncertainty.predictive_summary`: an
        xarray.Dataset with dims ("obs", ...), the uncertainty split into aleatoric and
        epistemic parts (see its docstring for the variables and options). A classifier's
        `class` coordinate and `predicted_class` hold the original labels (`classes_`).
        Grouped fits take `groups=` here too."""
        if "groups" in options:
            X, options["groups"] = split_group_column(X, options["groups"])
        X = self.posterior_inputs(X)
        summary = predictive_summary(self.posterior_, X, level=level, **options)
        if hasattr(self, "classes_"):
            codes = np.asarray(summary["predicted_class"].values, dtype=np.int64)
            summary = summary.assign_coords({"class": self.classes_})
            summary["predicted_class"] = (summary["predicted_class"].dims, self.classes_[codes])
        return summary

    def predictive_draws(self, X, *, groups=None, max_draws=None) -> dict:
        """Per-draw parameters of the predictive distribution at X, after this estimator's encoding.

        `Posterior.predictive_draws` on X encoded and scaled as in `fit`: a classifier gives
        {"probs": (S, n_obs, n_classes)} in `classes_` order, a regressor {"mean", ...} each
        (S, n_obs) in the target's units. Grouped fits take `groups=`.
        """
        if groups is not None:
            X, groups = split_group_column(X, groups)
        return self.posterior_.predictive_draws(self.posterior_inputs(X), groups=groups,
                                                max_draws=max_draws)

    @property
    def convergence_(self):
        """Whether the fit converged, and why not: `pymc_bnn.posterior.convergence.judge_convergence`.

        A `Convergence` (`converged`, `problems` each with the `pymc-bnn fit` flag that fixes it,
        `checks`, `summary()`), computed from `posterior_` on each access.
        """
        from pymc_bnn.posterior.convergence import judge_convergence

        self._require_fitted()
        return judge_convergence(self.posterior_)

    def save(self, path):
        """Write the fitted estimator to `path` (netCDF + JSON description; see `pymc_bnn.io`)."""
        from pymc_bnn.io import save

        return save(self, path)


@register_estimator
class BayesianMLPClassifier(ClassifierMixin, _BayesianMLP):
    """A Bayesian multi-layer perceptron classifier; any labels, two or more classes.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (32, 32)
        Width of each hidden layer.
    activation : {"tanh", "relu", "gelu", "softplus", "sigmoid", "identity"}, default "tanh"
    bias : bool, default True
        Give each unit a bias (scikit-learn's MLPs always do; the seed network had none).
    skip : bool, default False
        Add a linear path from the inputs straight to the outputs (see `NetworkSpec`), so the
        hidden layers model only what a linear model misses. With a
        `NormalPrior` whose sigma `GridSearchCV` picks, it beats MLPClassifier's held-out log
        loss on breast_cancer and digits (`tests/acceptance/test_bundled_data.py`).
    likelihood : {"auto", "bernoulli", "categorical"}, default "auto"
        "auto" is bernoulli for two classes (labels mapped to 0/1 here) and categorical for more.
    prior : "auto", str, prior object or None, default "auto"
        "auto": under laplace `NormalPrior(sigma=4)` for classifiers and `NormalPrior(sigma=1)`
        for regressors (the engine then chooses the output layer's precision by the marginal
        likelihood); under advi and nuts
        `HorseshoePrior(layers="all")` (one shrinkage scale per input and per hidden unit, which
        switches off the units mean-field VI leaves unused), except with groups and
        pooling="none" (the library default there). Otherwise a name from
        `pymc_bnn.model.priors.PRIORS` or an object, used as given; None is `build_model`'s default
        Normal(0, 1/sqrt(fan_in)).
    method : "auto" or str, default "auto"
        The inference engine (a key of `pymc_bnn.ENGINES`). "auto": `laplace` (the best
        held-out log loss of the engines on the tabular benchmark, in seconds), or `advi` for
        grouped fits, which laplace does not fit yet.
    steps : int or None, default None
        Optimisation steps for advi, fullrank_advi and laplace (its MAP fit); None keeps the
        engine's default.
    draws : int, default 1000
        Posterior draws kept for prediction.
    engine_options : dict or None
        Other engine options, e.g. {"learning_rate": 0.005}.
    standardize : bool, default True
        Standardise each feature with the training data's mean and sd before the network.
    random_state : int, RandomState or None
        An int gives bit-identical fits.
    verbose : bool, default False
        Show the engine's progress bar.
    pooling : {"partial", "complete", "none"}, default "partial"
        Used when `fit` gets `groups` (one label per row, or a DataFrame column name): a
        hierarchical network (see `pymc_bnn.model.groups`). Then `predict`, `predict_proba` and
        `score` take `groups` too; a group not seen in training is predicted from the
        population, or refused with `unseen_groups="raise"`.
    batch_size : int, default 1024
        Rows per step when `fit` streams its data (a Parquet path, a `BatchSource`); the
        log-likelihood is scaled by the data's true row count. In-memory fits ignore it.

    Attributes
    ----------
    posterior_ : Posterior
    classes_ : ndarray (n_classes,)
        Labels in the order of the `predict_proba` columns.
    n_features_in_, feature_names_in_ : as in scikit-learn.
    x_mean_, x_scale_ : ndarray (n_features,)
        Input standardisation (zeros and ones when standardize=False).
    """

    _parameter_constraints: dict = {
        **_BayesianMLP._parameter_constraints,
        "likelihood": [StrOptions(set(CLASSIFIER_LIKELIHOODS))],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Fit to X (n_obs, n_features) and labels y (n_obs,); returns self. `groups`: one
        group label per row (or a column name of a DataFrame X) for a hierarchical network.
        Streamed data: X a Parquet file or folder and y its label column's name, or X a
        `BatchSource` or a function returning (X, y) batches (y left out)."""
        if is_stream(X):
            self._fit_stream(X, y, groups)
            return self
        _require_target(self, y)
        X, groups = split_group_column(X, groups)
        check_labels(y)
        X, y, keep = self._validated_Xy(X, y)
        groups = _kept(groups, keep)
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise InvalidInputError(
                f"{exc} Use BayesianMLPRegressor for a real-valued target."
            ) from None
        codes, classes = encode_class_labels(y)
        self.classes_ = np.asarray(classes, dtype=np.asarray(y).dtype)
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if len(classes) == 2 else "categorical"
        if likelihood == "bernoulli" and len(classes) != 2:
            raise InvalidInputError(
                f"likelihood='bernoulli' takes two classes but y has {len(classes)}; use "
                "likelihood='categorical' or 'auto'"
            )
        if likelihood == "categorical":
            likelihood = Categorical(classes=tuple(range(len(classes))))
        self._set_input_scaling(X)
        self._fit_posterior(X, codes, likelihood, groups)
        return self

    def _stream_target(self, stats):
        """Labels: `classes_` from the pass over the data, encoded 0 … K-1 in each batch."""
        self.classes_ = np.asarray(stats.classes)
        if len(self.classes_) < 2:
            raise InvalidInputError(
                f"y has {len(self.classes_)} class; a classifier needs at least two")
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if len(self.classes_) == 2 else "categorical"
        if likelihood == "bernoulli" and len(self.classes_) != 2:
            raise InvalidInputError(
                f"likelihood='bernoulli' takes two classes but y has {len(self.classes_)}; use "
                "likelihood='categorical' or 'auto'")
        if likelihood == "categorical":
            likelihood = Categorical(classes=tuple(range(len(self.classes_))))
        classes = self.classes_
        return (likelihood, lambda y: np.searchsorted(classes, y),
                dataclasses.replace(stats, classes=np.arange(len(classes))))

    def predict_proba(self, X, groups=None, unseen_groups="population") -> np.ndarray:
        """Posterior predictive class probabilities (n_obs, n_classes), columns as `classes_`."""
        X, groups = split_group_column(X, groups)
        X = self.posterior_inputs(X)
        mean = self.posterior_.predict(X, groups=groups, unseen_groups=unseen_groups)["mean"]
        return as_class_probabilities(mean.values)

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X, groups=None, unseen_groups="population") -> np.ndarray:
        """The most probable class under the posterior predictive (n_obs,)."""
        proba = self.predict_proba(X, groups=groups, unseen_groups=unseen_groups)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """Accuracy, as scikit-learn's classifiers score; grouped fits take `groups`."""
        from sklearn.metrics import accuracy_score

        predicted = self.predict(X, groups=groups)
        return float(_as_invalid_input(accuracy_score, y, predicted, sample_weight=sample_weight))


@register_estimator
class BayesianMLPRegressor(RegressorMixin, _BayesianMLP):
    """A Bayesian multi-layer perceptron regressor (real or count targets).

    Parameters
    ----------
    likelihood : str or likelihood object, default "gaussian"
        "gaussian", "heteroscedastic", "student_t", "poisson", "negative_binomial", or an
        object. Every other parameter is the classifier's.

    `predict(X, return_std=True)` returns the predictive mean and the total predictive sd (noise
    plus weight uncertainty), as GaussianProcessRegressor does.
    """

    _parameter_constraints: dict = {
        **_BayesianMLP._parameter_constraints,
        "likelihood": [StrOptions(set(REGRESSOR_LIKELIHOODS)),
                       HasMethods(["prepare_target", "observe", "predictive_params", "to_dict"])],
    }

    def __init__(self, hidden_layer_sizes=(32, 32), *, activation="tanh", bias=True, skip=False,
                 likelihood="gaussian", prior="auto", method="auto", steps=None,
                 draws=DEFAULT_DRAWS, engine_options=None, standardize=True, random_state=None,
                 verbose=False, pooling="partial", missing="impute", categorical=None,
                 ordinal=None, batch_size=1024):
        super().__init__(
            hidden_layer_sizes, activation=activation, bias=bias, skip=skip, likelihood=likelihood,
            prior=prior, method=method, steps=steps, draws=draws, engine_options=engine_options,
            standardize=standardize, random_state=random_state, verbose=verbose,
            pooling=pooling, missing=missing, categorical=categorical, ordinal=ordinal,
            batch_size=batch_size,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Fit to X (n_obs, n_features) and a numeric target y (n_obs,); returns self. `groups`
        as for the classifier; streamed data as for the classifier."""
        if is_stream(X):
            self._fit_stream(X, y, groups)
            return self
        _require_target(self, y)
        X, groups = split_group_column(X, groups)
        _check_numeric_target(y)
        X, y, keep = self._validated_Xy(X, y, y_numeric=True)
        groups = _kept(groups, keep)
        self._set_input_scaling(X)
        self._fit_posterior(X, y, self.likelihood, groups)
        return self

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """R², as scikit-learn's regressors score; grouped fits take `groups`."""
        from sklearn.metrics import r2_score

        predicted = self.predict(X, groups=groups)
        return float(_as_invalid_input(r2_score, y, predicted, sample_weight=sample_weight))

    def predict(self, X, return_std: bool = False, groups=None, unseen_groups="population"):
        """Predictive mean (n_obs,); with return_std, also the total predictive sd (n_obs,).

        Total variance = E_draws[noise variance] + Var_draws[mean] (the law of total variance,
        `pymc_bnn.posterior.uncertainty.regression_moments`).
        """
        X, groups = split_group_column(X, groups)
        X = self.posterior_inputs(X)
        mean = self.posterior_.predict(X, groups=groups, unseen_groups=unseen_groups)["mean"]
        if not return_std:
            return mean.values
        moments = regression_moments(self.posterior_.predictive_draws(
            X, groups=groups, unseen_groups=unseen_groups))
        return mean.values, moments["sd"]


def _is_frame(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def _kept(groups, keep):
    """The group labels of the rows kept (all of them unless missing="drop" dropped some)."""
    if groups is None or keep.all():
        return groups
    return [label for label, kept in zip(groups, keep, strict=True) if kept]


def _unchanged(y):
    return y


def _require_target(estimator, y) -> None:
    """In-memory data need y (it may be left out only for streamed batches that carry it)."""
    if y is None:
        raise InvalidInputError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None; "
            "pass one target value per row of X")


def _check_numeric_target(y) -> None:
    """InvalidInputError naming the fix when a regressor's target is not numbers."""
    try:
        np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        values = ", ".join(sorted({str(v) for v in np.ravel(np.asarray(y, dtype=object))})[:5])
        raise InvalidInputError(
            f"a regressor needs a numeric target, got values like {values}; use "
            "BayesianMLPClassifier for class labels, or convert the target to numbers"
        ) from None


# scikit-learn's validation messages say what is wrong but not always how to fix it: the fix
# for each, found by a phrase of the message (kept whole, so scikit-learn's own checks match).
_FIXES = (
    ("features, but", "pass the same columns, in the same order, as at fit time "
                      "(see n_features_in_)"),
    ("feature names should match", "pass the columns seen at fit time, with the same names "
                                   "and order (see feature_names_in_)"),
    ("Input X contains", "drop or impute those rows before fitting or predicting"),
    ("Input y contains", "drop those rows or impute the target"),
    ("0 sample(s)", "pass at least one row"),
    ("0 feature(s)", "pass at least one column"),
    ("could not convert", "pass numbers: encode text as numbers first"),
    ("Mix of label input types", "pass labels of the same type as those fitted (classes_)"),
    ("Mix type of y", "pass labels of the same type as those fitted (classes_)"),
)


def _as_invalid_input(check, *args, **kwargs):
    """Run scikit-learn's validation; its ValueErrors become InvalidInputError with the fix."""
    try:
        return check(*args, **kwargs)
    except PymcBnnError:
        raise
    except (ValueError, TypeError) as exc:  # scikit-learn raises TypeError for sparse X
        message = str(exc).strip()
        for phrase, fix in _FIXES:
            if phrase in message:
                # the first paragraph states the problem; scikit-learn's long advice after it
                # (other estimators, URLs) is replaced by the fix
                problem = message.split("\n")[0].rstrip(". ") if phrase.startswith("Input") \
                    else " ".join(message.split())
                message = f"{problem.rstrip('. ')}; {fix}"
                break
        error = InvalidInputError if isinstance(exc, ValueError) else InvalidInputTypeError
        raise error(message) from None


__all__ = ["BayesianMLPClassifier", "BayesianMLPRegressor"]
