"""Many fits through joblib: GridSearchCV over a BayesianMLPClassifier on a real Dask cluster
(two worker processes), and on a local Ray cluster through Ray's joblib backend, finds the same
best parameters and scores as in one process, and an ensemble's members and a pooling="none"
network's groups fitted on Dask (n_jobs) are those fitted in one process."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from pymc_bnn.sklearn import BayesianMLPClassifier

GRID = {"hidden_layer_sizes": [(3,), (6,)]}


def _search(moons, **kw):
    estimator = BayesianMLPClassifier(method="advi", steps=400, draws=50, random_state=0,
                                      engine_options={"tol": 0})
    # refit=False: the comparison is of the scores and the choice (a refit is one more fit)
    return GridSearchCV(estimator, GRID, cv=2, refit=False, **kw).fit(moons.X_train[:200],
                                                                     moons.y_train[:200])


@pytest.mark.slow
def test_grid_search_on_a_dask_local_cluster_matches_one_process(moons):
    pytest.importorskip("dask.distributed")
    import joblib
    from dask.distributed import Client, LocalCluster, get_task_stream

    serial = _search(moons)
    X, y = moons.X_train[:100], moons.y_train[:100]
    members_here = _ensemble(n_jobs=1).fit(X, y)
    groups = np.repeat(["a", "b"], 50)
    groups_here = _per_group(n_jobs=1).fit(X, y, groups=groups)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            distributed = _search(moons, n_jobs=-1)
        with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            members_there = _ensemble(n_jobs=-1).fit(X, y)
        with get_task_stream(client) as group_tasks, joblib.parallel_backend("dask"):
            groups_there = _per_group(n_jobs=-1).fit(X, y, groups=groups)
        pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    assert len({task["worker"] for task in tasks.data}) == 2  # a member on each worker
    np.testing.assert_array_equal(members_there.posterior_.idata["posterior"]["w_0"].values,
                                  members_here.posterior_.idata["posterior"]["w_0"].values)
    assert len({task["worker"] for task in group_tasks.data}) == 2  # a group on each worker
    np.testing.assert_array_equal(
        groups_there.posterior_.idata["posterior"]["w_0_group"].values,
        groups_here.posterior_.idata["posterior"]["w_0_group"].values)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # Ray starts its processes
def test_grid_search_on_a_local_ray_cluster_matches_one_process(moons):
    """Ray's joblib backend (the `ray` extra); skipped where Ray is not installed."""
    ray = pytest.importorskip("ray")
    import joblib
    from ray.util.joblib import register_ray

    serial = _search(moons)
    X, y = moons.X_train[:100], moons.y_train[:100]
    members_here = _ensemble(n_jobs=1).fit(X, y)
    stacked_here = _stacked(n_jobs=None).fit(X, y)
    register_ray()
    # Ray's workers are not the driver's children: PYMC_BNN_WORKER gives each its own
    # PyTensor compile folder (pymc_bnn._runtime.workers)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYMC_BNN_WORKER": "1"}})
    try:
        with joblib.parallel_backend("ray"):
            backend, _ = joblib.parallel.get_active_backend()
            distributed = _search(moons, n_jobs=2)
            # Ray's backend is a subclass of joblib's forking "multiprocessing" one, but runs
            # its tasks in Ray's own workers: an ensemble's members were refused there
            members_there = _ensemble(n_jobs=2).fit(X, y)
            # its folds ran in threads here (Ray taken for joblib's "multiprocessing"), and
            # once sent to Ray, failed: Ray's backend returns no generator
            stacked_there = _stacked(n_jobs=2).fit(X, y)
    finally:
        ray.shutdown()
    assert type(backend).__name__ == "RayBackend"
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(members_there.posterior_.idata["posterior"]["w_0"].values,
                                  members_here.posterior_.idata["posterior"]["w_0"].values)
    assert (stacked_there.posterior_.settings["stacking"]["weights"]
            == stacked_here.posterior_.settings["stacking"]["weights"])


def _stacked(**kw):
    return BayesianMLPClassifier((3,), stack_linear=True, random_state=7, **kw)


def _ensemble(**kw):
    return BayesianMLPClassifier((3,), method="advi", steps=150, draws=40, random_state=7,
                                 engine_options={"ensemble": True, "restarts": 2, "tol": 0},
                                 **kw)


def _per_group(**kw):
    """pooling="none": with n_jobs one fit per group through joblib (group_fits)."""
    return BayesianMLPClassifier((3,), method="advi", steps=150, draws=40, random_state=7,
                                 pooling="none", engine_options={"restarts": 1, "tol": 0}, **kw)


def test_estimators_clone_and_pickle_without_compiled_state(moons):
    import pickle

    fitted = BayesianMLPClassifier((3,), method="advi", steps=200, draws=20, random_state=0,
                                   engine_options={"tol": 0}).fit(moons.X_train[:100], moons.y_train[:100])
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(moons.X_test[:20]),
                                  fitted.predict_proba(moons.X_test[:20]))
    assert clone(fitted).get_params() == fitted.get_params()
    assert not hasattr(clone(fitted), "posterior_")
