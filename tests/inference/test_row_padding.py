"""Rows padded to a few sizes, weighted out of the likelihood: the same log density, the same
fits, and one set of compiled programs for data of nearby sizes (`row_padding.padded_rows`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pymc as pm
import pytest

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, build_model, fit
from pymc_bnn.inference import jax_model
from pymc_bnn.inference.jax_model import (
    ROW_WEIGHT,
    compile_model,
    data_arguments,
    padded_rows,
)

N = 37  # padded to 48

_compile_events: list | None = None


def _record(event: str, duration: float, **kwargs) -> None:
    if _compile_events is not None and ("backend_compile" in event
                                        or "cache_retrieval" in event):
        _compile_events.append(event)


jax.monitoring.register_event_duration_secs_listener(_record)


def _compiles_during(work) -> list:
    """The XLA compilations (or persistent-cache loads) that `work()` caused."""
    global _compile_events
    _compile_events = []
    try:
        work()
        return list(_compile_events)
    finally:
        _compile_events = None


def _logp_both_ways(model):
    """(padded, exact): (loglik, prior_logp) of `model` at one random point, compiled padded
    and for its exact rows."""
    padded, exact = compile_model(model), compile_model(model, pad=False)
    z = jnp.asarray(np.random.default_rng(1).normal(size=padded.size) * 0.3)
    out = []
    for compiled in (padded, exact):
        data = data_arguments(compiled, model)
        out.append((float(compiled.loglik(z, data)), float(compiled.prior_logp(z, data))))
    return padded, exact, out


@pytest.mark.parametrize("likelihood", ["bernoulli", "categorical", "gaussian", "poisson",
                                        "negative_binomial", "student_t", "heteroscedastic"])
def test_padded_rows_leave_the_log_density_as_it_is(likelihood):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 3))
    y = {"bernoulli": rng.random(N) < 0.5, "categorical": rng.integers(0, 3, N),
         "poisson": rng.poisson(2.0, N), "negative_binomial": rng.poisson(3.0, N)}.get(
        likelihood, rng.normal(size=N))
    bnn = build_model(X, np.asarray(y, dtype=float if likelihood in (
        "gaussian", "student_t", "heteroscedastic") else int), hidden=(4,),
        likelihood=likelihood)
    padded, exact, ((loglik, prior), (loglik_exact, prior_exact)) = _logp_both_ways(bnn.model)
    assert (padded.n_rows, exact.n_rows, padded.n_obs) == (48, N, N)
    assert padded.weighted and padded.data_names[-1] == ROW_WEIGHT
    assert loglik == pytest.approx(loglik_exact, rel=1e-12, abs=1e-10)
    assert prior == pytest.approx(prior_exact, rel=1e-12)
    # ... and it is PyMC's own log-likelihood of the model
    point = bnn.model.initial_point()
    own = bnn.model.compile_fn(bnn.model.logp(vars=bnn.model.observed_RVs), mode="FAST_COMPILE")
    z0 = jnp.asarray(padded.initial_point)
    assert float(padded.loglik(z0, data_arguments(padded, bnn.model))) == pytest.approx(
        float(own(point)), rel=1e-10)


def test_a_grouped_model_pads_its_group_index_with_the_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 2))
    bnn = build_model(X, X[:, 0] + 0.1 * rng.normal(size=N), hidden=(3,),
                      likelihood="gaussian", groups=rng.integers(0, 3, N))
    padded, _, ((loglik, prior), (loglik_exact, prior_exact)) = _logp_both_ways(bnn.model)
    assert padded.weighted and "group_index" in padded.data_names
    assert loglik == pytest.approx(loglik_exact, rel=1e-12)
    assert prior == pytest.approx(prior_exact, rel=1e-12)


def _with_potential():
    with pm.Model(coords={"obs": range(N)}) as model:
        x = pm.Data("x", np.linspace(-1, 1, N), dims="obs")
        mu = pm.Normal("mu")
        pm.Normal("y", mu * x, 1.0, observed=np.sin(np.arange(N)), dims="obs")
        pm.Potential("rows", -0.5 * pm.math.sum(x**2) * mu**2)  # sums over the rows
    return model


def _observed_without_dims():
    with pm.Model() as model:
        mu = pm.Normal("mu")
        pm.Normal("y", mu, 1.0, observed=np.arange(N, dtype=float))
    return model


def _deterministic_on_rows():
    with pm.Model(coords={"obs": range(N)}) as model:
        x = pm.Data("x", np.linspace(-1, 1, N), dims="obs")
        y = pm.Data("y_data", np.cos(np.arange(N)), dims="obs")
        mu = pm.Normal("mu")
        fitted = pm.Deterministic("fitted", mu * x, dims="obs")
        pm.Normal("y", fitted, 1.0, observed=y, dims="obs")
    return model


def _minibatch_total_size():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 2))
    return build_model(X, X[:, 0], hidden=(2,), likelihood="gaussian", total_size=10 * N).model


@pytest.mark.parametrize("make", [_with_potential, _observed_without_dims,
                                  _deterministic_on_rows, _minibatch_total_size])
def test_a_model_whose_rows_cannot_be_weighted_is_compiled_for_its_exact_rows(make):
    """A potential may sum over the rows, observations without a dim or with `total_size`
    (rescaled by the row count) and a Deterministic per row would all change with padding:
    such models keep their own row count, and their log density is PyMC's."""
    model = make()
    compiled = compile_model(model)
    assert not compiled.weighted and compiled.n_rows == compiled.n_obs
    assert ROW_WEIGHT not in compiled.data_names
    z = jnp.asarray(compiled.initial_point + 0.3)
    point = {name: np.asarray(v) for name, v in zip(
        compiled.value_names, compiled.unravel(z), strict=True)}
    data = data_arguments(compiled, model)
    total = float(compiled.loglik(z, data) + compiled.prior_logp(z, data))
    assert total == pytest.approx(float(model.compile_logp(mode="FAST_COMPILE")(point)),
                                  rel=1e-10)


def test_padded_sizes_grow_by_half_up_to_1024_rows_a_quarter_to_4096_an_eighth_beyond():
    sizes = np.arange(1, 20_000)
    padded = np.array([padded_rows(n) for n in sizes])
    assert (padded >= sizes).all() and (padded >= 16).all()
    assert (np.diff(padded) >= 0).all()  # more rows never pad to fewer
    for low, high, growth in ((17, 1024, 1.5), (1025, 4096, 1.25), (4097, 20_000, 1.125)):
        part = (sizes >= low) & (sizes <= high)
        assert (padded[part] <= growth * sizes[part]).all()
    assert np.unique(padded[sizes <= 1024]).size == 13  # a few programs for 1-1,024 rows
    assert np.unique(padded[(sizes > 1024) & (sizes <= 4096)]).size == 8


def _moons(n, seed=0):
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.2, random_state=seed)


@pytest.mark.slow
@pytest.mark.parametrize("make_estimator", [
    lambda: BayesianMLPClassifier(draws=50, random_state=0),
    lambda: BayesianMLPRegressor(draws=50, random_state=0)])
def test_a_default_fit_on_a_nearby_row_count_compiles_nothing(make_estimator):
    """101 and 120 rows are both padded to 128: the second default fit (MAP, held-out prior
    scale for the regressor, curvature, evidence, draws) runs only compiled programs."""
    X, y = _moons(120)
    if isinstance(make_estimator(), BayesianMLPRegressor):
        y = X[:, 1] + 0.3 * np.sin(3 * X[:, 0])
    make_estimator().fit(X[:101], y[:101])
    assert _compiles_during(lambda: make_estimator().fit(X, y)) == []


@pytest.mark.parametrize("method, options", [
    # Adam: its path moves smoothly with the rows' rounding; L-BFGS reaches the same loss but
    # its line search may settle in a mirror image of the mode (a hidden unit's sign)
    ("laplace", {"prior_scale": 2.0, "steps": 1500, "map_optimizer": "adam"}),
    ("advi", {"steps": 1500, "tol": 0})])
def test_a_fit_on_padded_rows_is_the_fit_on_the_exact_rows(method, options, monkeypatch):
    X, y = _moons(N)
    bnn = build_model(X, y, hidden=(3,))
    padded = fit(bnn, method, draws=200, random_seed=0, progress=False, **options)
    monkeypatch.setattr(jax_model, "PAD_ROWS", False)
    exact = fit(build_model(X, y, hidden=(3,)), method, draws=200, random_seed=0,
                progress=False, **options)
    for name in ("w_0", "w_1"):
        np.testing.assert_allclose(padded.idata["posterior"][name].values,
                                   exact.idata["posterior"][name].values, atol=1e-6)
