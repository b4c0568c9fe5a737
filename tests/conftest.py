"""Shared fixtures: small, fast fits reused across tests (module scope keeps the suite quick)."""

import numpy as np
import pytest

import pymc_bnn._runtime.jax_setup
from pymc_bnn.datasets import two_moons

# Test modules import JAX at collection, before any fit: the documented opt-in, so NUTS chains
# run side by side in every worker (4 devices: see PYMC_BNN_CPU_DEVICES in ../conftest.py).
pymc_bnn._runtime.jax_setup.expose_cpu_cores()


@pytest.fixture(scope="session")
def moons():
    return two_moons()


@pytest.fixture(scope="session")
def small_moons():
    return two_moons(n_samples=200, split_seed=1)


@pytest.fixture(scope="session")
def quick_posterior(moons):
    """A short compiled-ADVI run on the seed model: enough to predict, not to be good."""
    from pymc_bnn import build_model, fit

    bnn = build_model(moons.X_train, moons.y_train)
    return fit(bnn, "advi", steps=3000, draws=300, random_seed=3, progress=False)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def random_posterior():
    """make(spec, likelihood, n_draws, rng, preprocessing=None, params=None) -> a Posterior
    holding random draws (no fit): for checking prediction arithmetic and validation."""
    return _random_posterior


def _random_posterior(spec, likelihood, n_draws, rng, preprocessing=None, params=None):
    """A Posterior holding random draws (no fit): for checking the prediction arithmetic."""
    import arviz as az

    from pymc_bnn import Posterior, get_likelihood
    from pymc_bnn.model.network import SKIP_WEIGHT, bias_name, weight_name
    from pymc_bnn.model.priors import DEFAULT_PRIOR

    draws = {weight_name(i): rng.normal(size=(1, n_draws, *shape))
             for i, shape in enumerate(spec.weight_shapes())}
    if spec.skip:
        draws[SKIP_WEIGHT] = rng.normal(size=(1, n_draws, *spec.skip_shape))
    if spec.bias:
        draws.update({bias_name(i): rng.normal(size=(1, n_draws, shape[1]))
                      for i, shape in enumerate(spec.weight_shapes())})
    draws.update(params or {})
    return Posterior(spec=spec, likelihood=get_likelihood(likelihood), prior=DEFAULT_PRIOR,
                     feature_names=tuple(f"x{i}" for i in range(spec.n_inputs)),
                     idata=az.from_dict({"posterior": draws}), preprocessing=preprocessing or {},
                     likelihood_params=tuple(params or {}))


@pytest.fixture
def default_sigint():
    """SIGINT at Python's own handler for the test, as a user's process starts; restored after.

    The tests that press Ctrl-C through "the handler in place" need `ctrl_c_deferred` to take
    over, which it does only from Python's default handler. In one clean-clone CI run (workers
    split by tests/file_durations.json) both such tests found another handler in place (SIG_DFL
    or SIG_IGN) in one worker; no test was found leaving it so (each test directory checked
    after every test), so the cause is still unknown (see the session note of 2026-12-05).
    """
    import signal

    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
