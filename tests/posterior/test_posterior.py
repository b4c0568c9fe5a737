"""Prediction from the fitted posterior: direct forward pass over draws, any input length."""

import numpy as np
import pytest

from pymc_bnn.model.classifier_likelihoods import _sigmoid
from pymc_bnn.model.network import forward


def test_draws_are_arviz_data(quick_posterior):
    post = quick_posterior.idata["posterior"]
    assert post["w_0"].dims == ("chain", "draw", "feature", "hidden_0")
    assert quick_posterior.n_draws == 300
    steps_run = quick_posterior.diagnostics["steps_run"]
    assert steps_run <= 3000  # may stop early on convergence
    assert quick_posterior.elbo.shape == (steps_run,)


@pytest.mark.parametrize("n_new", [1, 7, 300, 2500])
def test_predict_on_inputs_of_any_length(quick_posterior, n_new, rng):
    X_new = rng.normal(size=(n_new, 2))
    pred = quick_posterior.predict(X_new)
    assert pred["mean"].shape == (n_new,)
    assert pred["std"].shape == (n_new,)
    assert np.all((pred["mean"] >= 0) & (pred["mean"] <= 1))


def test_predict_is_mean_of_p_over_draws(quick_posterior, rng):
    """The predictive probability is the mean over draws of sigmoid(network output)."""
    X_new = rng.normal(size=(11, 2))
    weights, _ = quick_posterior.parameter_draws()
    by_hand = np.stack([
        _sigmoid(forward(quick_posterior.spec, X_new, [w[s] for w in weights])[:, 0])
        for s in range(weights[0].shape[0])
    ])
    np.testing.assert_allclose(quick_posterior.mean_draws(X_new), by_hand, rtol=1e-12)
    # predict() is the fused float32 JAX path: equal up to float32 rounding.
    pred = quick_posterior.predict(X_new)
    np.testing.assert_allclose(pred["mean"], by_hand.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pred["std"], by_hand.std(0), rtol=1e-4, atol=1e-6)


def test_chunked_prediction_equals_unchunked(quick_posterior, rng, monkeypatch):
    from pymc_bnn.posterior import compiled

    X_new = rng.normal(size=(503, 2))
    whole = quick_posterior.predict(X_new)["mean"].values
    whole_draws = quick_posterior.mean_draws(X_new)
    monkeypatch.setattr(compiled, "CHUNK_FLOATS", 5000)  # forces ~3-row chunks
    monkeypatch.setattr(compiled, "JAX_CHUNK_FLOATS", 5000)
    np.testing.assert_array_equal(whole_draws, quick_posterior.mean_draws(X_new))
    np.testing.assert_allclose(whole, quick_posterior.predict(X_new)["mean"].values, rtol=1e-6)


@pytest.mark.parametrize(
    ("hidden", "bias", "likelihood", "n_outputs", "skip"),
    [((5, 5), False, "bernoulli", 1, False),        # small: the unrolled draws-last path
     ((24, 16), True, "bernoulli", 1, False),       # wide: the batched-matmul path
     ((4,), True, "categorical", 3, False),
     ((6, 3), True, "gaussian", 1, False),
     ((5,), True, "categorical", 3, True),          # skip path, draws-last
     ((24, 16), True, "bernoulli", 1, True)],       # skip path, batched matmuls
)
def test_fused_predict_matches_float64_draws(hidden, bias, likelihood, n_outputs, skip, rng,
                                            random_posterior):
    from pymc_bnn import NetworkSpec

    spec = NetworkSpec(n_inputs=3, hidden=hidden, n_outputs=n_outputs, activation="tanh",
                       bias=bias, skip=skip)
    extra = {"sigma": np.abs(rng.normal(size=(1, 40)))} if likelihood == "gaussian" else None
    pre = {"y_mean": 10.0, "y_scale": 3.0} if likelihood == "gaussian" else {}
    posterior = random_posterior(spec, likelihood, 40, rng, preprocessing=pre, params=extra)
    X_new = rng.normal(size=(17, 3))
    reference = posterior.mean_draws(X_new)
    pred = posterior.predict(X_new)
    np.testing.assert_allclose(pred["mean"], reference.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pred["std"], reference.std(0), rtol=1e-3, atol=1e-5)
    assert pred["mean"].dims == (("obs", "class") if n_outputs == 3 else ("obs",))


def test_predict_with_a_likelihood_of_the_users_own(rng, random_posterior):
    """A likelihood without `predictive_mean` goes through its `predictive_params` (with the
    noise draws) and gives the same numbers as the float64 path."""
    import dataclasses

    from pymc_bnn import NetworkSpec
    from pymc_bnn.model.likelihoods import Gaussian

    @dataclasses.dataclass(frozen=True)
    class OwnGaussian:  # the Likelihood protocol without the optional predictive_mean
        name = "own_gaussian"
        is_classifier = False

        def predictive_params(self, eta, params, preprocessing):
            return Gaussian().predictive_params(eta, params, preprocessing)

    spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, activation="tanh", bias=True)
    posterior = random_posterior(spec, "gaussian", 30, rng, preprocessing={"y_mean": 1.0,
                                 "y_scale": 2.0}, params={"sigma": np.ones((1, 30))})
    posterior = dataclasses.replace(posterior, likelihood=OwnGaussian())
    X_new = rng.normal(size=(9, 2))
    reference = posterior.mean_draws(X_new)
    np.testing.assert_allclose(posterior.predict(X_new)["mean"], reference.mean(0), rtol=1e-5)


def test_regression_fits_with_other_target_scales_share_the_compiled_prediction(
        rng, random_posterior):
    """The target's mean and sd are arguments of the jitted passes, not constants in them."""
    from pymc_bnn import NetworkSpec
    from pymc_bnn.posterior import compiled

    spec = NetworkSpec(n_inputs=2, hidden=(4,), n_outputs=1, activation="tanh", bias=True)
    X_new = rng.normal(size=(11, 2))
    sizes = []
    for y_mean, y_scale in ((0.0, 1.0), (250.0, 40.0)):
        posterior = random_posterior(spec, "gaussian", 30, rng,
                                     preprocessing={"y_mean": y_mean, "y_scale": y_scale},
                                     params={"sigma": np.ones((1, 30))})
        eta = posterior.network_output(X_new)[..., 0]
        np.testing.assert_allclose(posterior.mean_draws(X_new), y_mean + y_scale * eta,
                                   rtol=1e-12)
        np.testing.assert_allclose(posterior.predict(X_new)["mean"],
                                   (y_mean + y_scale * eta).mean(0), rtol=1e-5, atol=1e-4)
        sizes.append((compiled.moments_function.cache_info().currsize,
                      compiled.forward_function.cache_info().currsize))
    assert sizes[0] == sizes[1]
