"""Every score of `pymc_bnn.posterior` under one name, as `from pymc_bnn.posterior import metrics`.

Scores of predictions against held-out targets; scikit-learn and SciPy compute what they have.
They live in two modules, by the kind of target; this module re-exports their public names, so
`metrics.log_loss(...)` and `from pymc_bnn.posterior.metrics import rmse` keep working. Each
name is documented at its home:

- `pymc_bnn.posterior.classification_metrics`: `ECE_BINS`, `check_classification`, `accuracy`,
  `log_loss`, `brier_score`, `auroc`, `ReliabilityBins`, `reliability_bins`,
  `expected_calibration_error`, `classification_summary`;
- `pymc_bnn.posterior.regression_metrics`: `rmse`, `mae`, `gaussian_nll`, `mixture_nll`,
  `interval_coverage`, `interval_width`, `coverage_by_level`, `crps_gaussian`,
  `crps_ensemble`, `regression_summary`.

Classifiers take `proba` as P(y = 1) (n,) for binary or class probabilities (n, K) whose
columns follow the fitted class order, and `y_true` as class indices 0 … K−1 (pass `classes`
to score the original labels). Regression scores take user units. Every function returns the
mean over observations (a float); lower is better except accuracy, AUROC and coverage.
"""

from __future__ import annotations

from pymc_bnn.posterior.classification_metrics import (
    ECE_BINS,
    ReliabilityBins,
    accuracy,
    auroc,
    brier_score,
    check_classification,
    classification_summary,
    expected_calibration_error,
    log_loss,
    reliability_bins,
)
from pymc_bnn.posterior.regression_metrics import (
    coverage_by_level,
    crps_ensemble,
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    interval_width,
    mae,
    mixture_nll,
    regression_summary,
    rmse,
)

__all__ = [
    "ECE_BINS",
    "ReliabilityBins",
    "accuracy",
    "auroc",
    "brier_score",
    "check_classification",
    "classification_summary",
    "coverage_by_level",
    "crps_ensemble",
    "crps_gaussian",
    "expected_calibration_error",
    "gaussian_nll",
    "interval_coverage",
    "interval_width",
    "log_loss",
    "mae",
    "mixture_nll",
    "regression_summary",
    "reliability_bins",
    "rmse",
]
