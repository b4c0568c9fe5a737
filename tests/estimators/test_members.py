"""An ensemble's members fitted separately through joblib (`n_jobs`): each member is the plain
one-restart fit of its own seed (on a Dask cluster: tests/estimators/test_distributed.py)."""

import numpy as np
import pytest

from pymc_bnn import build_model, fit
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.sklearn import BayesianMLPClassifier
from pymc_bnn.sklearn.members import member_seeds

OPTIONS = {"ensemble": True, "restarts": 2, "tol": 0}


def _classifier(**kw):
    return BayesianMLPClassifier((3,), method="advi", steps=150, draws=40, random_state=7,
                                 engine_options=OPTIONS, **kw)


def _draws(estimator):
    return estimator.posterior_.idata["posterior"]["w_0"].values


@pytest.mark.slow
def test_each_member_is_the_one_restart_fit_of_its_seed(small_moons):
    X, y = small_moons.X_train[:100], small_moons.y_train[:100]
    model = _classifier(n_jobs=1, standardize=False, prior=None).fit(X, y)
    draws = _draws(model)
    assert draws.shape[:2] == (2, 20)
    assert model.posterior_.diagnostics["members_fitted"] == "separately"
    bnn = build_model(X, y, hidden=(3,), bias=True)  # the estimators' default
    for member, seed in enumerate(member_seeds(7, 2)):
        alone = fit(bnn, "advi", steps=150, tol=0, restarts=1, draws=20, random_seed=seed,
                    progress=False)
        np.testing.assert_array_equal(draws[member], alone.idata["posterior"]["w_0"].values[0])


def test_laplace_members_are_one_fit_and_refuse_n_jobs(small_moons):
    model = BayesianMLPClassifier((3,), method="laplace", n_jobs=2,
                                  engine_options={"ensemble": True})
    with pytest.raises(InvalidSettingError, match="leave out n_jobs="):
        model.fit(small_moons.X_train[:50], small_moons.y_train[:50])


@pytest.mark.slow  # two and a half fits of 1,000 steps
def test_ctrl_c_ends_an_ensemble_fitted_one_member_at_a_time(small_moons, default_sigint):
    """Pressed in the second of three members (n_jobs=1): that member keeps its state so far,
    the third is not fitted, and the posterior holds the two, flagged interrupted (before, the
    press stopped only the member it landed in and the third ran its whole course)."""
    import signal

    from pymc_bnn.sklearn.members import fit_members

    calls: list = []

    def press_once(info):  # as SIGINT would: through the handler in place
        calls.append(info["step"])
        if len(calls) == 25:  # the fifth chunk of the second member
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

    build = {"X": small_moons.X_train[:100], "y": small_moons.y_train[:100], "hidden": (3,)}
    options = {"ensemble": True, "restarts": 3, "steps": 1000, "tol": 0, "chunk_steps": 50,
               "callback": press_once}  # 20 chunks per member
    with pytest.warns(UserWarning, match="kept 2 of 3 ensemble members"):
        posterior = fit_members(build, "advi", options, draws=30, random_seed=0, n_jobs=1)
    assert posterior.interrupted
    assert len(calls) <= 26
    assert posterior.idata["posterior"].sizes["chain"] == 2
    assert np.isfinite(posterior.predict(small_moons.X_test)["mean"].values).all()
