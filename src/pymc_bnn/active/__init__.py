"""Active learning: which pool points to label next, and the loop that labels them.

`loop` (`run_active_learning`, `oracle`), `fitter` (`BNNFitter`: how each round fits), `records`
(`ActiveRound`, `ActiveLearningRun`: what a run leaves), `acquisition` (pool points scored
from the predictive) and `batch_selection` (which scored points to label together).
"""

from pymc_bnn._runtime.lazy import lazy_attributes

__all__ = ["ActiveLearningRun", "ActiveRound", "BNNFitter", "oracle", "run_active_learning"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "pymc_bnn.active.loop": ("held_out_accuracy", "oracle", "run_active_learning"),
    "pymc_bnn.active.fitter": ("BNNFitter",),
    "pymc_bnn.active.records": ("ActiveLearningRun", "ActiveRound"),
})
