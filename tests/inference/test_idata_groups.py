"""Every engine's `idata` carries the training data as `pm.sample` does (`observed_data`,
`constant_data`), so ArviZ's predictive checks run on a fit as on a `pm.sample` trace.

References: the rows given to `build_model`, and PyMC's own `pm.sample_posterior_predictive`
(which must take the groups as its own: no warning, the same scale).
"""

import warnings

import arviz as az
import matplotlib
import numpy as np
import pymc as pm
import pytest

from pymc_bnn import ConvergenceWarning, build_model, fit

matplotlib.use("Agg")

RNG = np.random.default_rng(5)
X = RNG.normal(size=(30, 2))
LABELS = (X[:, 0] + X[:, 1] > 0).astype(int)
TARGET = 20.0 + 5.0 * X[:, 0] + 0.5 * RNG.normal(size=30)


def _fit(bnn, method, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(bnn, method, draws=20, random_seed=0, progress=False, **options)


def _assert_training_data(idata, y, n_chains):
    assert idata["posterior"].sizes["chain"] == n_chains
    observed, constant = idata["observed_data"], idata["constant_data"]
    assert observed["y"].dims == ("obs",)
    np.testing.assert_array_equal(observed["y"].values, y)
    assert constant["X"].dims == ("obs", "feature")
    np.testing.assert_array_equal(constant["X"].values, X)
    assert constant["feature"].values.tolist() == ["x0", "x1"]


ENGINES = [
    pytest.param("laplace", {"steps": 60}, 1, id="laplace"),
    pytest.param("advi", {"steps": 60, "tol": 0}, 1, id="advi"),
    pytest.param("fullrank_advi", {"steps": 60, "tol": 0}, 1, id="fullrank_advi"),
    pytest.param("advi", {"steps": 60, "tol": 0, "ensemble": True, "restarts": 2}, 2,
                 id="advi-ensemble"),
    pytest.param("laplace", {"steps": 60, "ensemble": True, "restarts": 2}, 2,
                 id="laplace-ensemble"),
    pytest.param("nuts", {"chains": 1, "tune": 20, "init_steps": 30}, 1, id="nuts",
                 marks=pytest.mark.slow),
    pytest.param("pymc_advi", {"steps": 60}, 1, id="pymc_advi", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("method, options, chains", ENGINES)
def test_every_engine_keeps_the_training_data_beside_the_draws(method, options, chains):
    bnn = build_model(X, LABELS, hidden=(2,))
    _assert_training_data(_fit(bnn, method, **options).idata, LABELS, chains)


def test_separately_fitted_ensemble_members_keep_the_training_data():
    from pymc_bnn.sklearn.members import fit_members

    build = {"X": X, "y": LABELS, "hidden": (2,)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        joined = fit_members(build, "advi", {"ensemble": True, "restarts": 2, "steps": 40,
                                             "tol": 0}, draws=10, random_seed=0, n_jobs=1)
    _assert_training_data(joined.idata, LABELS, 2)


def test_plot_ppc_compares_like_with_like_after_pymcs_posterior_predictive():
    """The documented way (docs/guide/pymc_arviz.md): PyMC's posterior predictive into a copy
    of `idata`, then ArviZ's check. For a real target both sides are standardised."""
    bnn = build_model(X, TARGET, hidden=(2,), likelihood="gaussian")
    posterior = _fit(bnn, "advi", steps=300, tol=0)
    idata = posterior.idata.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. PyMC's ImplicitFreezeWarning: coords agree
        pm.sample_posterior_predictive(idata, model=bnn.model, extend_inferencedata=True,
                                       random_seed=1, progressbar=False)
    assert "posterior_predictive" not in posterior.idata.children  # the fit's own is intact
    predicted, observed = idata["posterior_predictive"]["y"], idata["observed_data"]["y"]
    assert predicted.dims == ("chain", "draw", "obs") and observed.sizes == {"obs": 30}
    mean, scale = bnn.preprocessing["y_mean"], bnn.preprocessing["y_scale"]
    np.testing.assert_allclose(observed.values, (TARGET - mean) / scale)
    assert abs(float(predicted.mean())) < 0.5 and 0.5 < float(predicted.std()) < 1.5
    assert posterior.idata["observed_data"].attrs["y_scale"] == scale
    collection = az.plot_ppc_dist(idata, num_samples=20)
    assert collection.viz is not None
    matplotlib.pyplot.close("all")
