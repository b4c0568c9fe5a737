"""The `laplace` engine's classifier predictive against the exact posterior predictive.

On nearly separable data the output layer's posterior is one-sided, so the Laplace Gaussian's
predictive is too wide; `output_layer="sampled"` (the default for several classes) samples the
exact output-layer posterior instead (`pymc_bnn.inference.output_sampler`). Both tests fit a network without
hidden layers (the output layer is the whole network) at a fixed prior scale and compare the
predictive probabilities with a reference computed without NUTS: grid quadrature for a
two-parameter logistic regression, importance sampling for a six-parameter softmax regression.
Each also checks that the Laplace Gaussian misses that reference, so the reference can tell the
two apart.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize
from scipy.special import expit, log_expit, log_softmax, softmax

from pymc_bnn import build_model, fit
from pymc_bnn.inference import output_likelihood, output_sampler
from pymc_bnn.inference.jax_model import ROW_WEIGHT, compile_model, pad_rows, padded_rows
from pymc_bnn.inference.laplace import glm_predictive
from pymc_bnn.inference.laplace_layout import value_offsets

SCALE = 3.0  # the prior scale: w ~ N(0, 3 / sqrt(fan_in = 1)), b ~ N(0, 3)


def _fit(X, y, likelihood, output_layer):
    bnn = build_model(X, y, hidden=(), bias=True, prior="normal", likelihood=likelihood)
    return fit(bnn, "laplace", draws=2000, random_seed=0, progress=False, prior_scale=SCALE,
               output_layer=output_layer)


def _gaussian_predictive(posterior, X_new, link):
    """The Laplace Gaussian's predictive (what output_layer="gaussian" draws), by 100,000
    Monte Carlo draws of the output from its closed-form mean and covariance."""
    mean, cov = glm_predictive(posterior, X_new)
    eps = np.random.default_rng(0).normal(size=(100_000, *mean.shape))
    return link(mean + np.einsum("nkl,snl->snk", np.linalg.cholesky(cov), eps)).mean(axis=0)


def _logistic_reference(x, y, x_new):
    """P(y = 1 | x_new) under the exact posterior of (w, b), by quadrature on a fine grid."""
    w, b = np.meshgrid(np.linspace(-5, 40, 901), np.linspace(-25, 25, 601), indexing="ij")
    eta = w[..., None] * x + b[..., None]
    log_post = (np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta), axis=-1)
                - 0.5 * (w**2 + b**2) / SCALE**2)
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    return np.array([np.sum(weight * expit(w * v + b)) for v in x_new])


@pytest.mark.slow
def test_sampled_output_layer_gives_the_exact_logistic_predictive():
    x = np.array([-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0])
    y = (x > 0).astype(int)
    x_new = np.array([-1.0, -0.25, 0.25, 0.75, 2.0])
    exact = _logistic_reference(x, y, x_new)
    sampled = _fit(x[:, None], y, "bernoulli", "sampled")
    assert sampled.diagnostics["output_sampler"][0]["divergences"] == 0
    proba = sampled.predict(x_new[:, None])["mean"].values
    # 2,000 draws: Monte Carlo sd of each probability below 0.006
    np.testing.assert_allclose(proba, exact, atol=0.02)
    gaussian = _gaussian_predictive(sampled, x_new[:, None], lambda eta: expit(eta[..., 0]))
    assert np.max(np.abs(gaussian - exact)) > 0.05


def _softmax_reference(x, y, x_new):
    """Class probabilities at x_new under the exact posterior of (w (3,), b (3,)), by
    self-normalised importance sampling from a Student-t around the mode (effective sample
    size about 60,000 of 400,000)."""
    def log_post(theta):
        eta = theta[..., None, :3] * x[:, None] + theta[..., None, 3:]
        picked = np.take_along_axis(log_softmax(eta, -1),
                                    np.broadcast_to(y[:, None], (*eta.shape[:-1], 1)), -1)
        return picked[..., 0].sum(-1) - 0.5 * np.sum(theta**2, -1) / SCALE**2

    mode = minimize(lambda t: -log_post(t), np.zeros(6), method="BFGS").x
    p = softmax(mode[:3] * x[:, None] + mode[3:], -1)
    design = np.zeros((len(x), 3, 6))  # d eta_k / d theta
    design[:, np.arange(3), np.arange(3)] = x[:, None]
    design[:, np.arange(3), 3 + np.arange(3)] = 1.0
    fisher = p[:, :, None] * np.eye(3) - p[:, :, None] * p[:, None, :]  # diag(p) − pp' per row
    hessian = np.einsum("nkd,nkl,nle->de", design, fisher, design) + np.eye(6) / SCALE**2
    proposal = stats.multivariate_t(mode, 4 * np.linalg.inv(hessian), df=3, seed=1)
    draws = proposal.rvs(400_000)
    log_weight = log_post(draws) - proposal.logpdf(draws)
    weight = np.exp(log_weight - log_weight.max())
    weight /= weight.sum()
    assert 1 / np.sum(weight**2) > 20_000  # the reference itself is accurate
    eta_new = draws[:, None, :3] * x_new[:, None] + draws[:, None, 3:]
    return np.einsum("s,snk->nk", weight, softmax(eta_new, -1))


@pytest.mark.slow
def test_sampled_output_layer_gives_the_exact_softmax_predictive():
    x = np.r_[np.linspace(-3, -1.2, 5), np.linspace(-0.6, 0.6, 5), np.linspace(1.2, 3, 5)]
    y = np.repeat([0, 1, 2], 5)
    x_new = np.array([-1.0, -0.3, 0.9, 2.0])
    exact = _softmax_reference(x, y, x_new)
    sampled = _fit(x[:, None], y, "categorical", "auto")
    assert sampled.settings["output_layer"] == "sampled"  # the categorical default
    assert sampled.diagnostics["output_sampler"][0]["divergences"] == 0
    np.testing.assert_allclose(sampled.predict(x_new[:, None])["mean"].values, exact,
                               atol=0.02)
    gaussian = _gaussian_predictive(sampled, x_new[:, None], lambda eta: softmax(eta, -1))
    assert np.max(np.abs(gaussian - exact)) > 0.05


@pytest.mark.parametrize("likelihood", [
    "categorical", pytest.param("poisson", marks=pytest.mark.slow)])
def test_padded_rows_add_nothing_to_the_log_likelihood(likelihood):
    """The rows the sampler pads (copies of the last row, weighted 0) change the summed
    log-likelihood by rounding only; poisson also has data that is not per row (its offset)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(13, 2))
    y = rng.integers(0, 3, size=13)
    bnn = build_model(X, y, hidden=(), likelihood=likelihood)
    offsets = value_offsets(compile_model(bnn.model))
    rows = output_likelihood.row_loglik(bnn, offsets)
    size = padded_rows(13)
    assert size == 16 and set(rows.per_row) == {"y_data", ROW_WEIGHT}
    eta = rng.normal(size=(13, bnn.spec.n_outputs))
    z = rng.normal(size=compile_model(bnn.model).size)
    padded = rows.padded(size)
    np.testing.assert_array_equal(padded[ROW_WEIGHT], np.r_[np.ones(13), np.zeros(3)])
    summed = float(output_likelihood.output_loglik(bnn, offsets)(eta, z))
    assert abs(np.sum(rows.loglik(pad_rows(eta, size), z, padded)) - summed) < 1e-10
    # the weights are what drops them: the same padding weighted 1 counts the copies
    counted = {**padded, ROW_WEIGHT: np.ones(size)}
    assert abs(np.sum(rows.loglik(pad_rows(eta, size), z, counted)) - summed) > 1e-3


@pytest.mark.slow
def test_a_fit_on_fewer_rows_reuses_the_compiled_sampler():
    """12 and 15 rows are both padded to 16: the second fit adds no sampler (after the
    softmax test in this file, which compiled it, none at all)."""
    x = np.r_[np.linspace(-3, -1.2, 5), np.linspace(-0.6, 0.6, 5), np.linspace(1.2, 3, 5)]
    y = np.repeat([0, 1, 2], 5)
    _fit(x[:, None], y, "categorical", "auto")
    held = list(output_sampler._SAMPLERS)
    keep = np.r_[0:4, 5:9, 10:14]
    fewer = _fit(x[keep, None], y[keep], "categorical", "auto")
    assert list(output_sampler._SAMPLERS) == held
    assert fewer.diagnostics["output_sampler"][0]["divergences"] == 0


def test_the_sampler_cache_keeps_the_most_recently_used(monkeypatch):
    """A bounded cache: past `_MAX_SAMPLERS`, the sampler used longest ago goes."""
    def sampler(log_density, size, draws, warmup):  # stands in for the compiled NUTS run
        def run(rng_key, args, theta_map, root):  # its draws are all zero
            return np.zeros((draws, size)), np.zeros(draws, bool), np.ones(draws)
        return run

    monkeypatch.setattr(output_sampler, "_SAMPLERS", type(output_sampler._SAMPLERS)())
    monkeypatch.setattr(output_sampler, "_MAX_SAMPLERS", 2)
    monkeypatch.setattr(output_sampler, "_sampler", sampler)
    made = []
    for name in ("a", "b", "a", "c", "b"):
        before = set(output_sampler._SAMPLERS)
        out = output_sampler.sample_output_layer(None, (), np.ones(1), np.eye(1), draws=3, seed=0,
                                                 cache_key=(name,))
        made.append(name if set(output_sampler._SAMPLERS) - before else "")
    assert made == ["a", "b", "", "c", "b"]  # "b" went when "c" came ("a" was used since)
    assert [key[0] for key in output_sampler._SAMPLERS] == ["c", "b"]
    np.testing.assert_array_equal(out.theta, np.ones((3, 1)))  # theta_map + L · 0
