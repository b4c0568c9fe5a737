"""Inference engines behind one `fit`: each takes a built model and returns a `Posterior`.

The contract an engine keeps, and how to add one, is `pymc_bnn.inference.engine` (`Engine`,
`register_engine`); the engines' options are declared and checked in `inference.options`;
convergence on the predictions is judged for every sampler in `inference.diagnostics`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from pymc_bnn._runtime.caller import warn_caller
from pymc_bnn._runtime.jax_setup import import_jax
from pymc_bnn.defaults import DEFAULT_METHOD
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import diagnostics
from pymc_bnn.inference.engine import ENGINES, Engine, register_engine, unregister_engine
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.validation import whole_number

if TYPE_CHECKING:  # imported when first used, so the CLI reads the engines' options cheaply
    from pymc_bnn.model.build import BNNModel
    from pymc_bnn.posterior.posterior import Posterior

# Engines that fit a streamed model (`build_streaming_model`) batch by batch. laplace needs
# every row at once for its curvature and evidence, NUTS the full log-density at every step.
STREAMING_ENGINES = ("advi", "fullrank_advi")
# DEFAULT_METHOD ("advi", the compiled mean-field loop: on the seed workload ~20x faster than
# pm.fit, and more accurate) lives in pymc_bnn.defaults, where the CLI reads it cheaply.


def fit(
    bnn: BNNModel,
    method: str = DEFAULT_METHOD,
    *,
    draws: int = 5000,
    random_seed: int = 0,
    progress: bool = True,
    **options,
) -> Posterior:
    """Run inference engine `method` on `bnn` and return its posterior with `draws` draws.

    A streamed model (`build_streaming_model`: `bnn.stream` is set) is fitted batch by batch
    by the engines in `STREAMING_ENGINES`.

    Parameters
    ----------
    bnn : BNNModel
        The model, from `build_model`.
    method : str, default "advi"
        A key of `ENGINES`: "advi", "fullrank_advi", "laplace", "nuts", "pymc_advi", or one
        added with `register_engine`.
    draws : int, default 5000
        Posterior draws kept, over all chains.
    random_seed : int, default 0
        Seed of the whole run: the same seed gives the same draws.
    progress : bool, default True
        Show a progress bar.
    **options
        The engine's own settings (see each engine's `run`), e.g. `steps`, `learning_rate`,
        checked before anything compiles.

    Returns
    -------
    Posterior
        The draws, with `method`, `settings`, `timings`, `diagnostics` (for samplers also the
        R-hat and ESS of the predictions) and `interrupted` (Ctrl-C kept the state so far).
        Its `idata` holds the training data too, as `pm.sample` gives it: `observed_data`
        (`y` on the likelihood's scale) and `constant_data` (`X` and the model's other data;
        `pymc_bnn.model.data_groups`), except for a streamed model.

    Raises
    ------
    InvalidSettingError
        An unknown method, a bad `draws`/`random_seed`, an unknown or bad option, or `bnn`
        not a `BNNModel` (e.g. its `pm.Model`, `bnn.model`).

    Examples
    --------
    A short run (`tol=0`: a fixed 500 steps, no convergence check) on 42 rows:

    >>> from pymc_bnn import build_model
    >>> bnn = build_model(tiny_data.X_train, tiny_data.y_train, hidden=(3,))
    >>> posterior = fit(bnn, "advi", steps=500, tol=0, draws=50, progress=False)
    >>> posterior.method, posterior.n_draws
    ('advi', 50)
    >>> posterior.predict(tiny_data.X_test)["mean"].shape
    (18,)
    >>> posterior.idata["observed_data"]["y"].shape, posterior.idata["constant_data"]["X"].shape
    ((42,), (42, 2))

    The same seed gives the same draws (`fitted`, shared by other examples, was made by the
    same call):

    >>> draws = posterior.idata["posterior"]["w_0"].values
    >>> bool((draws == fitted.idata["posterior"]["w_0"].values).all())
    True
    >>> fit(bnn, "advi", steps=0)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: steps must be at least 1, got 0
    """
    _check_model(bnn)
    if method not in ENGINES:
        raise InvalidSettingError(
            f"unknown inference method {method!r}; use one of {', '.join(ENGINES)}"
        )
    draws = whole_number(draws, "draws", minimum=1)
    random_seed = whole_number(random_seed, "random_seed", minimum=0)
    import_jax()  # devices first (chains on every core); a Ctrl-C in the import waits for it
    options = check_engine_options(method, options)  # before anything compiles
    if getattr(bnn, "stream", None) is not None:
        if method not in STREAMING_ENGINES:
            raise InvalidSettingError(
                f"{method} cannot fit streamed data (it needs every row at once); use one of "
                f"{', '.join(STREAMING_ENGINES)}, or load the data into memory")
        options["stream"] = bnn.stream
    start = time.perf_counter()
    # JAX's 64-bit mode on for the run, whatever PyTensor set it to: its JAX backend turns it
    # off for the whole process under floatX="float32", while the engines build their programs
    # and arrays in float64 (advi's dtype="float32" narrows them itself).
    with import_jax().enable_x64(True):
        result = ENGINES[method](
            bnn, draws=draws, random_seed=random_seed, progress=progress, **options
        )
    posterior = _posterior(bnn, result)
    if result.mcmc:
        checked = diagnostics.predictive_convergence(posterior, result.check_X, training=bnn)
        found = diagnostics.convergence_warnings(checked, result.method)
        posterior = dataclasses.replace(posterior, diagnostics={
            **posterior.diagnostics, **checked,
            "warnings": [*posterior.diagnostics["warnings"], *found]})
    posterior = dataclasses.replace(posterior, timings={
        **result.timings, "total_s": time.perf_counter() - start})
    for message in posterior.diagnostics["warnings"]:
        warn_caller(message, _warning_category())
    return posterior


def _check_model(bnn) -> None:
    """Refuse anything but a built model (a `BNNModel`), naming what to pass instead."""
    if hasattr(bnn, "record") and hasattr(bnn, "model"):
        _check_rows(bnn)
        return
    if type(bnn).__name__ == "Model" and hasattr(bnn, "free_RVs"):  # a pm.Model
        raise InvalidSettingError(
            "fit takes the BNNModel that build_model returns: fit(bnn), not fit(bnn.model). "
            "A model you extended inside `with bnn.model:` is fitted that way too; for a PyMC "
            "model of your own use pm.sample or pm.fit")
    raise InvalidSettingError(
        f"fit takes the BNNModel that build_model returns, got {type(bnn).__name__}; build "
        "one with bnn = build_model(X, y, ...)")


def _check_rows(bnn) -> None:
    """Refuse a model whose row data `pm.set_data` replaced since `build_model`.

    The documented way to predict through PyMC sets new rows (`X`, `y_data`, the `"obs"`
    coordinate) on `bnn.model`, and the model keeps them: fitting it then would fit those rows
    (a target of zeros) or fail inside the engine where only some were replaced.
    """
    if getattr(bnn, "stream", None) is not None or not getattr(bnn, "n_obs", 0):
        return
    model = bnn.model
    dims = getattr(model, "named_vars_to_dims", {})
    now = {v.name: int(v.get_value(borrow=True).shape[0]) for v in getattr(model, "data_vars", ())
           if (dims.get(v.name) or (None,))[0] == "obs"}
    changed = {name: rows for name, rows in now.items() if rows != bnn.n_obs}
    if changed:
        found = ", ".join(f"{name} has {rows:,}" for name, rows in sorted(changed.items()))
        raise InvalidSettingError(
            f"bnn.model's rows are not the {bnn.n_obs:,} that build_model was given ({found}): "
            "pm.set_data replaced them (to predict through PyMC), and fit would fit whatever the "
            "model holds now; build the model again with build_model(X, y, ...) (or set the "
            "training rows back) before fitting it. To predict on new rows, "
            "posterior.predict(X_new) needs no set_data")


def _posterior(bnn: BNNModel, result: EngineResult) -> Posterior:
    from pymc_bnn.model.data_groups import with_data_groups
    from pymc_bnn.posterior.posterior import Posterior

    return Posterior(
        bnn.record,
        # observed_data and constant_data for every engine, as pm.sample gives them
        with_data_groups(_float32_draws(result.idata), bnn),
        method=result.method,
        settings=dict(result.settings),
        timings=dict(result.timings),
        elbo=result.elbo,
        interrupted=result.interrupted,
        # the warnings are kept on the result too, so a saved model still says what went wrong
        diagnostics={**result.diagnostics, "warnings": list(result.warnings)},
    )


def _float32_draws(idata):
    """`idata` with its float64 posterior draws as float32.

    float32 rounds a draw by at most 6e-8 of its value, far below the Monte Carlo error of any
    number of draws (0.5/sqrt(1000) = 0.016 of a probability's sd at the default 1,000); it halves
    the memory the draws take and the model files, which store them as they are, so a loaded
    model predicts exactly what the fitted one did. Predictions read the draws as float64
    (`Posterior.stacked`) or reduce them in float32 (`pymc_bnn.posterior.compiled`).
    """
    import numpy as np

    if "posterior" not in idata.children:
        return idata
    node = idata["posterior"]
    cast = {name: var.astype(np.float32) for name, var in node.data_vars.items()
            if var.dtype == np.float64}
    if not cast:
        return idata
    tree = idata.copy()
    tree["posterior"] = node.assign(cast)
    return tree


def _warning_category():
    from pymc_bnn.errors import ConvergenceWarning

    return ConvergenceWarning


__all__ = ["DEFAULT_METHOD", "ENGINES", "STREAMING_ENGINES", "Engine", "EngineResult", "fit",
           "register_engine", "unregister_engine"]
