"""The plain record every inference engine returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from xarray import DataTree


@dataclass(frozen=True)
class EngineResult:
    """What an engine learned.

    Attributes
    ----------
    idata : DataTree
        ArviZ data with a `posterior` group (chain, draw, ...) of every free variable.
    method : str
        The engine's name.
    settings : dict
        The settings the engine ran with (JSON-able), kept on the `Posterior`.
    timings : dict
        Seconds per phase, e.g. {"compile_s", "fit_s", "sample_s"}.
    elbo : ndarray or None
        ELBO per optimisation step (nats, higher is better) for VI engines, else None.
    interrupted : bool
        True when the user pressed Ctrl-C and this is the state reached so far.
    diagnostics : dict
        The engine's own numbers (convergence, divergences, ...), JSON-able.
    warnings : tuple of str
        Messages the user must see (non-convergence, divergences).
    mcmc : bool
        The chains are Markov chains, so `fit` judges their convergence on the predictions
        (R-hat and ESS, `pymc_bnn.inference.diagnostics`).
    check_X : ndarray or None
        Inputs (n_obs, n_features) at which to judge that; None: the training inputs.

    Examples
    --------
    >>> import numpy as np
    >>> import arviz as az
    >>> idata = az.from_dict({"posterior": {"w_0": np.zeros((1, 10, 2, 3))}})
    >>> result = EngineResult(idata=idata, method="mine", settings={"sweeps": 10},
    ...                       timings={"fit_s": 0.1})
    >>> result.interrupted, result.warnings, result.mcmc
    (False, (), False)

    `Engine` shows an engine that returns one.
    """

    idata: DataTree
    method: str
    settings: dict
    timings: dict
    elbo: np.ndarray | None = None
    interrupted: bool = False
    diagnostics: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    mcmc: bool = False
    check_X: np.ndarray | None = None
