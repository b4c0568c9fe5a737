"""NUTS against the same closed forms as ADVI, and its diagnostics on a BNN."""

import warnings

import numpy as np
import pytest
from test_vi import conjugate_regression, normal_means_model, normal_means_posterior

from pymc_bnn import build_model, fit
from pymc_bnn.errors import ConvergenceWarning, InvalidSettingError
from pymc_bnn.inference import nuts

QUICK = dict(chains=2, tune=400, progress=False, init_steps=2000)


@pytest.mark.slow
def test_nuts_recovers_normal_means_and_regression_correlation():
    y = np.random.default_rng(0).normal([-2.0, 0.5, 3.0], 1.0, size=(200, 3))
    mean, sd = normal_means_posterior(y)
    result = nuts.run(normal_means_model(y), draws=4000, random_seed=1, **QUICK)
    draws = result.idata["posterior"]["mu"].values.reshape(-1, 3)
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.1 * sd[0])
    np.testing.assert_allclose(draws.std(axis=0), sd, rtol=0.1)

    model, mean, cov = conjugate_regression()
    result = nuts.run(model, draws=4000, random_seed=2, **QUICK)
    draws = np.column_stack([result.idata["posterior"][v].values.ravel() for v in ("a", "b")])
    np.testing.assert_allclose(draws.mean(axis=0), mean, atol=0.15 * np.sqrt(cov[0, 0]))
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.15)
    assert result.diagnostics["divergences"] == 0
    assert result.idata["sample_stats"]["diverging"].shape == (2, 2000)


@pytest.mark.slow
def test_bnn_convergence_is_judged_on_predictions(small_moons):
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        post = fit(bnn, "nuts", draws=400, random_seed=4, check_X=small_moons.X_test,
                   chains=2, tune=300, progress=False)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)
                and "diverged" in str(w.message)]
    d = post.diagnostics
    assert d["check_points"] == len(small_moons.X_test)
    assert d["predictive_rhat_max"] < 1.1 and d["predictive_ess_bulk_min"] > 50
    assert post.idata["posterior"]["w_0"].dims == ("chain", "draw", "feature", "hidden_0")
    p = post.predict(small_moons.X_test)["mean"].values
    assert np.mean((p > 0.5) == small_moons.y_test) > 0.8
    # pymc_bnn gave JAX one device per core (at least 4), so the chains ran side by side
    import jax

    assert jax.local_device_count() >= 2
    assert post.settings["chain_method"] == "parallel"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pymc_bnn.errors.ConvergenceWarning")  # 40 draws: short on purpose
def test_parallel_chains_give_the_same_draws_as_sequential_ones(small_moons):
    """One chain per device changes where chains run, not what they draw."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))
    draws = {method: fit(bnn, "nuts", draws=40, random_seed=1, chains=2, tune=40,
                         init_steps=200, progress=False, chain_method=method)
             .idata["posterior"]["w_0"].values for method in ("parallel", "sequential")}
    # The two compiled programs may sum in a different order; NUTS's dynamics amplify a last-bit
    # difference over the transitions (seen: 1.5e-5 by draw 13 of one chain), while different
    # keys or states per chain would differ by O(1).
    np.testing.assert_allclose(draws["parallel"], draws["sequential"], rtol=0, atol=1e-3)


def test_unknown_chain_method_is_refused(small_moons):
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))
    with pytest.raises(InvalidSettingError, match="chain_method must be one of 'auto'"):
        fit(bnn, "nuts", chain_method="threads", progress=False)
