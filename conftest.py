"""What the docstring examples (doctests of src/pymc_bnn) share.

Each doctest runs in a fresh temporary working folder, so an example that writes `model.bnn.nc`
or `report.html` leaves nothing behind. Names an example may use without building them:

- `tiny_data`: a small two-moons `Split` (42 training rows, 18 test rows, 2 features, labels 0/1);
- `tiny_model`: the `BNNModel` of a small classifier on `tiny_data`,
  `build_model(tiny_data.X_train, tiny_data.y_train, hidden=(3,))` (one tanh layer of 3 units);
- `fitted`: a `Posterior` of `tiny_model` from a short ADVI run (500 steps, 50 draws, seed 0):
  enough to predict, not to be good;
- `fitted_regression`: the same for a Gaussian regression on one feature (`tiny_regression`:
  40 rows of a noisy sine).

Each is built at most once per test process, and only when a doctest that runs mentions it,
so collecting or running other tests costs nothing. Fits take a few seconds each; examples
use these instead of fitting their own.

(At the project root rather than in `src/pymc_bnn/`, so it is not shipped with the package.)
"""

import re

import pytest

# namespace name → the session fixture that builds it
DOCTEST_FIXTURES = {
    "tiny_data": "doctest_tiny_data",
    "tiny_regression": "doctest_tiny_regression",
    "tiny_model": "doctest_tiny_model",
    "fitted": "doctest_fitted",
    "fitted_regression": "doctest_fitted_regression",
}
_FIT = {"steps": 500, "tol": 0, "draws": 50, "random_seed": 0, "progress": False}


@pytest.fixture(scope="session")
def doctest_tiny_data():
    """`tiny_data`: two moons, 60 points, 70/30 split."""
    from pymc_bnn.datasets import two_moons

    return two_moons(n_samples=60)


@pytest.fixture(scope="session")
def doctest_tiny_regression():
    """`tiny_regression`: (X (40, 1), y (40,)), a noisy sine."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = np.sort(rng.uniform(-3, 3, size=(40, 1)), axis=0)
    return X, np.sin(X[:, 0]) + rng.normal(scale=0.2, size=40)


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
def doctest_fitted_regression(doctest_tiny_regression):
    """`fitted_regression`: a short ADVI fit of a 1→3→1 Gaussian regression."""
    from pymc_bnn import build_model, fit

    X, y = doctest_tiny_regression
    return fit(build_model(X, y, hidden=(3,), likelihood="gaussian"), "advi", **_FIT)


@pytest.fixture(autouse=True)
def _doctest_setup(request):
    """For a doctest: a temporary working folder, and the shared names it mentions."""
    test = getattr(request.node, "dtest", None)  # set on pytest's DoctestItem only
    if test is None:
        return
    request.getfixturevalue("monkeypatch").chdir(request.getfixturevalue("tmp_path"))
    source = "".join(example.source for example in test.examples)
    namespace = request.getfixturevalue("doctest_namespace")
    for name, fixture in DOCTEST_FIXTURES.items():
        if re.search(rf"\b{name}\b", source):
            namespace[name] = request.getfixturevalue(fixture)
