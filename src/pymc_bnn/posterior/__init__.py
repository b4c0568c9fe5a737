"""The posterior: draws from any engine and everything computed from them.

`posterior` (`Posterior`: the one entry for prediction), `uncertainty` (predictive summaries and
their decomposition), `metrics` (scores of predictions), `stability` and `representation` (how
stable the learned representation is across draws).
"""

from pymc_bnn._runtime.lazy import lazy_attributes

__all__ = ["Posterior", "predictive_summary"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "pymc_bnn.posterior.posterior": ("Posterior",),
    "pymc_bnn.posterior.uncertainty": ("predictive_summary",),
})
