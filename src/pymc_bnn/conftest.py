"""Doctest fixtures: `fitted`, a tiny fitted `Posterior` that examples may use by name.

It is built once per test session, and only when an example names it: the examples of most
modules never pay for its fit (a few seconds, most of it compiling).
"""

import pytest


@pytest.fixture(scope="session")
def fitted():
    """Two moons (70 training rows), a 2→4→1 tanh network, 300 ADVI steps, 50 draws."""
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=100)
    bnn = build_model(data.X_train, data.y_train, hidden=(4,))
    return fit(bnn, "advi", steps=300, tol=0, draws=50, progress=False)


@pytest.fixture(autouse=True)
def _fitted_in_examples(request, doctest_namespace):
    test = getattr(request.node, "dtest", None)  # a doctest item: its parsed examples
    if test is not None and any("fitted" in example.source for example in test.examples):
        doctest_namespace["fitted"] = request.getfixturevalue("fitted")
