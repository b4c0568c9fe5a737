"""The engine contract: a registered engine is fitted like a built-in one, its options are
checked, samplers get their convergence judged on the predictions by `fit`."""

import pytest
import xarray as xr

from pymc_bnn import InvalidSettingError, build_model, fit
from pymc_bnn.inference import ENGINES, diagnostics, register_engine, unregister_engine
from pymc_bnn.inference.options import ENGINE_OPTIONS, Whole
from pymc_bnn.inference.result import EngineResult
from pymc_bnn.posterior.convergence import RHAT_WARNING


def _copy_of_advi(chains_as_mcmc: bool):
    """An engine that runs advi and hands its draws on, as several chains when asked."""

    def run(bnn, *, draws, random_seed, progress, chains=2):
        result = ENGINES["advi"](bnn, draws=draws, random_seed=random_seed, progress=progress,
                                 steps=300, tol=0)
        posterior = result.idata["posterior"].to_dataset()  # one chain
        per_chain = posterior.sizes["draw"] // chains
        split = xr.Dataset({
            name: (("chain", "draw", *var.dims[2:]),
                   var.values[0, :chains * per_chain].reshape(chains, per_chain, *var.shape[2:]))
            for name, var in posterior.data_vars.items()})
        return EngineResult(idata=xr.DataTree.from_dict({"posterior": split}), method="copy",
                            settings={"chains": chains}, timings={}, mcmc=chains_as_mcmc)

    return run


@pytest.fixture
def registered():
    names = []

    def add(name, run, **kw):
        register_engine(name, run, **kw)
        names.append(name)

    yield add
    for name in names:
        unregister_engine(name)


def test_a_registered_sampler_is_judged_on_its_predictions(small_moons, registered):
    registered("copy", _copy_of_advi(True), options={"chains": Whole(1)})
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    post = fit(bnn, "copy", draws=200, progress=False, chains=2)
    assert post.method == "copy" and post.idata["posterior"].sizes["chain"] == 2
    # the same numbers diagnostics gives for these draws
    expected = diagnostics.predictive_convergence(post, training=bnn)
    for key in ("predictive_rhat_max", "predictive_ess_bulk_min", "check_points"):
        assert post.diagnostics[key] == pytest.approx(expected[key])
    assert post.diagnostics["check_points"] == len(small_moons.y_train)
    # i.i.d. draws from one Gaussian: chains agree
    assert post.diagnostics["predictive_rhat_max"] < RHAT_WARNING


def test_an_optimiser_gets_no_chain_diagnostics(small_moons, registered):
    registered("copy", _copy_of_advi(False))
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    post = fit(bnn, "copy", draws=100, progress=False)
    assert "predictive_rhat_max" not in post.diagnostics


def test_registered_options_are_checked_before_the_run(small_moons, registered):
    calls = []
    registered("spy", lambda bnn, **kw: calls.append(kw), options={"chains": Whole(1)})
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    with pytest.raises(InvalidSettingError, match="chains must be a whole number"):
        fit(bnn, "spy", chains=1.5)
    with pytest.raises(InvalidSettingError, match=r"unknown option\(s\) \['steps'\] for spy"):
        fit(bnn, "spy", steps=3)
    assert calls == []


def test_registry_refuses_clashes_and_removing_built_ins(registered):
    with pytest.raises(InvalidSettingError, match="exists already; pass replace=True"):
        register_engine("advi", lambda bnn, **kw: None)
    with pytest.raises(InvalidSettingError, match="must be a function"):
        register_engine("mine", "not a function")
    with pytest.raises(InvalidSettingError, match="built-in engine and cannot be removed"):
        unregister_engine("nuts")
    with pytest.raises(InvalidSettingError, match="no engine called 'nope'"):
        unregister_engine("nope")
    registered("mine", lambda bnn, **kw: None)
    assert "mine" in ENGINES and "mine" not in ENGINE_OPTIONS


def test_convergence_warnings_name_the_fix():
    found = diagnostics.convergence_warnings(
        {"predictive_rhat_max": 1.3, "predictive_ess_bulk_min": 12.0}, "nuts")
    assert len(found) == 2
    assert found[0].startswith("nuts: ") and "max predictive R-hat 1.3 > 1.05" in found[0]
    assert "min bulk ESS 12 < 100" in found[1] and "draws=" in found[1] and "tune" in found[1]
    assert diagnostics.convergence_warnings(
        {"predictive_rhat_max": 1.01, "predictive_ess_bulk_min": 400.0}, "nuts") == []


def test_fit_refuses_a_bare_pymc_model_naming_the_built_one(small_moons):
    """`fit(bnn.model)` is what a PyMC user tries first: the error names `bnn`, not a missing
    attribute of `pm.Model`."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    with pytest.raises(InvalidSettingError, match=r"fit\(bnn\), not fit\(bnn\.model\)"):
        fit(bnn.model, "advi", steps=10, draws=5, progress=False)
    with pytest.raises(InvalidSettingError, match="build_model"):
        fit("not a model", "advi", draws=5, progress=False)


def test_fit_refuses_a_model_whose_rows_set_data_replaced(small_moons):
    """The guide's way of predicting through PyMC leaves new rows in `bnn.model`; fitting it
    then failed inside the engine ("index can't contain negative values") where only X was
    replaced, and fitted a target of zeros where y_data was too. Either way: refused, naming
    the rows and the fix; with the training rows set back it fits."""
    import numpy as np
    import pymc as pm

    X, y = small_moons.X_train, small_moons.y_train
    bnn = build_model(X, y, hidden=(3,))
    for new in ({"X": X[:10]},
                {"X": X[:7], "y_data": np.zeros(7, dtype=bnn.model["y_data"].dtype)}):
        with bnn.model:
            pm.set_data(new, coords={"obs": np.arange(len(new["X"]))})
        with pytest.raises(InvalidSettingError,
                           match=rf"not the {len(X)} that build_model was given \(X has "
                                 rf"{len(new['X'])}.*build_model\(X, y"):
            fit(bnn, "advi", steps=10, draws=5, progress=False)
    with bnn.model:
        pm.set_data({"X": X, "y_data": y.astype(bnn.model["y_data"].dtype)},
                    coords={"obs": np.arange(len(X))})
    assert fit(bnn, "advi", steps=10, tol=0, draws=5, progress=False).n_draws == 5


@pytest.mark.slow
@pytest.mark.parametrize("method, options", [
    ("advi", {"steps": 100, "tol": 0}),
    ("nuts", {"chains": 1, "tune": 20, "init_steps": 50}),
    ("laplace", {"steps": 100, "restarts": 1}),
])
def test_engines_fit_under_float32_pytensor(small_moons, method, options):
    """`pytensor.config.floatX = "float32"` makes PyTensor's JAX backend switch JAX's 64-bit
    mode off for the whole process; the engines still fit (in float64, as by default) and
    give the draws they give under float64."""
    import warnings

    import jax
    import numpy as np
    import pytensor

    from pymc_bnn import ConvergenceWarning

    X, y = small_moons.X_train[:60], small_moons.y_train[:60]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = fit(build_model(X, y, hidden=(3,)), method, draws=20, progress=False,
                        **options)
        with pytensor.config.change_flags(floatX="float32"), jax.enable_x64(False):
            bnn = build_model(X, y, hidden=(3,))
            warnings.simplefilter("error", UserWarning)  # no "float64 truncated" either
            warnings.simplefilter("ignore", ConvergenceWarning)
            post = fit(bnn, method, draws=20, progress=False, **options)
    mean = post.predict(X[:5])["mean"].values
    assert np.isfinite(mean).all()
    np.testing.assert_allclose(mean, reference.predict(X[:5])["mean"].values, atol=1e-3)
