"""The leave-one-out temperature of the `laplace` engine (`pymc_bnn.inference.loo`): its cavity
LOO against brute-force refits of Bayesian linear regression, the direction of its choice, its
record in a model file and the values it refuses."""

import numpy as np
import pytest
from scipy.stats import norm

from pymc_bnn import InvalidSettingError, build_model, fit, load, save
from pymc_bnn.inference.laplace import glm_predictive
from pymc_bnn.inference.loo import TEMPERATURES


def _linear_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.5, -0.7, 0.0]) + 0.3 + rng.normal(scale=0.8, size=n)
    return X, y


def _brute_force_loo(Phi, y, sigma, precision, temperature):
    """Each row's exact leave-one-out log density under the tempered conjugate posterior of
    y = Phi w + noise(sigma), w ~ N(0, diag(precision)^-1), refitted without the row."""
    out = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        A = Phi[keep].T @ Phi[keep] / sigma**2 + np.diag(precision)
        cov = np.linalg.inv(A)
        mean = cov @ Phi[keep].T @ y[keep] / sigma**2
        sd = np.sqrt(temperature * Phi[i] @ cov @ Phi[i] + sigma**2)
        out.append(norm.logpdf(y[i], Phi[i] @ mean, sd))
    return np.array(out)


def _linear_model(X, y):
    return build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")


@pytest.fixture(scope="module")
def linear_fit():
    X, y = _linear_data()
    posterior = fit(_linear_model(X, y), "laplace", draws=100, random_seed=0, progress=False,
                    temperature="loo")
    return X, y, posterior


def test_cavity_loo_equals_brute_force_refits_of_bayesian_linear_regression(linear_fit):
    """For an identity network with a Gaussian likelihood each row's site is exactly Gaussian,
    so the cavity is the posterior refitted without the row (at the fitted noise sd and prior
    precision): the LOO sum at every temperature matches n refits."""
    X, y, posterior = linear_fit
    group = posterior.idata["laplace"]
    sigma = float(posterior.idata["posterior"]["sigma"].values.ravel()[0])
    alpha = float(group["prior_scale"].values[0]) ** -2
    y_std = (y - posterior.preprocessing["y_mean"]) / posterior.preprocessing["y_scale"]
    Phi = np.column_stack([X, np.ones(len(X))])
    precision = np.r_[np.full(3, 3 * alpha), alpha]  # fan-in scaled weights, then the bias
    exact = [_brute_force_loo(Phi, y_std, sigma, precision, t).sum() for t in TEMPERATURES]
    np.testing.assert_allclose(group["loo_elpd"].values[0], exact, rtol=1e-6, atol=1e-6)
    # the choice is the grid's best, and PSIS-LOO agrees with the exact value there
    best = int(np.argmax(exact))
    assert posterior.diagnostics["temperature"] == TEMPERATURES[best]
    assert float(group["psis_loo_elpd"].values[0]) == pytest.approx(exact[best], abs=0.2)
    assert posterior.diagnostics["loo"]["high_pareto_k_rows"] <= 2


def test_the_stored_covariance_is_the_tempered_one(linear_fit):
    X, y, posterior = linear_fit
    t = posterior.diagnostics["temperature"]
    plain = fit(_linear_model(X, y), "laplace", draws=100, random_seed=0, progress=False)
    assert plain.diagnostics["temperature"] == 1.0
    np.testing.assert_allclose(glm_predictive(posterior, X[:5])[1],
                               t * glm_predictive(plain, X[:5])[1], rtol=1e-6)


def _logistic_data(slope, n=80, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, rng.random(n) < 1 / (1 + np.exp(-slope * X[:, 0]))


@pytest.mark.slow
def test_leave_one_out_gains_from_a_cold_posterior_only_where_the_classes_separate():
    """Separable labels: the likelihood's curvature vanishes at the MAP, the evidence leaves the
    prior's spread, and leave-one-out gains nats by narrowing it. Noisy labels from a logistic
    model: the temperature hardly matters (the grid's best is within 0.1 nats of T = 1)."""
    gain = {}
    for name, slope in [("separable", 40.0), ("noisy", 1.0)]:
        X, y = _logistic_data(slope)
        bnn = build_model(X, y, hidden=(), bias=True, prior="normal")
        posterior = fit(bnn, "laplace", draws=50, random_seed=0, progress=False,
                        temperature="loo")
        elpd = posterior.idata["laplace"]["loo_elpd"].values[0]
        gain[name] = elpd.max() - elpd[TEMPERATURES.index(1.0)]
        assert posterior.diagnostics["temperature"] < 1.0
    assert gain["separable"] > 0.5
    assert gain["noisy"] < 0.1


def test_the_temperature_round_trips_through_a_model_file(linear_fit, tmp_path):
    X, y, posterior = linear_fit
    loaded = load(save(posterior, tmp_path / "loo.nc"))
    assert loaded.settings["temperature"] == "loo"
    for name in ("temperature", "loo_elpd", "psis_loo_elpd", "pareto_k_max"):
        np.testing.assert_array_equal(loaded.idata["laplace"][name].values,
                                      posterior.idata["laplace"][name].values)
    np.testing.assert_array_equal(glm_predictive(loaded, X)[1], glm_predictive(posterior, X)[1])


def test_bad_temperatures_are_refused_with_the_fix():
    X, y = _linear_data(n=20)
    bnn = build_model(X, y > 0, hidden=(3,), prior="normal")
    for bad in (-1.0, 0.0, "LOO", True, None):
        with pytest.raises(InvalidSettingError, match="temperature must be 'loo' or a positive"):
            fit(bnn, "laplace", progress=False, temperature=bad)
    with pytest.raises(InvalidSettingError, match="needs hessian='last_layer'"):
        fit(bnn, "laplace", progress=False, temperature="loo", hessian="full", steps=10)
