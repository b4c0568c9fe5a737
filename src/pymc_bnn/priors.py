"""Weight priors: each a small frozen dataclass that creates the PyMC variables of one layer.

A prior is asked for a layer's weights (and biases) inside the model context and returns the
tensor the network uses. Priors are looked up by name (`get_prior("normal")`) or passed as objects;
any object with the same two methods and `to_dict` works.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Protocol

import numpy as np

from pymc_bnn.errors import InvalidSettingError


class Prior(Protocol):
    name: str

    def weight(self, var_name: str, *, shape: tuple[int, int], dims: tuple[str, str], layer: int):
        """Create the weight matrix `var_name` of `layer` (shape (fan_in, fan_out)) in the model."""

    def bias(self, var_name: str, *, shape: tuple[int], dims: tuple[str], layer: int):
        """Create the bias vector `var_name` of `layer` in the model."""

    def to_dict(self) -> dict: ...


@dataclass(frozen=True)
class NormalPrior:
    """Independent Normal(0, sigma) weights: the Bayesian reading of L2 weight decay.

    sigma=1 is the seed's choice. With `fan_in_scaling=True` the scale is sigma / sqrt(fan_in),
    which keeps the prior predictive from saturating as layers get wider.
    """

    sigma: float = 1.0
    fan_in_scaling: bool = False
    name: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        if not np.isfinite(self.sigma) or self.sigma <= 0:
            raise InvalidSettingError(
                f"prior scale sigma must be a positive number, got {self.sigma}"
            )

    def scale(self, fan_in: int) -> float:
        return self.sigma / np.sqrt(fan_in) if self.fan_in_scaling else self.sigma

    def weight(self, var_name, *, shape, dims, layer):
        import pymc as pm

        return pm.Normal(var_name, 0.0, self.scale(shape[0]), dims=dims)

    def bias(self, var_name, *, shape, dims, layer):
        import pymc as pm

        return pm.Normal(var_name, 0.0, self.sigma, dims=dims)

    def to_dict(self) -> dict:
        return {"name": self.name, **asdict(self)}


PRIORS: dict[str, type] = {"normal": NormalPrior}


def get_prior(prior: str | Prior | None = None, **options) -> Prior:
    """A prior from its name (with `options`) or the object itself; None means Normal(0, 1)."""
    if prior is None:
        return NormalPrior(**options)
    if isinstance(prior, str):
        if prior not in PRIORS:
            raise InvalidSettingError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
        return PRIORS[prior](**options)
    for attr in ("weight", "bias", "to_dict"):
        if not hasattr(prior, attr):
            raise InvalidSettingError(f"a prior object needs a {attr}() method; {prior!r} has none")
    return prior


def prior_from_dict(data: dict) -> Prior:
    """Rebuild a prior saved with `to_dict` (used when loading a model file)."""
    data = dict(data)
    name = data.pop("name")
    if name not in PRIORS:
        raise InvalidSettingError(f"this version of pymc-bnn does not know the prior {name!r}")
    return PRIORS[name](**data)
