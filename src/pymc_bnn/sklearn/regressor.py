"""`BayesianMLPRegressor`: a Bayesian multi-layer perceptron for real or count targets."""

from __future__ import annotations

from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, StrOptions

from pymc_bnn.defaults import DEFAULT_DRAWS, REGRESSOR_LIKELIHOODS
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.io.model_file import register_estimator
from pymc_bnn.model.group_labels import split_group_column
from pymc_bnn.posterior.noise_function import noise_follows_mean
from pymc_bnn.posterior.uncertainty import predictive_summary, regression_moments
from pymc_bnn.sklearn import checks
from pymc_bnn.sklearn.base import BayesianMLPBase


@register_estimator
class BayesianMLPRegressor(RegressorMixin, BayesianMLPBase):
    """A Bayesian multi-layer perceptron regressor (real or count targets).

    Parameters
    ----------
    likelihood : str or likelihood object, default "gaussian"
        "gaussian", "heteroscedastic", "student_t", "poisson", "negative_binomial", or an
        object. Every other parameter is the classifier's (`BayesianMLPClassifier`), except
        that `n_jobs` with `groups` and `pooling="none"` is refused: a regressor's groups
        share the noise sd and the target's standardisation, so they are one fit.
    stack_heteroscedastic : bool, default False
        Also fit the same network with `likelihood="heteroscedastic"` (its noise sd a second
        output of the network) and keep the stacking mixture of the models' predictive
        distributions, weighted by 5-fold cross-validated log density, as `stack_linear` does
        (with it, the three models are stacked): for a Gaussian likelihood only. Where the
        noise changes with the inputs, the mixture takes the second head's intervals; where
        that head is too sure of some rows, the Gaussian members cover them. Costs as many
        fits again as `stack_linear`; a Ctrl-C after the network's own fit keeps it alone.
    noise : {"auto", "follows_mean", "constant"}, default "auto"
        "follows_mean": after the fit, a Gaussian network's noise sd becomes a function of its
        predicted mean, log s² = a + b·(standardised mean), fitted to its training residuals
        (read through a Student-t of 4 df) with b's prior precision by the evidence, at the
        fit's own average noise level
        (`pymc_bnn.posterior.noise_function`; milliseconds): the posterior becomes a
        heteroscedastic one of the same network. Where the noise grows with the target's level
        (counts, amounts) its intervals follow it; where the evidence finds no trend it is
        the constant noise to a few digits. For a Gaussian likelihood with biases, no groups
        and rows in memory; in a stacked fit it is the network's noise (in its full fit and in
        every fold's), the other members keep theirs. "auto" (default): "follows_mean" for the
        default fit (a Gaussian network with hidden layers under the `laplace` engine, rows in
        memory, no groups), stacked or not, because on the tabular benchmark it lowers the
        held-out NLL where the noise grows with the target's level and keeps it where the noise
        is constant, in milliseconds; "constant" elsewhere (a GLM stays `BayesianRidge`'s
        model). "constant": one noise sd for every row.

    Attributes
    ----------
    posterior_ : Posterior
    n_features_in_, feature_names_in_ : as in scikit-learn.
    x_mean_, x_scale_ : ndarray (n_features,)
        Input standardisation (zeros and ones when standardize=False).
    named_estimators_ : dict
        Only after a stacked fit: "network", and "linear" (`stack_linear=True`) or
        "heteroscedastic" (`stack_heteroscedastic=True`) or both → that model fitted alone on
        every row, as a fitted estimator of this class (as scikit-learn's stacking estimators
        name theirs): the fits the mixture is made of, to predict or score each. Kept in
        memory, not in saved files.

    Notes
    -----
    `predict(X, return_std=True)` returns the predictive mean and the total predictive sd
    (noise plus weight uncertainty), as GaussianProcessRegressor does.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.sklearn import BayesianMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = 2.0 * X[:, 0] + rng.normal(0, 0.1, size=60)
    >>> model = BayesianMLPRegressor(hidden_layer_sizes=(4,), steps=200, draws=50,
    ...                              random_state=0).fit(X, y)
    >>> mean, sd = model.predict(X[:3], return_std=True)
    >>> mean.shape, bool((sd > 0).all())
    ((3,), True)
    """

    _parameter_constraints: dict = {
        **BayesianMLPBase._parameter_constraints,
        "likelihood": [StrOptions(set(REGRESSOR_LIKELIHOODS)),
                       HasMethods(["prepare_target", "observe", "predictive_params", "to_dict"])],
        "stack_heteroscedastic": ["boolean"],
        "noise": [StrOptions({"auto", "constant", "follows_mean"})],
    }

    def __init__(self, hidden_layer_sizes=(32, 32), *, activation="tanh", bias=True, skip=False,
                 stack_linear="auto", stack_heteroscedastic=False, noise="auto",
                 likelihood="gaussian",
                 prior="auto", method="auto", steps=None, draws=DEFAULT_DRAWS,
                 engine_options=None, standardize=True, random_state=None, verbose=False,
                 pooling="partial", missing="impute", categorical=None, ordinal=None,
                 batch_size=1024, n_jobs=None):
        self.stack_heteroscedastic = stack_heteroscedastic
        self.noise = noise
        super().__init__(
            hidden_layer_sizes, activation=activation, bias=bias, skip=skip,
            stack_linear=stack_linear, likelihood=likelihood,
            prior=prior, method=method, steps=steps, draws=draws, engine_options=engine_options,
            standardize=standardize, random_state=random_state, verbose=verbose,
            pooling=pooling, missing=missing, categorical=categorical, ordinal=ordinal,
            batch_size=batch_size, n_jobs=n_jobs,
        )

    def _stack_members(self, y=None, likelihood=None, groups=None) -> tuple[str, ...]:
        """The classifier's members, and the heteroscedastic network where asked for."""
        return (*super()._stack_members(y, likelihood, groups),
                *(("heteroscedastic",) if self.stack_heteroscedastic else ()))

    def _fit_posterior(self, X, y, likelihood, groups=None, sample_weight=None) -> None:
        """The fit both estimators share; then, where `noise` asks for it, the variance function."""
        # a stacked fit decides (and refuses) through `_network_noise`, before its first fit,
        # and lets its network's noise follow the mean in the full fit and the folds;
        # otherwise the decision is made here, before the fit, and applied after it
        stacked = len(self._stack_members(y, likelihood, groups)) > 1
        follows = not stacked and self._noise_follows_mean(likelihood, groups)
        super()._fit_posterior(X, y, likelihood, groups, sample_weight)
        # "auto" leaves a full-network Laplace fit (predictions through the linearised network,
        # which `hessian="auto"` may choose) as it is; asked for by name, it is refused there
        if follows and not self.posterior_.interrupted and (
                self.noise == "follows_mean" or not self.posterior_.linearised):
            self.posterior_ = noise_follows_mean(self.posterior_,
                                                 random_seed=self._random_seed())

    def _network_noise(self, likelihood, groups) -> str:
        """A stacked fit's network noise: "follows_mean" where `noise` makes it follow."""
        return "follows_mean" if self._noise_follows_mean(likelihood, groups) else "constant"

    def _noise_follows_mean(self, likelihood, groups) -> bool:
        """Whether this fit's noise sd follows its mean; refuses "follows_mean" where it cannot."""
        if self.noise == "constant":
            return False
        why = _why_noise_cannot_follow(self, likelihood, groups)
        if self.noise == "follows_mean":
            if why is not None:
                raise InvalidSettingError(f"noise='follows_mean' is for a Gaussian network "
                                          f"fitted to rows in memory, but {why}; leave out "
                                          "noise=")
            return True
        # "auto": where it can apply, for the default fit's network (not a GLM, not advi/nuts)
        return why is None and bool(self._hidden()) and self._method(groups) == "laplace"

    def _fit_stream(self, data, target, groups) -> None:
        if self.noise == "follows_mean":
            raise InvalidSettingError(
                "noise='follows_mean' fits the noise to the training rows' residuals, which "
                "streamed data do not keep; fit rows in memory, or leave out noise=")
        super()._fit_stream(data, target, groups)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None, sample_weight=None):
        """Fit to X (n_obs, n_features) and a numeric target y (n_obs,); returns self.

        `groups`, `sample_weight` and streamed data as for `BayesianMLPClassifier.fit`.

        Examples
        --------
        See the class.
        """
        return self._fit_rows(X, y, groups, sample_weight, y_numeric=True)

    def score(self, X, y, sample_weight=None, groups=None) -> float:
        """R², as scikit-learn's regressors score; grouped fits take `groups`.

        Examples
        --------
        >>> fitted_regressor.score([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], [2.0, -2.0]) > 0.5
        True
        """
        from sklearn.metrics import r2_score

        predicted = self.predict(X, groups=groups)
        return float(checks.as_invalid_input(r2_score, y, predicted,
                                             sample_weight=sample_weight))

    def predict(self, X, return_std: bool = False, groups=None, unseen_groups="population"):
        """Predictive mean (n_obs,); with return_std, also the total predictive sd (n_obs,).

        Total variance = E_draws[noise variance] + Var_draws[mean] (the law of total variance,
        `pymc_bnn.posterior.uncertainty.regression_moments`).

        Examples
        --------
        >>> mean, sd = fitted_regressor.predict([[1.0, 0.0, 0.0]], return_std=True)
        >>> mean.shape, sd.shape
        ((1,), (1,))
        """
        X, groups = split_group_column(X, groups)
        X = self.posterior_inputs(X)
        if return_std and unseen_groups == "population":  # one pass: uncertainty()'s, which
            # gives predict's mean bit for bit
            summary = predictive_summary(self.posterior_, X, level=None, groups=groups)
            return summary["mean"].values, summary["sd"].values
        mean = self.posterior_.predict(X, groups=groups, unseen_groups=unseen_groups)["mean"]
        if not return_std:
            return mean.values
        moments = regression_moments(self.posterior_.predictive_draws(
            X, groups=groups, unseen_groups=unseen_groups))
        return mean.values, moments["sd"]


def _why_noise_cannot_follow(model, likelihood, groups) -> str | None:
    """Why this fit's noise sd cannot follow its mean (known before any fit), or None.

    `noise_function.noise_follows_mean` checks the fitted posterior again (the authority); this
    says it before the fit, and lets "auto" pass over such fits.
    """
    named = getattr(likelihood, "name", likelihood)
    return (f"likelihood={named!r} has its own noise model" if named != "gaussian" else
            "bias=False leaves the network no output bias to carry the noise's level"
            if not model.bias else
            "a grouped fit shares one noise sd over its groups" if groups is not None else None)
