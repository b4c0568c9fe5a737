"""The model: what a Bayesian neural network *is*, before any inference.

`network` (the architecture and its forward pass), `priors` (weight priors), `likelihoods`
(observation models), `groups` (hierarchical pooling across groups), `build` (`build_model`: the
`pm.Model` a user can inspect and extend), `prior_predictive` and `symmetry` (the weight-space
symmetries of tanh networks). Nothing here knows about inference.
"""

from pymc_bnn._runtime.lazy import lazy_attributes

__all__ = ["BNNModel", "NetworkSpec", "build_model", "forward"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "pymc_bnn.model.build": ("BNNModel", "build_model"),
    "pymc_bnn.model.network": ("NetworkSpec", "forward"),
})
