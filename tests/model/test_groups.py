"""Hierarchical BNNs: the grouped model, pooling that pays off, and prediction for known and new groups."""

import json
import warnings

import numpy as np
import pytest

from pymc_bnn import (
    ConvergenceWarning,
    InvalidInputError,
    InvalidSettingError,
    build_model,
    fit,
    forward,
)
from pymc_bnn.datasets import grouped_moons
from pymc_bnn.demos.hierarchical import HierarchicalDemoSettings, fit_poolings, per_group_accuracy
from pymc_bnn.model.groups import encode_groups, grouped_forward, record_labels

# 12 groups × 30 training points (100 held out each): the demo's data and settings, with fewer
# steps and draws and one ADVI run per fit (no restarts) so the three fits stay quick.
SETTINGS = HierarchicalDemoSettings(steps=6000, draws=400, grid_size=30)


@pytest.fixture(scope="module")
def grouped():
    return grouped_moons(SETTINGS.n_groups, SETTINGS.n_train, SETTINGS.n_test,
                         angle_sd=SETTINGS.angle_sd, data_seed=SETTINGS.seed)


@pytest.fixture(scope="module")
def poolings(grouped):
    with warnings.catch_warnings():  # 6000 steps stop short of the convergence test: on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_poolings(grouped, SETTINGS, restarts=1)


# ---------------------------------------------------------------------------- the model


def test_partial_pooling_graph_is_non_centred_with_group_dims(grouped):
    bnn = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train)
    model = bnn.model
    assert [v.name for v in model.free_RVs] == [
        name for i in range(3) for name in (f"w_{i}", f"group_sd_{i}", f"w_{i}_group_raw")]
    assert model.named_vars_to_dims["w_0_group"] == ("group", "feature", "hidden_0")
    assert model.named_vars_to_dims["w_0_group_raw"] == ("group", "feature", "hidden_0")
    assert model.named_vars_to_dims["w_2"] == ("hidden_1", "output")
    assert model.named_vars_to_dims["group_index"] == ("obs",)
    assert list(model.coords["group"]) == list(grouped.group_labels)
    assert bnn.groups["pooling"] == "partial"
    assert bnn.groups["counts"] == [SETTINGS.n_train] * SETTINGS.n_groups
    point = model.initial_point()
    assert point["w_1_group_raw"].shape == (SETTINGS.n_groups, 5, 5)


def test_complete_and_no_pooling_graphs(grouped):
    complete = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                           pooling="complete")
    assert [v.name for v in complete.model.free_RVs] == ["w_0", "w_1", "w_2"]
    assert complete.groups["pooling"] == "complete"
    assert complete.groups["labels"] == list(grouped.group_labels)
    unpooled = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                           pooling="none", bias=True)
    assert [v.name for v in unpooled.model.free_RVs] == [
        name for i in range(3) for name in (f"w_{i}_group", f"b_{i}_group")]
    assert unpooled.model.named_vars_to_dims["b_1_group"] == ("group", "hidden_1")


@pytest.mark.parametrize(("pooling", "skip"), [("partial", False), ("none", False),
                                              ("partial", True), ("none", True)])
def test_model_logp_matches_numpy_grouped_forward(grouped, rng, pooling, skip):
    """The model's log-likelihood equals one computed by gathering each row's group weights in
    NumPy, and that gather equals running the plain forward pass group by group (with a skip
    path: its group weights w_skip_group come last)."""
    bnn = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                      pooling=pooling, hidden=(4, 3), bias=True, skip=skip)
    point = {k: rng.standard_normal(v.shape) for k, v in bnn.model.initial_point().items()}
    weight_names = [f"{name}_group" for name in bnn.weight_names]
    names = [*weight_names, "b_0_group", "b_1_group", "b_2_group"]
    model = bnn.model
    graphs = model.replace_rvs_by_values([model[n] for n in names])
    values = dict(zip(names, model.compile_fn(graphs)(point), strict=False))
    weights = [values[name] for name in weight_names]
    assert len(weights) == 3 + skip
    biases = [values[f"b_{i}_group"] for i in range(3)]
    codes, _ = encode_groups(grouped.groups_train, n_obs=len(grouped.y_train))
    eta = grouped_forward(bnn.spec, grouped.X_train, codes, weights, biases)[:, 0]
    expected = np.sum(grouped.y_train * eta - np.logaddexp(0, eta))
    assert bnn.model.compile_logp(vars=[bnn.model["y"]])(point) == pytest.approx(expected,
                                                                                rel=1e-10)
    for g in range(3):
        rows = codes == g
        one_group = forward(bnn.spec, grouped.X_train[rows], [w[g] for w in weights],
                            [b[g] for b in biases])[:, 0]
        np.testing.assert_allclose(eta[rows], one_group, rtol=1e-12)


@pytest.mark.slow
def test_skip_path_with_partial_pooling_fits_and_predicts_new_groups(grouped):
    """The skip path gets its own group spread (group_sd_skip); a new group's skip weights are
    drawn around the population's, so its predictions are wider than a known group's.
    Measured (mean predictive sd, new group against group g00): 0.199 against 0.089 with 1,500
    steps (seed 0); with the test's 500 steps, fit seeds 0-3: 0.197 / 0.087, 0.213 / 0.085,
    0.158 / 0.090, 0.160 / 0.082 (ratios 1.74 to 2.50)."""
    bnn = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                      hidden=(4,), bias=True, skip=True)
    assert {"group_sd_0", "group_sd_1", "group_sd_skip", "w_skip_group_raw"} <= {
        v.name for v in bnn.model.free_RVs}
    assert bnn.model.named_vars_to_dims["w_skip_group"] == ("group", "feature", "output")
    posterior = fit(bnn, steps=500, draws=200, progress=False)
    X = grouped.X_test[:20]
    known = posterior.predict(X, groups=[grouped.group_labels[0]] * 20)
    unseen = posterior.predict(X, groups=["a group never seen"] * 20)
    assert known["mean"].shape == unseen["mean"].shape == (20,)
    assert float(unseen["std"].mean()) > float(known["std"].mean())


def test_any_hashable_labels_and_a_dataframe_column(rng):
    import pandas as pd

    X = rng.standard_normal((40, 2))
    y = np.tile([0, 1], 20)
    labels = [("shop", k % 3) for k in range(40)]
    bnn = build_model(X, y, groups=labels, pooling="complete")
    assert record_labels(json.loads(json.dumps(bnn.groups))) == [("shop", 0), ("shop", 1),
                                                                 ("shop", 2)]
    frame = pd.DataFrame({"a": X[:, 0], "store": np.arange(40) % 4, "b": X[:, 1]})
    bnn = build_model(frame, y, groups="store")
    assert bnn.spec.n_inputs == 2 and bnn.groups["labels"] == [0, 1, 2, 3]
    assert list(bnn.model.coords["group"]) == ["0", "1", "2", "3"]


def test_bad_groups_and_settings_are_refused(grouped):
    X, y, groups = grouped.X_train, grouped.y_train, grouped.groups_train
    with pytest.raises(InvalidSettingError, match="needs groups"):
        build_model(X, y, pooling="partial")
    with pytest.raises(InvalidSettingError, match="unknown pooling 'some'"):
        build_model(X, y, groups=groups, pooling="some")
    with pytest.raises(InvalidSettingError, match="pooling='none' works with the normal"):
        build_model(X, y, groups=groups, pooling="none", prior="ard")
    with pytest.raises(InvalidInputError, match="one group label per row"):
        build_model(X, y, groups=groups[:-1])
    with pytest.raises(InvalidInputError, match="missing labels"):
        build_model(X, y, groups=[None, *groups[1:]])
    with pytest.raises(InvalidInputError, match="not a column of X"):
        import pandas as pd

        build_model(pd.DataFrame(X, columns=["a", "b"]), y, groups="store")


# ---------------------------------------------------------------------------- pooling pays off


@pytest.mark.slow
def test_hierarchical_beats_complete_and_no_pooling(grouped, poolings):
    """12 groups of 30 training points, each a two-moons problem rotated by its own angle
    (sd 60°): partial pooling is more accurate on held-out points than both extremes."""
    accuracy = {key: per_group_accuracy(p, grouped).mean() for key, p in poolings.items()}
    # measured (advi, seed 0): hierarchical 0.908, pooled 0.846, unpooled 0.848: margins
    # +0.062 and +0.059 (seed 1: +0.039, +0.068; seed 2: +0.127, +0.046); asserted: +0.03.
    assert accuracy["hierarchical"] >= accuracy["pooled"] + 0.03, accuracy
    assert accuracy["hierarchical"] >= accuracy["unpooled"] + 0.03, accuracy


# ---------------------------------------------------------------------------- prediction


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_known_group_uses_its_own_weights(grouped, poolings):
    posterior = poolings["hierarchical"]
    X = grouped.X_test[:25]
    got = posterior.mean_draws(X, groups=["g03"] * len(X))
    post = posterior.idata["posterior"]
    weights = [post[f"w_{i}_group"].sel(group="g03").values.reshape(-1, *post[f"w_{i}"].shape[2:])
               for i in range(3)]
    eta = forward(posterior.spec, X, weights)[..., 0]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-eta)), rtol=1e-10)
    other = posterior.mean_draws(X, groups=["g07"] * len(X))
    assert np.abs(got - other).mean() > 0.02  # groups differ (their rotations do)
    mixed = posterior.predict(X, groups=["g03", "g07"] * 12 + ["g03"])["mean"].values
    # predict reduces over draws in float32 (pymc_bnn.posterior.compiled: the dtype policy)
    np.testing.assert_allclose(mixed[::2], got.mean(axis=0)[::2], rtol=1e-6)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_unseen_group_predicts_from_the_population_with_more_uncertainty(grouped, poolings):
    posterior = poolings["hierarchical"]
    rows = grouped.groups_test == "g01"
    X = grouped.X_test[rows]
    known = posterior.predict(X, groups=["g01"] * len(X))
    unseen = posterior.predict(X, groups=["new store"] * len(X))
    # measured: 1.84-2.6 times a known group's sd (every group, data seeds 0-2)
    assert unseen["std"].mean() > 1.5 * known["std"].mean()
    # the same in the uncertainty decomposition: epistemic (mutual information) grows
    known_mi = posterior.uncertainty(X, groups=["g01"] * len(X))["mutual_information"]
    unseen_mi = posterior.uncertainty(X, groups=["new store"] * len(X))["mutual_information"]
    assert unseen_mi.mean() > 1.5 * known_mi.mean()
    again = posterior.predict(X, groups=["new store"] * len(X))
    np.testing.assert_array_equal(again["mean"].values, unseen["mean"].values)
    other_new = posterior.predict(X, groups=["another"] * len(X))
    assert not np.array_equal(other_new["mean"].values, unseen["mean"].values)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_group_only_prediction_names_the_unseen_labels(grouped, poolings):
    posterior = poolings["hierarchical"]
    X = grouped.X_test[:3]
    with pytest.raises(InvalidInputError, match=r"not seen in training: 'new', 'z9'.*'g00'"):
        posterior.predict(X, groups=["g00", "z9", "new"], unseen_groups="raise")
    with pytest.raises(InvalidInputError, match="'new'; with pooling='none'"):
        poolings["unpooled"].predict(X, groups=["g00", "g01", "new"])
    with pytest.raises(InvalidInputError, match="predictions need groups=.*for a new group "
                                                "pass any unused label"):
        posterior.predict(X)
    with pytest.raises(InvalidInputError, match="predictions need groups=.*it has no "
                                                "population network, so only the fitted"):
        poolings["unpooled"].predict(X)  # an unused label would be refused there
    with pytest.raises(InvalidInputError, match="one group label per row"):
        posterior.predict(X, groups=["g00"])
    with pytest.raises(InvalidSettingError, match="unseen_groups must be one of"):
        posterior.predict(X, groups=["g00"] * 3, unseen_groups="ignore")
    with pytest.raises(InvalidSettingError, match="no population network"):
        poolings["unpooled"].parameter_draws()


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_complete_pooling_predicts_the_same_for_every_group(grouped, poolings):
    posterior = poolings["pooled"]
    X = grouped.X_test[:10]
    plain = posterior.predict(X)["mean"].values
    np.testing.assert_array_equal(posterior.predict(X, groups=["g05"] * 10)["mean"].values, plain)
    np.testing.assert_array_equal(posterior.predict(X, groups=["new"] * 10)["mean"].values, plain)
    summary = posterior.uncertainty(X, groups=[("shop", 1)] * 10)  # tuple labels pass through
    np.testing.assert_allclose(summary["probability"].values[:, 1], plain, rtol=1e-5)
    assert posterior.groups["pooling"] == "complete"


@pytest.mark.slow
def test_demo_report_and_pooling_accuracy(tmp_path, poolings):
    from pymc_bnn.demos.hierarchical import run_hierarchical_demo

    out = tmp_path / "hier"
    metrics = run_hierarchical_demo(out, SETTINGS, posteriors=poolings, progress=False)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["pooling_accuracy"] == metrics["pooling_accuracy"]
    assert saved["pooling_accuracy"]["hierarchical"] > saved["pooling_accuracy"]["pooled"]
    assert len(saved["accuracy_by_group"]["hierarchical"]) == SETTINGS.n_groups
    assert sorted(saved["group_sd"]) == ["group_sd_0", "group_sd_1", "group_sd_2"]
    # the first layer sees the rotated inputs: it varies most between groups
    assert saved["group_sd"]["group_sd_0"] > saved["group_sd"]["group_sd_1"]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "Held-out accuracy per group" in page and "g11" in page


def test_cli_has_demo_hierarchical():
    from pymc_bnn.cli.app import build_parser

    args = build_parser().parse_args(["demo", "--hierarchical", "--steps", "500"])
    assert args.hierarchical and args.steps == 500 and args.out is None


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
@pytest.mark.filterwarnings("ignore:All-NaN slice")  # one ADVI "chain": R-hat is undefined
def test_nuts_convergence_check_predicts_each_training_row_with_its_group(grouped, poolings):
    """NUTS judges convergence on predictions at the training rows: for grouped models each row
    must go through its own group's network (a pooling='none' fit has no other)."""
    from pymc_bnn.inference.diagnostics import predictive_convergence

    bnn = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                      pooling="none", prior=poolings["unpooled"].prior)
    diagnostics = predictive_convergence(poolings["unpooled"], training=bnn)
    assert diagnostics["check_points"] == len(grouped.y_train)


@pytest.mark.slow
def test_sklearn_estimator_with_groups_is_the_same_hierarchical_fit(grouped):
    """BayesianMLPClassifier(...).fit(X, y, groups=...) builds and fits the same model as the
    API (same settings, same seed; the demo's hierarchical fit, with few steps and draws on
    both sides: what is checked is that the fits are one fit, not how good it is): identical
    predictions, per group and for new groups."""
    import pandas as pd

    from pymc_bnn.model.priors import SEED_PRIOR
    from pymc_bnn.sklearn import BayesianMLPClassifier

    steps, draws = 300, 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bnn = build_model(grouped.X_train, grouped.y_train, groups=grouped.groups_train,
                          pooling="partial", hidden=SETTINGS.hidden, prior=SEED_PRIOR,
                          feature_names=grouped.feature_names)
        api = fit(bnn, SETTINGS.method, draws=draws, random_seed=SETTINGS.seed,
                  progress=False, steps=steps, restarts=1)
        clf = BayesianMLPClassifier(hidden_layer_sizes=SETTINGS.hidden, bias=False,
                                    prior=SEED_PRIOR, steps=steps, draws=draws,
                                    engine_options={"restarts": 1}, standardize=False,
                                    random_state=SETTINGS.seed)
        frame = pd.DataFrame(grouped.X_train, columns=["x0", "x1"]).assign(g=grouped.groups_train)
        clf.fit(frame, grouped.y_train, groups="g")
    assert clf.posterior_.groups == api.groups
    for groups in (grouped.groups_test, ["new"] * len(grouped.y_test)):
        expected = api.predict(grouped.X_test, groups=groups)["mean"].values
        X_test = pd.DataFrame(grouped.X_test, columns=["x0", "x1"])
        np.testing.assert_allclose(clf.predict_proba(X_test, groups=groups)[:, 1], expected,
                                   rtol=1e-6)
    accuracy = per_group_accuracy(api, grouped).mean()  # equal-size groups
    X_test = pd.DataFrame(grouped.X_test, columns=["x0", "x1"])
    assert clf.score(X_test, grouped.y_test, groups=grouped.groups_test) == pytest.approx(accuracy)
    with pytest.raises(InvalidInputError, match="'new'"):
        clf.predict(X_test[:2], groups=["g00", "new"], unseen_groups="raise")


@pytest.mark.parametrize("pooling, fix", [
    ("partial", "or pass unseen_groups='population' to predict them from the population"),
    ("none", "pooling='none' has no population network, so only its fitted groups can be "
             "predicted; fit with pooling='partial' to predict new groups"),
])
def test_unseen_groups_raise_names_a_fix_the_pooling_has(pooling, fix):
    """unseen_groups='raise' under pooling='none' does not suggest
    unseen_groups='population': that network has no population, and the suggestion ends in
    another refusal."""
    from pymc_bnn.errors import InvalidInputError
    from pymc_bnn.model.groups import group_record, locate_groups

    record = group_record(pooling, ["a", "b"], np.array([0, 1]), 1.0)
    with pytest.raises(InvalidInputError) as raised:
        locate_groups(record, ["a", "new"], n_obs=2, unseen_groups="raise")
    message = str(raised.value)
    assert message.startswith("groups not seen in training: 'new'; ") and message.endswith(fix)
    assert pooling == "partial" or "population'" not in message
