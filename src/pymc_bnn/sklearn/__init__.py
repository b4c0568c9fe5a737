"""scikit-learn estimators over the library: `BayesianMLPClassifier` and `BayesianMLPRegressor`.

They follow the estimator contract (parameters stored unchanged in `__init__`, learned state in
trailing-underscore attributes, `fit` returns self), so they work in `Pipeline`,
`cross_val_score` and `GridSearchCV`. Each fit calls the same functions a user would:
`build_model` → `fit` → `Posterior`; the fitted posterior is `posterior_`.

Inputs are standardised with the training data's mean and sd by default (`standardize=True`):
the priors' widths assume unit-scale inputs, as the network's prior predictive does.

Data larger than memory: `fit` also takes a Parquet file or folder (with the target column's
name as `y`), a `pymc_bnn.data.BatchSource` or a function returning (X, y) batches; it then
streams minibatches of `batch_size` rows through `advi`.

Defaults (`method="auto"`, `prior="auto"`): the `laplace` engine on a network with Normal
weights of scale 4/sqrt(fan_in) for classifiers, and for regressors of the scale that predicts
held-out rows best (`map_scale="holdout"`) with the noise sd by the evidence
(`noise_sd="evidence"`) and, for a network, following its predicted mean (`noise="auto"`,
`pymc_bnn.posterior.noise_function`); the output layer's prior precision chosen by the
marginal likelihood (for three or more classes the output layer's draws come from its exact
posterior, not its Gaussian, which was underconfident); grouped fits use `advi` with a
regularised horseshoe (partial and complete pooling) or the fan-in Normal (`pooling="none"`).
Why, with numbers: `benchmarks/tabular.py` and its table in `benchmarks/README.md`.

Modules: `base` (the parameters, fit and outputs both share, and the defaults), `classifier`,
`regressor`, `checks` (the one validation of X and y, in pymc-bnn's errors), `members` (an
ensemble's members as separate fits, for `n_jobs`), `group_fits` (a `pooling="none"`
classifier's groups as separate fits) and `stacked_fit` (`stack_linear=True`).
"""

from pymc_bnn.defaults import CLASSIFIER_LIKELIHOODS, DEFAULT_DRAWS, REGRESSOR_LIKELIHOODS
from pymc_bnn.sklearn.base import (
    AUTO_METHOD,
    AUTO_PRIOR,
    GROUPED_METHOD,
    LAPLACE_PRIOR,
    LAPLACE_REGRESSION_OPTIONS,
    LAPLACE_REGRESSION_PRIOR,
    STREAMED_METHOD,
    BayesianMLPBase,
    resolve_method,
)
from pymc_bnn.sklearn.checks import EstimatorNotFittedError, InvalidInputTypeError
from pymc_bnn.sklearn.classifier import BayesianMLPClassifier
from pymc_bnn.sklearn.regressor import BayesianMLPRegressor

__all__ = [
    "AUTO_METHOD", "AUTO_PRIOR", "CLASSIFIER_LIKELIHOODS", "DEFAULT_DRAWS", "GROUPED_METHOD",
    "LAPLACE_PRIOR", "LAPLACE_REGRESSION_OPTIONS", "LAPLACE_REGRESSION_PRIOR",
    "REGRESSOR_LIKELIHOODS", "STREAMED_METHOD",
    "BayesianMLPBase", "BayesianMLPClassifier", "BayesianMLPRegressor", "EstimatorNotFittedError",
    "InvalidInputTypeError", "resolve_method",
]
