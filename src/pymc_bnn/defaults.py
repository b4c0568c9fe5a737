"""Default values and choice lists that the library and the `pymc-bnn` command share.

This module imports nothing (not even the rest of pymc-bnn), so the command can build its
`--help` from the same values the library uses without loading the library, and every layer may
read it.
Each value is justified where it is used: `pymc_bnn.inference` (the engines),
`pymc_bnn.sklearn` (the estimators) and `pymc_bnn.demos.active` (`ActiveDemoSettings`).
"""

from __future__ import annotations

# The names in `pymc_bnn.inference.ENGINES` (tests/cli/test_args.py keeps the two equal).
ENGINE_NAMES = ("advi", "fullrank_advi", "laplace", "nuts", "pymc_advi")
# The compiled mean-field loop: on the seed workload ~20x faster than pm.fit, and more accurate.
DEFAULT_METHOD = "advi"

CLASSIFIER_LIKELIHOODS = ("auto", "bernoulli", "categorical")
# The regression likelihoods of `pymc_bnn.model.likelihoods.LIKELIHOODS`, written out so that this
# module stays at the bottom of the import layers (tests/cli/test_args.py keeps the two equal).
REGRESSOR_LIKELIHOODS = ("gaussian", "heteroscedastic", "student_t", "poisson",
                         "negative_binomial")
# Whole-number targets with at most this many distinct values are class labels (species codes,
# ratings), more are a quantity (`pymc_bnn.model.likelihood_choice`, which says why).
MAX_CLASS_LABELS = 10
# Missing-value policies of the table encoding (`pymc_bnn.encoding`); the first is the default.
MISSING_POLICIES = ("impute", "drop", "error")
# Default posterior draws: the sd of a predictive probability estimated from 1000 draws is off by
# at most 0.5/sqrt(1000) ≈ 0.016, and prediction costs grow linearly with the draws.
DEFAULT_DRAWS = 1000
# Bits below each weight's posterior sd that `pymc-bnn fit` keeps in the model file
# (`pymc_bnn.io.precision`): each draw moves by at most sd/128, a quarter of the Monte Carlo
# standard error (sd/sqrt(1000)) of a posterior mean from DEFAULT_DRAWS draws, and the rounding
# (a step of at most sd/64) adds at most step**2/12 = sd**2/49,152 to a weight's posterior
# variance. Files of random draws are a third smaller than at 8 bits (a grouped advi network
# with 11 groups: 22.5 MB -> 18.1 MB; benchmarks/model_file_size.py).
DRAWS_PRECISION = 6

# The active-learning demo (see `pymc_bnn.demos.active.ActiveDemoSettings` for why).
ACTIVE_REPEATS = 5
ACTIVE_INITIAL = 10
ACTIVE_BATCH_SIZE = 10
ACTIVE_BUDGET = 100
ACTIVE_STEPS = 5000
ACTIVE_DRAWS = 100

# The estimator classes a model file may name, and the module that defines each (the file
# format imports that module on load; see `pymc_bnn.io.model_file.register_estimator`).
ESTIMATOR_MODULES = {"BayesianMLPClassifier": "pymc_bnn.sklearn",
                     "BayesianMLPRegressor": "pymc_bnn.sklearn"}
