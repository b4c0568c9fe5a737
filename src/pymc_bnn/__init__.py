"""pymc-bnn: Bayesian neural networks on PyMC.

The flow: `NetworkSpec` → `build_model` (a `pm.Model`) → `fit` (an inference engine) →
`Posterior` (ArviZ draws, prediction over them) → metrics, plots, report.
"""

from importlib.metadata import PackageNotFoundError, version

from pymc_bnn.errors import (
    ConvergenceWarning,
    InferenceError,
    InvalidInputError,
    InvalidSettingError,
    ModelFileError,
    PymcBnnError,
)
from pymc_bnn.inference import ENGINES, fit
from pymc_bnn.io import load, save
from pymc_bnn.likelihoods import (
    Bernoulli,
    Categorical,
    Gaussian,
    HeteroscedasticGaussian,
    NegativeBinomial,
    Poisson,
    StudentT,
    get_likelihood,
)
from pymc_bnn.model import BNNModel, build_model
from pymc_bnn.network import NetworkSpec, forward
from pymc_bnn.posterior import Posterior
from pymc_bnn.prior_predictive import prior_predictive
from pymc_bnn.priors import (
    ARDPrior,
    HorseshoePrior,
    InformedPrior,
    LaplacePrior,
    NormalPrior,
    SpikeAndSlabPrior,
    get_prior,
)
from pymc_bnn.sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from pymc_bnn.uncertainty import predictive_summary
from pymc_bnn.active import BNNFitter, oracle, run_active_learning

try:
    __version__ = version("pymc-bnn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "BNNModel", "Bernoulli", "ConvergenceWarning", "ENGINES", "InferenceError",
    "InvalidInputError", "InvalidSettingError", "ModelFileError", "NetworkSpec", "NormalPrior",
    "Posterior", "PymcBnnError", "build_model", "fit", "forward", "get_likelihood", "get_prior",
    # the model family
    "ARDPrior", "Categorical", "Gaussian", "HeteroscedasticGaussian", "HorseshoePrior",
    "InformedPrior", "LaplacePrior", "NegativeBinomial", "Poisson", "SpikeAndSlabPrior",
    "StudentT", "prior_predictive",
    # uncertainty
    "predictive_summary",
    # active learning
    "BNNFitter", "oracle", "run_active_learning",
    # scikit-learn estimators and model files
    "BayesianMLPClassifier", "BayesianMLPRegressor", "load", "save",
]
