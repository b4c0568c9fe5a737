"""Determinism: the same seed gives bit-identical results on one machine, across the Python API,
the estimators and the CLI (and a different seed gives different ones)."""

import json

import numpy as np
import pytest

from pymc_bnn import BayesianMLPClassifier, build_model, fit, load
from pymc_bnn.model.priors import HorseshoePrior, NormalPrior
from reliability.helpers import run_cli


def test_same_seed_same_numbers(small_moons):
    def run(seed):
        bnn = build_model(small_moons.X_train, small_moons.y_train)
        post = fit(bnn, "advi", steps=500, draws=50, random_seed=seed, progress=False)
        return post.elbo, post.predict(small_moons.X_test)["mean"].values

    elbo_a, p_a = run(7)
    elbo_b, p_b = run(7)
    elbo_c, _ = run(8)
    np.testing.assert_array_equal(elbo_a, elbo_b)
    np.testing.assert_array_equal(p_a, p_b)
    assert not np.array_equal(elbo_a, elbo_c)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "advi"])
def test_estimator_gives_the_same_posterior_as_the_api(small_moons, method):
    X, y = small_moons.X_train, small_moons.y_train
    # stack_linear=False: the network alone, as `fit` makes it (the default stacks its GLM too
    # on 100 rows or more under laplace)
    est = BayesianMLPClassifier((5, 5), bias=False, standardize=False, likelihood="bernoulli",
                                steps=300, draws=50, engine_options={"tol": 0}, method=method,
                                stack_linear=False, random_state=5).fit(X, y)
    # the estimator's defaults: method="auto" is laplace, where prior="auto" is NormalPrior(4);
    # under advi prior="auto" is the horseshoe on every layer
    engine, prior = (("laplace", NormalPrior(sigma=4.0)) if method == "auto"
                     else ("advi", HorseshoePrior(layers="all")))
    bnn = build_model(X, y, hidden=(5, 5), bias=False, prior=prior)
    posterior = fit(bnn, engine, draws=50, random_seed=5, steps=300, tol=0, progress=False)
    for name in ("w_0", "w_1", "w_2"):
        np.testing.assert_array_equal(est.posterior_.idata["posterior"][name].values,
                                      posterior.idata["posterior"][name].values)
    np.testing.assert_array_equal(est.predict_proba(X)[:, 1],
                                  posterior.predict(X)["mean"].values)


@pytest.mark.slow
def test_cli_fit_is_the_estimator_fit_bit_for_bit(table, tmp_path, capsys):
    """`pymc-bnn fit --seed 3` twice and the estimator with the same settings: one posterior."""
    table.to_csv(tmp_path / "train.csv", index=False)
    args = ["fit", tmp_path / "train.csv", "--target", "kind", "--exclude", "label,price",
            "--hidden", "2", "--steps", "200", "--draws", "10", "--draws-precision", "exact",
            "--seed", "3", "--quiet"]  # exact: the file holds the fit's draws unrounded
    for name in ("a", "b"):
        code, _, err = run_cli(capsys, *args, "--out", tmp_path / f"{name}.bnn.nc")
        assert code == 0, err
    a, b = load(tmp_path / "a.bnn.nc"), load(tmp_path / "b.bnn.nc")
    X, y = table[["height", "width", "depth"]], table["kind"]
    est = BayesianMLPClassifier((2,), steps=200, draws=10, random_state=3).fit(X, y)
    for name in ("w_0", "w_1", "b_0", "b_1"):
        draws = est.posterior_.idata["posterior"][name].values
        np.testing.assert_array_equal(a.posterior_.idata["posterior"][name].values, draws)
        np.testing.assert_array_equal(b.posterior_.idata["posterior"][name].values, draws)
    np.testing.assert_array_equal(a.predict_proba(X), est.predict_proba(X))
    code, _, err = run_cli(capsys, *args[:-3], "--seed", "4", "--quiet",
                           "--out", tmp_path / "c.bnn.nc")
    assert code == 0, err
    other = load(tmp_path / "c.bnn.nc").posterior_.idata["posterior"]["w_0"].values
    assert not np.array_equal(other, a.posterior_.idata["posterior"]["w_0"].values)


@pytest.mark.slow
def test_demo_is_reproducible(tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        code, _, err = run_cli(capsys, "demo", "--out", tmp_path / name, "--steps", "300",
                               "--draws", "50", "--quiet", "--seed", "4")
        assert code == 0, err
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert runs[0]["accuracy"] == runs[1]["accuracy"]
    assert runs[0]["log_loss"] == runs[1]["log_loss"]
    assert runs[0]["final_elbo"] == runs[1]["final_elbo"]
