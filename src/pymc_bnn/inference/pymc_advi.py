"""Mean-field ADVI through PyMC's own `pm.fit`: the seed's path, kept as the reference engine.

pm.fit's default optimizer (adagrad_window) stalls on the seed model (test accuracy 0.88–0.89);
Adam with learning rate 0.01 reaches 0.94–0.96, so Adam is the default here. Pass
`optimizer="adagrad_window"` to reproduce the seed exactly.
"""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np

from pymc_bnn.errors import InferenceError
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.inference.result import EngineResult

OPTIMIZERS = ("adam", "adagrad_window")


def initial_point(bnn, random_seed: int) -> dict[str, np.ndarray]:
    """Standard-normal starting values for every free variable (as the seed does).

    Zero weights are a saddle point of a tanh network without biases, where ADVI can stall.

    Parameters
    ----------
    bnn : BNNModel
        The model.
    random_seed : int
        Seeds the draws.

    Returns
    -------
    dict
        Value variable name → array of its shape.

    Examples
    --------
    >>> start = initial_point(tiny_model, random_seed=0)
    >>> {name: value.shape for name, value in start.items()}
    {'w_0': (2, 3), 'w_1': (3, 1)}
    """
    rng = np.random.default_rng(random_seed)
    point = bnn.model.initial_point()
    return {name: rng.standard_normal(np.shape(value)) for name, value in point.items()}


def run(
    bnn,
    *,
    draws: int,
    random_seed: int,
    progress: bool,
    steps: int = 30_000,
    learning_rate: float = 0.01,
    optimizer: str = "adam",
    **unknown,
) -> EngineResult:
    """The seed's `pm.fit` ADVI path, kept as a reference: slow, but PyMC's own.

    Parameters
    ----------
    bnn : BNNModel
        The model.
    draws : int
        Draws from the fitted approximation.
    random_seed : int
        Seeds the starting point, the optimisation and the draws.
    progress : bool
        Show PyMC's progress bar.
    steps : int, default 30_000
        Optimisation steps, the seed's count.
    learning_rate : float, default 0.01
        The optimiser's step size.
    optimizer : {"adam", "adagrad_window"}, default "adam"
        A `pymc` optimiser name.

    Returns
    -------
    EngineResult

    Raises
    ------
    InvalidSettingError
        An unknown option or optimiser, or a bad `steps` or `learning_rate`.
    InferenceError
        The ELBO became NaN or infinite.

    Examples
    --------
    PyMC compiles the model first (seconds), so this is not run here:

    >>> from pymc_bnn import fit
    >>> posterior = fit(tiny_model, "pymc_advi", steps=2000, draws=100,
    ...                 progress=False)  # doctest: +SKIP
    >>> posterior.settings["optimizer"]  # doctest: +SKIP
    'adam'
    >>> run(tiny_model, draws=10, random_seed=0, progress=False, optimizer="sgd")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: optimizer must be one of 'adam', ...
    """
    import pymc as pm

    # the options' one check (`inference.options`), so a direct call refuses what `fit` refuses
    checked = check_engine_options("pymc_advi", {"steps": steps, "learning_rate": learning_rate,
                                                 "optimizer": optimizer, **unknown})
    steps, learning_rate, optimizer = (checked[k] for k in ("steps", "learning_rate",
                                                            "optimizer"))
    if optimizer == "adam":
        obj_optimizer = pm.adam(learning_rate=learning_rate)
    else:
        obj_optimizer = pm.adagrad_window(learning_rate=learning_rate)
    start = initial_point(bnn, random_seed)
    t0 = time.perf_counter()
    with bnn.model, _pymc_log_quiet(not progress):  # its "Finished [100%]" line goes too
        approx = pm.fit(
            n=int(steps),
            method="advi",
            start=start,
            obj_optimizer=obj_optimizer,
            random_seed=random_seed,
            progressbar=progress,
        )
    fit_s = time.perf_counter() - t0
    loss = np.asarray(approx.hist, dtype=float)
    if loss.size and not np.isfinite(loss[-1]):
        raise InferenceError(
            "the ELBO became NaN/inf during pm.fit; lower learning_rate (e.g. 0.001) or "
            "standardise the inputs"
        )
    t0 = time.perf_counter()
    idata = approx.sample(draws=draws, random_seed=random_seed)
    sample_s = time.perf_counter() - t0
    return EngineResult(
        idata=idata,
        method="pymc_advi",
        settings={"steps": int(steps), "learning_rate": float(learning_rate),
                  "optimizer": optimizer, "draws": draws, "random_seed": random_seed},
        timings={"fit_s": fit_s, "sample_s": sample_s},
        elbo=-loss,
        interrupted=loss.size < int(steps),
    )


@contextlib.contextmanager
def _pymc_log_quiet(quiet: bool):
    """PyMC's INFO lines off while `quiet` (its progress bar is off already)."""
    logger = logging.getLogger("pymc")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
