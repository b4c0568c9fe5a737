"""Property-based tests of the faces users touch: the estimators and the `pymc-bnn` CLI.

Random shapes, dtypes (float, int, bool, object, text, complex), NaN/inf patterns, label sets
(text, booleans, a single class, fractions, missing labels) and settings go through
`BayesianMLPClassifier` / `BayesianMLPRegressor` fit and predict, and random CSV tables through
`pymc-bnn fit` and `pymc-bnn predict` (in-process `main(argv)`). Each call works, or raises one
of `pymc_bnn.errors` (the CLI: exit 2 with one line on stderr) — never an internal traceback.

Fits are tiny and valid data keep one shape (8 rows) so the compiled code is reused; example
counts are bounded so the module runs in seconds once compiled.
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, PymcBnnError, load
from reliability.helpers import TINY, run_cli

BOUNDED = dict(deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])
N_ROWS = 8


@st.composite
def feature_tables(draw, messy=True, n_rows=N_ROWS):
    """X as an array or DataFrame of (8, 2) floats; when `messy`, maybe with NaN/inf, another
    dtype, another shape, or a text column."""
    shape, dtype, hole, text = (n_rows, 2), np.float64, None, False
    if messy and draw(st.integers(0, 3)) == 0:
        odd = draw(st.sampled_from(sorted(ODD_FEATURES)))
        return ODD_FEATURES[odd](np.random.default_rng(0).normal(size=(n_rows, 2)))
    if messy:
        shape = draw(st.sampled_from([(n_rows, 2)] * 3 + [(n_rows,), (0, 2), (1, 2),
                                                          (n_rows, 0), (n_rows, 2, 1)]))
        dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.bool_, object,
                                      np.complex128, str]))
        hole = draw(st.sampled_from([None, None, np.nan, np.inf, -np.inf]))
        text = draw(st.integers(0, 4)) == 0
    values = np.random.default_rng(draw(st.integers(0, 3))).normal(size=shape)
    if values.size and hole is not None:
        values.reshape(-1)[draw(st.integers(0, values.size - 1))] = hole
    with np.errstate(invalid="ignore"):
        X = values.astype(dtype)
    if len(shape) == 2 and draw(st.booleans()):
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(shape[1])])
        if text:
            X["colour"] = "red"
    return X


ODD_FEATURES = {
    "sparse": lambda X: __import__("scipy.sparse").sparse.csr_matrix(X),
    "ragged": lambda X: [list(row) for row in X[:-1]] + [[X[-1, 0]]],
    "repeated names": lambda X: pd.DataFrame(X, columns=["f", "f"]),
    "nullable with NA": lambda X: pd.DataFrame(X, columns=["f0", "f1"]).assign(
        f1=pd.array([1, None] * (len(X) // 2), dtype="Int64")),
    "category": lambda X: pd.DataFrame(X, columns=["f0", "f1"]).assign(
        f1=pd.Categorical(["u", "v"] * (len(X) // 2))),
    "datetime": lambda X: pd.DataFrame(X, columns=["f0", "f1"]).assign(
        f1=pd.date_range("2020-01-01", periods=len(X))),
    "integer names": lambda X: pd.DataFrame(X),
}
GOOD_LABELS = [[0, 1], ["a", "b"], ["a", "b", "c"], [True, False], [-3, 0, 4], [2, 5]]
BAD_LABELS = [[0], ["only"], [0.5, 1.5, 2.25], [1, "a"], ["a", None], [0.0, np.nan]]


@st.composite
def targets(draw, messy=True, n_rows=N_ROWS):
    if messy and draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from([
            pd.Series(pd.Categorical(["u", "v"] * (n_rows // 2))),
            pd.array([1, None] * (n_rows // 2), dtype="Int64"),
            np.column_stack([np.arange(n_rows) % 2] * 2),
            [[0, 1]] * n_rows]))
    labels = draw(st.sampled_from(GOOD_LABELS + (BAD_LABELS if messy else [])))
    n = draw(st.sampled_from([n_rows] * 5 + [n_rows - 1])) if messy else n_rows
    mixed = None in labels or len({type(v) for v in labels}) > 1
    return np.array([labels[i % len(labels)] for i in range(n)],
                    dtype=object if mixed else None)


GOOD_SETTINGS = {"hidden_layer_sizes": (2,), "draws": 10, "steps": 50}
BAD_SETTINGS = st.sampled_from([{"hidden_layer_sizes": 0}, {"hidden_layer_sizes": (0,)},
                                {"hidden_layer_sizes": (2, -1)}, {"hidden_layer_sizes": "2"},
                                {"draws": 0}, {"draws": 2.5}, {"draws": -3}, {"steps": 0}])
# What to spoil in one example: nothing (so about half the examples fit), or one or two parts.
SPOILED = st.sampled_from([(), (), (), ("X",), ("X",), ("y",), ("y",), ("settings",),
                           ("X_new",), ("X", "y"), ("y", "settings")])


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


@settings(max_examples=20, **BOUNDED)
@given(data=st.data(), spoiled=SPOILED,
       kind=st.sampled_from([("classifier", "auto"), ("classifier", "auto"),
                             ("classifier", "categorical"), ("regressor", "gaussian"),
                             ("regressor", "poisson"), ("classifier", "gaussian"),
                             ("regressor", "bernoulli")]))
@pytest.mark.slow
def test_estimators_work_or_raise_our_errors(data, spoiled, kind):
    X = data.draw(feature_tables(messy="X" in spoiled), label="X")
    y = data.draw(targets(messy="y" in spoiled), label="y")
    options = dict(GOOD_SETTINGS)
    if "settings" in spoiled:
        options.update(data.draw(BAD_SETTINGS, label="settings"))
    X_new = data.draw(feature_tables(messy="X_new" in spoiled), label="X_new")
    estimator_class = BayesianMLPClassifier if kind[0] == "classifier" else BayesianMLPRegressor
    model = estimator_class(**{**TINY, **options, "likelihood": kind[1]})
    try:
        _quiet(lambda: model.fit(X, y))
    except PymcBnnError as exc:
        assert str(exc)
        event(f"fit refused: {type(exc).__name__}")
        return
    event(f"fitted {kind}")
    assert np.shape(X) == (N_ROWS, 2) and len(y) == N_ROWS
    prediction = _quiet(lambda: model.predict(X))
    assert prediction.shape == (N_ROWS,)
    if kind[0] == "classifier":
        assert set(prediction) <= set(model.classes_) and len(model.classes_) >= 2
    try:
        again = _quiet(lambda: model.predict(X_new))
        event("predicted new X")
        assert again.shape == (np.shape(X_new)[0],)
    except PymcBnnError:
        event("predict refused")
    y_new = data.draw(targets(messy=True), label="y_new")
    try:
        score = _quiet(lambda: model.score(X, y_new))
        assert np.isfinite(score) or kind[0] == "regressor"
    except PymcBnnError:
        event("score refused")


# ---------------------------------------------------------------------------- the CLI

EXTRA_COLUMNS = {
    "none": lambda n, rng: None,
    "text": lambda n, rng: ["red"] * n,
    "gap": lambda n, rng: np.where(np.arange(n) == 1, np.nan, rng.normal(size=n)),
    "bool": lambda n, rng: np.arange(n) % 2 == 0,
    "empty": lambda n, rng: [None] * n,
}
TARGETS = {
    "binary": lambda n: np.arange(n) % 2,
    "text": lambda n: np.array(["cat", "dog", "bird"])[np.arange(n) % 3],
    "single": lambda n: np.zeros(n, dtype=int),
    "real": lambda n: np.linspace(-1.0, 2.0, n) ** 2,
    "gap": lambda n: np.where(np.arange(n) == 2, np.nan, np.arange(n) % 2),
    "bool": lambda n: np.arange(n) % 3 == 0,
    "absent": lambda n: None,
}


@st.composite
def csv_tables(draw):
    """CSV text: two numeric columns a, b, maybe an extra column, and a target column y;
    about half the tables are usable."""
    usable = draw(st.booleans())
    n = N_ROWS if usable else draw(st.sampled_from([N_ROWS, 0, 1]))
    rng = np.random.default_rng(draw(st.integers(0, 3)))
    table = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    extra = draw(st.sampled_from(["none"] if usable else sorted(EXTRA_COLUMNS)))
    if (column := EXTRA_COLUMNS[extra](n, rng)) is not None:
        table["extra"] = column
    target = draw(st.sampled_from(["binary", "real", "bool"] if usable
                                  else sorted(TARGETS)))
    if (column := TARGETS[target](n)) is not None:
        table["y"] = column
    return table.to_csv(index=False)


def _assert_works_or_one_line(code, err):
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith(("error: ", "pymc-bnn")), err


@settings(max_examples=12, **BOUNDED)
@given(text=csv_tables(), new_text=csv_tables(),
       likelihood=st.sampled_from(["auto"] * 4 + ["bernoulli", "gaussian", "poisson"]))
@pytest.mark.slow
def test_cli_fit_and_predict_work_or_exit_2_in_one_line(text, new_text, likelihood, capsys):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "train.csv").write_text(text)
        (folder / "new.csv").write_text(new_text)
        code, _, err = _quiet(lambda: run_cli(
            capsys, "fit", folder / "train.csv", "--target", "y", "--out", folder / "m.bnn.nc",
            "--likelihood", likelihood, "--hidden", "2", "--steps", "50", "--draws", "10",
            "--quiet"))
        _assert_works_or_one_line(code, err)
        if code == 2:
            event("fit refused")
            assert not (folder / "m.bnn.nc").exists()
            return
        event("fitted")
        assert type(load(folder / "m.bnn.nc")).__name__.startswith("BayesianMLP")
        code, _, err = _quiet(lambda: run_cli(
            capsys, "predict", folder / "m.bnn.nc", folder / "new.csv", "--out",
            folder / "pred.csv", "--quiet"))
        _assert_works_or_one_line(code, err)
        event("predicted" if code == 0 else "predict refused")
        if code == 0:
            assert len(pd.read_csv(folder / "pred.csv")) == len(pd.read_csv(folder / "new.csv"))


@pytest.mark.parametrize("argv", [
    ["fit"], ["fit", "x.csv"], ["predict", "m.nc"], ["fit", "x.csv", "--target", "y", "--out",
                                                     "m", "--steps", "-1"],
    ["demo", "--method", "magic"], ["nonsense"], ["fit", "x.csv", "--target", "y", "--out", "m",
                                                  "--hidden", "2,,x"],
])
def test_cli_usage_errors_are_one_line(argv, capsys):
    code, _, err = run_cli(capsys, *argv)
    _assert_works_or_one_line(code, err)
    assert code == 2 and "--help" in err


GROUP_LABELS = st.sampled_from([["north", "south"], [1, 2], [("shop", 1), ("shop", 2)],
                                [True, False], [0.5, 1.5]])
ODD_GROUPS = st.sampled_from([[None, "a"], [np.nan, 1.0], [{}, {}], [[1], [2]], "store",
                              "colour"])


@st.composite
def group_labels(draw, n_rows, messy):
    """n_rows labels from two groups; when `messy`, missing or odd labels, a wrong length,
    or a column name."""
    labels = draw(ODD_GROUPS if messy else GROUP_LABELS)
    if isinstance(labels, str):
        return labels
    n = draw(st.sampled_from([n_rows, n_rows - 1])) if messy else n_rows
    return [labels[i % 2] for i in range(n)]


@pytest.fixture(scope="module")
def frame_with_store():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(N_ROWS, 2)), columns=["f0", "f1"]).assign(
        store=["north", "south"] * (N_ROWS // 2))


@settings(max_examples=15, **BOUNDED)
@given(data=st.data(), messy_fit=st.booleans(), pooling=st.sampled_from(["partial", "complete"]),
       unseen_groups=st.sampled_from(["population", "raise"]))
@pytest.mark.slow
def test_grouped_estimators_work_or_raise_our_errors(frame_with_store, data, messy_fit, pooling,
                                                     unseen_groups):
    """Random group labels (types, missing values, lengths, column names) at fit and at
    predict time, where unseen labels are predicted from the population or refused by name."""
    groups = data.draw(group_labels(N_ROWS, messy_fit), label="groups")
    model = BayesianMLPClassifier(**{**TINY, "pooling": pooling})
    X = frame_with_store if groups == "store" else frame_with_store.drop(columns="store")
    try:
        _quiet(lambda: model.fit(X, np.arange(N_ROWS) % 2, groups=groups))
    except PymcBnnError as exc:
        assert messy_fit, exc
        event(f"fit refused: {type(exc).__name__}")
        return
    event(f"fitted with {pooling} pooling")
    new_groups = data.draw(st.one_of(group_labels(3, True), group_labels(3, False),
                                     st.lists(st.sampled_from(["north", "west", 7, ("shop", 3)]),
                                              min_size=3, max_size=3)), label="new groups")
    X_new = frame_with_store.iloc[:3] if new_groups == "store" else X.iloc[:3]
    try:
        proba = _quiet(lambda: model.predict_proba(X_new, groups=new_groups,
                                                   unseen_groups=unseen_groups))
    except PymcBnnError as exc:
        event(f"predict refused: {type(exc).__name__}")
        return
    event("predicted")
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0)
