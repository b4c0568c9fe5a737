"""The `laplace` engine's whole-network Gaussian (hessian="full"): the GGN against jax.hessian,
the linearised predictive against the conjugate posterior of Bayesian linear regression, the
evidence against its analytic maximum, a model file round trip, and the option's checks."""

import numpy as np
import pytest
from test_laplace import _conjugate, _design, _linear_data, _precision, analytic_evidence_maximum

from pymc_bnn import InvalidSettingError, build_model, fit, load, save
from pymc_bnn.inference import flat_network, ggn, ggn_at_maps, output_likelihood
from pymc_bnn.inference.jax_model import compile_model
from pymc_bnn.inference.laplace import glm_predictive, parameter_layout
from pymc_bnn.inference.laplace_layout import value_offsets


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_ggn_equals_the_jacobian_times_the_likelihood_hessian_on_a_tiny_network():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    X = rng.normal(size=(9, 2))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    bnn = build_model(X, y, hidden=(3,), bias=True, prior="normal", likelihood="categorical")
    compiled = compile_model(bnn.model)
    layout = parameter_layout(bnn, compiled)
    z = rng.normal(size=compiled.size)
    theta = z[layout.network]
    spec = bnn.spec

    def network(t):
        return ggn.forward(spec, jnp.asarray(X), *flat_network.unflatten(spec, t), backend="jax")

    def loglik(eta):  # the categorical log-likelihood, written out here
        return jnp.sum(jax.nn.log_softmax(eta)[jnp.arange(len(y)), y])

    J = np.asarray(jax.jacfwd(network)(jnp.asarray(theta)))  # (n, K, P)
    H = np.asarray(jax.hessian(loglik)(network(jnp.asarray(theta))))  # (n, K, n, K)
    H_rows = np.stack([H[n, :, n, :] for n in range(len(y))])
    expected = -np.einsum("nkp,nkl,nlq->pq", J, H_rows, J)
    # ... and the engine's: the model's own likelihood replayed on the output, any shape
    eta = network(jnp.asarray(theta))
    roots = output_likelihood.output_curvature_roots(output_likelihood.output_loglik(bnn, value_offsets(compiled)), eta,
                                       jnp.asarray(z))
    p = np.asarray(jax.nn.softmax(eta))
    np.testing.assert_allclose(np.einsum("nji,njk->nik", roots, roots),
                               np.einsum("nk,kl->nkl", p, np.eye(3)) - p[:, :, None] * p[:, None, :],
                               atol=1e-12)
    base = layout.base_precision
    curvature = ggn.network_curvature(spec, theta, X, roots, base)
    scaled = (curvature.vectors * curvature.eigenvalues) @ curvature.vectors.T
    G = scaled * np.sqrt(base)[:, None] * np.sqrt(base)[None, :]
    assert theta.size == 21 and 9 * 3 > theta.size  # the primal (P × P) form
    np.testing.assert_allclose(G, expected, atol=1e-10 * np.abs(expected).max())
    # curvatures_at, on the 9 rows padded to 16 (the copies weighted 0), is the same matrix
    at = ggn_at_maps.curvatures_at(bnn, layout, z[None, :], value_offsets(compiled))[0]
    assert at.size == 21
    np.testing.assert_allclose((at.vectors * at.eigenvalues) @ at.vectors.T, scaled,
                               atol=1e-10 * np.abs(scaled).max())
    # the dual (Gram) form gives the same spectrum on fewer rows than parameters
    few = ggn.network_curvature(spec, theta, X[:4], roots[:4], base)
    J4 = J[:4] / np.sqrt(base)
    G4 = np.einsum("nkp,nlk,nlm,nmq->pq", J4, roots[:4], roots[:4], J4)
    np.testing.assert_allclose((few.vectors * few.eigenvalues) @ few.vectors.T, G4,
                               atol=1e-10 * np.abs(G4).max())
    # the spectrum alone (every eigenvalue, zeros included, in both forms) and, with
    # spectra_at, the network's output at the model's own rows (not the padding)
    for rows, full in ((9, curvature), (4, few)):
        np.testing.assert_allclose(
            ggn.network_spectrum(spec, theta, X[:rows], roots[:rows], base),
            np.sort(full.all_eigenvalues())[::-1], atol=1e-10 * full.eigenvalues.max())
    (values, output), = ggn_at_maps.spectra_at(bnn, layout, z[None, :], value_offsets(compiled))
    np.testing.assert_allclose(values, np.sort(at.all_eigenvalues())[::-1],
                               atol=1e-10 * at.eigenvalues.max())
    np.testing.assert_allclose(output, np.asarray(eta), atol=1e-12)


@pytest.fixture(scope="module")
def linear_full():
    X, y = _linear_data()
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")
    return X, y, fit(bnn, "laplace", draws=400, random_seed=0, progress=False, prior_scale=2.0,
                     hessian="full")


def test_full_network_linearised_predictive_is_the_conjugate_one(linear_full):
    X, y, posterior = linear_full
    assert posterior.settings["hessian"] == "full" and posterior.linearised
    sigma = float(posterior.idata["posterior"]["sigma"].values.ravel()[0])
    y_std = (y - posterior.preprocessing["y_mean"]) / posterior.preprocessing["y_scale"]
    mean_w, cov_w = _conjugate(_design(X), y_std, sigma, _precision(1 / 2.0**2, 3))
    X_new = np.random.default_rng(1).normal(size=(7, 3)) * 2
    mean, cov = glm_predictive(posterior, X_new)
    Phi = _design(X_new)
    np.testing.assert_allclose(mean[:, 0], Phi @ mean_w, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(cov[:, 0, 0], np.einsum("nd,de,ne->n", Phi, cov_w, Phi),
                               atol=1e-6, rtol=1e-6)
    # the stored draws are that Gaussian over the weights: mean and covariance to MC error
    w = np.column_stack([posterior.stacked("w_0")[..., 0], posterior.stacked("b_0")])
    se = np.sqrt(np.diag(cov_w) / 400)
    assert np.all(np.abs(w.mean(axis=0) - mean_w) < 4 * se)
    d = np.diag(cov_w)
    cov_se = np.sqrt((np.outer(d, d) + cov_w**2) / 400)  # sd of a sample covariance
    assert np.all(np.abs(np.cov(w.T) - cov_w) < 4 * cov_se)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_full_network_draws_predict_through_the_linearised_network():
    """On a tanh network the draws go through f(x, θ*) + J(x)(θ − θ*), not through f(x, θ)."""
    import jax
    import jax.numpy as jnp

    X, y = _linear_data(n=40, seed=5)
    bnn = build_model(X, y, hidden=(4,), bias=True, prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=30, random_seed=0, progress=False, prior_scale=1.0,
                    hessian="full", restarts=1, steps=2000)
    group = posterior.idata["laplace"]
    theta_map = np.asarray(group["map"].values[0])[np.asarray(group["network_index"].values)]
    spec = posterior.spec
    X_new = np.random.default_rng(2).normal(size=(5, 3))

    def network(t):
        return ggn.forward(spec, jnp.asarray(X_new), *flat_network.unflatten(spec, t),
                           backend="jax")

    J = np.asarray(jax.jacfwd(network)(jnp.asarray(theta_map)))  # (n, 1, P)
    weights, biases = posterior.parameter_draws()
    thetas = np.stack([np.concatenate([weights[0][s].ravel(), biases[0][s], weights[1][s].ravel(),
                                       biases[1][s]]) for s in range(30)])
    expected = np.asarray(network(jnp.asarray(theta_map)))[None] + np.einsum(
        "nkp,sp->snk", J, thetas - theta_map)
    np.testing.assert_allclose(posterior.network_output(X_new), expected, atol=1e-9)
    nonlinear = ggn.forward(spec, X_new, weights, biases)
    assert np.abs(nonlinear - expected).max() > 1e-3  # the two differ: the test can tell
    # and the closed form agrees with the draws' mean to Monte Carlo error
    mean, cov = glm_predictive(posterior, X_new)
    np.testing.assert_allclose(mean[None, :, 0], network(jnp.asarray(theta_map))[None, :, 0])


def test_full_network_evidence_picks_the_analytic_maximum():
    X, y = _linear_data(n=80, seed=2)
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=50, random_seed=0, progress=False, hessian="full")
    assert posterior.diagnostics["prior_scale"] == pytest.approx(
        analytic_evidence_maximum(posterior, X, y), rel=0.03)
    assert abs(np.log(posterior.diagnostics["prior_scale"] / 4.0)) > 0.1


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_full_network_fit_round_trips_through_a_model_file(tmp_path):
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=120)
    bnn = build_model(data.X_train, data.y_train, hidden=(6,), bias=True, prior="normal")
    posterior = fit(bnn, "laplace", draws=200, random_seed=0, progress=False, hessian="full",
                    restarts=2, steps=2000, ensemble=True)
    assert posterior.idata["linearised_at"]["w_0"].shape == (2, 2, 6)  # one point per member
    loaded = load(save(posterior, tmp_path / "full.nc"))
    assert loaded.linearised
    np.testing.assert_array_equal(loaded.predict(data.X_test)["mean"].values,
                                  posterior.predict(data.X_test)["mean"].values)
    np.testing.assert_array_equal(loaded.mean_draws(data.X_test, max_draws=50),
                                  posterior.mean_draws(data.X_test, max_draws=50))
    np.testing.assert_allclose(glm_predictive(loaded, data.X_test)[1],
                               glm_predictive(posterior, data.X_test)[1])
    # a classifier's draws are probabilities of the linearised logits: they classify as the
    # MAP does (a non-linear push of the draws would not need to)
    accuracy = np.mean((posterior.predict(data.X_test)["mean"].values > 0.5) == data.y_test)
    map_accuracy = np.mean((glm_predictive(posterior, data.X_test)[0][:, 0] > 0) == data.y_test)
    assert accuracy == pytest.approx(map_accuracy, abs=0.03) and map_accuracy > 0.7


def test_hessian_option_is_checked_and_auto_chooses_by_size():
    X, y = _linear_data(n=20)
    bnn = build_model(X, y > 0, hidden=(3,), prior="normal")
    with pytest.raises(InvalidSettingError, match="hessian must be one of 'last_layer', 'full'"):
        fit(bnn, "laplace", progress=False, hessian="kron")
    with pytest.raises(InvalidSettingError, match="hessian must be one of"):
        fit(bnn, "laplace", progress=False, hessian=True)
    assert ggn_at_maps.uses_full_hessian("auto", 1603, 124, 3)        # wine, (32, 32)
    assert not ggn_at_maps.uses_full_hessian("auto", 3466, 1257, 10)  # digits: 3,466 eigenvalues
    assert not ggn_at_maps.uses_full_hessian("auto", 6000, 100, 1)    # too many parameters
    assert ggn_at_maps.uses_full_hessian("full", 10**6, 10**6, 1)
    assert not ggn_at_maps.uses_full_hessian("last_layer", 10, 10, 1)
