"""Settings: valid ones work (NUTS with one chain), settings that make no sense are refused by
name with the fix, before any compiling, through the estimators, the API and the CLI."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymc_bnn import (
    BayesianMLPClassifier,
    BayesianMLPRegressor,
    InvalidInputError,
    InvalidSettingError,
    build_model,
    fit,
)
from reliability.helpers import TINY, TINY_CLI, assert_one_line_error, run_cli

BOUNDED = dict(deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.slow
def test_nuts_with_one_chain_samples(table):
    """NumPyro takes one chain's starting point unbatched; this used to fail in JAX every time.
    150 draws are two compiled chunks, so continuing from the last state is covered too."""
    X, y = table[["height", "width"]].to_numpy(), table["label"].to_numpy()
    bnn = build_model(X, y, hidden=(2,))
    posterior = fit(bnn, "nuts", chains=1, draws=150, tune=50, init_steps=200, random_seed=0,
                    progress=False)
    assert dict(posterior.idata["posterior"].sizes)["chain"] == 1
    assert dict(posterior.idata["posterior"].sizes)["draw"] == 150
    assert posterior.settings["chains"] == 1 and posterior.settings["draws_per_chain"] == 150
    assert posterior.diagnostics["predictive_rhat_max"] is None  # R-hat compares chains
    proba = posterior.predict(X)["mean"].values
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.mean((proba > 0.5) == y) >= 0.85  # label = height + width > 0: nearly linear


# --------------------------------------------------------------------------- nonsense settings

BAD_ESTIMATOR_SETTINGS = [
    ("hidden_layer_sizes", (2.5,)), ("hidden_layer_sizes", (True,)),
    ("hidden_layer_sizes", [4, 0]), ("hidden_layer_sizes", 0), ("hidden_layer_sizes", "32"),
    ("hidden_layer_sizes", np.zeros((2, 2), dtype=int)), ("steps", True), ("steps", 1.5),
    ("steps", 0), ("draws", False), ("draws", 0), ("draws", 2.0), ("draws", -5),
]


@settings(max_examples=25, **BOUNDED)
@given(setting=st.sampled_from(BAD_ESTIMATOR_SETTINGS),
       estimator=st.sampled_from([BayesianMLPClassifier, BayesianMLPRegressor]))
def test_nonsense_estimator_settings_are_refused_before_fitting(table, setting, estimator):
    name, value = setting
    model = estimator(**{**TINY, name: value})
    X = table[["height", "width"]]
    y = table["label"] if estimator is BayesianMLPClassifier else table["price"]
    expected = rf"(?s)The '{name}' parameter of {estimator.__name__} must be .*Got .* instead"
    with pytest.raises(InvalidSettingError, match=expected):
        model.fit(X, y)
    assert not hasattr(model, "posterior_")


@pytest.mark.parametrize("sizes", [3, (3,), [2, 2], np.array([2, 3]), (np.int64(2),), (), []])
def test_every_valid_layer_width_form_is_accepted(sizes):
    from pymc_bnn.constraints import LayerWidths, WholeNumbers

    assert LayerWidths().is_satisfied_by(sizes)
    assert WholeNumbers(1).is_satisfied_by(np.int32(4))
    assert not WholeNumbers(1).is_satisfied_by(True)


@pytest.fixture(scope="module")
def classifier(table):
    return BayesianMLPClassifier(**TINY).fit(table[["height", "width"]], table["kind"])


BAD_UNCERTAINTY_OPTIONS = [
    ({"max_draws": 0}, "max_draws must be at least 1, got 0"),
    ({"max_draws": -3}, "max_draws must be at least 1, got -3"),
    ({"max_draws": 1.5}, "max_draws must be a whole number, got 1.5"),
    ({"max_draws": True}, "max_draws must be a whole number, got True"),
    ({"n_samples": -1}, "n_samples must be at least 0, got -1"),
    ({"n_samples": 2.5}, "n_samples must be a whole number, got 2.5"),
    ({"level": []}, "level must be a probability strictly between 0 and 1"),
    ({"level": [0.5, 1.0]}, "level must be a probability strictly between 0 and 1"),
    ({"bogus": 1}, "unknown option(s) 'bogus'; it takes level, max_draws, n_samples"),
    ({"levels": 0.9}, "unknown option(s) 'levels'"),
]


@settings(max_examples=30, **BOUNDED)
@given(case=st.sampled_from(BAD_UNCERTAINTY_OPTIONS), face=st.sampled_from(["estimator",
                                                                            "posterior"]))
@pytest.mark.slow
def test_nonsense_uncertainty_options_are_named(classifier, table, case, face):
    options, message = case
    target = classifier if face == "estimator" else classifier.posterior_
    X = table[["height", "width"]] if face == "estimator" else classifier._scaled(
        table[["height", "width"]].to_numpy())
    with pytest.raises(InvalidSettingError, match=re.escape(message)):
        target.uncertainty(X, **options)


def test_max_draws_zero_in_predict_is_refused_not_nan(classifier, table):
    X = classifier._scaled(table[["height", "width"]].to_numpy())
    with pytest.raises(InvalidSettingError, match="max_draws must be at least 1, got 0"):
        classifier.posterior_.predict(X, max_draws=0)
    assert np.all(np.isfinite(classifier.posterior_.predict(X, max_draws=3)["mean"].values))


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA])
def test_missing_labels_among_strings_are_named(table, missing):
    y = table["kind"].to_numpy(dtype=object).copy()
    y[7] = missing
    with pytest.raises(InvalidInputError, match=r"y has 1 missing label\(s\) \(None/NaN; first: "
                                                r"row 7\); drop those rows or give them a label"):
        BayesianMLPClassifier(**TINY).fit(table[["height", "width"]], y)


def test_feature_names_must_name_every_column(table):
    X, y = table[["height", "width"]].to_numpy(), table["label"].to_numpy()
    with pytest.raises(InvalidInputError, match=r"feature_names has 1 name\(s\) but X has 2 "
                                                r"column\(s\); pass one name per column"):
        build_model(X, y, feature_names=["a"])
    with pytest.raises(InvalidInputError, match="feature_names repeats a; give every column"):
        build_model(X, y, feature_names=["a", "a"])
    assert build_model(X, y, feature_names=["a", "b"]).feature_names == ("a", "b")


def test_no_command_prints_the_usage_and_a_hint(capsys):
    code, out, err = run_cli(capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith("usage: pymc-bnn")
    assert err.splitlines()[-1] == ("error: no command given; run `pymc-bnn demo` to try it, or "
                                    "`pymc-bnn --help` for the commands")


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_a_csv_with_repeated_column_names_is_refused(capsys, tmp_path, table, command):
    data = tmp_path / "dup.csv"
    data.write_text("height,width,height,label\n" + "\n".join(
        f"{r.height},{r.width},{r.depth},{r.label}" for r in table.itertuples()) + "\n")
    args = (["fit", data, "--target", "label", "--out", tmp_path / "m.bnn.nc", *TINY_CLI]
            if command == "fit" else ["predict", tmp_path / "none.bnn.nc", data, "--out",
                                      tmp_path / "p.csv"])
    if command == "predict":  # a real model, so the table is what is refused
        BayesianMLPClassifier(**TINY).fit(table[["height", "width"]], table["label"]).save(
            tmp_path / "none.bnn.nc")
    code, _, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, f"{data} repeats column name(s) height; give every column "
                                     "its own name")
    assert not (tmp_path / "m.bnn.nc").exists() and not (tmp_path / "p.csv").exists()
