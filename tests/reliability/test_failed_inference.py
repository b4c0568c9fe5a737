"""Failed inference is reported, not returned: a NaN ELBO raises InferenceError; an unconverged
VI fit, NUTS divergences and poor R-hat/ESS give a ConvergenceWarning the user sees, and the
fitted object records it (`posterior.diagnostics`, kept in saved files) — through the API, the
estimators and the CLI."""

import warnings

import numpy as np
import pymc as pm
import pytest

from pymc_bnn import BayesianMLPClassifier, build_model, fit, load
from pymc_bnn.errors import ConvergenceWarning, InferenceError
from pymc_bnn.inference import nuts, vi
from pymc_bnn.posterior.convergence import DIVERGENCE_WARNING_RATE, ESS_WARNING, RHAT_WARNING
from reliability.helpers import TINY, TINY_CLI, run_cli


@pytest.fixture(scope="module")
def seed_bnn(small_moons):
    return build_model(small_moons.X_train, small_moons.y_train)


# ---------------------------------------------------------------------------- NaN ELBO


def test_exploding_elbo_raises_with_the_fix(seed_bnn):
    with pytest.raises(InferenceError, match="lower learning_rate"):
        fit(seed_bnn, "advi", steps=1000, learning_rate=1e4, draws=10, progress=False,
            restarts=1)


def test_estimator_exploding_elbo_raises_and_keeps_no_result(table):
    # Adam: the step size is its (L-BFGS's line search keeps a finite loss)
    model = BayesianMLPClassifier(**{**TINY, "engine_options": {
        "learning_rate": 1e6, "tol": 0, "map_optimizer": "adam"}})
    with pytest.raises(InferenceError, match="became NaN/inf.*lower learning_rate"):
        model.fit(table[["height", "width"]], table["kind"])
    assert not hasattr(model, "posterior_")


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_cli_exploding_elbo_is_one_line_exit_1_and_writes_nothing(table, tmp_path, capsys,
                                                                  monkeypatch):
    table.to_csv(tmp_path / "train.csv", index=False)
    monkeypatch.setitem(vi.DEFAULT_LEARNING_RATE, "meanfield", 1e6)
    code, _, err = run_cli(capsys, "fit", tmp_path / "train.csv", "--target", "kind",
                           "--method", "advi", "--out", tmp_path / "m.bnn.nc", *TINY_CLI)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "the ELBO became NaN/inf" in err and "lower learning_rate" in err
    assert not (tmp_path / "m.bnn.nc").exists()


# ---------------------------------------------------------------------------- unconverged VI


def test_convergence_check_stops_early_and_warns_when_it_cannot(seed_bnn):
    converged = fit(seed_bnn, "advi", steps=30_000, draws=10, progress=False, restarts=1)
    assert converged.diagnostics["converged"]
    assert converged.diagnostics["steps_run"] < 30_000
    assert len(converged.elbo) == converged.diagnostics["steps_run"]
    assert converged.diagnostics["warnings"] == []
    with pytest.warns(ConvergenceWarning, match="raise steps=, or learning_rate="):
        short = fit(seed_bnn, "advi", steps=1500, draws=10, progress=False, restarts=1)
    assert not short.diagnostics["converged"] and short.diagnostics["steps_run"] == 1500
    assert "raise steps=" in short.diagnostics["warnings"][0]  # recorded on the result
    fixed = fit(seed_bnn, "advi", steps=1200, tol=0, draws=10, progress=False, restarts=1)
    assert fixed.diagnostics["steps_run"] == 1200


def test_estimator_records_the_unconverged_fit(table):
    options = {"tol": 1e-9, "restarts": 1, "chunk_steps": 50}  # cannot converge in 50 steps
    with pytest.warns(ConvergenceWarning, match="before converging.*raise steps="):
        model = BayesianMLPClassifier(**{**TINY, "engine_options": options}).fit(
            table[["height", "width"]], table["kind"])
    assert model.posterior_.diagnostics["converged"] is False
    assert "raise steps=" in model.posterior_.diagnostics["warnings"][0]


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_cli_shows_the_warning_and_the_model_file_keeps_it(table, tmp_path, capsys):
    table.to_csv(tmp_path / "train.csv", index=False)
    code, _, err = run_cli(capsys, "fit", tmp_path / "train.csv", "--target", "kind",
                           "--exclude", "label,price", "--out", tmp_path / "m.bnn.nc",
                           "--method", "advi",
                           *TINY_CLI)  # the CLI keeps the convergence check on (tol 1e-3)
    assert code == 0, err
    assert err.startswith("warning: advi stopped at the maximum of 50 steps before converging")
    assert "with a larger --steps" in err and "Traceback" not in err
    saved = load(tmp_path / "m.bnn.nc").posterior_.diagnostics
    assert saved["converged"] is False and "raise steps=" in saved["warnings"][0]


# ---------------------------------------------------------------------------- NUTS

QUICK = dict(chains=2, tune=400, progress=False, init_steps=2000)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_divergences_above_the_threshold_warn():
    """Neal's funnel, centred, with a low target acceptance: NUTS diverges and must say so."""
    with pm.Model() as funnel:
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(v / 2), shape=5)
    result = nuts.run(funnel, draws=600, random_seed=3, target_accept=0.6, **QUICK)
    assert result.diagnostics["divergence_rate"] > DIVERGENCE_WARNING_RATE
    assert any("transitions diverged" in message and "'target_accept': 0.99" in message
               for message in result.warnings)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_short_nuts_run_warns_on_ess_and_records_it(small_moons):
    """20 draws per chain from chains started off the posterior (no ADVI start, 30 tuning
    steps): far below 100 effective draws of the predictions."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        post = fit(bnn, "nuts", draws=40, random_seed=1, chains=2, tune=30, init_steps=0,
                   progress=False)
    shown = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert post.diagnostics["predictive_ess_bulk_min"] < ESS_WARNING
    assert any("min bulk ESS" in m and "larger --draws" in m and "draws=" in m for m in shown)
    assert post.diagnostics["warnings"] == shown  # recorded as shown
    if post.diagnostics["predictive_rhat_max"] > RHAT_WARNING:
        assert any("R-hat" in m and "(--tune)" in m and "'tune'" in m for m in shown)
    assert np.isfinite(post.predict(small_moons.X_test)["mean"].values).all()
