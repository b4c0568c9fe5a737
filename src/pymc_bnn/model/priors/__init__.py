"""Weight priors: each a small frozen dataclass that creates the PyMC variables of one layer.

A prior is asked for a layer's weights (and biases) inside the model context and returns the
tensor the network uses. Priors are looked up by name (`get_prior("horseshoe", layers="all")`)
or passed as objects; any object with `weight`, `bias` and `to_dict` works.

================  ======================================================================
name              what it says about the weights
================  ======================================================================
`normal`          Normal(0, s) (≈ L2); fixed or learned scale, global or per layer
`laplace`         Laplace(0, s) (≈ L1); fixed or learned scale, global or per layer
`ard`             one learned relevance scale per input feature
`horseshoe`       regularised horseshoe: few inputs (or units) matter
`spike_and_slab`  continuous spike-and-slab: each input is off or on
`informed`        Normal centred on pretrained weights (arrays, scikit-learn, posterior)
================  ======================================================================

All scale their widths by 1/sqrt(fan_in) unless told not to (see `pymc_bnn.model.priors.base`).
The default, `DEFAULT_PRIOR`, is Normal(0, 1/sqrt(fan_in)); `SEED_PRIOR` is the seed's
unscaled Normal(0, 1), which the demo uses to reproduce the seed analysis.
"""

from __future__ import annotations

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.priors.base import Prior, fan_in_factor
from pymc_bnn.model.priors.informed import InformedPrior
from pymc_bnn.model.priors.scale import (
    DEFAULT_PRIOR,
    SEED_PRIOR,
    ARDPrior,
    LaplacePrior,
    NormalPrior,
)
from pymc_bnn.model.priors.sparsity import HorseshoePrior, SpikeAndSlabPrior

PRIORS: dict[str, type] = {
    cls.name: cls
    for cls in (NormalPrior, LaplacePrior, ARDPrior, HorseshoePrior, SpikeAndSlabPrior,
                InformedPrior)
}


def get_prior(prior: str | Prior | None = None, **options) -> Prior:
    """A prior from its name (with `options`) or the object itself; None means `DEFAULT_PRIOR`.

    Parameters
    ----------
    prior : str, Prior or None, default None
        A key of `PRIORS` ("normal", "laplace", "ard", "horseshoe", "spike_and_slab",
        "informed"), a prior object, or None.
    **options
        The named prior's fields (with None: a `NormalPrior`'s).

    Returns
    -------
    Prior

    Raises
    ------
    InvalidSettingError
        An unknown name or option, or an object without `weight`, `bias` and `to_dict`.

    Examples
    --------
    >>> get_prior("horseshoe", global_scale=0.1, layers="all")
    HorseshoePrior(global_scale=0.1, slab_scale=2.0, slab_df=4.0, layers='all', fan_in_scaling=True)
    >>> get_prior() is DEFAULT_PRIOR
    True
    >>> get_prior("normal", scale=2.0)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: bad option for the normal prior (...); see ...
    """
    if prior is None:
        return NormalPrior(**options) if options else DEFAULT_PRIOR
    if isinstance(prior, str):
        if prior not in PRIORS:
            raise InvalidSettingError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
        try:
            return PRIORS[prior](**options)
        except TypeError as exc:
            raise InvalidSettingError(
                f"bad option for the {prior} prior ({exc}); see "
                f"help(pymc_bnn.model.priors.{PRIORS[prior].__name__})"
            ) from None
    for attr in ("weight", "bias", "to_dict"):
        if not hasattr(prior, attr):
            raise InvalidSettingError(f"a prior object needs a {attr}() method; {prior!r} has none")
    return prior


def prior_from_dict(data: dict) -> Prior:
    """Rebuild a prior saved with `to_dict` (used when loading a model file).

    Parameters
    ----------
    data : dict
        The record, with "name".

    Returns
    -------
    Prior

    Raises
    ------
    InvalidSettingError
        A name this version does not know.

    Examples
    --------
    >>> prior_from_dict(NormalPrior(sigma=2.0).to_dict())
    NormalPrior(sigma=2.0, fan_in_scaling=True, learn_scale=None)
    """
    data = dict(data)
    name = data.pop("name")
    if name not in PRIORS:
        raise InvalidSettingError(f"this version of pymc-bnn does not know the prior {name!r}")
    return PRIORS[name](**data)


__all__ = [
    "ARDPrior", "DEFAULT_PRIOR", "HorseshoePrior", "InformedPrior", "LaplacePrior", "NormalPrior",
    "PRIORS", "Prior", "SEED_PRIOR", "SpikeAndSlabPrior", "fan_in_factor", "get_prior",
    "prior_from_dict",
]
