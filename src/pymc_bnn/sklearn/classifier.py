"""`BayesianMLPClassifier`: a Bayesian multi-layer perceptron for class labels."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn.defaults import CLASSIFIER_LIKELIHOODS
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.io.model_file import register_estimator
from pymc_bnn.label_checks import check_labels, encode_class_labels
from pymc_bnn.model.group_labels import split_group_column
from pymc_bnn.model.likelihoods import Categorical
from pymc_bnn.posterior.uncertainty import as_class_probabilities
from pymc_bnn.sklearn import checks
from pymc_bnn.sklearn.base import BayesianMLPBase


@register_estimator
class BayesianMLPClassifier(ClassifierMixin, BayesianMLPBase):
    """A Bayesian multi-layer perceptron classifier; any labels, two or more classes.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (32, 32)
        Width of each hidden layer; () for none: a Bayesian generalised linear model (the
        likelihood's link applied to a linear function of the inputs, with the same priors,
        engines and predictions).
    activation : {"tanh", "relu", "gelu", "softplus", "sigmoid", "identity"}, default "tanh"
    bias : bool, default True
        Give each unit a bias (scikit-learn's MLPs always do; the seed network had none).
    skip : bool, default False
        Add a linear path from the inputs straight to the outputs (see `NetworkSpec`), so the
        hidden layers model only what a linear model misses. With a
        `NormalPrior` whose sigma `GridSearchCV` picks, it beats MLPClassifier's held-out log
        loss on breast_cancer and digits (`tests/acceptance/test_bundled_data.py`).
    stack_linear : bool or "auto", default "auto"
        Also fit the Bayesian GLM (`hidden_layer_sizes=()`) and keep the stacking mixture of
        the two predictive distributions, weighted by 5-fold cross-validated log density
        (Yao et al. 2018; `pymc_bnn.posterior.stacking`): as good as the better of the two on
        mostly linear and on curved data, at several times the fit's time (each model fitted
        once on every row and once per fold, their MAPs by L-BFGS, the folds in threads, one
        per core). Sample weights weight the fits and the held-out score alike; not with
        groups or streamed data. "auto": stacked where the tabular benchmark measured it
        winning within seconds (`pymc_bnn.sklearn.stacked_fit.stacks_by_default`: a network
        under laplace, two classes or a Gaussian target, 100 to 2,000 rows in memory, no
        groups), else the network alone.
    likelihood : {"auto", "bernoulli", "categorical"}, default "auto"
        "auto" is bernoulli for two classes (labels mapped to 0/1 here) and categorical for more.
    prior : "auto", str, prior object or None, default "auto"
        "auto": under laplace `NormalPrior(sigma=4)` for classifiers and `NormalPrior(sigma=1)`
        for regressors (the engine then chooses the output layer's precision by the marginal
        likelihood; a regressor's fit also sets the engine options `map_scale="holdout"` and
        `noise_sd="evidence"` unless `engine_options` gives them); under advi and nuts
        `HorseshoePrior(layers="all")` (one shrinkage scale per input and per hidden unit, which
        switches off the units mean-field VI leaves unused), except with groups and
        pooling="none" (the library default there). Otherwise a name from
        `pymc_bnn.model.priors.PRIORS` or an object, used as given; None is `build_model`'s default
        Normal(0, 1/sqrt(fan_in)).
    method : "auto" or str, default "auto"
        The inference engine (a key of `pymc_bnn.ENGINES`). "auto": `laplace` (the best
        held-out log loss of the engines on the tabular benchmark, in seconds), or `advi` for
        grouped fits and for priors other than a Normal of fixed scale (horseshoe, ARD …), which
        laplace does not take. For three or more classes laplace draws
        the output layer from its exact posterior by NUTS (`output_layer="auto"`), because
        its Gaussian left the multiclass probabilities underconfident.
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
    n_jobs : int or None, default None
        With `engine_options={"ensemble": True}` under advi or fullrank_advi: fit the members
        as separate fits (one restart and seed each) through joblib, this many at a time (-1:
        one per core), so `with joblib.parallel_backend("dask"):` runs them on a Dask cluster.
        None runs them together in one compiled program on this machine's devices (a
        different draw of seeds, so other numbers). laplace's members are one fit (their
        temperature is chosen together), so it refuses n_jobs with an ensemble. With
        `groups` and `pooling="none"`: fit each group's network separately through joblib
        (the same model: such groups share nothing; `pymc_bnn.sklearn.group_fits`; any
        engine, laplace included), where None fits them as one joint model. In a stacked
        fit: the folds' fits, this many at a time, in threads (a fit keeps about one core
        busy) or on the active joblib backend; None: one per core in threads, 1: one after
        another; the same weights either way. Any
        other fit is one fit and ignores n_jobs, except a streamed ensemble, which refuses it
        (its members run together on the batches).
    missing : {"impute", "drop"}, default "impute"
        Rows with missing values: imputed (the median of a numeric column, a category of its
        own, plus a missing-indicator column) or dropped from training.
    categorical, ordinal : list of column names or indices, optional
        Columns to one-hot encode, and to code as ordered integers (`pymc_bnn.encoding`);
        text columns are categorical without being listed.

    Attributes
    ----------
    posterior_ : Posterior
    classes_ : ndarray (n_classes,)
        Labels in the order of the `predict_proba` columns.
    n_features_in_, feature_names_in_ : as in scikit-learn.
    x_mean_, x_scale_ : ndarray (n_features,)
        Input standardisation (zeros and ones when standardize=False).
    named_estimators_ : dict
        Only after a stacked fit (`stack_linear`): "network" and "linear" → that model fitted
        alone on every row, as a fitted estimator of this class (as scikit-learn's stacking
        estimators name theirs): the two fits the mixture is made of, to predict or score
        each. Kept in memory, not in saved files.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn import BayesianMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    >>> model = BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=200, draws=50,
    ...                               random_state=0).fit(X, y)
    >>> model.classes_.tolist(), model.predict_proba(X[:2]).shape
    (['no', 'yes'], (2, 2))
    >>> model.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        **BayesianMLPBase._parameter_constraints,
        "likelihood": [StrOptions(set(CLASSIFIER_LIKELIHOODS))],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None, sample_weight=None):
        """Fit to X (n_obs, n_features) and labels y (n_obs,); returns self.

        Parameters
        ----------
        X : array-like, DataFrame, Parquet path, BatchSource or callable
            The features; or streamed data: a Parquet file or folder (y then names its label
            column), a `BatchSource` or a function returning (X, y) batches (y left out).
        y : array-like (n_obs,) or str, optional
            The labels (any type, two or more classes).
        groups : array-like (n_obs,) or str, optional
            One group label per row (or a column name of a DataFrame X) for a hierarchical
            network (see `pooling`).
        sample_weight : array-like (n_obs,), optional
            Each row's weight ≥ 0, multiplying its log-likelihood (2 counts a row twice, 0
            leaves it out; e.g. `sklearn.utils.class_weight.compute_sample_weight("balanced",
            y)` for classes of unequal size). The prior is not weighted
            (`pymc_bnn.build_model`). Not with streamed data.

        Returns
        -------
        BayesianMLPClassifier
            self, fitted.

        Examples
        --------
        See the class.
        """
        return self._fit_rows(X, y, groups, sample_weight)

    def _check_target(self, y) -> None:
        check_labels(y)

    def _model_target(self, y):
        """(class codes 0 … K-1, the likelihood); sets `classes_`."""
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise InvalidInputError(
                f"{exc} Use BayesianMLPRegressor for a real-valued target."
            ) from None
        codes, classes = encode_class_labels(y)
        _warn_of_lookalike_classes(classes)
        self.classes_ = np.asarray(classes, dtype=np.asarray(y).dtype)
        return codes, self._likelihood_for(len(classes))

    def _likelihood_for(self, n_classes: int):
        """The likelihood for `n_classes` classes.

        `likelihood`, or for "auto" bernoulli for two and categorical for more.
        """
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if n_classes == 2 else "categorical"
        if likelihood == "bernoulli" and n_classes != 2:
            raise InvalidInputError(
                f"likelihood='bernoulli' takes two classes but y has {n_classes}; use "
                "likelihood='categorical' or 'auto'")
        if likelihood == "categorical":
            return Categorical(classes=tuple(range(n_classes)))
        return likelihood

    def _stream_target(self, stats):
        """Labels: `classes_` from the pass over the data, encoded 0 … K-1 in each batch."""
        self.classes_ = np.asarray(stats.classes)
        if len(self.classes_) < 2:
            raise InvalidInputError(
                f"y has {len(self.classes_)} class; a classifier needs at least two")
        likelihood = self._likelihood_for(len(self.classes_))
        classes = self.classes_
        return (likelihood, lambda y: np.searchsorted(classes, y),
                dataclasses.replace(stats, classes=np.arange(len(classes))))

    def _named_outputs(self, posterior):
        """The posterior with a categorical network's "output" coordinate holding `classes_`.

        The model is fitted to the codes 0 … K-1 of the labels, so its draws come labelled by
        code; naming the classes there lets `posterior_.idata` say which class each output is,
        as the columns of `predict_proba` do. A Bernoulli network's one output (the logit of
        `classes_[1]`) keeps its 0.
        """
        if not isinstance(posterior.likelihood, Categorical):
            return posterior
        return dataclasses.replace(posterior,
                                   idata=name_output_coordinate(posterior.idata, self.classes_))

    def predict_proba(self, X, groups=None, unseen_groups="population") -> np.ndarray:
        """Posterior predictive class probabilities (n_obs, n_classes), columns as `classes_`.

        Examples
        --------
        >>> proba = fitted_classifier.predict_proba([[0.0, 1.0, 2.0], [0.0, -1.0, 2.0]])
        >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
        ((2, 2), True)
        """
        X, groups = split_group_column(X, groups)
        X = self.posterior_inputs(X)
        mean = self.posterior_.predict(X, groups=groups, unseen_groups=unseen_groups)["mean"]
        return as_class_probabilities(mean.values)

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of `predict_proba` (n_obs, n_classes), nats.

        Examples
        --------
        >>> fitted_classifier.predict_log_proba([[0.0, 1.0, 2.0]]).max() <= 0.0
        np.True_
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X, groups=None, unseen_groups="population") -> np.ndarray:
        """The most probable class under the posterior predictive (n_obs,).

        Examples
        --------
        >>> fitted_classifier.predict([[3.0, 3.0, 0.0], [-3.0, -3.0, 0.0]]).tolist()
        ['yes', 'no']
        """
        proba = self.predict_proba(X, groups=groups, unseen_groups=unseen_groups)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """Accuracy, as scikit-learn's classifiers score; grouped fits take `groups`.

        Examples
        --------
        >>> fitted_classifier.score([[3.0, 3.0, 0.0], [-3.0, -3.0, 0.0]], ["yes", "no"])
        1.0
        """
        from sklearn.metrics import accuracy_score

        predicted = self.predict(X, groups=groups)
        return float(checks.as_invalid_input(accuracy_score, y, predicted,
                                             sample_weight=sample_weight))


def name_output_coordinate(idata, classes):
    """A copy of `idata` whose "output" coordinate is `classes`, in every group of that length.

    Parameters
    ----------
    idata : xarray.DataTree
        ArviZ data of a network with one output per class (a categorical likelihood).
    classes : array-like (n_classes,)
        The class of each output, in the outputs' order.

    Returns
    -------
    xarray.DataTree
        The same draws; groups without an "output" dimension of `len(classes)` unchanged.

    Examples
    --------
    >>> import arviz as az
    >>> idata = az.from_dict({"posterior": {"w_1": np.zeros((1, 5, 4, 3))}},
    ...                      dims={"w_1": ["hidden_0", "output"]})
    >>> named = name_output_coordinate(idata, np.array(["cat", "dog", "fox"]))
    >>> named["posterior"]["output"].values.tolist(), idata["posterior"]["output"].values.tolist()
    (['cat', 'dog', 'fox'], [0, 1, 2])
    """
    import xarray as xr

    labels = np.asarray(classes)
    tree = idata.copy()
    for node in list(idata.subtree):
        dataset = node.to_dataset(inherit=False)
        if node is not idata and dataset.sizes.get("output") == len(labels):
            tree[node.path] = xr.DataTree(dataset.assign_coords(output=labels))
    return tree


def _warn_of_lookalike_classes(classes) -> None:
    """Warn when text labels differ only in spaces or case ("yes" and "yes ").

    Most often one class typed two ways, which the fit would treat as two classes.
    """
    seen: dict[str, str] = {}
    for label in classes:
        if not isinstance(label, str):
            continue
        key = " ".join(label.split()).casefold()
        if key in seen:
            warn_caller(
                f"the classes {seen[key]!r} and {label!r} differ only in spaces or case, so they "
                "are fitted as two classes; if they are one, write them alike (e.g. "
                "y.str.strip())")
            return
        seen[key] = label
