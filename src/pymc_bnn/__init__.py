"""pymc-bnn: Bayesian neural networks on PyMC.

The flow, one subpackage per step: `model` (`NetworkSpec`, priors, likelihoods → `build_model`, a
`pm.Model`) → `inference` (`fit` with an engine) → `posterior` (`Posterior`: ArviZ draws,
prediction over them, uncertainty, metrics) → `reporting` (plots, HTML). The faces over it:
`sklearn` (estimators), `io` (model files), `active` (active learning), `cli` and `demos`.
"""

from pymc_bnn._runtime import moved as _moved
from pymc_bnn.errors import (
    ConvergenceWarning,
    FileSystemError,
    InferenceError,
    InvalidInputError,
    InvalidSettingError,
    ModelFileError,
    OutputPathError,
    PymcBnnError,
    UnseenCategoryWarning,
)

# No side effect on other JAX users: devices are configured where pymc-bnn first needs JAX
# (`_runtime.jax_setup.configure_devices`); `pymc_bnn.expose_cpu_cores()` is the opt-in for
# code that imports JAX first.
# Everything else loads on first use (PEP 562), so `import pymc_bnn` and `pymc-bnn --help`
# do not pay for PyMC, JAX and scikit-learn up front.
_LAZY = {
    "pymc_bnn.inference": ("ENGINES", "fit"),
    "pymc_bnn.io": ("load", "save"),
    "pymc_bnn.model.likelihoods": ("Bernoulli", "Categorical", "Gaussian",
                                   "HeteroscedasticGaussian", "NegativeBinomial", "Poisson",
                                   "StudentT", "get_likelihood"),
    "pymc_bnn.model": ("BNNModel", "build_model"),
    "pymc_bnn.model.network": ("NetworkSpec", "forward"),
    "pymc_bnn.posterior": ("Posterior",),
    "pymc_bnn.model.prior_predictive": ("prior_predictive",),
    "pymc_bnn.model.priors": ("ARDPrior", "HorseshoePrior", "InformedPrior", "LaplacePrior",
                              "NormalPrior", "SpikeAndSlabPrior", "get_prior"),
    "pymc_bnn.sklearn": ("BayesianMLPClassifier", "BayesianMLPRegressor"),
    "pymc_bnn.posterior.uncertainty": ("predictive_summary",),
    "pymc_bnn.active.loop": ("oracle", "run_active_learning"),
    "pymc_bnn.active.fitter": ("BNNFitter",),
    "pymc_bnn._runtime.jax_setup": ("expose_cpu_cores",),
}
# The flat module paths of 0.1 (pymc_bnn.network, pymc_bnn.plots, ...) import with a warning.
_moved.install()
_WHERE = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str):
    if name == "__version__":  # looked up on first use: importlib.metadata costs ~70 ms
        globals()["__version__"] = _version()
        return globals()["__version__"]
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'pymc_bnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pymc-bnn")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


__all__ = [
    "BNNModel", "Bernoulli", "ConvergenceWarning", "ENGINES", "FileSystemError", "InferenceError",
    "InvalidInputError", "InvalidSettingError", "ModelFileError", "NetworkSpec", "NormalPrior",
    "OutputPathError",
    "Posterior", "PymcBnnError", "UnseenCategoryWarning", "build_model", "fit", "forward",
    "get_likelihood", "get_prior",
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
    # JAX devices, for code that imports JAX before pymc-bnn
    "expose_cpu_cores",
]
