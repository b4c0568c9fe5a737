"""Stacking a network and a GLM: held-out densities, weights, the mixed posterior, the estimator.

References: scikit-learn's `log_loss` (a classifier's log predictive density), a Normal
density where the posterior spread is negligible, a direct 1-D optimisation of the stacking
objective, and the members' own predictions (a weight of 1, and exact mixtures).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from sklearn.base import clone
from sklearn.metrics import log_loss

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, build_model, fit
from pymc_bnn.datasets import two_moons
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.io import load, save
from pymc_bnn.posterior.stacking import (
    draw_counts,
    log_predictive_density,
    stack_posteriors,
    stacking_weights,
)
from pymc_bnn.sklearn.stacked_fit import AUTO_ROWS, stacks_by_default

FAST = {"steps": 300, "draws": 100, "random_state": 0}


@pytest.fixture(scope="module")
def moons():
    return two_moons(n_samples=120)


@pytest.fixture(scope="module")
def members(moons):
    """A (4,) network and its GLM on the same rows; 300 and 700 draws."""
    out = {}
    for name, hidden, draws in (("network", (4,), 300), ("linear", (), 700)):
        bnn = build_model(moons.X_train, moons.y_train, hidden=hidden)
        out[name] = fit(bnn, "laplace", draws=draws, random_seed=0, progress=False)
    return out


@pytest.fixture(scope="module")
def stacked(moons):
    """`BayesianMLPClassifier((4,), stack_linear=True, **FAST)` fitted to the moons (12 fits):
    for the tests that only read it (a fit with these settings is the same to the last bit)."""
    return BayesianMLPClassifier((4,), stack_linear=True, **FAST).fit(moons.X_train,
                                                                      moons.y_train)


def test_a_classifiers_log_density_is_sklearns_log_loss(members, moons):
    for posterior in members.values():
        lpd = log_predictive_density(posterior, moons.X_test, moons.y_test)
        proba = posterior.predict(moons.X_test)["mean"].values
        # predictions are float32 sums over draws; the densities average in float64
        assert -lpd.mean() == pytest.approx(log_loss(moons.y_test, proba), abs=1e-7)


def test_a_regressors_log_density_is_the_normal_density_when_weights_are_certain():
    """Many rows, a GLM: the draws' Normals nearly coincide, so their average density is the
    Normal density at the predictive mean and sd."""
    rng = np.random.default_rng(3)  # each test draws its own rows, whatever ran before it
    X = rng.normal(size=(2000, 2))
    y = X @ [1.0, -2.0] + rng.normal(0.0, 0.5, 2000)
    posterior = fit(build_model(X, y, hidden=(), likelihood="gaussian"), "laplace", draws=400, random_seed=0,
                    progress=False)
    X_new, y_new = X[:200], y[:200] + 0.3
    lpd = log_predictive_density(posterior, X_new, y_new)
    mean, sd = (posterior.predict(X_new)[k].values for k in ("mean", "std"))
    noise = posterior.stacked("sigma").mean() * posterior.preprocessing["y_scale"]
    normal = stats.norm(mean, np.hypot(sd, noise)).logpdf(y_new)
    np.testing.assert_allclose(lpd, normal, atol=0.01)


def test_stacking_weights_maximise_the_held_out_log_score():
    rng = np.random.default_rng(4)
    a = np.log(rng.uniform(0.2, 0.9, 300))
    b = np.log(rng.uniform(0.2, 0.9, 300))
    weights = stacking_weights({"a": a, "b": b})

    def negative_score(w):
        return -np.log(w * np.exp(a) + (1 - w) * np.exp(b)).sum()

    best = optimize.minimize_scalar(negative_score, bounds=(0, 1), method="bounded",
                                    options={"xatol": 1e-8}).x
    assert weights["a"] == pytest.approx(best, abs=1e-3)
    assert sum(weights.values()) == pytest.approx(1.0)
    dominated = stacking_weights({"good": a, "worse": a - 0.5})
    assert dominated["good"] == pytest.approx(1.0, abs=1e-6)


def test_row_weights_count_in_the_score_as_copies_of_the_rows():
    # ArviZ's compare takes no row weights: the weighted score is maximised here
    rng = np.random.default_rng(5)
    a, b, c = (np.log(rng.uniform(0.2, 0.9, 60)) for _ in range(3))
    copies = rng.integers(0, 4, 60)
    weighted = stacking_weights({"a": a, "b": b, "c": c}, row_weights=copies)
    repeated = stacking_weights({name: np.repeat(v, copies) for name, v in
                                 {"a": a, "b": b, "c": c}.items()})
    for name in "abc":
        assert weighted[name] == pytest.approx(repeated[name], abs=2e-4)  # ArviZ's tolerance

    def negative_score(w):
        return -(copies * np.log(w * np.exp(a) + (1 - w) * np.exp(b))).sum()

    best = optimize.minimize_scalar(negative_score, bounds=(0, 1), method="bounded",
                                    options={"xatol": 1e-10}).x
    assert stacking_weights({"a": a, "b": b}, row_weights=copies)["a"] == pytest.approx(
        best, abs=1e-6)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_a_folds_rows_keep_their_weights():
    # a stacked fit with sample_weight was refused; each fold's fit takes its rows' weights
    from pymc_bnn.sklearn.stacked_fit import fold_density

    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0).astype(int)
    weight = rng.integers(1, 4, 40)
    train, test = np.arange(30), np.arange(30, 40)
    options = {"steps": 500, "restarts": 1}
    weighted = fold_density({"X": X, "y": y, "hidden": (), "sample_weight": weight}, "laplace",
                            options, 100, 0, train, test)
    rows = np.r_[np.repeat(train, weight[train]), test]
    repeated = fold_density({"X": X[rows], "y": y[rows], "hidden": ()}, "laplace", options,
                            100, 0, np.arange(len(rows) - 10), np.arange(len(rows) - 10,
                                                                         len(rows)))
    np.testing.assert_allclose(weighted, repeated, atol=1e-6)
    plain = fold_density({"X": X, "y": y, "hidden": ()}, "laplace", options, 100, 0, train, test)
    assert np.abs(weighted - plain).max() > 1e-3  # the weights changed the fold's fit


def test_draw_counts_follow_the_weights():
    for weights in ([0.5, 0.5], [0.01, 0.99], [0.2, 0.3, 0.5], [1.0, 0.0]):
        counts = draw_counts(weights, 997)
        assert counts.sum() == 997
        assert np.all(np.abs(counts - np.asarray(weights) * 997) < 1)


def test_a_weight_of_one_gives_that_members_predictions(members, moons):
    for name in members:
        other = next(n for n in members if n != name)
        stacked = stack_posteriors(members, {name: 1.0, other: 0.0},
                                   n_draws=members[name].n_draws)
        np.testing.assert_allclose(stacked.predict(moons.X_test)["mean"].values,
                                   members[name].predict(moons.X_test)["mean"].values,
                                   atol=1e-6)  # float32 sums over the draws in another order
        assert stacked.spec.skip and stacked.spec.hidden == (4,)


def test_a_network_with_its_own_skip_path_keeps_it(members, moons):
    """A skip network's own w_skip stays in its draws; the GLM's weights go to the same path."""
    bnn = build_model(moons.X_train, moons.y_train, hidden=(4,), skip=True)
    network = fit(bnn, "laplace", draws=300, random_seed=0, progress=False)
    both = {"network": network, "linear": members["linear"]}
    for name in both:
        other = next(n for n in both if n != name)
        stacked = stack_posteriors(both, {name: 1.0, other: 0.0}, n_draws=both[name].n_draws)
        np.testing.assert_allclose(stacked.predict(moons.X_test)["mean"].values,
                                   both[name].predict(moons.X_test)["mean"].values, atol=1e-6)


def test_the_stacked_predictive_is_the_weighted_mixture(members, moons):
    """Weights 0.3 / 0.7 of 1,000 draws take all 300 and 700 draws: the mixture exactly."""
    stacked = stack_posteriors(members, {"network": 0.3, "linear": 0.7}, n_draws=1000)
    expected = sum(w * members[n].predict(moons.X_test)["mean"].values
                   for n, w in (("network", 0.3), ("linear", 0.7)))
    np.testing.assert_allclose(stacked.predict(moons.X_test)["mean"].values, expected,
                               atol=1e-6)  # float32 sums
    assert stacked.settings["stacking"]["draws"] == {"network": 300, "linear": 700}


def test_the_stacked_posterior_keeps_the_training_data_of_its_members(members, moons):
    stacked = stack_posteriors(members, {"network": 0.5, "linear": 0.5}, n_draws=100)
    np.testing.assert_array_equal(stacked.idata["observed_data"]["y"].values, moons.y_train)
    np.testing.assert_array_equal(stacked.idata["constant_data"]["X"].values, moons.X_train)


def test_the_network_part_is_the_networks_draws(members, moons):
    """Stability measures a stacked fit's network: its draws are the network member's."""
    from pymc_bnn.posterior.stability import stability

    stacked = stack_posteriors(members, {"network": 0.3, "linear": 0.7}, n_draws=1000)
    part = stacked.network_part()
    assert part.n_draws == 300
    np.testing.assert_allclose(part.predict(moons.X_test)["mean"].values,
                               members["network"].predict(moons.X_test)["mean"].values,
                               atol=1e-6)
    result = stability(stacked, moons.X_test, moons.y_test, max_draws=100)
    assert result.attrs["n_draws"] == 100 and len(result["units"]["unit"]) == 4
    linear_only = stack_posteriors(members, {"network": 0.0, "linear": 1.0}, n_draws=100)
    with pytest.raises(InvalidSettingError, match="gave the network no draws.*stack_linear=False"):
        linear_only.network_part()
    # the report's stability section says so instead of failing the report
    from pymc_bnn.reporting.stability_report import report_section

    section = report_section(linear_only, (moons.X_test, moons.y_test, "test rows"))
    assert "gave the network weight 0" in section.paragraphs[0]
    assert "stack_linear=False" in section.paragraphs[0]


@pytest.mark.slow  # four small fits
def test_gaussian_and_heteroscedastic_members_mix_as_one_heteroscedastic_posterior(tmp_path):
    """A Gaussian draw is the heteroscedastic network with a zero-weight log-sd output of bias
    log σ: with every member's draws kept, the mixture's log density of each row is
    log Σₖ wₖ pₖ(y) of the members' own (measured: equal to 1.4e-15), a Gaussian member alone
    predicts as itself, and the mixture survives its file."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + (0.2 + 0.3 * np.abs(X[:, 1])) * rng.normal(size=60)
    settings = {"steps": 300, "tol": 0, "draws": 40, "random_seed": 0, "progress": False}

    def fitted(likelihood, hidden, rows=slice(None), bias=True):
        return fit(build_model(X[rows], y[rows], likelihood=likelihood, hidden=hidden,
                               bias=bias), "advi", **settings)

    members = {"network": fitted("gaussian", (3,)), "noisy": fitted("heteroscedastic", (3,)),
               "linear": fitted("gaussian", ())}
    weights = {"network": 0.25, "noisy": 0.5, "linear": 0.25}
    mixed = stack_posteriors(members, weights, n_draws=160)  # 40, 80, 40: every draw
    assert mixed.likelihood.name == "heteroscedastic" and mixed.spec.n_outputs == 2
    assert "sigma" not in mixed.idata["posterior"]
    expected = np.log(sum(w * np.exp(log_predictive_density(members[n], X, y))
                          for n, w in weights.items()))
    np.testing.assert_allclose(log_predictive_density(mixed, X, y), expected, atol=1e-10)
    alone = stack_posteriors(members, {"network": 1.0}, n_draws=40)
    for name in ("mean", "std"):
        np.testing.assert_allclose(alone.predict(X)[name].values,
                                   members["network"].predict(X)[name].values,
                                   atol=1e-5)  # float32 predictions
    save(mixed, tmp_path / "mixed.bnn.nc")
    np.testing.assert_allclose(log_predictive_density(load(tmp_path / "mixed.bnn.nc"), X, y),
                               expected, atol=1e-10)
    with pytest.raises(InvalidSettingError, match="bias=True"):
        stack_posteriors({**members, "plain": fitted("gaussian", (3,), bias=False)}, weights,
                         n_draws=160)
    other_rows = fitted("gaussian", (), rows=slice(30))  # y_mean, y_scale of 30 rows
    with pytest.raises(InvalidSettingError, match="standardised the target differently"):
        stack_posteriors({**members, "other_rows": other_rows}, weights, n_draws=160)
    with pytest.raises(InvalidSettingError, match="standardised the target differently"):
        stack_posteriors({"network": members["network"], "other_rows": other_rows},
                         {"network": 0.5, "other_rows": 0.5}, n_draws=80)  # one likelihood
    with pytest.raises(InvalidSettingError, match="one likelihood"):
        stack_posteriors({**members, "robust": fitted("student_t", ())}, weights, n_draws=160)


@pytest.fixture(scope="module")
def linear_regressor():
    """`BayesianMLPRegressor((8,), stack_linear=True, steps=300, draws=400)` on 150 rows of a
    linear target with noise (its own rows, whatever ran before it), and every fit it made
    (hidden, rows, options, posterior), seen through a spy on `stacked_fit.fit`: 12 fits that
    two tests read. 400 draws, more than `FOLD_DRAWS`, so the folds' own count shows."""
    from pymc_bnn.sklearn import stacked_fit

    calls = []

    def spy(bnn, method, **kwargs):
        posterior = fit(bnn, method, **kwargs)
        calls.append((bnn.spec.hidden, bnn.n_obs, kwargs, posterior))
        return posterior

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X @ [1.0, 0.5, 0.0, -1.0] + rng.normal(0.0, 1.0, 150)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stacked_fit, "fit", spy)
        model = BayesianMLPRegressor((8,), stack_linear=True, steps=300, draws=400,
                                     random_state=0).fit(X, y)
    return model, calls


@pytest.mark.slow  # two stacked fits: 12 fits
def test_the_estimator_weights_the_model_that_predicts_held_out_rows_better(moons,
                                                                            linear_regressor):
    """Curved classes: the network; a linear target with noise: mostly the GLM.

    The classifier takes the default steps: at 300 its network's MAP is unfinished, and over
    fit seeds 0-3 the weight went to the GLM on two of them (test accuracy 0.78). At the
    default steps the network weight was 1.0 and the accuracy 0.944 on all four. The
    regressor's GLM weight at 300 steps, data and fit seeds 0-3: 1.0, 1.0, 0.63, 1.0 at 100
    draws; 1.0, 1.0, 0.70, 1.0 at the 400 draws of `linear_regressor`.
    """
    curved = BayesianMLPClassifier((8,), stack_linear=True, draws=100, random_state=0).fit(
        moons.X_train, moons.y_train)
    linear, _ = linear_regressor
    assert curved.posterior_.settings["stacking"]["weights"]["network"] > 0.8
    assert linear.posterior_.settings["stacking"]["weights"]["linear"] > 0.5
    held = curved.posterior_.settings["stacking"]["held_out_lpd"]
    assert held["network"] > held["linear"]
    assert np.mean(curved.predict(moons.X_test) == moons.y_test) > 0.85


@pytest.mark.slow  # reads the shared regressor's twelve fits
def test_the_folds_reuse_the_scale_the_full_fit_chose(linear_regressor):
    """A regressor's network chooses its MAP's scale on held-out rows once (the full fit);
    every fold fits one MAP at that scale, the GLM never searches (its evidence rounds set
    its scale), and the folds keep `FOLD_DRAWS` draws (250, not the full fits' 400)."""
    from pymc_bnn.sklearn import stacked_fit

    model, calls = linear_regressor
    (_, n_full, options, network), glm = calls[0], calls[1]
    chosen = network.diagnostics["map_scale_choice"]["scale"]
    assert (n_full, options["map_scale"], options["draws"]) == (150, "holdout", 400)
    assert glm[0] == () and "map_scale" not in glm[2] and glm[2]["draws"] == 400
    folds = calls[2:]
    assert len(folds) == 2 * stacked_fit.STACKING_FOLDS
    for hidden, rows, kwargs, _ in folds:
        assert rows == 120 and kwargs["draws"] == stacked_fit.FOLD_DRAWS
        if hidden:
            assert (kwargs["map_scale"], kwargs["restarts"]) == (chosen, 1)
        else:
            assert "map_scale" not in kwargs
    assert model.posterior_.settings["stacking"]["folds"] == stacked_fit.STACKING_FOLDS


@pytest.mark.slow  # two stacked fits (the folds not run): the full suite runs it
@pytest.mark.parametrize("asked, in_folds", [(None, 1), (3, 3)])
def test_a_classifiers_network_folds_fit_from_one_start(moons, monkeypatch, asked, in_folds):
    """The full fit keeps its restarts (4 for this small network); each fold's network fits one
    MAP, as a regressor's folds do, unless the user asked for a number of restarts; the GLM's
    folds keep its own (one: a convex fit)."""
    from pymc_bnn.sklearn import stacked_fit

    seen = []

    def fold(build, method, options, draws, random_seed, train, test, noise="constant",
             pressed=()):  # the fold's options, not its fit
        seen.append((build["hidden"], options.get("restarts")))
        return np.zeros(len(test))

    monkeypatch.setattr(stacked_fit, "fold_density", fold)
    options = {} if asked is None else {"engine_options": {"restarts": asked}}
    model = BayesianMLPClassifier((4,), stack_linear=True, **FAST, **options).fit(
        moons.X_train, moons.y_train)
    assert sorted(set(seen)) == [((), asked), ((4,), in_folds)]
    assert len(seen) == 2 * stacked_fit.STACKING_FOLDS
    full = model.named_estimators_["network"].posterior_
    assert full.settings["restarts"] == (4 if asked is None else asked)
    assert len(full.diagnostics["map_loss"]) == full.settings["restarts"]


@pytest.mark.slow  # a few seconds of fits: the full suite runs it
def test_a_stacked_estimator_round_trips_through_its_file(tmp_path, moons, stacked):
    model = stacked
    save(model, tmp_path / "m.bnn.nc")
    again = load(tmp_path / "m.bnn.nc")
    np.testing.assert_array_equal(again.predict_proba(moons.X_test),
                                  model.predict_proba(moons.X_test))
    assert again.posterior_.settings["stacking"] == model.posterior_.settings["stacking"]
    assert not hasattr(again, "named_estimators_")  # the file keeps the mixture only


@pytest.mark.slow  # two plain fits beside the shared stacked one
def test_the_stacked_models_are_the_plain_fits_of_each(moons, stacked):
    """`named_estimators_`, as scikit-learn's StackingClassifier names its base estimators: the
    network and the GLM fitted alone on every row, as estimators, with no further fit."""
    parts = stacked.named_estimators_
    assert sorted(parts) == ["linear", "network"]
    assert parts["linear"].get_params()["hidden_layer_sizes"] == ()
    assert not parts["network"].stack_linear and not parts["linear"].stack_linear
    for name, hidden in (("network", (4,)), ("linear", ())):
        # the stacking's MAPs ran L-BFGS, which the part's settings say: a refit is the same
        assert parts[name].get_params()["engine_options"] == {"map_optimizer": "lbfgs"}
        alone = BayesianMLPClassifier(hidden, engine_options={"map_optimizer": "lbfgs"},
                                      **FAST).fit(moons.X_train, moons.y_train)
        np.testing.assert_array_equal(parts[name].predict_proba(moons.X_test),
                                      alone.predict_proba(moons.X_test))
    # a refit without stacking has none
    refit = clone(stacked).set_params(stack_linear=False)
    refit.named_estimators_ = parts
    assert not hasattr(refit.fit(moons.X_train, moons.y_train), "named_estimators_")


@pytest.mark.slow  # two stacked fits
def test_folds_side_by_side_give_the_same_weights(moons, stacked):
    """n_jobs=None runs the folds in threads, one per core (`stacked`): the same fits as one
    after another (n_jobs=1), so the same held-out densities and weights to the last bit."""
    two = stacked
    one = BayesianMLPClassifier((4,), stack_linear=True, n_jobs=1, **FAST).fit(moons.X_train,
                                                                               moons.y_train)
    assert one.posterior_.settings["stacking"] == two.posterior_.settings["stacking"]
    np.testing.assert_array_equal(one.predict_proba(moons.X_test),
                                  two.predict_proba(moons.X_test))


def test_auto_stacks_two_classes_or_a_gaussian_target_on_a_hundred_to_two_thousand_rows():
    """stack_linear="auto": where the tabular panel measured the stacking winning in seconds,
    and nowhere else (several classes, too few or too many rows, groups, other engines, an
    ensemble, a linearised Gaussian, a GLM, a likelihood not measured)."""
    binary = np.arange(300) % 2
    facts = {"classifier": True, "hidden": (32, 32), "grouped": False, "method": "laplace",
             "options": {}}
    assert stacks_by_default(binary, "bernoulli", **facts)
    assert stacks_by_default(np.arange(AUTO_ROWS[0]) % 2, "bernoulli", **facts)
    assert not stacks_by_default(np.arange(AUTO_ROWS[0] - 1) % 2, "bernoulli", **facts)
    assert stacks_by_default(np.arange(AUTO_ROWS[1]) % 2, "bernoulli", **facts)
    assert not stacks_by_default(np.arange(AUTO_ROWS[1] + 1) % 2, "bernoulli", **facts)
    assert not stacks_by_default(np.arange(300) % 3, "categorical", **facts)
    rare = np.r_[np.zeros(296, int), np.ones(4, int)]  # a class with fewer rows than folds
    assert not stacks_by_default(rare, "bernoulli", **facts)
    for change in ({"hidden": ()}, {"grouped": True}, {"method": "advi"},
                   {"options": {"ensemble": True}}, {"options": {"hessian": "full"}}):
        assert not stacks_by_default(binary, "bernoulli", **{**facts, **change}), change
    assert stacks_by_default(binary, "bernoulli", **{**facts, "options": {"hessian": "auto"}})
    regression = {**facts, "classifier": False}
    y = np.linspace(0.0, 1.0, 300)
    assert stacks_by_default(y, "gaussian", **regression)
    assert not stacks_by_default(y, "poisson", **regression)


def test_the_clis_stack_linear_flag_is_auto_unless_given_either_way():
    from pymc_bnn.cli.app import build_parser

    parser = build_parser()
    assert [parser.parse_args(["fit", "rows.csv", "--target", "y", "--out", "m.bnn.nc", *flags]).stack_linear
            for flags in ([], ["--stack-linear"], ["--no-stack-linear"])] == ["auto", True, False]


@pytest.mark.slow  # a stacked fit and a plain one
def test_the_default_estimator_stacks_with_lbfgs_maps_and_false_fits_the_network_alone():
    """The estimators' default on 150 binary rows is the stacking, its members' MAPs by
    L-BFGS; stack_linear=False is the network alone, its MAP by Adam (the engine's default)."""
    data = two_moons(n_samples=215)
    assert len(data.y_train) >= AUTO_ROWS[0]
    auto = BayesianMLPClassifier((4,), **FAST).fit(data.X_train, data.y_train)
    assert sorted(auto.posterior_.settings["stacking"]["weights"]) == ["linear", "network"]
    assert {name: part.posterior_.settings["map_optimizer"]
            for name, part in auto.named_estimators_.items()} == {"linear": "lbfgs",
                                                                  "network": "lbfgs"}
    alone = BayesianMLPClassifier((4,), stack_linear=False, **FAST).fit(data.X_train,
                                                                        data.y_train)
    assert "stacking" not in alone.posterior_.settings
    assert not hasattr(alone, "named_estimators_")
    assert alone.posterior_.settings["map_optimizer"] == "adam"
    given = BayesianMLPClassifier((4,), stack_linear=True, engine_options={
        "map_optimizer": "adam"}, **FAST).fit(data.X_train, data.y_train)
    assert given.named_estimators_["network"].posterior_.settings["map_optimizer"] == "adam"


@pytest.mark.parametrize("n_jobs", [None, pytest.param(2, marks=pytest.mark.slow)])
def test_ctrl_c_during_the_folds_keeps_the_networks_fit(moons, monkeypatch, n_jobs):
    from pymc_bnn.sklearn import stacked_fit

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stacked_fit, "log_predictive_density", pressed)
    model = BayesianMLPClassifier((4,), stack_linear=True, n_jobs=n_jobs, **FAST)
    with pytest.warns(UserWarning, match="interrupted during its cross-validation: kept the "
                                         "network's fit alone"):
        model.fit(moons.X_train, moons.y_train)
    assert model.posterior_.interrupted and model.posterior_.spec.hidden == (4,)
    assert "stacking" not in model.posterior_.settings
    assert model.posterior_.diagnostics["stacking_stopped"] == "its cross-validation"
    assert np.mean(model.predict(moons.X_test) == moons.y_test) > 0.7  # a working fit


@pytest.mark.slow  # a stacked fit through the CLI
def test_the_cli_says_a_stopped_stacking_kept_the_whole_network(tmp_path, moons, monkeypatch,
                                                                capsys):
    from pymc_bnn.cli.app import main
    from pymc_bnn.sklearn import stacked_fit

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(stacked_fit, "log_predictive_density", pressed)
    pd.DataFrame({"a": moons.X_train[:, 0], "b": moons.X_train[:, 1], "y": moons.y_train}
                 ).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "m.bnn.nc"
    assert main(["fit", str(tmp_path / "t.csv"), "--target", "y", "--hidden", "4", "--steps",
                 "300", "--stack-linear", "--out", str(out), "--quiet"]) == 3
    said = capsys.readouterr().err
    assert said == (f"interrupted: the stacking was stopped by Ctrl-C during its "
                    f"cross-validation; the network's own fit, whole, is saved in {out}, marked "
                    "interrupted (exit 3)\n"), said
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr()
    assert ("stopped by Ctrl-C during its cross-validation: the network's own fit (whole) "
            "alone") in info.out
    assert "the network's own fit, whole, without the models stacked with it" in info.out + info.err


@pytest.mark.slow  # a few seconds of fits: the full suite runs it
def test_stacking_refuses_what_it_cannot_do_in_one_line_and_takes_weights(moons, tmp_path):
    X, y = moons.X_train, moons.y_train
    model = BayesianMLPClassifier((4,), stack_linear=True, **FAST)
    with pytest.raises(InvalidSettingError, match="cannot fit groups"):
        model.fit(X, y, groups=np.arange(len(y)) % 2)
    weighted = model.fit(X, y, sample_weight=np.where(np.arange(len(y)) % 3, 1.0, 2.0))
    stacking = weighted.posterior_.settings["stacking"]
    assert sum(stacking["weights"].values()) == pytest.approx(1.0)
    assert set(stacking["held_out_lpd"]) == {"network", "linear"}
    with pytest.raises(InvalidSettingError, match="hessian='full' predicts through the"):
        BayesianMLPClassifier((4,), stack_linear=True, engine_options={"hessian": "full"},
                              **FAST).fit(X, y)
    auto = BayesianMLPClassifier((4,), stack_linear=True, engine_options={"hessian": "auto"},
                                 **FAST).fit(X, y)  # "auto" takes the last layer here
    assert auto.posterior_.settings["hessian"] == "last_layer"
    assert set(auto.posterior_.settings["stacking"]["weights"]) == {"network", "linear"}
    glm = BayesianMLPClassifier((), stack_linear=True, **FAST).fit(X, y)  # the GLM alone
    assert "stacking" not in glm.posterior_.settings and glm.posterior_.spec.hidden == ()
    with pytest.raises(InvalidSettingError, match="at least 3 rows for its cross-validation"):
        BayesianMLPRegressor((4,), stack_linear=True, **FAST).fit(X[:2], [0.5, 0.1])
    few = BayesianMLPRegressor((4,), stack_linear=True, **FAST).fit(X[:4], [0.1, 0.5, 0.2, 0.9])
    assert few.posterior_.settings["stacking"]["folds"] == 4  # fewer rows than 5 folds
    with pytest.raises(InvalidSettingError, match="at least 2 rows of every class for its "
                       r"cross-validation, but class 1.0 has 1; .*likelihood='poisson'"):
        model.fit(X[:12], np.r_[np.zeros(11), 1])
    with pytest.raises(InvalidSettingError, match="but class 'rare' has 1; leave out "
                                                  "stack_linear=True$"):
        model.fit(X[:12], np.r_[["common"] * 11, ["rare"]])
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InvalidSettingError, match="cannot fit streamed data"):
        model.fit(str(tmp_path / "t.parquet"), "y")


@pytest.mark.slow  # a few seconds of fits: the full suite runs it
def test_the_cli_fits_a_stacked_model(tmp_path, moons, capsys):
    from pymc_bnn.cli.app import main

    table = pd.DataFrame({"a": moons.X_train[:, 0], "b": moons.X_train[:, 1],
                          "y": moons.y_train})
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "m.bnn.nc"
    assert main(["fit", str(tmp_path / "t.csv"), "--target", "y", "--hidden", "4",
                 "--stack-linear", "--jobs", "2", "--out", str(out), "--quiet"]) == 0
    assert set(load(out).posterior_.settings["stacking"]["weights"]) == {"network", "linear"}
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "weights by 5-fold cross-validation" in info
    assert "stacked with a linear model" in info and "linear skip path" not in info
    assert main(["report", str(out), str(tmp_path / "t.csv"), "--out", str(tmp_path / "r.html"),
                 "--quiet"]) == 0
    assert "measured on the network&#x27;s draws" in (tmp_path / "r.html").read_text()
    assert main(["stability", str(out), str(tmp_path / "t.csv"), "--out",
                 str(tmp_path / "s"), "--quiet"]) == 0
    page = (tmp_path / "s" / "stability.html").read_text()
    weight = load(out).posterior_.settings["stacking"]["weights"]["network"]
    assert f"(stacking weight {weight:.2f}); the linear model&#x27;s draws" in page
    assert "of the network, fitted with laplace" in page  # not "the population network"
    table.to_parquet(tmp_path / "t.parquet")
    capsys.readouterr()
    assert main(["fit", str(tmp_path / "t.parquet"), "--target", "y", "--stack-linear",
                 "--stream", "--out", str(tmp_path / "s.bnn.nc"), "--quiet"]) != 0
    assert "--stack-linear cannot be combined with --stream" in capsys.readouterr().err
    weighted = table.assign(w=1.0)
    weighted.to_csv(tmp_path / "w.csv", index=False)
    assert main(["fit", str(tmp_path / "w.csv"), "--target", "y", "--weight", "w", "--hidden",
                 "4", "--stack-linear", "--out", str(tmp_path / "w.bnn.nc"), "--quiet"]) == 0
    assert set(load(tmp_path / "w.bnn.nc").posterior_.settings["stacking"]["weights"]) == {
        "network", "linear"}  # weighted rows are stacked (they were refused)
    assert not (tmp_path / "s.bnn.nc").exists()


@pytest.mark.slow  # CLI fits
def test_the_clis_jobs_flag_is_checked_and_spoken_of_as_a_flag(tmp_path, moons, capsys):
    from pymc_bnn.cli.app import main

    pd.DataFrame({"a": moons.X_train[:, 0], "y": moons.y_train}).to_csv(tmp_path / "t.csv",
                                                                      index=False)
    fit_args = ["fit", str(tmp_path / "t.csv"), "--target", "y", "--hidden", "2",
                "--out", str(tmp_path / "m.bnn.nc"), "--quiet"]
    with pytest.raises(SystemExit) as usage:
        main([*fit_args, "--jobs", "0"])
    assert usage.value.code == 2
    assert "--jobs: expected a number ≥ 1, or a negative one (-1: one per core, -2: all but " \
           "one), got 0" in (
        capsys.readouterr().err)
    # laplace's ensemble members are one fit: refused, in the command line's words
    assert main([*fit_args, "--jobs", "2", "--ensemble"]) == 2
    said = capsys.readouterr().err
    assert "leave out --jobs" in said and "n_jobs" not in said
    assert not (tmp_path / "m.bnn.nc").exists()


@pytest.mark.slow  # two stacked fits
def test_n_jobs_is_checked_first_and_local_backends_get_threads(moons, monkeypatch):
    """n_jobs=0 is refused before any fit; inside joblib's process backends (a fork hangs in
    JAX, loky re-imports everything) the folds run in threads, one per core for None and two
    for 2, never in those processes."""
    import joblib

    from pymc_bnn.sklearn import stacked_fit

    with pytest.raises(InvalidSettingError, match="n_jobs=0 runs no fit; .* or leave out n_jobs="):
        BayesianMLPClassifier((4,), stack_linear=True, n_jobs=0, **FAST).fit(
            moons.X_train, moons.y_train)

    def no_processes(*args, **kwargs):
        raise AssertionError("the folds went to joblib's processes")

    monkeypatch.setattr(joblib, "Parallel", no_processes)
    seen = []
    monkeypatch.setattr(stacked_fit, "_in_threads",
                        lambda jobs, workers, pressed, done: seen.append(workers) or [
                            stacked_fit.fold_density(*job, pressed=pressed) for job in jobs])
    for backend, n_jobs in (("multiprocessing", None), ("loky", 2)):
        with joblib.parallel_backend(backend, n_jobs=2):
            model = BayesianMLPClassifier((4,), stack_linear=True, n_jobs=n_jobs, **FAST).fit(
                moons.X_train, moons.y_train)
        assert model.posterior_.settings["stacking"]["folds"] == 5
    cores = min(joblib.cpu_count(), 10)  # 5 folds × 2 models
    assert seen == ([cores] if cores > 1 else []) + [2]  # one core: None runs them in turn


@pytest.mark.slow  # two stacked fits
def test_a_clusters_backend_runs_the_folds_through_joblib(moons, monkeypatch, stacked):
    """A cluster's backend (Dask, Ray) gets the folds through joblib's Parallel; joblib's
    threading backend stands in for one here: the same weights as one after another."""
    import joblib

    from pymc_bnn.sklearn import stacked_fit

    monkeypatch.setattr(stacked_fit, "_on_this_machine", lambda backend: False)
    monkeypatch.setattr(stacked_fit, "_in_threads", None)  # not taken
    with joblib.parallel_backend("threading", n_jobs=2):
        cluster = BayesianMLPClassifier((4,), stack_linear=True, n_jobs=2, **FAST).fit(
            moons.X_train, moons.y_train)
    here = stacked  # one after another, in this process
    assert cluster.posterior_.settings["stacking"] == here.posterior_.settings["stacking"]


def test_the_multiprocessing_backend_is_refused_for_separate_fits():
    import joblib

    from pymc_bnn.sklearn.members import fit_separately

    with joblib.parallel_backend("multiprocessing", n_jobs=2), pytest.raises(
            InvalidSettingError, match="'multiprocessing' backend forks this process"):
        fit_separately([], 2, whole=False)


@pytest.mark.slow  # a stacked fit
def test_the_full_fits_warnings_name_their_model_at_the_callers_line(moons):
    from pymc_bnn.errors import ConvergenceWarning
    from pymc_bnn.posterior.convergence import judge_convergence

    with pytest.warns(ConvergenceWarning) as caught:
        model = BayesianMLPClassifier((4,), stack_linear=True, steps=50, draws=50,
                                      random_state=0).fit(moons.X_train, moons.y_train)
    # info, report and the CLI judge both fits and say which one stopped early
    problems = [p.what for p in judge_convergence(model.posterior_).problems]
    assert [p.split(":")[0] for p in problems] == ["the network's fit", "the linear model's fit"]
    assert all("stopped at the maximum of 50 steps" in p for p in problems)
    said = {str(w.message).rsplit(" [", 1)[-1]: w.filename for w in caught
            if issubclass(w.category, ConvergenceWarning)}
    assert said.keys() >= {"stacking: the network's fit]", "stacking: the linear model's fit]"}
    assert set(said.values()) == {__file__}  # this line, not the library's
    # the engine's words come first: a filter written for a plain fit's warning still matches
    with warnings.catch_warnings(record=True) as kept:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="laplace's MAP fit stopped")
        BayesianMLPClassifier((4,), stack_linear=True, steps=50, draws=50,
                              random_state=0).fit(moons.X_train, moons.y_train)
    assert not [w for w in kept if "MAP fit stopped" in str(w.message)]


@pytest.mark.slow  # a stacked fit
@pytest.mark.filterwarnings("ignore::pymc_bnn.errors.ConvergenceWarning")
def test_a_stacked_fit_shows_which_model_it_fits_and_a_bar_over_the_folds(moons, capsys):
    # the network and rows of `stacked`: their compiled programs are shared
    BayesianMLPClassifier((4,), stack_linear=True, verbose=1, steps=100, draws=40,
                          random_state=0).fit(moons.X_train, moons.y_train)
    shown = capsys.readouterr().out
    network, linear = (shown.index(f"Stacking · the {m}, on every row")
                       for m in ("network", "linear model (GLM)"))
    folds = shown.index("Stacking · cross-validation")
    assert network < linear < folds and "10/10 fold fits" in shown[folds:]


def test_the_table_encoding_never_follows_joblibs_backend(moons):
    """The inputs' ColumnTransformer (n_jobs=None) ran its columns in the active joblib
    backend's processes: under "multiprocessing" six forks of a process running JAX per fit."""
    from pymc_bnn.encoding import TableEncoding, build_transformer

    X = pd.DataFrame({"a": moons.X_train[:, 0], "c": np.where(moons.X_train[:, 1] > 0, "u", "v")})
    model = BayesianMLPClassifier((2,), steps=50, draws=20, random_state=0).fit(X, moons.y_train)
    transformer = build_transformer(TableEncoding.from_dict(model.table_encoding_))
    assert transformer.n_jobs == 1


def test_the_folds_go_to_a_ray_cluster_not_to_threads_here():
    """Ray's joblib backend subclasses joblib's "multiprocessing" one, so it was taken for a
    backend of this machine and the folds ran in local threads instead of on the cluster."""
    pytest.importorskip("ray")
    from joblib.parallel import LokyBackend, MultiprocessingBackend, ThreadingBackend
    from ray.util.joblib.ray_backend import RayBackend

    from pymc_bnn.sklearn.stacked_fit import _on_this_machine

    assert not _on_this_machine(RayBackend())
    assert all(_on_this_machine(backend()) for backend in (LokyBackend, MultiprocessingBackend,
                                                           ThreadingBackend))
