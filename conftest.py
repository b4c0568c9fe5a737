"""What the docstring examples (doctests of src/pymc_bnn) share.

Each doctest runs in a fresh temporary working folder, so an example that writes `model.bnn.nc`
or `report.html` leaves nothing behind. Names an example may use without building them:

- `tiny_data`: a small two-moons `Split` (42 training rows, 18 test rows, 2 features, labels 0/1);
- `tiny_model`: the `BNNModel` of a small classifier on `tiny_data`,
  `build_model(tiny_data.X_train, tiny_data.y_train, hidden=(3,))` (one tanh layer of 3 units);
- `fitted`: a `Posterior` of `tiny_model` from a short ADVI run (500 steps, 50 draws, seed 0):
  enough to predict, not to be good;
- `classifier`: a `BayesianMLPClassifier` with the same network, prior and ADVI run as
  `fitted`, fitted to `tiny_data` (the compiled fit is shared, so it costs a fraction of a
  second once `fitted` exists);
- `fitted_classifier`, `fitted_regressor`: estimators with their default engine on 60 rows of
  3 standard-normal features (labels "yes" where x0 + x1 > 0, else "no"; targets 2·x0 plus
  N(0, 0.1²) noise), 4 hidden units, 300 steps, 50 draws, seed 0;
- `tiny_grouped`: `grouped_moons(n_groups=3, n_train=4, n_test=2)`, groups "g00", "g01", "g02";
- `grouped_posterior`: a `Posterior` of a partially pooled 2→3→1 classifier over the groups of
  `tiny_grouped` holding random draws (no fit: 20 random draws of every variable), for
  showing grouped prediction.

Each is built at most once per test process, and only when a doctest mentions it in a line
that runs (not under `doctest: +SKIP`), so collecting or running other tests costs nothing.
The one fit takes seconds; examples use these instead of fitting their own.

(At the project root rather than in `src/pymc_bnn/`, so it is not shipped with the package.)
"""

import doctest
import os
import re
import sys

import pytest

# Four JAX CPU devices whatever the cores (the library's default is one per core), so the sharded
# paths (restarts × row shards, 4 NUTS chains on 4 devices) are tested, and their doctests run,
# on a 2-core machine too. A test of the default runs a fresh process without the variable.
os.environ.setdefault("PYMC_BNN_CPU_DEVICES", "4")
# Here, not only in tests/conftest.py: a run of the doctests alone (`pytest src/pymc_bnn/...`)
# loads only this file, and a module it collects may import JAX before pymc-bnn would add the
# flag (vi_devices' example then saw one device).
import pymc_bnn._runtime.jax_setup  # noqa: E402

pymc_bnn._runtime.jax_setup.expose_cpu_cores()


def pytest_configure(config):
    """Each pytest-xdist worker has about one core: it runs BLAS on one thread.

    With OpenBLAS's default (a thread per core) in every worker beside JAX's own threads, the
    threads spin waiting for cores the other worker holds (a reference MLP fit: 27 s against
    2.6 s on one thread, busy machine). The limit stays for the worker's whole life.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        config._pymc_bnn_blas_limit = threadpool_limits(limits=1, user_api="blas")

def pytest_collection_modifyitems(config, items):
    """The longest test files first, each file's tests in their own order.

    pytest-xdist hands whole files to the two workers (`--dist loadfile`, in collection order:
    `--no-loadscope-reorder`); a long file started last leaves one worker idle while the other
    finishes it. Longest first (`tests/file_durations.json`, seconds per file from a full run,
    refreshed with `.ci/file_durations.py`) keeps the two within a short file of each other.
    Files not in the table keep their collection order after those that are.
    """
    import json
    from pathlib import Path

    table = Path(config.rootpath) / "tests" / "file_durations.json"
    if not table.is_file():
        return
    seconds = json.loads(table.read_text())
    first_seen: dict = {}
    for index, item in enumerate(items):
        first_seen.setdefault(item.path, index)

    def longest_first(item):
        try:
            name = item.path.relative_to(config.rootpath).as_posix()
        except ValueError:  # a file outside the project
            name = None
        return -seconds.get(name, 0.0), first_seen[item.path]

    items.sort(key=longest_first)


# namespace name → the session fixture that builds it
DOCTEST_FIXTURES = {
    "tiny_data": "doctest_tiny_data",
    "tiny_model": "doctest_tiny_model",
    "fitted": "doctest_fitted",
    "fitted_linear": "doctest_fitted_linear",
    "classifier": "doctest_classifier",
    "tiny_grouped": "doctest_tiny_grouped",
    "grouped_posterior": "doctest_grouped_posterior",
    "fitted_classifier": "doctest_fitted_classifier",
    "fitted_regressor": "doctest_fitted_regressor",
}
_FIT = {"steps": 500, "tol": 0, "draws": 50, "random_seed": 0, "progress": False}


@pytest.fixture(scope="session")
def doctest_tiny_data():
    """`tiny_data`: two moons, 60 points, 70/30 split."""
    from pymc_bnn.datasets import two_moons

    return two_moons(n_samples=60)


@pytest.fixture(scope="session")
def doctest_tiny_model(doctest_tiny_data):
    """`tiny_model`: a 2→3→1 tanh classifier built on `tiny_data`."""
    from pymc_bnn import build_model

    return build_model(doctest_tiny_data.X_train, doctest_tiny_data.y_train, hidden=(3,))


@pytest.fixture(scope="session")
def doctest_fitted(doctest_tiny_model):
    """`fitted`: a short ADVI fit of `tiny_model`."""
    from pymc_bnn import fit

    return fit(doctest_tiny_model, "advi", **_FIT)


@pytest.fixture(scope="session")
def doctest_fitted_linear(doctest_tiny_data):
    """`fitted_linear`: the GLM (no hidden layer) of `tiny_model`'s data, a short ADVI fit."""
    from pymc_bnn import build_model, fit

    data = doctest_tiny_data
    return fit(build_model(data.X_train, data.y_train, hidden=()), "advi", **_FIT)


@pytest.fixture(scope="session")
def doctest_classifier(doctest_fitted, doctest_tiny_data):
    """`classifier`: the estimator of `fitted`'s network and fit (after it: shared compile)."""
    from pymc_bnn import BayesianMLPClassifier

    data = doctest_tiny_data
    estimator = BayesianMLPClassifier((3,), bias=False, prior="normal", method="advi",
                                      steps=_FIT["steps"], draws=_FIT["draws"],
                                      engine_options={"tol": 0}, random_state=0)
    return estimator.fit(data.X_train, data.y_train)


@pytest.fixture(scope="session")
def doctest_tiny_grouped():
    """`tiny_grouped`: three groups of rotated two moons, 4 training and 2 test rows each."""
    from pymc_bnn.datasets import grouped_moons

    return grouped_moons(n_groups=3, n_train=4, n_test=2)


@pytest.fixture(scope="session")
def doctest_grouped_posterior(doctest_tiny_grouped):
    """`grouped_posterior`: random draws of a partially pooled network (no fit)."""
    import arviz as az
    import numpy as np

    from pymc_bnn import Posterior, get_likelihood
    from pymc_bnn.model.groups import encode_groups, group_record
    from pymc_bnn.model.network import NetworkSpec
    from pymc_bnn.model.priors import DEFAULT_PRIOR

    data = doctest_tiny_grouped
    codes, labels = encode_groups(data.groups_train, n_obs=len(data.groups_train))
    spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1)
    rng = np.random.default_rng(0)
    draws = {}
    for key, name, shape in (("0", "w_0", (2, 3)), ("1", "w_1", (3, 1))):
        draws[name] = rng.normal(size=(1, 20, *shape))
        draws[f"{name}_group"] = rng.normal(size=(1, 20, len(labels), *shape))
        draws[f"group_sd_{key}"] = np.abs(rng.normal(size=(1, 20)))
    return Posterior(spec=spec, likelihood=get_likelihood("bernoulli"), prior=DEFAULT_PRIOR,
                     feature_names=data.feature_names, idata=az.from_dict({"posterior": draws}),
                     method="random draws", groups=group_record("partial", labels, codes, 1.0))


def _table():
    """60 rows of 3 standard-normal features."""
    import numpy as np

    return np.random.default_rng(0).normal(size=(60, 3))


@pytest.fixture(scope="session")
def doctest_fitted_classifier():
    """`fitted_classifier`: "yes" where x0 + x1 > 0, else "no"; the default engine."""
    import numpy as np

    from pymc_bnn.sklearn import BayesianMLPClassifier

    X = _table()
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=300, draws=50,
                                 random_state=0).fit(X, y)


@pytest.fixture(scope="session")
def doctest_fitted_regressor():
    """`fitted_regressor`: 2·x0 + N(0, 0.1²); the default engine."""
    import numpy as np

    from pymc_bnn.sklearn import BayesianMLPRegressor

    X = _table()
    y = 2.0 * X[:, 0] + np.random.default_rng(1).normal(0, 0.1, size=len(X))
    return BayesianMLPRegressor(hidden_layer_sizes=(4,), steps=300, draws=50,
                                random_state=0).fit(X, y)


@pytest.fixture(autouse=True)
def _doctest_setup(request):
    """For a doctest: a temporary working folder, the shared names it mentions; no figures left.

    Plotting examples leave their figures open (a reader's would be shown); they are closed
    after each example so the process does not pile them up.
    """
    test = getattr(request.node, "dtest", None)  # set on pytest's DoctestItem only
    if test is None:
        yield
        return
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    # the lines that run (not those under `doctest: +SKIP`)
    source = "".join(example.source for example in test.examples
                     if not example.options.get(doctest.SKIP))
    namespace = request.getfixturevalue("doctest_namespace")
    for name, fixture in DOCTEST_FIXTURES.items():
        if re.search(rf"\b{name}\b", source):
            namespace[name] = request.getfixturevalue(fixture)
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
