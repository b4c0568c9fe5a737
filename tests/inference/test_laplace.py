"""The `laplace` engine against closed forms: Bayesian linear regression (an identity network with
a Gaussian likelihood) has a conjugate posterior predictive and an analytic evidence."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import multivariate_normal

from pymc_bnn import InvalidSettingError, build_model, fit, load, save
from pymc_bnn.errors import ConvergenceWarning
from pymc_bnn.inference.laplace import glm_predictive
from pymc_bnn.posterior.convergence import judge_convergence
from pymc_bnn.posterior.uncertainty import member_decomposition


def _linear_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.5, -0.7, 0.0]) + 0.3 + rng.normal(scale=0.8, size=n)
    return X, y


def _conjugate(Phi, y_std, sigma, precision):
    """Posterior mean and covariance of the weights of y = Phi w + noise(sigma), w ~ N(0, P^-1)."""
    A = Phi.T @ Phi / sigma**2 + np.diag(precision)
    cov = np.linalg.inv(A)
    return cov @ Phi.T @ y_std / sigma**2, cov


def _design(X):
    return np.column_stack([X, np.ones(len(X))])  # w_0 rows, then the bias b_0


def _precision(alpha, n_inputs):
    # fan-in scaled weights (precision alpha * fan_in), biases alpha
    return np.r_[np.full(n_inputs, alpha * n_inputs), alpha]


def test_glm_predictive_equals_the_conjugate_posterior_predictive():
    X, y = _linear_data()
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=200, random_seed=0, progress=False, prior_scale=2.0)
    sigma = float(posterior.idata["posterior"]["sigma"].values.ravel()[0])
    y_std = (y - posterior.preprocessing["y_mean"]) / posterior.preprocessing["y_scale"]
    mean_w, cov_w = _conjugate(_design(X), y_std, sigma, _precision(1 / 2.0**2, 3))
    X_new = np.random.default_rng(1).normal(size=(7, 3)) * 2
    mean, cov = glm_predictive(posterior, X_new)
    Phi_new = _design(X_new)
    np.testing.assert_allclose(mean[:, 0], Phi_new @ mean_w, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(cov[:, 0, 0], np.einsum("nd,de,ne->n", Phi_new, cov_w, Phi_new),
                               atol=1e-6, rtol=1e-6)
    # the draws are that Gaussian: their mean and sd agree to Monte Carlo error
    draws = posterior.network_output(X_new)[..., 0]
    np.testing.assert_allclose(draws.mean(axis=0), mean[:, 0], atol=4 * np.sqrt(cov.max() / 200))


def test_minibatch_map_then_full_data_newton_still_gives_the_conjugate_posterior():
    """With minibatch_size the MAP's Adam steps see 64 random rows each (the likelihood scaled
    by n/64); the Newton steps and the curvature use every row, so the output layer (here the
    whole network) is still the exact conjugate posterior at the fitted noise sd."""
    X, y = _linear_data(n=300, seed=4)
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=50, random_seed=0, progress=False, prior_scale=2.0,
                    minibatch_size=64, steps=3000)
    assert posterior.settings["minibatch_size"] == 64
    sigma = float(posterior.idata["posterior"]["sigma"].values.ravel()[0])
    # the noise sd (0.8) in units of the target's sd: minibatch noise does not bias it
    assert sigma == pytest.approx(0.8 / posterior.preprocessing["y_scale"], rel=0.15)
    y_std = (y - posterior.preprocessing["y_mean"]) / posterior.preprocessing["y_scale"]
    mean_w, cov_w = _conjugate(_design(X), y_std, sigma, _precision(1 / 2.0**2, 3))
    mean, cov = glm_predictive(posterior, X[:5])
    np.testing.assert_allclose(mean[:, 0], _design(X[:5]) @ mean_w, atol=1e-6)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_lbfgs_reaches_adams_map_in_a_fifth_of_the_steps_or_fewer():
    """map_optimizer="lbfgs": L-BFGS iterations on every row, with their own step limit,
    window and chunk; the same MAP as Adam's (one start, one mode)."""
    X, y = _linear_data(n=200, seed=5)
    y = (y > np.median(y)).astype(int)
    runs = {}
    for name, options in (("adam", {"steps": 20_000}), ("lbfgs", {"map_optimizer": "lbfgs"})):
        bnn = build_model(X, y, hidden=(3,), prior="normal")
        runs[name] = fit(bnn, "laplace", draws=20, random_seed=0, progress=False,
                         prior_scale=1.0, restarts=1, **options)
    adam, lbfgs = runs["adam"], runs["lbfgs"]
    plan = ("map_optimizer", "steps", "window", "chunk_steps")
    assert [adam.settings[k] for k in plan] == ["adam", 20_000, 200, 250]
    assert [lbfgs.settings[k] for k in plan] == ["lbfgs", 2_000, 20, 50]
    lbfgs_loss, adam_loss = lbfgs.diagnostics["map_loss"][0], adam.diagnostics["map_loss"][0]
    assert lbfgs_loss <= adam_loss + 1e-3 * len(y)  # nats: at least as low, per row 1e-3
    assert lbfgs.diagnostics["steps_run"] * 5 <= adam.diagnostics["steps_run"]
    np.testing.assert_allclose(glm_predictive(lbfgs, X[:10])[0], glm_predictive(adam, X[:10])[0],
                               atol=0.02)


def test_lbfgs_on_minibatches_is_refused_with_the_fix():
    X, y = _linear_data(n=100, seed=6)
    bnn = build_model(X, y, hidden=(2,), likelihood="gaussian")
    with pytest.raises(InvalidSettingError, match=r"map_optimizer='lbfgs' needs every row.*"
                       r"takes 32 rows per step.*map_optimizer='adam'"):
        fit(bnn, "laplace", draws=10, progress=False, map_optimizer="lbfgs", minibatch_size=32)


def analytic_evidence_maximum(posterior, X, y) -> float:
    """The prior scale that maximises the exact evidence of Bayesian linear regression on X
    (the identity network), at the fit's noise sd, in the fit's standardised target units."""
    sigma = float(posterior.idata["posterior"]["sigma"].values.ravel()[0])
    y_std = (y - posterior.preprocessing["y_mean"]) / posterior.preprocessing["y_scale"]
    Phi = _design(X)

    def negative_evidence(log_alpha):
        prior_cov = np.diag(1 / _precision(np.exp(log_alpha), 3))
        cov = sigma**2 * np.eye(len(y)) + Phi @ prior_cov @ Phi.T
        return -multivariate_normal(np.zeros(len(y)), cov).logpdf(y_std)

    best = minimize_scalar(negative_evidence, bounds=(-10, 10), method="bounded",
                           options={"xatol": 1e-8})
    return float(np.exp(-best.x / 2))


def test_marginal_likelihood_picks_the_analytic_evidence_maximum():
    X, y = _linear_data(n=80, seed=2)
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=50, random_seed=0, progress=False)
    analytic_scale = analytic_evidence_maximum(posterior, X, y)
    assert posterior.diagnostics["prior_scale"] == pytest.approx(analytic_scale, rel=0.03)
    # and it is not the starting scale: the evidence moved it
    assert abs(np.log(posterior.diagnostics["prior_scale"] / 4.0)) > 0.1


@pytest.fixture(scope="module")
def moons_ensemble():
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=200)
    bnn = build_model(data.X_train, data.y_train, hidden=(8,), bias=True, prior="normal")
    posterior = fit(bnn, "laplace", draws=300, random_seed=0, progress=False, ensemble=True,
                    restarts=3, steps=3000)
    return data, posterior


@pytest.mark.slow
def test_ensemble_keeps_every_restart_as_a_chain_and_splits_its_entropy(moons_ensemble):
    data, posterior = moons_ensemble
    assert posterior.idata["posterior"].sizes["chain"] == 3
    assert posterior.idata["laplace"]["map"].shape[0] == 3
    probs = posterior.predictive_draws(data.X_test)["probs"]
    total, expected, disagreement = member_decomposition(probs, n_members=3)
    np.testing.assert_allclose(total, expected + disagreement, atol=1e-12)
    assert (disagreement >= -1e-12).all()
    # the total is the predictive entropy over every draw, as uncertainty() computes it (in
    # its one float32 pass: the dtype policy, so float32 rounding)
    summary = posterior.uncertainty(data.X_test)
    np.testing.assert_allclose(total, summary["predictive_entropy"].values, rtol=2e-6,
                               atol=1e-7)
    # identical members disagree about nothing
    same = np.concatenate([probs[:100]] * 3)
    assert np.abs(member_decomposition(same, n_members=3)[2]).max() < 1e-12


@pytest.mark.slow
def test_laplace_fit_round_trips_through_a_model_file(moons_ensemble, tmp_path):
    data, posterior = moons_ensemble
    path = save(posterior, tmp_path / "laplace.nc")
    loaded = load(path)
    assert loaded.method == "laplace"
    np.testing.assert_array_equal(loaded.predict(data.X_test)["mean"].values,
                                  posterior.predict(data.X_test)["mean"].values)
    np.testing.assert_allclose(glm_predictive(loaded, data.X_test)[1],
                               glm_predictive(posterior, data.X_test)[1])


def test_a_fixed_step_laplace_fit_warns_of_no_step_limit_in_any_face(small_moons):
    """tol=0 runs a fixed number of steps with the stopping rule off, as advi's does: neither
    the engine's warnings nor the judgement the CLI and the report show blame the step limit
    (both did for laplace, where Python's advi fit said nothing)."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(4,), prior="normal")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        posterior = fit(bnn, "laplace", draws=20, random_seed=0, progress=False, steps=30,
                        tol=0)
    assert posterior.diagnostics["steps_run"] == 30 and not posterior.diagnostics["converged"]
    assert not any("maximum" in str(w.message) for w in caught), [str(w.message) for w in caught]
    judgement = judge_convergence(posterior)
    assert "step_limit" not in [p.kind for p in judgement.problems], judgement.summary()
    assert dict(judgement.checks)["MAP loss settled (the engine's rule)"] == (
        "not checked: tol=0 ran the fixed 30 steps asked for")
    with pytest.warns(ConvergenceWarning, match="maximum of 30 steps"):
        stopped = fit(bnn, "laplace", draws=20, random_seed=0, progress=False, steps=30)
    assert "step_limit" in [p.kind for p in judge_convergence(stopped).problems]


def test_laplace_refuses_what_it_cannot_fit():
    X, y = _linear_data(n=20)
    bnn = build_model(X, y > 0, hidden=(3,), prior="horseshoe")
    with pytest.raises(InvalidSettingError, match="needs a Normal prior"):
        fit(bnn, "laplace", progress=False)
    bnn = build_model(X, y > 0, hidden=(3,), prior="normal")
    with pytest.raises(InvalidSettingError, match="unknown option"):
        fit(bnn, "laplace", progress=False, stepz=10)
    with pytest.raises(InvalidSettingError, match="prior_scale"):
        fit(bnn, "laplace", progress=False, prior_scale=-1.0)
    with pytest.raises(InvalidSettingError, match="ensemble"):
        fit(bnn, "laplace", progress=False, ensemble=3)


@pytest.mark.slow
def test_advi_ensemble_runs_every_restart_to_the_end_as_a_chain():
    """advi with ensemble=True: no race; each restart is a member (a chain), best first."""
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=200)
    bnn = build_model(data.X_train, data.y_train, hidden=(4,), prior="normal")
    posterior = fit(bnn, "advi", draws=90, random_seed=1, progress=False, ensemble=True,
                    restarts=3, steps=1500, tol=0)
    assert posterior.idata["posterior"].sizes["chain"] == 3
    assert posterior.diagnostics["members"][0] == posterior.diagnostics["best_restart"]
    assert sorted(posterior.diagnostics["members"]) == [0, 1, 2]
    assert posterior.diagnostics["steps_run"] == 1500  # every member ran every step
    probs = posterior.predictive_draws(data.X_test)["probs"]
    total, expected, disagreement = member_decomposition(probs, n_members=3)
    np.testing.assert_allclose(total, expected + disagreement, atol=1e-12)
    with pytest.raises(InvalidSettingError, match="ensemble"):
        fit(bnn, "advi", progress=False, ensemble="yes")


def test_laplace_refuses_a_potential_on_the_parameters_its_gaussian_covers():
    """The Gaussian's curvature and evidence are the likelihood's and the Normal prior's: a
    Potential on the output layer would be silently left out of them (a pin of sd 0.05 gave
    draws of sd 1). It is refused; one on the hidden layers, which sit at the MAP, is kept."""
    import pymc as pm

    X, y = _linear_data(n=30)
    bnn = build_model(X, y, hidden=(2,), bias=True, likelihood="gaussian")
    with bnn.model:
        pm.Potential("pin", -0.5 * ((bnn.model["b_1"] - 3.0) / 0.05) ** 2)
    with pytest.raises(InvalidSettingError, match=r"Potential 'pin'.*b_1.*method='nuts'"):
        fit(bnn, "laplace", draws=10, progress=False, steps=50)
    hidden = build_model(X, y, hidden=(2,), bias=True, likelihood="gaussian")
    with hidden.model:
        pm.Potential("pin", -0.5 * ((hidden.model["b_0"] - 3.0) / 0.01) ** 2)
    posterior = fit(hidden, "laplace", draws=10, progress=False, steps=3000, restarts=1,
                    prior_scale=1.0)
    np.testing.assert_allclose(posterior.idata["posterior"]["b_0"].values, 3.0, atol=0.05)


def test_laplace_warns_that_a_variable_a_user_added_sits_at_its_map():
    import pymc as pm

    X, y = _linear_data(n=30)
    bnn = build_model(X, y, hidden=(2,), likelihood="gaussian")
    with bnn.model:
        pm.Normal("z", 2.0, 0.5)
    with pytest.warns(UserWarning, match=r"z is held at its MAP.*method='advi'"):
        posterior = fit(bnn, "laplace", draws=10, progress=False, steps=100, restarts=1,
                        prior_scale=1.0)
    assert float(posterior.idata["posterior"]["z"].std()) == 0.0
