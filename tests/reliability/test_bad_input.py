"""Bad input and impossible settings: each entry point (Python API, estimators, CLI) refuses them
with the exact error type and a message that names the problem and the fix.

Covered at every entry point: NaN/inf in X or y, empty data, a single class, labels the
likelihood cannot take, non-numeric columns (named), a different number of features or other
column names at predict time, unseen group labels, zero hidden units, a negative prior scale,
draws < 1; the CLI also a missing target column. Unseen groups through `Posterior.predict` are
in tests/model/test_groups.py (test_group_only_prediction_names_the_unseen_labels), which has
the fitted hierarchical posteriors.
"""

from functools import partial

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import (
    BayesianMLPClassifier,
    BayesianMLPRegressor,
    InvalidInputError,
    InvalidSettingError,
    NetworkSpec,
    NormalPrior,
    build_model,
    fit,
)
from pymc_bnn.errors import NotFittedError
from pymc_bnn.model.likelihoods import Categorical
from reliability.helpers import TINY, TINY_CLI, assert_one_line_error, run_cli

# ---------------------------------------------------------------------------- Python API


def test_labels_other_than_0_1_for_bernoulli(moons):
    y = moons.y_train + 1  # labels 1 and 2
    with pytest.raises(InvalidInputError, match="needs labels 0 and 1, got 1, 2.*encode"):
        build_model(moons.X_train, y)


def test_single_class(moons):
    with pytest.raises(InvalidInputError, match="single class.*needs examples of both"):
        build_model(moons.X_train, np.zeros(len(moons.X_train), dtype=int))


def test_nan_and_inf_in_X(moons):
    X = moons.X_train.copy()
    X[5, 0] = np.inf
    with pytest.raises(InvalidInputError, match="inf values.*drop or impute"):
        build_model(X, moons.y_train)


def test_nan_in_y(moons):
    y = moons.y_train.astype(float)
    y[3] = np.nan
    with pytest.raises(InvalidInputError, match="y contains 1 NaN/inf.*drop those rows"):
        build_model(moons.X_train, y)


def test_length_mismatch(moons):
    with pytest.raises(InvalidInputError, match="X has 700 rows but y has 699; pass one target"):
        build_model(moons.X_train, moons.y_train[:-1])


def test_one_dimensional_X(moons):
    with pytest.raises(InvalidInputError, match=r"must be 2-D.*reshape\(-1, 1\)"):
        build_model(moons.X_train[:, 0], moons.y_train)


def test_empty_X():
    with pytest.raises(InvalidInputError, match="empty.*pass at least one observation"):
        build_model(np.zeros((0, 2)), np.zeros(0))


def test_non_numeric_dataframe_column(moons):
    frame = pd.DataFrame({"a": moons.X_train[:, 0], "colour": ["red"] * len(moons.X_train)})
    with pytest.raises(InvalidInputError, match="non-numeric columns: colour; encode them"):
        build_model(frame, moons.y_train)


def test_complex_features_are_refused(small_moons):
    with pytest.raises(InvalidInputError, match="complex numbers; pass real features"):
        build_model(small_moons.X_train + 1j, small_moons.y_train)


@pytest.mark.parametrize("name, y, message", [
    ("categorical", ["a"] * 5, "single class.*at least two classes"),
    ("gaussian", ["a", "b", "c", "d", "e"], "needs a numeric target.*categorical"),
    ("gaussian", [2.0] * 5, "y is constant.*at least two different values"),
    ("poisson", [0, 1, 2, -1, 3], r"negative or fractional \(first: -1 in row 3\).*gaussian"),
    ("negative_binomial", [0, 1.5, 2, 1, 3], "negative or fractional.*likelihood='gaussian'"),
    ("poisson", [0, 0, 0, 0, 0], "every count is 0"),
    ("bernoulli", [0, 2, 1, 0, 1], "needs labels 0 and 1.*categorical"),
])
def test_bad_targets_get_clear_errors(name, y, message):
    X = np.zeros((5, 2))
    with pytest.raises(InvalidInputError, match=message):
        build_model(X, np.array(y), likelihood=name)


def test_unknown_labels_for_declared_classes():
    with pytest.raises(InvalidInputError, match="not among the declared classes: c; add them"):
        Categorical(classes=("a", "b")).prepare_target(np.array(["a", "b", "c"]))


def test_bad_settings(moons):
    bnn = build_model(moons.X_train, moons.y_train)
    with pytest.raises(InvalidSettingError, match="unknown inference method 'magic'; use one of"):
        fit(bnn, "magic")
    with pytest.raises(InvalidSettingError, match="draws must be at least 1"):
        fit(bnn, "pymc_advi", draws=0)
    with pytest.raises(InvalidSettingError, match="scale sigma must be a positive number"):
        build_model(moons.X_train, moons.y_train, prior=NormalPrior(sigma=-1))


@pytest.fixture(scope="module")
def tiny_bnn(small_moons):
    return build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))


@pytest.mark.parametrize(
    ("method", "settings", "message"),
    [
        ("advi", {"draws": 0}, "draws must be at least 1"),
        ("advi", {"draws": "many"}, "draws must be a whole number"),
        ("advi", {"draws": 2.5}, "draws must be a whole number"),
        ("advi", {"random_seed": "x"}, "random_seed must be a whole number"),
        ("advi", {"random_seed": -1}, "random_seed must be at least 0"),
        ("mcmc", {}, "unknown inference method 'mcmc'; use one of"),
        ("advi", {"stepz": 10}, r"unknown option\(s\) \['stepz'\].*use steps"),
        ("pymc_advi", {"stepz": 10}, r"unknown option\(s\) \['stepz'\] for pymc_advi; use steps"),
        ("pymc_advi", {"steps": 0}, "steps must be at least 1"),
        ("pymc_advi", {"learning_rate": -1.0}, "learning_rate must be a positive number"),
    ],
)
def test_impossible_fit_settings_are_refused(tiny_bnn, method, settings, message):
    with pytest.raises(InvalidSettingError, match=message):
        fit(tiny_bnn, method, progress=False, **settings)


@pytest.mark.parametrize(
    ("hidden", "message"),
    [((0,), "at least 1 unit.*drop the layer or give it a positive width"),
     ((2.5,), "whole number, got 2.5"),
     ("5,5", "sequence of layer widths such as"), ((-3, 2), "at least 1 unit")],
)
def test_impossible_architectures_are_refused(small_moons, hidden, message):
    with pytest.raises(InvalidSettingError, match=message):
        build_model(small_moons.X_train, small_moons.y_train, hidden=hidden)


@pytest.fixture(scope="module")
def named_posterior(random_posterior):
    """A posterior (random draws, no fit) of a network fitted on columns a, b, c."""
    import dataclasses

    spec = NetworkSpec(n_inputs=3, hidden=(4,), bias=True)
    posterior = random_posterior(spec, "bernoulli", 20, np.random.default_rng(0))
    return dataclasses.replace(posterior, feature_names=("a", "b", "c"))


def test_predict_rejects_wrong_feature_count(named_posterior):
    with pytest.raises(InvalidInputError,
                       match="has 4 features but the model was fitted with 3; pass the same 3"):
        named_posterior.predict(np.zeros((4, 4)))


def test_predict_rejects_nan(named_posterior):
    X = np.zeros((4, 3))
    X[2, 1] = np.nan
    with pytest.raises(InvalidInputError,
                       match=r"NaN values in 1 row\(s\) \(first: row 2\); drop or impute"):
        named_posterior.predict(X)


@pytest.mark.parametrize("columns, problem", [
    (["a", "b", "z"], "lacks c"), (["c", "b", "a"], "in another order"),
])
def test_predict_rejects_other_column_names(named_posterior, columns, problem):
    frame = pd.DataFrame(np.zeros((4, 3)), columns=columns)
    with pytest.raises(InvalidInputError, match=f"{problem}; pass the columns the model was "
                                                "fitted on, in this order: a, b, c"):
        named_posterior.predict(frame)
    named_posterior.predict(frame[sorted(columns)] if problem.startswith("in") else
                            frame.set_axis(["a", "b", "c"], axis=1))  # the fix works


def test_build_model_names_features_after_dataframe_columns(small_moons):
    frame = pd.DataFrame(small_moons.X_train, columns=["left", "right"])
    assert build_model(frame, small_moons.y_train).feature_names == ("left", "right")


# ---------------------------------------------------------------------------- estimators


def _nan_at(X, row, col, value=np.nan):
    X = np.array(X, dtype=float)
    X[row, col] = value
    return X


@pytest.fixture(scope="module")
def xy(table):
    return table[["height", "width", "depth"]], table["kind"]


@pytest.mark.parametrize("estimator, X, y, error, message", [
    (partial(BayesianMLPClassifier, missing="error"), lambda X: _nan_at(X, 3, 1), None,
     InvalidInputError, r"X has missing values in 1 row\(s\) \(first: row 3; column\(s\) x1 "
                        r"\(1\)\) and the missing-value policy is 'error'; fill them in"),
    (BayesianMLPClassifier, lambda X: _nan_at(X, 3, 1, np.inf), None, InvalidInputError,
     "Input X contains infinity.*; drop or impute those rows"),
    (BayesianMLPRegressor, None, lambda y: np.where(y == "big", np.nan, 1.0), InvalidInputError,
     "Input y contains NaN; drop those rows or impute the target"),
    (BayesianMLPClassifier, lambda X: X.iloc[:0], lambda y: y[:0], InvalidInputError,
     r"X is empty \(0 rows\); pass at least one observation"),
    (BayesianMLPClassifier, lambda X: X.iloc[:1], lambda y: y[:1], InvalidInputError,
     "got 1 sample; .*needs at least 2 samples"),
    (BayesianMLPClassifier, None, lambda y: np.full(len(y), "big"), InvalidInputError,
     "single class.*at least two classes"),
    (BayesianMLPClassifier, None, lambda y: np.linspace(0, 1, len(y)), InvalidInputError,
     "Unknown label type.*Use BayesianMLPRegressor"),
    (BayesianMLPRegressor, None, None, InvalidInputError,
     "needs a numeric target, got values like big, small; use BayesianMLPClassifier"),
    (BayesianMLPClassifier, lambda X: X.assign(when="2024-03-01"), None, InvalidInputError,
     r"X column\(s\) when hold dates or durations.*drop them"),
], ids=["nan-X", "inf-X", "nan-y", "empty", "one-row", "single-class", "real-y-classifier",
        "text-y-regressor", "date-text-column"])
def test_estimators_refuse_bad_data(xy, estimator, X, y, error, message):
    X0, y0 = xy
    with pytest.raises(error, match=message):
        estimator(**TINY).fit(X(X0) if X else X0, y(y0) if y else y0)


@pytest.mark.parametrize("estimator, settings, y, message", [
    (BayesianMLPClassifier, {"hidden_layer_sizes": (0,)}, None, "at least 1 unit"),
    (BayesianMLPClassifier, {"hidden_layer_sizes": 0}, None, "'hidden_layer_sizes' parameter"),
    (BayesianMLPClassifier, {"draws": 0}, None, r"'draws' parameter.*range \[1, inf\)"),
    (BayesianMLPClassifier, {"prior": "ridge"}, None, "'prior' parameter.*'normal'"),
    (BayesianMLPClassifier, {"method": "magic"}, None, "'method' parameter.*'advi'"),
    (BayesianMLPRegressor, {"likelihood": "poisson"}, lambda y: -np.arange(len(y)),
     "negative or fractional.*likelihood='gaussian'"),
    (BayesianMLPClassifier, {"likelihood": "bernoulli"}, lambda y: np.arange(len(y)) % 3,
     "bernoulli' takes two classes but y has 3; use likelihood='categorical'"),
], ids=["zero-units", "zero-width", "zero-draws", "unknown-prior", "unknown-method",
        "negative-counts", "bernoulli-3-classes"])
def test_estimators_refuse_impossible_settings(xy, estimator, settings, y, message):
    X0, y0 = xy
    error = InvalidSettingError if y is None else InvalidInputError
    with pytest.raises(error, match=message):
        estimator(**{**TINY, **settings}).fit(X0, y(y0) if y else y0)


def test_estimator_refuses_a_negative_prior_scale(xy):
    with pytest.raises(InvalidSettingError, match="sigma must be a positive number"):
        BayesianMLPClassifier(**{**TINY, "prior": NormalPrior(sigma=-1.0)}).fit(*xy)


@pytest.fixture(scope="module")
def fitted(xy):
    X, y = xy
    return BayesianMLPClassifier(**TINY).fit(X, y)


@pytest.mark.parametrize("X, message", [
    (lambda X: X.to_numpy()[:, :2],
     "X has 2 features, but BayesianMLPClassifier is expecting 3.*; pass the same columns"),
    (lambda X: X.rename(columns={"depth": "weight"}),
     "feature names should match.*weight.*; pass the columns seen at fit time"),
], ids=["feature-count", "column-names"])
@pytest.mark.slow
def test_estimators_refuse_other_features_at_predict_time(fitted, xy, X, message):
    with pytest.raises(InvalidInputError, match=message):
        fitted.predict(X(xy[0]))


def test_unfitted_estimator_says_to_fit_first(xy):
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(X, y\)") as caught:
        BayesianMLPRegressor().predict(xy[0])
    assert isinstance(caught.value, SklearnNotFittedError)  # scikit-learn's checks catch it too


@pytest.mark.slow
def test_estimator_unseen_groups_are_named(xy):
    X, y = xy
    groups = np.where(np.arange(len(y)) % 2, "north", "south")
    model = BayesianMLPClassifier(**TINY).fit(X, y, groups=groups)
    with pytest.raises(InvalidInputError, match="groups not seen in training: 'east'.*"
                                                "unseen_groups='population'"):
        model.predict(X[:2], groups=["north", "east"], unseen_groups="raise")
    with pytest.raises(InvalidInputError, match="predictions need groups="):
        model.predict(X[:2])


# ---------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def files(table, tmp_path_factory):
    """train.csv and variants a user might pass by mistake, and a model fitted on train.csv."""
    folder = tmp_path_factory.mktemp("cli")
    table.to_csv(folder / "train.csv", index=False)
    table.assign(shade="red").to_csv(folder / "text.csv", index=False)
    table.drop(columns=["depth"]).to_csv(folder / "lacking.csv", index=False)
    table.assign(width=table["width"].where(table.index != 4)).to_csv(folder / "gap.csv",
                                                                      index=False)
    table.assign(kind=table["kind"].where(table.index != 6)).to_csv(folder / "no-label.csv",
                                                                    index=False)
    table.assign(kind="big").to_csv(folder / "one-class.csv", index=False)
    table.assign(price=-table.index).to_csv(folder / "negative.csv", index=False)
    table[:0].to_csv(folder / "empty.csv", index=False)
    (folder / "binary.csv").write_bytes(b"\x00\x01\x02 not a table \xff")
    (folder / "parts").mkdir()
    table.to_parquet(folder / "parts" / "part0.parquet")
    return folder


@pytest.fixture(scope="module")
def cli_model(files):
    from pymc_bnn.cli.app import main

    assert main(["fit", str(files / "train.csv"), "--target", "kind", "--exclude",
                 "label,price", "--out", str(files / "kind.bnn.nc"), *TINY_CLI]) == 0
    return files / "kind.bnn.nc"


@pytest.mark.parametrize("args, phrases", [
    (["fit", "train.csv", "--target", "colour"],
     ["train.csv has no column 'colour'; its columns are: height, width, depth, label"]),
    (["fit", "missing.csv", "--target", "kind"], ["no data file at missing.csv; check the path"]),
    (["fit", "parts", "--target", "kind"],
     ["parts is a folder, but this command reads one CSV or Parquet file",
      "`pymc-bnn fit --stream` and `pymc-bnn predict` read a folder of Parquet files"]),
    (["fit", "gap.csv", "--target", "kind", "--missing", "error"],
     ["gap.csv has missing values in 1 row(s) (first: row 4; column(s) width (1)) and the "
      "missing-value policy is 'error'"]),
    (["fit", "no-label.csv", "--target", "kind"],
     ["target column 'kind' is empty in 1 row(s) (first: row 6); drop those rows or fill"]),
    (["fit", "one-class.csv", "--target", "kind"], ["single class", "at least two classes"]),
    (["fit", "negative.csv", "--target", "price", "--likelihood", "poisson", "--exclude", "kind"],
     ["negative or fractional", "use --likelihood gaussian"]),
    (["fit", "empty.csv", "--target", "kind"], ["empty.csv has no rows; pass a table with data"]),
    (["fit", "binary.csv", "--target", "kind"], ["cannot read binary.csv as CSV", "pass a CSV"]),
    (["fit", "train.csv", "--target", "kind", "--hidden", "0"],
     ["every hidden layer needs at least 1 unit", "see pymc-bnn fit --help"]),
    (["fit", "train.csv", "--target", "kind", "--draws", "0"], ["expected a number ≥ 1, got 0"]),
    (["fit", "train.csv", "--target", "kind", "--prior", "ridge"],
     ["argument --prior: invalid choice: 'ridge'", "see pymc-bnn fit --help"]),
    (["demo", "--steps", "0"], ["expected a number ≥ 1", "see pymc-bnn demo --help"]),
    (["demo", "--hidden", "5,zero"], ["comma-separated layer widths such as 5,5"]),
], ids=lambda v: "-".join(v) if isinstance(v, list) and v[0] in ("fit", "demo") else "")
def test_cli_refuses_bad_data_and_settings_in_one_line(files, args, phrases, capsys,
                                                      monkeypatch):
    monkeypatch.chdir(files)
    out = ["--out", "m.bnn.nc"] if args[0] == "fit" else ["--out", "demo"]
    code, _, err = run_cli(capsys, *args, *out)
    assert_one_line_error(code, err, *phrases)
    assert not (files / "m.bnn.nc").exists()


@pytest.mark.parametrize("data, phrases", [
    ("lacking.csv", ["lacking.csv lacks 1 column the model was fitted on: depth; the model "
                     "needs height, width, depth"]),
    ("text.csv", []),  # an extra column is copied to the output, not a feature: it works
])
@pytest.mark.slow
def test_cli_predict_refuses_other_features(files, cli_model, data, phrases, capsys):
    code, _, err = run_cli(capsys, "predict", cli_model, files / data, "--out",
                           files / "pred.csv", "--quiet")
    if not phrases:
        assert code == 0, err
        assert list(pd.read_csv(files / "pred.csv")["shade"].unique()) == ["red"]
        return
    assert_one_line_error(code, err, *phrases)
# appended to tests/reliability/test_bad_input.py


@pytest.fixture(scope="module")
def grouped_cli_model(files, table):
    from pymc_bnn.cli.app import main

    stores = np.array(["north", "south", "east"])[np.arange(len(table)) % 3]
    table.assign(store=stores).to_csv(files / "stores.csv", index=False)
    table.assign(store=np.where(table.index < 3, "west", stores)).to_csv(
        files / "new-stores.csv", index=False)
    table.to_csv(files / "no-stores.csv", index=False)
    assert main(["fit", str(files / "stores.csv"), "--target", "kind", "--groups", "store",
                 "--exclude", "label,price", "--out", str(files / "stores.bnn.nc"),
                 *TINY_CLI]) == 0
    return files / "stores.bnn.nc"


@pytest.mark.parametrize("data, options, phrases", [
    ("new-stores.csv", ["--unseen-groups", "raise"],
     ["groups not seen in training: 'west'", "pass --unseen-groups population"]),
    ("no-stores.csv", [], ["no-stores.csv has no group column 'store'"]),
])
@pytest.mark.slow
def test_cli_predict_names_unseen_or_missing_groups(files, grouped_cli_model, data, options,
                                                    phrases, capsys):
    code, _, err = run_cli(capsys, "predict", grouped_cli_model, files / data, "--out",
                           files / "pred.csv", "--quiet", *options)
    assert_one_line_error(code, err, *phrases)


def test_cli_fit_refuses_a_missing_group_column(files, capsys):
    code, _, err = run_cli(capsys, "fit", files / "train.csv", "--target", "kind", "--groups",
                           "shop", "--out", files / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "train.csv has no group column 'shop'; its columns are")
