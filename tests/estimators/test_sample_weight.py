"""Sample weights: each row's log-likelihood times its weight, in the PyMC model itself.

The reference is the one scikit-learn uses: an integer weight is the row repeated that many
times, and weight 0 is the row left out. The model's log density is checked against PyMC's own
pointwise log-likelihood of the unweighted model, and whole fits against fits on the repeated
rows (the same seeds and steps: only the order of sums differs).
"""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pymc as pm
import pytest
from sklearn.utils.class_weight import compute_sample_weight

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, build_model, fit
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.inference.jax_model import compile_model, data_arguments
from pymc_bnn.model.likelihoods import Bernoulli

RNG = np.random.default_rng(0)
N = 13
X = RNG.normal(size=(N, 2))
WEIGHT = np.array([0, 1, 2, 3, 1, 0, 2, 1, 1, 3, 2, 1, 1], dtype=float)
TARGETS = {"bernoulli": RNG.integers(0, 2, N), "categorical": RNG.integers(0, 3, N),
           "gaussian": RNG.normal(size=N), "heteroscedastic": RNG.normal(size=N),
           "student_t": RNG.normal(size=N), "poisson": RNG.poisson(3, N),
           "negative_binomial": RNG.poisson(3, N)}


def _log_densities(model, point):
    """(prior, per-row log-likelihood) of `model` at `point`, by PyMC."""
    rows = model.compile_fn(model.logp(vars=model.observed_RVs, sum=False)[0])(point)
    return model.compile_fn(model.logp(vars=model.free_RVs))(point), rows


@pytest.mark.parametrize("likelihood", sorted(TARGETS))
def test_the_weighted_log_density_is_each_rows_log_likelihood_times_its_weight(likelihood):
    y = TARGETS[likelihood]
    weighted = build_model(X, y, hidden=(3,), likelihood=likelihood, sample_weight=WEIGHT)
    # a real target is standardised with the weighted mean and sd: the same y_data for both
    same_target = ({"target_record": weighted.preprocessing}
                   if "y_mean" in weighted.preprocessing else {})
    plain = build_model(X, y, hidden=(3,), likelihood=likelihood, **same_target)
    point = {k: v + RNG.normal(size=np.shape(v)) * 0.3
             for k, v in plain.model.initial_point().items()}
    if likelihood in ("poisson", "negative_binomial"):  # the log-rate offset: weighted mean
        np.testing.assert_allclose(weighted.model["log_rate_offset"].get_value(),
                                   np.log(np.average(y, weights=WEIGHT)))
        plain.model["log_rate_offset"].set_value(weighted.model["log_rate_offset"].get_value())
    prior, rows = _log_densities(plain.model, point)
    expected = prior + np.sum(WEIGHT * rows)
    assert weighted.model.compile_logp()(point) == pytest.approx(expected, rel=1e-12)
    # what every engine evaluates: the compiled model, its rows padded (16 here)
    compiled = compile_model(weighted.model)
    z = jnp.asarray(np.concatenate([np.ravel(point[v.name])
                                    for v in weighted.model.value_vars]))
    args = data_arguments(compiled, weighted.model)
    assert compiled.n_rows == 16
    assert (float(compiled.loglik(z, args)) + float(compiled.prior_logp(z, args))
            == pytest.approx(expected, rel=1e-12))
    # it still draws as the likelihood does
    with weighted.model:
        draws = pm.sample_prior_predictive(draws=2, random_seed=0)
    assert draws.prior_predictive["y"].shape == (1, 2, N)


def test_a_weighted_real_target_is_standardised_as_its_repeated_rows():
    y = TARGETS["gaussian"] * 3 + 5
    weighted = build_model(X, y, likelihood="gaussian", sample_weight=WEIGHT).preprocessing
    repeated = build_model(np.repeat(X, WEIGHT.astype(int), axis=0),
                           np.repeat(y, WEIGHT.astype(int)), likelihood="gaussian").preprocessing
    assert weighted["y_mean"] == pytest.approx(repeated["y_mean"], rel=1e-12)
    assert weighted["y_scale"] == pytest.approx(repeated["y_scale"], rel=1e-12)


# The same MAP steps whatever the row count (see the estimator test's docstring).
ADAM = {"map_optimizer": "adam"}


@pytest.fixture(scope="module")
def moons_rows(small_moons):
    weight = np.random.default_rng(1).integers(0, 3, 60)
    return small_moons.X_train[:60], small_moons.y_train[:60], weight, small_moons.X_test


@pytest.mark.parametrize("method", ["laplace", "advi", pytest.param("fullrank_advi",
                                                                   marks=pytest.mark.slow)])
def test_an_engine_fits_weighted_rows_as_the_rows_repeated(moons_rows, method):
    X_train, y_train, weight, X_test = moons_rows
    # laplace with Adam: L-BFGS reaches the same MAP loss and evidence at every restart, and
    # which of those mirror-image modes wins the tie (so which draws follow) is rounding's
    options = ({"steps": 400, "restarts": 2} if method != "laplace"
               else {"steps": 400, **ADAM})

    def predicted(bnn):
        posterior = fit(bnn, method, draws=100, random_seed=0, progress=False, **options)
        return posterior.predict(X_test)["mean"].values

    weighted = predicted(build_model(X_train, y_train, hidden=(4,), bias=True,
                                     sample_weight=weight))
    repeated = predicted(build_model(np.repeat(X_train, weight, axis=0),
                                     np.repeat(y_train, weight), hidden=(4,), bias=True))
    unweighted = predicted(build_model(X_train, y_train, hidden=(4,), bias=True))
    np.testing.assert_allclose(weighted, repeated, atol=1e-6)
    assert np.max(np.abs(weighted - unweighted)) > 0.01  # the weights do move the fit


def test_nuts_samples_the_weighted_log_density(moons_rows):
    """NUTS compiles the rows unpadded: its log density is the repeated rows' too."""
    X_train, y_train, weight, _ = moons_rows
    weighted = build_model(X_train, y_train, hidden=(4,), sample_weight=weight)
    repeated = build_model(np.repeat(X_train, weight, axis=0), np.repeat(y_train, weight),
                           hidden=(4,))
    z = jnp.asarray(np.random.default_rng(2).normal(size=compile_model(weighted.model).size))

    def log_density(bnn):
        compiled = compile_model(bnn.model, pad=False)
        args = data_arguments(compiled, bnn.model)
        return float(compiled.loglik(z, args)) + float(compiled.prior_logp(z, args))

    assert log_density(weighted) == pytest.approx(log_density(repeated), rel=1e-12)


@pytest.mark.slow  # two fits per case: the full suite runs them (the engine-level test stays fast)
@pytest.mark.parametrize("make, y_kind", [
    (lambda: BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=300, draws=50,
                                   random_state=0, engine_options=ADAM), "binary"),
    (lambda: BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=300, draws=50,
                                   random_state=0,
                                   engine_options={"output_layer": "gaussian", **ADAM}),
     "classes"),
    (lambda: BayesianMLPRegressor(hidden_layer_sizes=(4,), steps=300, draws=50,
                                  random_state=0, engine_options={"map_scale": 1.0, **ADAM}),
     "real"),
])
def test_an_estimator_fits_weighted_rows_as_the_rows_repeated(make, y_kind):
    """Inputs and a real target are standardised with weighted means and sds, so the model
    itself is the repeated rows' model (scikit-learn's check_sample_weight_equivalence, rows
    in order). The MAP runs Adam's 300 steps in both fits (`ADAM`): L-BFGS stops by its
    convergence test, whose per-row threshold differs with the row count."""
    rng = np.random.default_rng(3)
    X_rows = rng.normal(size=(30, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    y = {"binary": X_rows[:, 0] > 0, "classes": rng.integers(0, 3, 30),
         "real": X_rows[:, 0] * 2 + rng.normal(size=30)}[y_kind]
    weight = rng.integers(0, 4, 30)
    weighted = make().fit(X_rows, y, sample_weight=weight)
    repeated = make().fit(np.repeat(X_rows, weight, axis=0), np.repeat(y, weight))
    X_new = rng.normal(size=(10, 3))
    out = "predict_proba" if y_kind != "real" else "predict"
    np.testing.assert_allclose(getattr(weighted, out)(X_new), getattr(repeated, out)(X_new),
                               atol=1e-6)
    np.testing.assert_allclose(weighted.x_mean_, repeated.x_mean_, rtol=1e-12)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_gaps_are_filled_with_the_weighted_median_as_the_repeated_rows_median():
    """Imputation weighs the rows as the fit does: the filled value is the repeated rows'
    median (it was the unweighted one, so the weighted fit filled its gaps differently)."""
    rng = np.random.default_rng(4)
    X_rows = rng.normal(size=(30, 2)) * [1.0, 3.0]
    weight = rng.integers(0, 4, 30)
    gaps = np.flatnonzero(weight > 0)[:3]  # a gap in a row of weight 0 would add no indicator
    X_rows[gaps, 1] = np.nan
    y = X_rows[:, 0] > 0
    make = lambda: BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=300, draws=50,  # noqa: E731
                                         random_state=0, engine_options=ADAM)
    weighted = make().fit(X_rows, y, sample_weight=weight)
    repeated = make().fit(np.repeat(X_rows, weight, axis=0), np.repeat(y, weight))
    present = np.repeat(X_rows[:, 1], weight)
    expected = np.median(present[~np.isnan(present)])
    assert weighted.table_encoding_["medians"][1] == pytest.approx(expected, rel=1e-12)
    assert repeated.table_encoding_["medians"][1] == pytest.approx(expected, rel=1e-12)
    X_new = np.c_[rng.normal(size=10), np.full(10, np.nan)]
    np.testing.assert_allclose(weighted.predict_proba(X_new), repeated.predict_proba(X_new),
                               atol=1e-6)


def test_balanced_weights_raise_the_rare_class(small_moons):
    """Weights from scikit-learn's compute_sample_weight("balanced"): a class kept at 1 in 6
    rows is predicted more often than without them."""
    X_train, y_train = small_moons.X_train, small_moons.y_train
    keep = np.flatnonzero((y_train == 0) | (np.arange(y_train.size) % 6 == 0))
    X_rare, y_rare = X_train[keep], y_train[keep]
    weight = compute_sample_weight("balanced", y_rare)
    settings = dict(hidden_layer_sizes=(4,), steps=300, draws=50, random_state=0)
    plain = BayesianMLPClassifier(**settings).fit(X_rare, y_rare)
    balanced = BayesianMLPClassifier(**settings).fit(X_rare, y_rare, sample_weight=weight)
    assert balanced.predict_proba(small_moons.X_test)[:, 1].mean() > \
        plain.predict_proba(small_moons.X_test)[:, 1].mean() + 0.05


def test_rows_dropped_for_missing_values_drop_their_weights():
    X_rows = np.r_[X, [[np.nan, 1.0]]]
    y = np.r_[TARGETS["bernoulli"], 1]
    settings = dict(hidden_layer_sizes=(3,), steps=100, draws=20, random_state=0,
                    missing="drop")
    dropped = BayesianMLPClassifier(**settings).fit(X_rows, y, sample_weight=np.r_[WEIGHT, 5])
    kept = BayesianMLPClassifier(**settings).fit(X, TARGETS["bernoulli"], sample_weight=WEIGHT)
    np.testing.assert_allclose(dropped.predict_proba(X), kept.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("weight, message", [
    (np.ones(N - 1), "sample_weight has shape (12,) but X has 13 rows; pass one weight per row"),
    (np.r_[-1.0, np.ones(N - 1)], "must be finite and ≥ 0; row 0 is -1.0"),
    (np.r_[np.nan, np.ones(N - 1)], "must be finite and ≥ 0; row 0 is nan"),
    (np.zeros(N), "every sample_weight is zero, which leaves no data to fit"),
    (["a"] * N, "sample_weight must be numbers, one per row of X"),
])
def test_bad_weights_are_refused_with_the_fix(weight, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_model(X, TARGETS["bernoulli"], hidden=(3,), sample_weight=weight)
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BayesianMLPClassifier(hidden_layer_sizes=(3,)).fit(X, TARGETS["bernoulli"],
                                                          sample_weight=weight)


def test_a_likelihood_of_ones_own_without_weights_is_named():
    class OldLikelihood(Bernoulli):  # the protocol before weights: observe without `weight`
        def observe(self, eta, y_data, total_size=None):
            return super().observe(eta, y_data, total_size)

    with pytest.raises(InvalidSettingError, match="does not take sample weights"):
        build_model(X, TARGETS["bernoulli"], hidden=(3,), likelihood=OldLikelihood(),
                    sample_weight=WEIGHT)
    build_model(X, TARGETS["bernoulli"], hidden=(3,), likelihood=OldLikelihood())  # unweighted


def test_streamed_data_refuse_weights(tmp_path):
    batches = [(X, TARGETS["bernoulli"])]
    with pytest.raises(InvalidSettingError, match="sample_weight cannot be used with streamed"):
        BayesianMLPClassifier(hidden_layer_sizes=(3,)).fit(lambda: iter(batches),
                                                          sample_weight=WEIGHT)


@pytest.mark.slow
def test_the_cli_weight_column_is_the_rows_repeated(tmp_path):
    from pymc_bnn.cli.app import main

    rng = np.random.default_rng(4)
    table = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    table["label"] = np.where(table["a"] + table["b"] > 0, "yes", "no")
    table["n"] = rng.integers(0, 3, 40)
    table.to_csv(tmp_path / "weighted.csv", index=False)
    table.loc[table.index.repeat(table["n"])].drop(columns="n").to_csv(tmp_path / "repeated.csv",
                                                                       index=False)
    settings = ["--target", "label", "--hidden", "3", "--steps", "200", "--draws", "20",
                "--quiet"]
    assert main(["fit", str(tmp_path / "weighted.csv"), "--weight", "n", "--out",
                 str(tmp_path / "w.bnn.nc"), *settings]) == 0
    assert main(["fit", str(tmp_path / "repeated.csv"), "--out", str(tmp_path / "r.bnn.nc"),
                 *settings]) == 0
    new = tmp_path / "new.csv"
    table[["a", "b"]].to_csv(new, index=False)
    for name in ("w", "r"):
        assert main(["predict", str(tmp_path / f"{name}.bnn.nc"), str(new), "--out",
                     str(tmp_path / f"{name}.csv"), "--quiet"]) == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "w.csv")["p_yes"],
                               pd.read_csv(tmp_path / "r.csv")["p_yes"], atol=1e-6)


def test_the_cli_names_a_bad_weight_column(tmp_path, capsys):
    from pymc_bnn.cli.app import main

    table = pd.DataFrame({"a": X[:, 0], "label": TARGETS["bernoulli"], "n": WEIGHT})
    table.astype({"n": object}).assign(n=["2"] * (N - 1) + ["lots"]).to_csv(
        tmp_path / "t.csv", index=False)
    code = main(["fit", str(tmp_path / "t.csv"), "--target", "label", "--weight", "n",
                 "--out", str(tmp_path / "m.bnn.nc"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "the weight column 'n' of" in err and "'lots' in row 12" in err
    table.assign(n=np.r_[np.ones(N - 1), np.nan]).to_csv(tmp_path / "gap.csv", index=False)
    code = main(["fit", str(tmp_path / "gap.csv"), "--target", "label", "--weight", "n",
                 "--out", str(tmp_path / "m.bnn.nc"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "(first: an empty cell in row 12)" in err and "np." not in err
    for flags, said in ((["--weight", "label"], "--weight names the target column 'label'; "
                                                "name a column of its own"),
                        (["--weight", "n", "--exclude", "n"],
                         "--weight names 'n', which --exclude also names; leave it out of "
                         "--exclude")):
        code = main(["fit", str(tmp_path / "t.csv"), "--target", "label", *flags,
                     "--out", str(tmp_path / "m.bnn.nc"), "--quiet"])
        assert code == 2 and said in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("pooling", [{}, {"pooling": "none", "n_jobs": 1}])
def test_grouped_fits_weight_their_rows(pooling):
    """A hierarchical network (advi) and the groups fitted separately (`fit_groups`, which
    hands each group its own rows' weights)."""
    rng = np.random.default_rng(0)
    X_rows = rng.normal(size=(60, 2))
    y = (X_rows[:, 0] > 0).astype(int)
    groups = np.repeat(["a", "b", "c"], 20)
    weight = rng.integers(0, 3, 60)
    settings = dict(hidden_layer_sizes=(3,), steps=200, draws=20, random_state=0, **pooling)
    weighted = BayesianMLPClassifier(**settings).fit(X_rows, y, groups=groups,
                                                     sample_weight=weight)
    repeated = BayesianMLPClassifier(**settings).fit(
        np.repeat(X_rows, weight, 0), np.repeat(y, weight), groups=np.repeat(groups, weight))
    np.testing.assert_allclose(weighted.predict_proba(X_rows, groups=groups),
                               repeated.predict_proba(X_rows, groups=groups), atol=1e-6)
