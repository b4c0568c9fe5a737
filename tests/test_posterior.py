"""Prediction from the fitted posterior: direct forward pass over draws, any input length."""

import numpy as np
import pytest

from pymc_bnn import InvalidInputError, fit, build_model
from pymc_bnn.likelihoods import _sigmoid
from pymc_bnn.network import forward


def test_draws_are_arviz_data(quick_posterior):
    post = quick_posterior.idata["posterior"]
    assert post["w_0"].dims == ("chain", "draw", "feature", "hidden_0")
    assert quick_posterior.n_draws == 300
    assert quick_posterior.elbo.shape == (3000,)


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
    pred = quick_posterior.predict(X_new)
    np.testing.assert_allclose(pred["mean"], by_hand.mean(0), rtol=1e-12)
    np.testing.assert_allclose(pred["std"], by_hand.std(0), rtol=1e-12)


def test_chunked_prediction_equals_unchunked(quick_posterior, rng, monkeypatch):
    import pymc_bnn.posterior as posterior_module

    X_new = rng.normal(size=(503, 2))
    whole = quick_posterior.predict(X_new)["mean"].values
    monkeypatch.setattr(posterior_module, "_CHUNK_FLOATS", 5000)  # forces ~3-row chunks
    chunked = quick_posterior.predict(X_new)["mean"].values
    np.testing.assert_array_equal(whole, chunked)


def test_predict_rejects_wrong_feature_count(quick_posterior):
    with pytest.raises(InvalidInputError, match="has 3 features but the model was fitted with 2"):
        quick_posterior.predict(np.zeros((4, 3)))


def test_predict_rejects_nan(quick_posterior):
    X = np.zeros((4, 2))
    X[2, 1] = np.nan
    with pytest.raises(InvalidInputError, match=r"NaN values in 1 row\(s\) \(first: row 2\)"):
        quick_posterior.predict(X)


def test_same_seed_same_numbers(small_moons):
    def run(seed):
        bnn = build_model(small_moons.X_train, small_moons.y_train)
        post = fit(bnn, "pymc_advi", steps=500, draws=50, random_seed=seed, progress=False)
        return post.elbo, post.predict(small_moons.X_test)["mean"].values

    elbo_a, p_a = run(7)
    elbo_b, p_b = run(7)
    elbo_c, _ = run(8)
    np.testing.assert_array_equal(elbo_a, elbo_b)
    np.testing.assert_array_equal(p_a, p_b)
    assert not np.array_equal(elbo_a, elbo_c)
