"""`laplace`'s `map_scale="holdout"`: the MAP's prior scale chosen on held-out rows.

The choice must move the way the data say: up from the regressors' starting scale 1 on a
function that needs it (a few periods of a sine), down or nowhere on a noisy linear relation
where a wider prior only fits noise.
"""

import warnings

import numpy as np
import pytest

from pymc_bnn import BayesianMLPRegressor, ConvergenceWarning, InferenceError, build_model, fit
from pymc_bnn.inference import map_scale
from pymc_bnn.sklearn import LAPLACE_REGRESSION_OPTIONS


def test_one_standard_error_rule_against_a_direct_computation():
    rng = np.random.default_rng(0)
    scales = [8.0, 0.5, 2.0, 1.0, 4.0]  # any order
    losses = rng.normal(size=(5, 40)) * 0.3 + np.array([[0.50], [1.2], [0.55], [0.9], [0.52]])
    index, mean, se = map_scale.one_standard_error_choice(scales, losses)
    best = int(np.argmin(losses.mean(axis=1)))
    direct_se = [np.std(losses[j] - losses[best], ddof=1) / np.sqrt(40) for j in range(5)]
    np.testing.assert_allclose(mean, losses.mean(axis=1))
    np.testing.assert_allclose(se, direct_se)
    within = [j for j in range(5) if mean[j] <= mean[best] + direct_se[j]]
    assert index == min(within, key=lambda j: scales[j])
    assert se[best] == 0.0


def test_a_candidate_with_a_non_finite_loss_is_never_chosen():
    losses = np.array([[np.nan, 0.1, 0.1], [0.5, 0.6, 0.4], [0.3, 0.2, 0.4]])
    index, mean, _ = map_scale.one_standard_error_choice([0.5, 1.0, 2.0], losses)
    assert np.isinf(mean[0]) and index in (1, 2)
    with pytest.raises(InferenceError, match="learning_rate"):
        map_scale.one_standard_error_choice([1.0], np.array([[np.inf, 0.0]]))


def test_too_few_rows_keep_the_model_scale():
    assert map_scale.held_out_rows(47, seed=0) is None  # 20% of 47 rounds to 9 < 10
    fit_rows, scored = map_scale.held_out_rows(48, seed=3)
    assert scored.size == 10 and np.union1d(fit_rows, scored).tolist() == list(range(48))


def _sine(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, n)
    return x[:, None], np.sin(1.5 * x) + 0.3 * x + rng.normal(0, 0.25, n)


def _noisy_linear(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    return X, X[:, 0] - 0.5 * X[:, 1] + rng.normal(0, 2.0, n)


@pytest.mark.slow
@pytest.mark.parametrize("data, direction", [(_sine, "up"), (_noisy_linear, "not up")])
def test_the_chosen_scale_moves_the_way_the_data_say(data, direction):
    X, y = data()
    model = BayesianMLPRegressor(hidden_layer_sizes=(16, 16), random_state=0, draws=50,
                                 stack_linear=False).fit(X, y)  # the network's own choice
    choice = model.posterior_.diagnostics["map_scale_choice"]
    assert model.posterior_.settings["map_scale"] == "holdout"
    assert choice["scale"] == model.posterior_.diagnostics["map_scale"]
    if direction == "up":  # from the regressors' starting scale 1: a sine needs more
        assert choice["scale"] >= 2.0, choice
        residual = y - model.predict(X)
        assert np.sqrt(np.mean(residual**2)) < 0.35  # the noise sd is 0.25: not underfitted
    else:  # a wider prior fits the noise: its held-out loss is worse
        assert choice["scale"] <= 1.0, choice
        chosen = choice["scales"].index(choice["scale"])
        assert choice["held_out_loss"][-1] > choice["held_out_loss"][chosen]


def test_the_regressor_uses_it_only_with_its_own_prior():
    assert LAPLACE_REGRESSION_OPTIONS == {"map_scale": "holdout", "noise_sd": "evidence"}
    model = BayesianMLPRegressor()
    assert model._engine_options("laplace")["map_scale"] == "holdout"
    assert "map_scale" not in BayesianMLPRegressor(prior="normal")._engine_options("laplace")
    assert "map_scale" not in model._engine_options("advi")
    fixed = BayesianMLPRegressor(engine_options={"map_scale": 2.0})
    assert fixed._engine_options("laplace")["map_scale"] == 2.0


@pytest.mark.slow  # a fit with the search: the full suite runs it
def test_the_search_is_counted_once_in_the_fits_timings():
    """The held-out fits' seconds are in `fit_s` (and their compile in `compile_s`), not also
    in the set-up before the fit on every row: the phases add up to no more than the whole."""
    X, y = _sine(n=100)
    bnn = build_model(X, y, hidden=(4,), prior="normal", likelihood="gaussian")
    posterior = fit(bnn, "laplace", draws=20, random_seed=0, progress=False,
                    map_scale="holdout", chunk_steps=50)
    timings = posterior.timings
    assert "map_scale_choice" in posterior.diagnostics
    phases = timings["compile_s"] + timings["fit_s"] + timings["sample_s"]
    assert phases <= timings["total_s"] + 1e-3, timings


def test_ctrl_c_while_choosing_keeps_the_choice_and_a_posterior():
    X, y = _sine(n=100)
    bnn = build_model(X, y, hidden=(4,), prior="normal", likelihood="gaussian")

    def press(info):
        raise KeyboardInterrupt

    posterior = fit(bnn, "laplace", draws=20, random_seed=0, progress=False,
                    map_scale="holdout", callback=press, chunk_steps=50)
    choice = posterior.diagnostics["map_scale_choice"]
    assert posterior.interrupted and choice["interrupted"]
    assert posterior.settings["restarts"] == 1  # the fit on every row went on from the choice
    assert choice["scale"] in map_scale.CANDIDATE_SCALES
    assert np.isfinite(posterior.predict(X)["mean"].values).all()


@pytest.mark.slow  # two regressor fits
def test_repeated_rows_are_held_out_together_so_the_scale_is_not_fooled():
    """A table whose rows appear three times chose the largest MAP scale (a held-out row's
    copies were fitted), and its 90% intervals covered 0.53 of new rows; held out together,
    the repeated table chooses the scale the table once chooses."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.sin(X[:, 0]) + 0.3 * rng.normal(size=60)
    chosen = [BayesianMLPRegressor((8,), random_state=0, draws=50, steps=2000,
                                   stack_linear=False).fit(
        np.repeat(X, k, 0), np.repeat(y, k)).posterior_.diagnostics["map_scale_choice"]["scale"]
              for k in (1, 3)]
    assert chosen[1] == chosen[0]


def test_a_constant_candidate_gives_way_to_the_smallest_one_within_reach():
    rng = np.random.default_rng(1)
    scales = [0.5, 1.0, 2.0, 4.0]
    losses = rng.normal(size=(4, 60)) * 0.2 + np.array([[0.40], [0.42], [0.45], [0.9]])
    plain, mean, se = map_scale.one_standard_error_choice(scales, losses)
    within = [j for j in range(4) if mean[j] <= mean.min() + se[j]]
    assert plain == 0 and within[:2] == [0, 1]  # the constant one wins the plain rule
    index, *_ = map_scale.one_standard_error_choice(scales, losses, [True, False, False, False])
    assert index == min((j for j in within if j != 0), key=lambda j: scales[j]) == 1
    # no candidate that uses the features within one standard error: the constant one stays
    far = losses.copy()
    far[1:] += 5.0
    assert map_scale.one_standard_error_choice(scales, far, [True, False, False, False])[0] == 0


def _weak_linear(n=300, seed=0):
    """A real linear signal (R² about 0.07) under much noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    return X, X[:, 0] - 0.5 * X[:, 1] + rng.normal(0, 4.0, n)


@pytest.mark.slow  # a default regressor fit
def test_the_held_out_choice_passes_over_a_network_fallen_to_zero():
    """At scale 0.5 the default network's MAP on weak data falls to the all-zero point (one
    prediction for every row); the plain rule chose it, as its held-out loss is within one
    standard error of the best. Scale 1 is within it too and uses the features."""
    X, y = _weak_linear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fit that uses the features says nothing
        # the default network (its GLM, which the default stacks on 300 rows, chooses none)
        model = BayesianMLPRegressor(random_state=0, draws=50, stack_linear=False).fit(X, y)
    choice = model.posterior_.diagnostics["map_scale_choice"]
    assert choice["constant"][0] and not any(choice["constant"][1:])
    mean, se = np.asarray(choice["held_out_loss"]), np.asarray(choice["standard_error"])
    assert mean[0] <= mean.min() + se[0]  # the plain rule's choice: the smallest within reach
    assert choice["scale"] == 1.0
    assert np.std(model.predict(X)) > 0.2 * np.std(X[:, 0] - 0.5 * X[:, 1])


@pytest.mark.slow  # two small regressor fits
def test_a_map_fallen_to_zero_says_so_and_the_fixes():
    X, y = _weak_linear()
    with pytest.warns(ConvergenceWarning, match="constant function.*skip=True.*"
                      r"hidden_layer_sizes=\(\)"):
        model = BayesianMLPRegressor((16, 16), random_state=0, draws=50, stack_linear=False,
                                     engine_options={"map_scale": 0.5}).fit(X, y)
    assert np.ptp(model.predict(X)) < 1e-6
    assert any("constant function" in w for w in model.posterior_.diagnostics["warnings"])
    X, y = _sine(n=100)  # a fit that follows the features says nothing of the kind
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BayesianMLPRegressor((16, 16), random_state=0, draws=50, stack_linear=False).fit(X, y)
    assert not [w for w in caught if "constant function" in str(w.message)]
