"""Engine options are checked before anything compiles, the same way for every engine and for
`fit`, an estimator's `engine_options` and the CLI: a bad type or value, or an unknown option, is
one `InvalidSettingError` naming the option, and no engine starts."""

import dataclasses
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymc_bnn import BayesianMLPClassifier, build_model, fit
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import ENGINES
from pymc_bnn.inference.options import ENGINE_OPTIONS, check_engine_options
from reliability.helpers import TINY_CLI, run_cli


@pytest.fixture(scope="module")
def bnn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    return build_model(X, (X[:, 0] > 0).astype(int), hidden=(2,))


@pytest.fixture
def no_engine_runs(monkeypatch):
    """Every engine replaced by one that fails the test if it is ever started."""
    def started(*args, **kwargs):
        raise AssertionError("an engine started despite a bad option")
    for name in ENGINES:
        monkeypatch.setitem(ENGINES, name, started)


WHOLE = {"steps", "window", "mc_samples", "chunk_steps", "screen_steps", "chains",
         "max_tree_depth", "rounds"}
NUMBERS = {"learning_rate", "init_sd", "target_accept"}


def _not_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


# a whole number written as text ("1", as a command-line flag gives it) is a whole number
not_whole = st.one_of(st.floats(0.01, 1e4).filter(lambda v: v != round(v)), st.booleans(),
                      st.none(), st.text(max_size=3).filter(_not_a_number),
                      st.lists(st.integers(1, 3), max_size=2),
                      st.integers(max_value=0))
not_number = st.one_of(st.booleans(), st.none(), st.text(max_size=3),
                       st.sampled_from([float("nan"), float("inf"), -1.0, 0.0, [0.1]]))


@st.composite
def bad_options(draw):
    """(engine, {option: a bad value}, the start of the expected message)."""
    method = draw(st.sampled_from(sorted(ENGINE_OPTIONS)))
    declared = ENGINE_OPTIONS[method]
    choices = sorted(declared.keys() & (WHOLE | NUMBERS))
    name = draw(st.sampled_from(choices))
    value = draw(not_whole if name in WHOLE else not_number)
    return method, {name: value}, f"{name} must be"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=bad_options())
def test_bad_engine_option_values_are_named_before_any_engine_starts(bnn, no_engine_runs, case):
    method, options, phrase = case
    start = time.perf_counter()
    with pytest.raises(InvalidSettingError, match=phrase) as caught:
        fit(bnn, method, draws=10, progress=False, **options)
    assert time.perf_counter() - start < 1.0
    assert repr(next(iter(options.values())))[:20] in str(caught.value)


@pytest.mark.parametrize(("method", "options", "message"), [
    ("advi", {"steps": 1.5}, "steps must be a whole number, got 1.5"),
    ("fullrank_advi", {"steps": True}, "steps must be a whole number, got True"),
    ("advi", {"learning_rate": None}, "learning_rate must be a positive number, got None"),
    ("nuts", {"target_accept": "a"}, "target_accept must be a number strictly between 0 and 1, got 'a'"),
    ("pymc_advi", {"learning_rate": "a"}, "learning_rate must be a positive number, got 'a'"),
    ("laplace", {"learning_rate": "a"}, "learning_rate must be a positive number, got 'a'"),
    ("advi", {"init": "abc"}, "init must be a fitted Posterior of the same network"),
    ("fullrank_advi", {"restarts": 0}, "restarts must be a whole number ≥ 1 or None, got 0"),
    ("laplace", {"prior_scale": "abc"}, "prior_scale must be 'marglik' or a positive number"),
    ("laplace", {"ensemble": 1}, "ensemble must be True or False, got 1"),
    ("nuts", {"dense_mass": "yes"}, "dense_mass must be True or False"),
    ("nuts", {"chain_method": "fast"}, "chain_method must be one of 'auto', 'parallel'"),
    ("pymc_advi", {"optimizer": "sgd"}, "optimizer must be one of 'adam', 'adagrad_window'"),
    ("nuts", {"init": "abc"}, r"unknown option\(s\) \['init'\] for nuts; use chains, tune"),
    ("advi", {"stepz": 3}, r"unknown option\(s\) \['stepz'\] for advi; use steps, learning_rate"),
    ("laplace", {"init": None}, r"unknown option\(s\) \['init'\] for laplace; use steps"),
])
def test_each_engine_names_the_bad_option(bnn, no_engine_runs, method, options, message):
    with pytest.raises(InvalidSettingError, match=message):
        fit(bnn, method, draws=10, progress=False, **options)


@pytest.mark.parametrize(("engine", "options", "message"), [
    ("vi.run_advi", {"steps": 1.5}, "steps must be a whole number, got 1.5"),
    ("vi.run_fullrank_advi", {"tol": -1.0}, "tol must be a non-negative number, got -1.0"),
    ("vi.run_advi", {"stepz": 3}, r"unknown option\(s\) \['stepz'\] for advi"),
    ("pymc_advi.run", {"optimizer": "sgd"}, "optimizer must be one of 'adam', 'adagrad_window'"),
])
def test_engines_called_directly_refuse_what_fit_refuses(bnn, engine, options, message):
    """One check of the options (`inference.options`) for `fit` and for each engine's `run`."""
    import importlib

    module, function = engine.split(".")
    run = getattr(importlib.import_module(f"pymc_bnn.inference.{module}"), function)
    with pytest.raises(InvalidSettingError, match=message):
        run(bnn, draws=10, random_seed=0, progress=False, **options)


@pytest.mark.parametrize(("method", "options"), [
    ("advi", {"learning_rate": 1.5}), ("nuts", {"learning_rate": 0.1}), ("laplace", {"init_sd": 0.1})])
def test_estimator_engine_options_are_checked_before_the_model_is_built(method, options, monkeypatch):
    import pymc_bnn.sklearn.base as estimators

    def built(*args, **kwargs):
        raise AssertionError("the model was built despite a bad option")

    monkeypatch.setattr(estimators, "build_model", built)
    X = np.random.default_rng(1).normal(size=(20, 2))
    model = BayesianMLPClassifier(hidden_layer_sizes=(2,), method=method,
                                  engine_options={**options, "steps": "many"})
    with pytest.raises(InvalidSettingError, match="must be|unknown option"):
        model.fit(X, (X[:, 0] > 0).astype(int))


def test_good_values_pass_and_whole_numbers_become_ints():
    assert check_engine_options("advi", {"steps": 300.0, "learning_rate": 1, "restarts": None}) \
        == {"steps": 300, "learning_rate": 1, "restarts": None}
    assert check_engine_options("laplace", {"prior_scale": 2.0, "ensemble": np.bool_(True)}) \
        == {"prior_scale": 2.0, "ensemble": True}
    assert type(check_engine_options("nuts", {"chains": np.int64(2)})["chains"]) is int


def test_the_declarations_cover_every_engine_and_setting():
    from pymc_bnn.inference import laplace, nuts, vi

    assert set(ENGINE_OPTIONS) == set(ENGINES)
    vi_fields = {f.name for f in dataclasses.fields(vi.ADVISettings)}
    assert set(ENGINE_OPTIONS["advi"]) == vi_fields | {"init", "callback"}
    assert set(ENGINE_OPTIONS["laplace"]) == {f.name for f in dataclasses.fields(
        laplace.LaplaceSettings)} | {"callback"}
    assert ENGINE_OPTIONS["nuts"]["chain_method"].check.choices == nuts.CHAIN_METHODS


def test_the_cli_refuses_a_fractional_step_count_in_one_line(tmp_path, table, capsys):
    data = tmp_path / "d.csv"
    table.to_csv(data, index=False)
    code, _, err = run_cli(capsys, "fit", data, "--target", "label", "--out", tmp_path / "m.bnn.nc",
                           *TINY_CLI[:2], "--steps", "1.5", "--quiet")
    assert code == 2 and "--steps" in err and "Traceback" not in err, err
    assert not (tmp_path / "m.bnn.nc").exists()
