"""Active learning: which pool points to label next, and the loop that labels them.

`loop` (`run_active_learning`, `BNNFitter`, `oracle`) and `acquisition` (pool points scored
from the predictive).
"""

from pymc_bnn._runtime.lazy import lazy_attributes

__all__ = ["ActiveLearningRun", "ActiveRound", "BNNFitter", "oracle", "run_active_learning"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "pymc_bnn.active.loop": ("ActiveLearningRun", "ActiveRound", "BNNFitter", "held_out_accuracy",
                             "oracle", "run_active_learning"),
})
