"""The Gaussian noise sd by the evidence at the MAP (MacKay): σ² = RSS / (n − γ).

References: the Laplace evidence's own maximum over σ (with the weights at the MAP, the
curvature scaling as 1/σ²), found by a grid; and, for a fit, the MAP's residuals recomputed
from its recorded parameters.
"""

import numpy as np
import pytest

from pymc_bnn import BayesianMLPRegressor, build_model, fit
from pymc_bnn.inference import noise_sd


def _log_evidence(sigma, rss, n, eigenvalues, alpha, sigma0):
    """The σ-dependent part of the Laplace evidence at fixed weights."""
    curvature = eigenvalues * sigma0**2 / sigma**2
    return -n * np.log(sigma) - rss / (2 * sigma**2) - 0.5 * np.sum(np.log(curvature + alpha))


@pytest.mark.parametrize("n, eigenvalues", [
    (50, np.array([0.0, 0.0])),
    (50, np.array([1e4, 30.0, 2.0, 0.1, 0.0])),
    (12, np.r_[np.full(10, 1e6), 0.5]),  # ten parameters nailed down, one half
])
def test_the_noise_sd_is_the_evidence_maximum(n, eigenvalues):
    rss, alpha, sigma0 = 7.3, 0.8, 0.4
    found = noise_sd.evidence_noise_sd(rss, n, eigenvalues, alpha, sigma0)
    grid = np.exp(np.linspace(np.log(0.01), np.log(10.0), 200_001))
    best = grid[np.argmax([_log_evidence(s, rss, n, eigenvalues, alpha, sigma0) for s in grid])]
    assert found == pytest.approx(best, rel=1e-4)
    gamma = noise_sd.effective_parameters(eigenvalues, alpha, sigma0**2 / found**2)
    assert found**2 * (n - gamma) == pytest.approx(rss, rel=1e-9)


def _sine(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, n)
    return x[:, None], np.sin(1.5 * x) + 0.3 * x + rng.normal(0, 0.25, n)


@pytest.mark.slow  # two network fits
def test_the_regressors_noise_sd_divides_the_residuals_by_the_rows_not_spent():
    X, y = _sine()
    bnn = build_model(X, (y - y.mean()) / y.std(), hidden=(8,), prior="normal",
                      likelihood="gaussian")
    plain = fit(bnn, "laplace", draws=50, random_seed=0, progress=False, restarts=1)
    by_evidence = fit(bnn, "laplace", draws=50, random_seed=0, progress=False, restarts=1,
                      noise_sd="evidence")
    found = by_evidence.diagnostics["noise_sd"][0]
    assert found["map_sd"] == pytest.approx(float(plain.idata.posterior["sigma"].mean()),
                                            rel=1e-6)
    assert 2 < found["effective_parameters"] < 25 and found["rows"] == 100
    # sd² (n − γ) = RSS: above RSS / n by n / (n − γ)
    assert found["sd"] ** 2 * (100 - found["effective_parameters"]) == pytest.approx(
        found["rss"], rel=1e-9)
    assert found["sd"] > np.sqrt(found["rss"] / 100)
    sigma = by_evidence.idata.posterior["sigma"].values
    assert np.allclose(sigma, found["sd"], rtol=1e-5)  # the posterior's noise sd is it
    # the estimators' regressors use it
    model = BayesianMLPRegressor((8,), noise="constant", random_state=0, draws=50,
                                 stack_linear=False).fit(X, y)
    assert model.posterior_.settings["noise_sd"] == "evidence"
    chosen = model.posterior_.diagnostics["noise_sd"][model.posterior_.diagnostics[
        "best_restart"]]
    assert 0 < chosen["effective_parameters"] < chosen["rows"] == 100
    assert np.allclose(model.posterior_.idata.posterior["sigma"].values, chosen["sd"],
                       rtol=1e-5)
