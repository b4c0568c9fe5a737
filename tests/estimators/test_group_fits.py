"""pooling="none" groups fitted separately through joblib (`n_jobs`): each group's network is
the fit of its own rows alone, joined in the joint fit's layout, so prediction and model files
are unchanged; a regressor's groups share parameters and are refused. The same dispatch on a
real Dask cluster is in test_distributed.py."""

import numpy as np
import pytest

from pymc_bnn import build_model, fit, load, save
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from pymc_bnn.sklearn.group_fits import fit_groups
from pymc_bnn.sklearn.members import member_seeds

OPTIONS = {"steps": 150, "tol": 0, "restarts": 1}
LABELS = ("a", "b", "c")


@pytest.fixture(scope="module")
def grouped():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 2))
    groups = np.repeat(LABELS, 30)
    y = np.where(groups == "b", X[:, 1] > 0, X[:, 0] > 0).astype(int)
    y[groups == "c"] = 1  # a group with one class: the joint model takes it, so must its fit
    build = {"X": X, "y": y, "hidden": (3,), "bias": True, "groups": groups, "pooling": "none"}
    return build, fit_groups(build, "advi", OPTIONS, draws=20, random_seed=5, n_jobs=1)


def test_each_group_is_the_fit_of_its_rows_alone(grouped):
    build, joined = grouped
    X, y, groups = build["X"], build["y"], build["groups"]
    spec = build_model(**build).spec
    for index, (label, seed) in enumerate(zip(LABELS, member_seeds(5, 3), strict=True)):
        rows = groups == label
        alone = fit(build_model(X[rows], y[rows], spec, likelihood="bernoulli",
                                target_record={"classes": [0, 1]}),
                    "advi", draws=20, random_seed=seed, progress=False, **OPTIONS)
        for name in ("w_0", "b_0", "w_1", "b_1"):
            np.testing.assert_array_equal(
                joined.idata["posterior"][f"{name}_group"].isel(group=index).values,
                alone.idata["posterior"][name].values)
        np.testing.assert_allclose(joined.predict(X[rows], groups=groups[rows])["mean"].values,
                                   alone.predict(X[rows])["mean"].values, rtol=1e-6)
    assert joined.diagnostics["groups_fitted"] == "separately"
    assert list(joined.diagnostics["group_diagnostics"]) == list(LABELS)


def test_the_joined_posterior_holds_every_groups_rows_as_a_joint_fit_does(grouped):
    build, joined = grouped
    observed, constant = joined.idata["observed_data"], joined.idata["constant_data"]
    np.testing.assert_array_equal(observed["y"].values, build["y"])
    np.testing.assert_array_equal(constant["X"].values, build["X"])
    np.testing.assert_array_equal(constant["group_index"].values, np.repeat([0, 1, 2], 30))


@pytest.mark.slow
def test_the_joined_posterior_has_the_joint_fits_layout(grouped):
    build, joined = grouped
    joint = fit(build_model(**build), "advi", draws=20, random_seed=5, progress=False, **OPTIONS)
    for part in ("posterior", "variational"):
        ours, theirs = joined.idata[part], joint.idata[part]
        assert set(ours.data_vars) == set(theirs.data_vars)
        for name in theirs.data_vars:
            assert (ours[name].dims, ours[name].shape) == (theirs[name].dims, theirs[name].shape)
    assert list(joined.idata["posterior"]["group"].values) == list(LABELS)
    for part in ("observed_data", "constant_data"):
        assert joined.idata[part].to_dataset().drop_attrs().identical(
            joint.idata[part].to_dataset().drop_attrs()), part


@pytest.mark.slow
def test_the_estimator_dispatches_groups_and_its_file_predicts_the_same(grouped, tmp_path):
    build, _ = grouped
    X, y, groups = build["X"], build["y"], build["groups"]
    settings = {"method": "advi", "draws": 20, "pooling": "none", "random_state": 0,
                "engine_options": {**OPTIONS, "steps": 1500}}
    model = BayesianMLPClassifier((3,), n_jobs=1, **settings).fit(X, y, groups=groups)
    joint = BayesianMLPClassifier((3,), **settings).fit(X, y, groups=groups)
    assert model.posterior_.diagnostics["groups_fitted"] == "separately"
    save(model, tmp_path / "grouped.bnn.nc")
    loaded = load(tmp_path / "grouped.bnn.nc")
    np.testing.assert_array_equal(loaded.predict_proba(X, groups=groups),
                                  model.predict_proba(X, groups=groups))
    # the same model as one joint fit (other seeds): as good on its training rows
    assert model.score(X, y, groups=groups) > 0.9
    assert joint.score(X, y, groups=groups) > 0.9
    assert abs(model.score(X, y, groups=groups) - joint.score(X, y, groups=groups)) <= 0.05


def test_a_regressors_groups_share_the_noise_sd_so_n_jobs_is_refused(grouped):
    build, _ = grouped
    model = BayesianMLPRegressor((3,), method="advi", pooling="none", n_jobs=2,
                                 engine_options=OPTIONS, random_state=0)
    with pytest.raises(InvalidSettingError, match=r"share its parameters \(sigma\).*leave out n_jobs="):
        model.fit(build["X"], build["X"][:, 0], groups=build["groups"])


@pytest.mark.slow
def test_laplace_fits_each_group_though_it_cannot_fit_the_joint_model(grouped):
    """Each group is an ungrouped network, so the default engine fits it; a whole-network
    Laplace fit (linearised predictive) is refused, as grouped posteriors do not hold one."""
    build, _ = grouped
    joined = fit_groups(build, "laplace", {"steps": 300}, draws=30, random_seed=1, n_jobs=1)
    spec = build_model(**build).spec
    rows = build["groups"] == "b"
    alone = fit(build_model(build["X"][rows], build["y"][rows], spec, likelihood="bernoulli",
                            target_record={"classes": [0, 1]}),
                "laplace", draws=30, random_seed=member_seeds(1, 3)[1], progress=False,
                steps=300)
    np.testing.assert_array_equal(joined.idata["posterior"]["w_1_group"].isel(group=1).values,
                                  alone.idata["posterior"]["w_1"].values)
    assert joined.method == "laplace"
    with pytest.raises(InvalidSettingError, match="hessian='last_layer'"):
        fit_groups(build, "laplace", {"hessian": "full"}, draws=30, random_seed=1, n_jobs=1)


@pytest.mark.slow
def test_groups_may_name_a_column_of_a_data_frame(grouped):
    """As build_model takes them: the column is the groups, not a feature; same fits."""
    pd = pytest.importorskip("pandas")
    build, joined = grouped
    frame = pd.DataFrame(build["X"], columns=["height", "width"]).assign(site=build["groups"])
    named = fit_groups(build | {"X": frame, "groups": "site"}, "advi", OPTIONS, draws=20,
                       random_seed=5, n_jobs=1)
    np.testing.assert_array_equal(named.idata["posterior"]["w_0_group"].values,
                                  joined.idata["posterior"]["w_0_group"].values)
    assert list(named.idata["posterior"]["feature"].values) == ["height", "width"]
    assert named.feature_names == ("height", "width")


def _press_after(chunks: int, calls: list):
    """An engine callback that presses Ctrl-C once, at its `chunks`-th call, as SIGINT would:
    through the handler in place (ctrl_c_deferred's record, or KeyboardInterrupt), counting
    every call in `calls`."""
    import signal

    def callback(info):
        calls.append(info["step"])
        if len(calls) == chunks:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    return callback


@pytest.mark.slow  # one and a half fits of 1,500 steps
def test_one_ctrl_c_ends_a_per_group_fit_with_a_whole_flagged_posterior(grouped, default_sigint):
    """Pressed in the second group's fit (one at a time here, n_jobs=1): that group keeps its
    state so far and the third stops at its first chunk (before, the press stopped only the
    fit it landed in and the third group ran its whole course); every group has weights."""
    build, _ = grouped
    calls: list = []
    options = {"steps": 1500, "tol": 0, "restarts": 1, "chunk_steps": 50,
               "callback": _press_after(35, calls)}  # 30 chunks per group
    posterior = fit_groups(build, "advi", options, draws=20, random_seed=5, n_jobs=1)
    assert posterior.interrupted
    assert 35 <= len(calls) <= 38  # the rest of the second group's chunk, one of the third's
    assert posterior.idata["posterior"]["w_0_group"].sizes["group"] == 3
    assert np.isfinite(posterior.predict(build["X"][:5], groups=["a", "b", "c", "c", "a"])
                       ["mean"].values).all()


def test_the_fit_seconds_of_groups_fitted_side_by_side_are_the_wall_clocks(grouped,
                                                                          monkeypatch):
    """Fits side by side (n_jobs 2 or more) each count their own seconds; summed, they made
    `pymc-bnn fit` say 'fit 28.1 s   total 25.7 s'. total_s is the seconds the fits took
    together; the other timings stay summed."""
    import time

    from pymc_bnn.sklearn import group_fits, members

    plain = members.fit_separately

    def side_by_side(jobs, n_jobs, *, whole):  # as if each fit had taken 100 s more
        fits, stopped = plain(jobs, n_jobs, whole=whole)
        for posterior in fits:
            posterior.timings["total_s"] += 100.0
        return fits, stopped

    build, _ = grouped
    monkeypatch.setattr(group_fits, "fit_separately", side_by_side)
    started = time.perf_counter()
    posterior = fit_groups(build, "advi", OPTIONS, draws=20, random_seed=5, n_jobs=1)
    assert posterior.timings["total_s"] <= time.perf_counter() - started
    monkeypatch.setattr(members, "fit_separately", side_by_side)
    started = time.perf_counter()
    ensemble = members.fit_members({k: v for k, v in build.items()
                                    if k not in ("groups", "pooling")}, "advi",
                                   {**OPTIONS, "restarts": 2, "ensemble": True}, draws=20,
                                   random_seed=5, n_jobs=1)
    assert ensemble.timings["total_s"] <= time.perf_counter() - started
