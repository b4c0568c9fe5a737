"""Shared fixtures: small, fast fits reused across tests (module scope keeps the suite quick)."""

import numpy as np
import pytest

from pymc_bnn.datasets import two_moons


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
