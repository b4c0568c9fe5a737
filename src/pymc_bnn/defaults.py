"""Default values and choice lists that the library and the `pymc-bnn` command share.

This module imports nothing heavy (no PyMC, JAX, scikit-learn or matplotlib), so the command
can build its `--help` from the same values the library uses without loading the library.
Each value is justified where it is used: `pymc_bnn.inference` (the engines),
`pymc_bnn.sklearn` (the estimators) and `pymc_bnn.demo_active` (`ActiveDemoSettings`).
"""

from __future__ import annotations

from pymc_bnn.likelihoods import LIKELIHOODS

# The names in `pymc_bnn.inference.ENGINES` (tests/test_cli_args.py keeps the two equal).
ENGINE_NAMES = ("advi", "fullrank_advi", "laplace", "nuts", "pymc_advi")
# The compiled mean-field loop: on the seed workload ~20x faster than pm.fit, and more accurate.
DEFAULT_METHOD = "advi"

CLASSIFIER_LIKELIHOODS = ("auto", "bernoulli", "categorical")
REGRESSOR_LIKELIHOODS = tuple(name for name, cls in LIKELIHOODS.items() if not cls.is_classifier)
# Default posterior draws: the sd of a predictive probability estimated from 1000 draws is off by
# at most 0.5/sqrt(1000) ≈ 0.016, and prediction costs grow linearly with the draws.
DEFAULT_DRAWS = 1000

# The active-learning demo (see `pymc_bnn.demo_active.ActiveDemoSettings` for why).
ACTIVE_REPEATS = 5
ACTIVE_INITIAL = 10
ACTIVE_BATCH_SIZE = 10
ACTIVE_BUDGET = 100
ACTIVE_STEPS = 5000
ACTIVE_DRAWS = 100

# The estimator classes a model file may name, and the module that defines each (the file
# format imports that module on load; see `pymc_bnn.model_file.register_estimator`).
ESTIMATOR_MODULES = {"BayesianMLPClassifier": "pymc_bnn.sklearn",
                     "BayesianMLPRegressor": "pymc_bnn.sklearn"}
