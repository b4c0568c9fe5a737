"""`pymc-bnn fit/predict` on a real table: text columns, gaps, dates, identifiers and counts
(issue 20). The tables are built here, shaped like palmerpenguins and the RAND doctor visits;
nothing is downloaded."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from pymc_bnn import BayesianMLPClassifier, load
from pymc_bnn.datasets import penguins_like
from pymc_bnn.io import read_description
from reliability.helpers import assert_one_line_error, run_cli, without_unfinished_fit_note

NUMERIC = ["bill_length_mm", "flipper_length_mm", "body_mass_g"]
TEXT = ["island", "sex"]
FIT = ["--hidden", "4", "--steps", "100", "--draws", "20", "--seed", "0", "--quiet"]
ESTIMATOR = dict(hidden_layer_sizes=(4,), steps=100, draws=20, random_state=0)


def penguins(n: int, seed: int) -> pd.DataFrame:
    """A table like palmerpenguins (`pymc_bnn.datasets.penguins_like`) with gaps in chosen rows:
    bill length and body mass in two rows each, sex in four."""
    table = penguins_like(n, seed)
    for column, rows in (("bill_length_mm", [3, 40]), ("body_mass_g", [3, 77]),
                         ("sex", [3, 8, 9, 50])):
        table.loc[table.index.isin(rows), column] = np.nan
    return table


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    train = penguins(200, seed=1)
    train.to_csv(folder / "penguins.csv", index=False)
    new = penguins(12, seed=2).drop(columns="species")
    new.loc[0, "island"] = "Atlantis"          # a category not seen in training
    new.loc[1, "flipper_length_mm"] = np.nan   # a gap where training had none
    new.loc[2, "sex"] = np.nan                 # a gap where training had some
    new.to_csv(folder / "new.csv", index=False)
    train.assign(seen=pd.date_range("2007-11-01", periods=200).strftime("%Y-%m-%d")).to_csv(
        folder / "dated.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def penguin_model(folder):
    from pymc_bnn.cli.app import main

    assert main(["fit", str(folder / "penguins.csv"), "--target", "species", "--id", "tag",
                 "--out", str(folder / "penguins.bnn.nc"), *FIT,
                 "--draws-precision", "exact"]) == 0  # compared with a Pipeline to 1e-9
    return folder / "penguins.bnn.nc"


@pytest.mark.slow
def test_predict_on_raw_rows_matches_a_scikit_learn_pipeline(folder, penguin_model, capsys):
    code, _, err = run_cli(capsys, "predict", penguin_model, folder / "new.csv", "--out",
                           folder / "pred.csv", "--quiet")
    assert code == 0, err
    assert without_unfinished_fit_note(err).strip() == (
        f"note: {folder / 'new.csv'}: filled 7 missing value(s) (bill_length_mm: 1, "
        "flipper_length_mm: 1, body_mass_g: 1, sex: 4) with the training median (numbers) or "
        "the 'missing' category (text); 1 value(s) in categories not seen in training (island: "
        "'Atlantis') coded as no known category (all-zero one-hot columns, ordinal code -1)")
    predicted = pd.read_csv(folder / "pred.csv")
    assert predicted.columns[0] == "tag"  # --id columns come first

    train = pd.read_csv(folder / "penguins.csv")
    pipeline = Pipeline([
        ("encode", ColumnTransformer([
            ("numeric", SimpleImputer(strategy="median", add_indicator=True), NUMERIC),
            ("text", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                                   OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             TEXT)])),
        ("bnn", BayesianMLPClassifier(**ESTIMATOR)),
    ]).fit(train.drop(columns=["tag", "species"]), train["species"])
    new = pd.read_csv(folder / "new.csv").drop(columns="tag")
    expected = pipeline.predict_proba(new)
    columns = [f"p_{label}" for label in pipeline.classes_]
    np.testing.assert_allclose(predicted[columns].to_numpy(), expected, rtol=0, atol=1e-9)
    # the loaded estimator takes the raw rows in Python too
    np.testing.assert_allclose(load(penguin_model).predict_proba(new), expected, atol=1e-9)

    # and Parquet rows, predicted batch by batch, are coded the same way
    pd.read_csv(folder / "new.csv").to_parquet(folder / "new.parquet")
    code, _, err = run_cli(capsys, "predict", penguin_model, folder / "new.parquet", "--out",
                           folder / "pred_parquet.csv", "--quiet")
    assert code == 0, err
    assert without_unfinished_fit_note(err).strip() == (
        f"note: {folder / 'new.parquet'}: filled 7 missing value(s) (bill_length_mm: 1, "
        "flipper_length_mm: 1, body_mass_g: 1, sex: 4) with the training median (numbers) or "
        "the 'missing' category (text); 1 value(s) in categories not seen in training (island: "
        "'Atlantis') coded as no known category (all-zero one-hot columns, ordinal code -1)")
    pd.testing.assert_frame_equal(pd.read_csv(folder / "pred_parquet.csv"), predicted)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_a_parquet_folder_is_described_over_every_batch_not_the_first(tmp_path, capsys):
    """Read in batches (a file each), every batch is checked: the second file's booleans stored
    as 0/1, its new colour and its gap are counted with the first file's and said once, as
    predicting the rows whole says them, not left to be coded as all-zero one-hots unsaid."""
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"size": rng.normal(size=60), "member": rng.random(60) < 0.5,
                         "colour": rng.choice(["red", "blue"], 60)})
    rows.assign(price=rows["size"] + rows["member"]).to_csv(tmp_path / "train.csv", index=False)
    assert run_cli(capsys, "fit", tmp_path / "train.csv", "--target", "price", "--out",
                   tmp_path / "m.bnn.nc", "--hidden", "2", "--steps", "50", "--draws", "10",
                   "--quiet")[0] == 0
    parts = tmp_path / "parts"
    parts.mkdir()
    first = rows.iloc[:30].copy()
    first.loc[first.index[0], "colour"] = "green"  # batch 1: one unseen category
    first.to_parquet(parts / "part1.parquet")
    second = rows.iloc[30:].astype({"member": int})  # batch 2: member as 0/1, all 30 unseen
    second.loc[second.index[:2], "colour"] = "maybe"
    second.loc[second.index[2], "size"] = np.nan
    second.to_parquet(parts / "part2.parquet")

    code, out, err = run_cli(capsys, "predict", tmp_path / "m.bnn.nc", parts, "--out",
                             tmp_path / "p.csv", "--quiet")
    assert code == 0 and out == "", err
    assert without_unfinished_fit_note(err).strip() == (
        f"note: {parts}: filled 1 missing value(s) (size: 1) with the training median (numbers) "
        "or the 'missing' category (text); 33 value(s) in categories not seen in training "
        "(member: '0', '1'; colour: 'green', 'maybe') coded as no known category (all-zero "
        "one-hot columns, ordinal code -1)")
    assert len(pd.read_csv(tmp_path / "p.csv")) == 60


@pytest.mark.slow
def test_the_model_file_holds_the_coding_as_json_and_no_pickle(folder, penguin_model):
    data = penguin_model.read_bytes()
    assert b"sklearn" not in data and b"\x80\x04\x95" not in data and b"\x80\x05\x95" not in data
    description = read_description(penguin_model)
    coding = description["estimator"]["state"]["table_encoding_"]
    train = pd.read_csv(folder / "penguins.csv")
    assert coding["numeric"] == NUMERIC and coding["categorical"] == TEXT
    assert coding["medians"] == [float(np.nanmedian(train[c])) for c in NUMERIC]
    assert coding["indicators"] == ["bill_length_mm", "body_mass_g"]
    assert coding["categories"] == [["Biscoe", "Dream", "Torgersen"], ["female", "male", "missing"]]
    assert description["notes"]["likelihood_choice"] == {
        "classifier": True, "likelihood": "auto",
        "reason": "text labels (3 distinct values): a classifier"}
    assert description["posterior"]["feature_names"]["__tuple__"][:4] == [
        *NUMERIC, "bill_length_mm_missing"]


@pytest.mark.slow
def test_files_from_before_the_coding_still_load_and_predict(folder, tmp_path):
    """A numeric estimator saved without table_encoding_ (as every file before issue 20)."""
    train = pd.read_csv(folder / "penguins.csv").dropna()
    X, y = train[NUMERIC], train["species"]
    model = BayesianMLPClassifier(**ESTIMATOR).fit(X, y)
    expected = model.predict_proba(X)
    del model.table_encoding_, model._table_transformer
    model.save(tmp_path / "old.bnn.nc")
    assert "table_encoding_" not in read_description(tmp_path / "old.bnn.nc")["estimator"]["state"]
    np.testing.assert_array_equal(load(tmp_path / "old.bnn.nc").predict_proba(X), expected)


@pytest.mark.slow
def test_missing_drop_fits_the_complete_rows(folder, capsys):
    code, _, err = run_cli(capsys, "fit", folder / "penguins.csv", "--target", "species",
                           "--exclude", "tag", "--missing", "drop", "--out",
                           folder / "dropped.bnn.nc", *FIT)
    assert code == 0, err
    model = load(folder / "dropped.bnn.nc")
    assert model.table_encoding_["indicators"] == []  # no gaps left to indicate
    complete = pd.read_csv(folder / "penguins.csv").dropna()
    assert len(complete) == 194
    # the inputs were standardised by the 194 complete rows' means
    np.testing.assert_allclose(model.x_mean_[:3], complete[NUMERIC].mean(), rtol=1e-12)
    code, _, err = run_cli(capsys, "predict", folder / "dropped.bnn.nc", folder / "new.csv",
                           "--out", folder / "dropped.csv")
    assert_one_line_error(code, err, "new.csv has missing values in",
                          "fitted with the missing-value policy 'drop'",
                          "fit again with the policy 'impute'")


def test_missing_error_names_the_gaps_in_one_line(folder, capsys):
    code, _, err = run_cli(capsys, "fit", folder / "penguins.csv", "--target", "species",
                           "--id", "tag", "--missing", "error", "--out", folder / "m.bnn.nc", *FIT)
    assert_one_line_error(
        code, err, "penguins.csv has missing values in 6 row(s) (first: row 3; column(s) "
        "bill_length_mm (2), body_mass_g (2), sex (4)) and the missing-value policy is 'error'; "
        "fill them in, or use the policy 'impute'")
    assert not (folder / "m.bnn.nc").exists()


@pytest.mark.parametrize("options, phrases", [
    (["--id", "tag"], ["dated.csv column(s) seen hold dates or durations",
                       "(X.drop(columns=['seen']); on the command line --exclude seen)"]),
    (["--exclude", "seen"], ["dated.csv column 'tag' has 200 distinct values in 200 rows, "
                             "like an identifier",
          "(X.drop(columns=['tag']); on the command line --id or --exclude tag)"]),
    (["--id", "tag,ring"], ["--id names column(s)", "dated.csv does not have: ring; its "
                                                     "columns are: tag, island"]),
], ids=["date", "identifier", "unknown-id"])
def test_dates_and_identifiers_are_refused_with_the_flag_that_fixes_it(folder, capsys, options,
                                                                       phrases):
    code, _, err = run_cli(capsys, "fit", folder / "dated.csv", "--target", "species",
                           *options, "--out", folder / "m.bnn.nc", *FIT)
    assert_one_line_error(code, err, *phrases)


@pytest.mark.slow
def test_a_count_table_gets_a_count_likelihood_and_says_why(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 300
    age, income, female = rng.normal(size=n), rng.normal(size=n), rng.integers(0, 2, n)
    mu = np.exp(0.9 + 0.5 * age - 0.3 * income + 0.3 * female)
    visits = np.minimum(rng.negative_binomial(1.0, 1.0 / (1.0 + mu)), 30)
    assert 11 <= len(np.unique(visits)) <= 31  # shaped like the RAND doctor visits
    pd.DataFrame({"age": age, "income": income, "sex": np.where(female, "f", "m"),
                  "visits": visits}).to_csv(tmp_path / "visits.csv", index=False)
    code, out, err = run_cli(capsys, "fit", tmp_path / "visits.csv", "--target", "visits",
                             "--out", tmp_path / "visits.bnn.nc", *FIT[:-1])
    assert code == 0, err
    said = " ".join(out.split())
    assert "Target visits: whole numbers 0.." in said
    assert "counts; Pearson dispersion" in said and "overdispersed, negative_binomial" in said
    model = load(tmp_path / "visits.bnn.nc")
    assert model.posterior_.likelihood.name == "negative_binomial"
    choice = json.loads(json.dumps(read_description(tmp_path / "visits.bnn.nc")["notes"]))
    assert choice["likelihood_choice"]["likelihood"] == "negative_binomial"
    mean = model.predict(pd.read_csv(tmp_path / "visits.csv").drop(columns="visits"))
    assert (mean > 0).all()  # a count model's mean, never negative


@pytest.mark.slow  # a fit
def test_a_model_fitted_on_an_array_predicts_a_table_with_its_column_names(tmp_path, capsys):
    """The estimator names an array's columns x0, x1 …: `predict` takes a table with those
    names, and says so when the table has others (it had raised pandas' KeyError)."""
    from pymc_bnn import save

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    model = BayesianMLPClassifier(**ESTIMATOR).fit(X, np.where(X[:, 0] > 0, "a", "b"))
    save(model, tmp_path / "array.bnn.nc")
    pd.DataFrame(X[:5], columns=["x0", "x1", "x2"]).to_csv(tmp_path / "rows.csv", index=False)
    code, _, err = run_cli(capsys, "predict", tmp_path / "array.bnn.nc", tmp_path / "rows.csv",
                           "--out", tmp_path / "pred.csv", "--quiet")
    assert code == 0, err
    predicted = pd.read_csv(tmp_path / "pred.csv")
    np.testing.assert_allclose(predicted[["p_a", "p_b"]].to_numpy(), model.predict_proba(X[:5]),
                               rtol=0, atol=1e-12)
    pd.DataFrame(X[:5], columns=["a", "b", "c"]).to_csv(tmp_path / "named.csv", index=False)
    code, _, err = run_cli(capsys, "predict", tmp_path / "array.bnn.nc", tmp_path / "named.csv",
                           "--out", tmp_path / "pred2.csv")
    assert_one_line_error(code, err, "named.csv lacks 3 columns the model was fitted on: x0, x1, "
                          "x2", "it was fitted on an array: its columns are called x0 … x2 here")


@pytest.mark.slow  # a fit
def test_column_flags_add_up_and_take_a_name_with_a_comma(tmp_path, capsys):
    """A repeated --exclude kept only its last value (so "w" became a feature), and a column
    whose name has a comma or spaces at its ends could not be named at all."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"height, cm": rng.normal(size=60), " note ": rng.normal(size=60),
                          "w": rng.normal(size=60), "id": np.arange(60), "x": rng.normal(size=60)})
    table["y"] = np.where(table.x > 0, "yes", "no")
    table.to_csv(tmp_path / "t.csv", index=False)
    code, _, err = run_cli(capsys, "fit", tmp_path / "t.csv", "--target", "y", "--exclude",
                           "height, cm", "--exclude", " note ", "--exclude", "id,w",
                           "--exclude", "id", "--out", tmp_path / "m.bnn.nc", *FIT)
    assert code == 0, err
    assert list(load(tmp_path / "m.bnn.nc").feature_names_in_) == ["x"]


def test_a_parquet_tables_nullable_labels_stay_as_written():
    """Parquet's nullable booleans and integers reached the classifier as pandas extension
    arrays, which scikit-learn turns into floats: classes 0.0, 1.0 and columns p_0.0, p_1.0
    where the CSV copy of the same table gave False, True."""
    from pymc_bnn.cli.tables import split_target

    table = pd.DataFrame({"x": [0.1, 0.2, 0.3],
                          "flag": pd.array([True, False, True], dtype="boolean"),
                          "grade": pd.array([3, 1, 2], dtype="Int64"),
                          "kind": pd.array(["a", "b", "a"], dtype="string")})
    for target, labels, kind in (("flag", [True, False, True], "b"), ("grade", [3, 1, 2], "i"),
                                 ("kind", ["a", "b", "a"], None)):
        _, y = split_target(table, target, "t.parquet")
        assert y.tolist() == labels
        if kind is not None:  # NumPy's: what scikit-learn keeps as they are
            assert y.dtype.kind == kind and not isinstance(y.dtype, pd.api.extensions.ExtensionDtype)


def test_a_likelihood_the_target_cannot_take_is_refused_in_the_flags_words():
    """--likelihood poisson on text labels said "use BayesianMLPClassifier", categorical on
    real numbers scikit-learn's "Unknown label type: continuous"."""
    from pymc_bnn.cli.tables import choose_estimator
    from pymc_bnn.errors import InvalidInputError

    X = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(InvalidInputError, match=r"--likelihood poisson takes numbers, but the "
                       r"target holds labels \('a', 'b', …\); leave out --likelihood"):
        choose_estimator(X, pd.Series(["a", "b", "a", "b"]), "poisson")
    with pytest.raises(InvalidInputError, match=r"--likelihood categorical takes class labels, "
                       r"but the target holds numbers that are not whole \(0.5, 1.25, 2, …\)"):
        choose_estimator(X, pd.Series([0.5, 1.25, 2.0, 3.0]), "categorical")
    assert choose_estimator(X, pd.Series([1, 0, 2, 1]), "categorical")[1] == "categorical"
    assert choose_estimator(X, pd.Series([1.0, 0.0, 2.0, 1.0]), "bernoulli")[1] == "bernoulli"
