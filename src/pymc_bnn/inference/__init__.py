"""Inference engines behind one `fit`: each takes a built model and returns a `Posterior`.

Adding an engine means one module with a `run(bnn, *, draws, random_seed, progress, **options)`
function returning an `EngineResult`, and one line in `ENGINES`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

from pymc_bnn._runtime.jax_setup import configure_devices
from pymc_bnn.defaults import DEFAULT_METHOD
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference.options import check_engine_options
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.model.build import BNNModel
from pymc_bnn.posterior.posterior import Posterior
from pymc_bnn.validation import whole_number


def _pymc_advi(bnn, **kw):
    from pymc_bnn.inference import pymc_advi

    return pymc_advi.run(bnn, **kw)


def _advi(bnn, **kw):
    from pymc_bnn.inference import vi

    return vi.run_advi(bnn, **kw)


def _fullrank_advi(bnn, **kw):
    from pymc_bnn.inference import vi

    return vi.run_fullrank_advi(bnn, **kw)


def _laplace(bnn, **kw):
    from pymc_bnn.inference import laplace

    return laplace.run(bnn, **kw)


def _nuts(bnn, **kw):
    from pymc_bnn.inference import nuts

    return nuts.run(bnn, **kw)


# name -> run function; imported lazily so that `import pymc_bnn` stays fast.
ENGINES: dict[str, Callable[..., EngineResult]] = {
    "advi": _advi,
    "fullrank_advi": _fullrank_advi,
    "laplace": _laplace,
    "nuts": _nuts,
    "pymc_advi": _pymc_advi,
}
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

    `options` go to the engine (see each engine's `run`), e.g. `steps`, `learning_rate`.
    A streamed model (`build_streaming_model`: `bnn.stream` is set) is fitted batch by batch
    by the engines in `STREAMING_ENGINES`.
    """
    if method not in ENGINES:
        raise InvalidSettingError(
            f"unknown inference method {method!r}; use one of {', '.join(ENGINES)}"
        )
    draws = whole_number(draws, "draws", minimum=1)
    random_seed = whole_number(random_seed, "random_seed", minimum=0)
    configure_devices()  # before the engine's first JAX import: chains on every core
    options = check_engine_options(method, options)  # before anything compiles
    if getattr(bnn, "stream", None) is not None:
        if method not in STREAMING_ENGINES:
            raise InvalidSettingError(
                f"{method} cannot fit streamed data (it needs every row at once); use one of "
                f"{', '.join(STREAMING_ENGINES)}, or load the data into memory")
        options["stream"] = bnn.stream
    start = time.perf_counter()
    result = ENGINES[method](
        bnn, draws=draws, random_seed=random_seed, progress=progress, **options
    )
    timings = {**result.timings, "total_s": time.perf_counter() - start}
    for message in result.warnings:
        warnings.warn(message, stacklevel=2, category=_warning_category())
    return Posterior(
        spec=bnn.spec,
        likelihood=bnn.likelihood,
        prior=bnn.prior,
        feature_names=bnn.feature_names,
        idata=result.idata,
        method=result.method,
        settings=dict(result.settings),
        timings=timings,
        elbo=result.elbo,
        interrupted=result.interrupted,
        # the warnings are kept on the result too, so a saved model still says what went wrong
        diagnostics={**result.diagnostics, "warnings": list(result.warnings)},
        preprocessing=dict(bnn.preprocessing),
        likelihood_params=tuple(bnn.likelihood_params),
        groups=bnn.groups,
    )


def _warning_category():
    from pymc_bnn.errors import ConvergenceWarning

    return ConvergenceWarning


__all__ = ["ENGINES", "DEFAULT_METHOD", "STREAMING_ENGINES", "EngineResult", "fit"]
