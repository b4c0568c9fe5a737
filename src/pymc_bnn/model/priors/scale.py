"""Scale priors: Gaussian (≈ L2) and Laplace (≈ L1) with a fixed or learned scale, and ARD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pymc_bnn.model.priors.base import (
    Serialisable,
    check_choice,
    check_positive,
    fan_in_factor,
    non_centred,
    plain_bias,
    shared_variable,
)

LEARN_SCALE = (None, "global", "layer")
GLOBAL_SCALE = "weight_scale"


@dataclass(frozen=True)
class _ScaleFamily(Serialisable):
    sigma: float = 1.0
    fan_in_scaling: bool = True
    learn_scale: str | None = None
    family: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        check_positive(self.sigma, "prior scale sigma")
        check_choice(self.learn_scale, LEARN_SCALE, "learn_scale")

    def scale(self, fan_in: int) -> float:
        """The fixed prior scale of a layer with `fan_in` inputs (sigma, or sigma/sqrt(fan_in))."""
        return self.sigma * fan_in_factor(fan_in, self.fan_in_scaling)

    def weight(self, var_name, *, shape, dims, layer):
        """Normal (or Laplace) weights, fixed or learned scale; see `Prior.weight`."""
        import pymc as pm

        factor = fan_in_factor(shape[0], self.fan_in_scaling)
        if self.learn_scale is None:
            dist = pm.Laplace if self.family == "laplace" else pm.Normal
            return dist(var_name, 0.0, self.sigma * factor, dims=dims)
        if self.learn_scale == "global":
            learned = shared_variable(GLOBAL_SCALE, lambda: pm.HalfNormal(GLOBAL_SCALE, self.sigma))
        else:
            learned = pm.HalfNormal(f"{var_name}_scale", self.sigma)
        return non_centred(var_name, learned * factor, dims, family=self.family)

    def bias(self, var_name, *, shape, dims, layer):
        """Biases of the same family with scale sigma (never fan-in scaled)."""
        import pymc as pm

        dist = pm.Laplace if self.family == "laplace" else pm.Normal
        return dist(var_name, 0.0, self.sigma, dims=dims)


@dataclass(frozen=True)
class NormalPrior(_ScaleFamily):
    """Normal(0, s) weights: the Bayesian reading of L2 weight decay (penalty w²/(2s²)).

    s = sigma / sqrt(fan_in) by default (see `pymc_bnn.model.priors.base` on fan-in scaling);
    `NormalPrior(sigma=1, fan_in_scaling=False)` is the seed's Normal(0, 1) (`SEED_PRIOR`).
    `learn_scale` lets the data choose the scale: "global" adds one `weight_scale` ~
    HalfNormal(sigma) shared by all layers, "layer" one `w_i_scale` ~ HalfNormal(sigma) per layer
    (hierarchical: each layer finds its own regularisation strength); weights are then
    non-centred. Biases are Normal(0, sigma).

    Parameters
    ----------
    sigma : float, default 1.0
        The scale before fan-in scaling (with `learn_scale`: the HalfNormal's scale).
    fan_in_scaling : bool, default True
        Divide the weights' scale by sqrt(fan_in).
    learn_scale : {None, "global", "layer"}, default None
        Learn the scale, once or per layer.

    Examples
    --------
    >>> float(NormalPrior().scale(fan_in=4)), float(SEED_PRIOR.scale(fan_in=4))
    (0.5, 1.0)

    >>> import pymc as pm
    >>> coords = {"feature": range(4), "hidden_0": range(3)}
    >>> with pm.Model(coords=coords) as model:
    ...     w = NormalPrior(learn_scale="layer").weight(
    ...         "w_0", shape=(4, 3), dims=("feature", "hidden_0"), layer=0)
    >>> sorted(model.named_vars)
    ['w_0', 'w_0_raw', 'w_0_scale']
    """

    name: ClassVar[str] = "normal"


@dataclass(frozen=True)
class LaplacePrior(_ScaleFamily):
    """Laplace(0, b) weights: the Bayesian reading of L1 (lasso) regularisation.

    Sharper at zero and heavier-tailed than the Normal, so it tolerates a few large weights
    while pulling the rest towards zero (it does not make them exactly zero: posterior draws
    never are). b = sigma / sqrt(fan_in) by default; `learn_scale` as for `NormalPrior`.
    Biases are Laplace(0, sigma).

    Parameters
    ----------
    sigma : float, default 1.0
        The scale before fan-in scaling.
    fan_in_scaling : bool, default True
        Divide the weights' scale by sqrt(fan_in).
    learn_scale : {None, "global", "layer"}, default None
        Learn the scale, once or per layer.

    Examples
    --------
    >>> import pymc as pm
    >>> coords = {"feature": range(4), "hidden_0": range(3)}
    >>> with pm.Model(coords=coords) as model:
    ...     w = LaplacePrior(sigma=2.0).weight("w_0", shape=(4, 3),
    ...                                        dims=("feature", "hidden_0"), layer=0)
    >>> type(model["w_0"].owner.op).__name__
    'LaplaceRV'
    """

    name: ClassVar[str] = "laplace"
    family: ClassVar[str] = "laplace"


@dataclass(frozen=True)
class ARDPrior(Serialisable):
    """Automatic relevance determination: one learned scale per input feature.

    First layer: w_0[j, :] = ard_scale[j] · sigma/sqrt(n_features) · z, with
    ard_scale ~ HalfNormal(relevance_prior) (dims ("feature",)), non-centred. An input the data
    does not need has its whole row of weights shrunk through one scale, so the posterior of
    `ard_scale` says which inputs matter (read it with `posterior.idata["posterior"]["ard_scale"]`).
    Later layers: Normal(0, sigma/sqrt(fan_in)); biases Normal(0, 1). Inputs should be on one
    scale (standardised), or the relevances compare units rather than importance.

    Parameters
    ----------
    sigma : float, default 1.0
        The weights' scale before fan-in scaling.
    relevance_prior : float, default 1.0
        The scale of the relevances' HalfNormal.
    fan_in_scaling : bool, default True
        Divide the weights' scale by sqrt(fan_in).

    Examples
    --------
    >>> import pymc as pm
    >>> coords = {"feature": range(4), "hidden_0": range(3)}
    >>> with pm.Model(coords=coords) as model:
    ...     w = ARDPrior().weight("w_0", shape=(4, 3), dims=("feature", "hidden_0"), layer=0)
    >>> sorted(model.named_vars), model.named_vars_to_dims["ard_scale"]
    (['ard_scale', 'w_0', 'w_0_raw'], ('feature',))
    """

    sigma: float = 1.0
    relevance_prior: float = 1.0
    fan_in_scaling: bool = True
    name: ClassVar[str] = "ard"
    variable: ClassVar[str] = "ard_scale"

    def __post_init__(self) -> None:
        check_positive(self.sigma, "prior scale sigma")
        check_positive(self.relevance_prior, "relevance_prior")

    def weight(self, var_name, *, shape, dims, layer):
        """First layer: one learned relevance per input feature (ARD); later layers Normal."""
        import pymc as pm

        scale = self.sigma * fan_in_factor(shape[0], self.fan_in_scaling)
        if layer > 0:
            return pm.Normal(var_name, 0.0, scale, dims=dims)
        # shared with the skip path (also asked for as layer 0): one relevance per feature
        relevance = shared_variable(
            self.variable, lambda: pm.HalfNormal(self.variable, self.relevance_prior, dims=dims[0]))
        return non_centred(var_name, scale * relevance[:, None], dims)

    def bias(self, var_name, *, shape, dims, layer):
        """The plain Normal(0, 1) bias; see `plain_bias`."""
        return plain_bias(var_name, dims)


SEED_PRIOR = NormalPrior(sigma=1.0, fan_in_scaling=False)
DEFAULT_PRIOR = NormalPrior(sigma=1.0, fan_in_scaling=True)
