"""Many fits through joblib: GridSearchCV over a BayesianMLPClassifier on a real Dask cluster
(two worker processes) finds the same best parameters and scores as in one process."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from pymc_bnn.sklearn import BayesianMLPClassifier

GRID = {"hidden_layer_sizes": [(3,), (6,)]}


def _search(moons, **kw):
    estimator = BayesianMLPClassifier(method="advi", steps=400, draws=50, random_state=0,
                                      engine_options={"tol": 0})
    return GridSearchCV(estimator, GRID, cv=2, **kw).fit(moons.X_train[:200],
                                                        moons.y_train[:200])


@pytest.mark.slow
def test_grid_search_on_a_dask_local_cluster_matches_one_process(moons):
    pytest.importorskip("dask.distributed")
    import joblib
    from dask.distributed import Client, LocalCluster

    serial = _search(moons)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            distributed = _search(moons, n_jobs=-1)
        pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_allclose(distributed.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=0, atol=1e-12)


def test_estimators_clone_and_pickle_without_compiled_state(moons):
    import pickle

    fitted = BayesianMLPClassifier((3,), method="advi", steps=200, draws=20, random_state=0,
                                   engine_options={"tol": 0}).fit(moons.X_train[:100], moons.y_train[:100])
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(moons.X_test[:20]),
                                  fitted.predict_proba(moons.X_test[:20]))
    assert clone(fitted).get_params() == fitted.get_params()
    assert not hasattr(clone(fitted), "posterior_")
