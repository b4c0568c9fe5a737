"""Doctest fixtures: tiny fitted objects that examples may use by name.

`fitted` (a `Posterior`), `fitted_classifier` and `fitted_regressor` (estimators) are each built
once per test session, and only when an example names them: the examples of most modules never
pay for their fits (a few seconds each, most of it compiling).
"""

import numpy as np
import pytest

# The names an example may use, and the fixture that builds each.
_SHARED = ("fitted_classifier", "fitted_regressor", "fitted")


@pytest.fixture(scope="session")
def fitted():
    """Two moons (70 training rows), a 2→4→1 tanh network, 300 ADVI steps, 50 draws."""
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=100)
    bnn = build_model(data.X_train, data.y_train, hidden=(4,))
    return fit(bnn, "advi", steps=300, tol=0, draws=50, progress=False)


def _table():
    """60 rows of 3 standard-normal features."""
    return np.random.default_rng(0).normal(size=(60, 3))


@pytest.fixture(scope="session")
def fitted_classifier():
    """Labels "yes" where x0 + x1 > 0, else "no"; 4 hidden units, the default engine."""
    from pymc_bnn.sklearn import BayesianMLPClassifier

    X = _table()
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return BayesianMLPClassifier(hidden_layer_sizes=(4,), steps=300, draws=50,
                                 random_state=0).fit(X, y)


@pytest.fixture(scope="session")
def fitted_regressor():
    """Targets 2·x0 + N(0, 0.1²); 4 hidden units, the default engine."""
    from pymc_bnn.sklearn import BayesianMLPRegressor

    X = _table()
    y = 2.0 * X[:, 0] + np.random.default_rng(1).normal(0, 0.1, size=len(X))
    return BayesianMLPRegressor(hidden_layer_sizes=(4,), steps=300, draws=50,
                                random_state=0).fit(X, y)


@pytest.fixture(autouse=True)
def _shared_fits_in_examples(request, doctest_namespace):
    test = getattr(request.node, "dtest", None)  # a doctest item: its parsed examples
    if test is None:
        return
    source = "\n".join(example.source for example in test.examples)
    for name in _SHARED:
        if name in source:
            doctest_namespace[name] = request.getfixturevalue(name)
