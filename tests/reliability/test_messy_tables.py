"""Tables as users bring them, where an internal exception once reached the user or a wrong
model was fitted without a word: a Parquet folder whose files differ, an output written into the
input folder, held-out targets a report could not score, a number column with a typo as the
target, labels that mix numbers and text. Each gets one line naming the problem and the fix."""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import BayesianMLPClassifier
from pymc_bnn.cli.app import main
from pymc_bnn.errors import InvalidInputError
from reliability.helpers import TINY, TINY_CLI, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def files(trained_files):
    return trained_files


def _folder(tmp_path, table, second):
    folder = tmp_path / "parts"
    folder.mkdir()
    table.iloc[:20].to_parquet(folder / "a.parquet")
    second(table.iloc[20:]).to_parquet(folder / "b.parquet")
    return folder


def test_a_parquet_folder_whose_files_differ_in_columns_is_named(capsys, tmp_path, files, table):
    data, model = files
    lacking = _folder(tmp_path, table[["height", "width", "depth"]],
                      lambda part: part.drop(columns="width"))
    code, _, err = run_cli(capsys, "predict", model, lacking, "--out", tmp_path / "p.csv")
    assert_one_line_error(code, err, "the files of", "differ in their columns",
                          "b.parquet lacks width", "give every file of the folder the same")
    (tmp_path / "renamed").mkdir()
    table.iloc[:20].to_parquet(tmp_path / "renamed" / "a.parquet")
    table.iloc[20:].rename(columns={"depth": "DEPTH"}).to_parquet(
        tmp_path / "renamed" / "b.parquet")
    code, _, err = run_cli(capsys, "fit", tmp_path / "renamed", "--target", "label", "--stream",
                           "--out", tmp_path / "s.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "b.parquet lacks depth; adds DEPTH")


def test_a_broken_parquet_file_is_named_with_arrows_cause_not_a_traceback(capsys, tmp_path,
                                                                          files, table):
    # a folder whose second file was cut short (a copy that failed) ended `fit --stream` in
    # Arrow's traceback; one broken file was "cannot read … (ArrowInvalid: Error creating
    # dataset. Could not read schema from '/tmp/…" cut at 150 characters, before the cause
    data, model = files
    folder = _folder(tmp_path, table, lambda part: part)
    whole = (folder / "b.parquet").read_bytes()
    (folder / "b.parquet").write_bytes(whole[: len(whole) // 2])
    code, _, err = run_cli(capsys, "fit", folder, "--target", "label", "--stream",
                           "--out", tmp_path / "s.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "b.parquet: Parquet magic bytes not found in footer",
                          "(ArrowInvalid); replace or remove that file")
    assert not (tmp_path / "s.bnn.nc").exists()
    code, _, err = run_cli(capsys, "predict", model, folder / "b.parquet",
                           "--out", tmp_path / "p.csv")
    assert_one_line_error(code, err, "b.parquet as Parquet: Parquet magic bytes not found in "
                          "footer", "this is not a parquet file (ArrowInvalid); replace the file")


def test_the_same_columns_in_another_order_are_read_by_name(capsys, tmp_path, files, table):
    data, model = files
    folder = _folder(tmp_path, table[["height", "width", "depth"]],
                     lambda part: part[["depth", "height", "width"]])
    code, _, err = run_cli(capsys, "predict", model, folder, "--out", tmp_path / "p.csv",
                           "--quiet")
    assert code == 0, err
    whole = tmp_path / "whole.csv"
    table[["height", "width", "depth"]].to_csv(whole, index=False)
    assert run_cli(capsys, "predict", model, whole, "--out", tmp_path / "w.csv", "--quiet")[0] == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["p_1"],
                               pd.read_csv(tmp_path / "w.csv")["p_1"])


def test_an_output_inside_the_input_folder_is_refused(capsys, tmp_path, files, table):
    data, model = files
    folder = _folder(tmp_path, table[["height", "width", "depth"]], lambda part: part)
    for out in (folder / "predictions.parquet", folder / "deeper" / "p.csv"):
        code, _, err = run_cli(capsys, "predict", model, folder, "--out", out, "--force")
        assert_one_line_error(code, err, "is inside the input folder DATA",
                              "choose an --out path outside it")
    assert sorted(p.name for p in folder.iterdir()) == ["a.parquet", "b.parquet"]


@pytest.fixture(scope="module")
def count_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("counts")
    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"x": rng.normal(size=60)})
    rows["visits"] = rng.poisson(np.exp(0.5 + 0.5 * rows["x"]))
    rows.to_csv(folder / "visits.csv", index=False)
    model = folder / "visits.bnn.nc"
    assert main(["fit", str(folder / "visits.csv"), "--target", "visits", "--likelihood",
                 "count", "--out", str(model), *TINY_CLI]) == 0
    return rows, model


@pytest.mark.parametrize("value, problem", [
    (-1.0, "must hold counts (0, 1, 2, ...)"), (2.5, "must hold counts (0, 1, 2, ...)"),
    ("many", "must hold finite numbers"), (np.inf, "must hold finite numbers"),
])
@pytest.mark.slow
def test_a_report_refuses_a_held_out_target_the_model_cannot_score(capsys, tmp_path,
                                                                   count_model, value, problem):
    rows, model = count_model
    held_out = rows.iloc[:20].astype({"visits": object})
    held_out.loc[3, "visits"] = value
    held_out.to_csv(tmp_path / "held_out.csv", index=False)
    code, _, err = run_cli(capsys, "report", model, tmp_path / "held_out.csv", "--out",
                           tmp_path / "r.html")
    assert_one_line_error(code, err, "held_out.csv: the target column 'visits'", problem,
                          "in row 3", "fix or drop those rows")


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_a_report_scores_whole_number_labels_written_as_floats(capsys, tmp_path, files, table):
    """A tool that writes an integer column with gaps as floats (1.0): the same classes."""
    data, model = files
    as_ints, as_floats = tmp_path / "ints.csv", tmp_path / "floats.csv"
    held_out = table[["height", "width", "depth", "label"]]
    held_out.to_csv(as_ints, index=False)
    held_out.astype({"label": float}).to_csv(as_floats, index=False)
    pages = []
    for path in (as_ints, as_floats):
        code, _, err = run_cli(capsys, "report", model, path, "--out", path.with_suffix(".html"),
                               "--quiet")
        assert code == 0 and "warning" not in err, err
        pages.append(path.with_suffix(".html").read_text())
    accuracy = [page.split("accuracy</td><td>")[1].split("<")[0] for page in pages]
    assert accuracy[0] == accuracy[1]


def test_a_number_target_with_a_typo_is_not_made_a_classifier(capsys, tmp_path, table):
    rows = table[["height", "width", "price"]].astype({"price": object})
    rows.loc[5, "price"] = "unknown"
    rows.to_csv(tmp_path / "prices.csv", index=False)
    code, _, err = run_cli(capsys, "fit", tmp_path / "prices.csv", "--target", "price", "--out",
                           tmp_path / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "the target holds numbers (39 distinct) except in 1 row(s)",
                          "'unknown'", "first: row 5", "fix or drop those rows")
    assert not (tmp_path / "m.bnn.nc").exists()
    # every price a number, stored as text (Parquet strings): a class per number before
    rows.loc[5, "price"] = "3.5"
    rows.astype({"price": str}).to_parquet(tmp_path / "prices.parquet")
    code, _, err = run_cli(capsys, "fit", tmp_path / "prices.parquet", "--target", "price",
                           "--out", tmp_path / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "the target holds numbers stored as text (", "distinct",
                          "--likelihood gaussian", "--likelihood categorical")
    assert not (tmp_path / "m.bnn.nc").exists()


@pytest.mark.parametrize("labels", [["no", 1] * 20, [1] * 20 + ["no"] * 20])
def test_labels_mixing_numbers_and_text_are_refused(table, labels):
    with pytest.raises(InvalidInputError, match=r"y mixes numbers and text as labels \(e.g. 1 "
                                                r"and 'no'\)"):
        BayesianMLPClassifier(**TINY).fit(table[["height", "width"]], pd.Series(labels))


def test_a_number_feature_with_placeholders_is_not_coded_as_categories(capsys, tmp_path, table):
    """UCI-style "?" among numbers: as text, one category per number (and 70 at predict time
    a category never seen for "70.0"). Refused with both fixes; naming it categorical keeps
    the categories."""
    rows = table[["height", "width", "label"]].astype({"height": object})
    rows.loc[[3, 7], "height"] = "?"
    rows.to_csv(tmp_path / "uci.csv", index=False)
    code, _, err = run_cli(capsys, "fit", tmp_path / "uci.csv", "--target", "label", "--out",
                           tmp_path / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "column 'height' of", "holds numbers except 2 value(s)",
                          "('?'; first: row 3)", "leave those cells empty",
                          "--categorical height")
    code, _, err = run_cli(capsys, "fit", tmp_path / "uci.csv", "--target", "label", "--out",
                           tmp_path / "m.bnn.nc", "--categorical", "height", *TINY_CLI)
    assert code == 0, err
    with pytest.raises(InvalidInputError, match=r"categorical=\['height'\]"):
        BayesianMLPClassifier(**TINY).fit(rows[["height", "width"]], rows["label"])


def test_numbers_stored_as_text_are_refused_not_coded_as_categories(capsys, tmp_path, table):
    """A Parquet column of number strings ("3.50 ", "12.1") was one-hot coded with a category
    per number (64 inputs where its CSV copy gave 17, and over 50 numbers were called "an
    identifier or free text"). Refused with both fixes; few distinct numbers stay codes."""
    rows = table[["height", "width", "label"]].astype({"height": str})
    rows["height"] = rows["height"] + " "
    rows.to_parquet(tmp_path / "text.parquet")
    code, _, err = run_cli(capsys, "fit", tmp_path / "text.parquet", "--target", "label",
                           "--out", tmp_path / "m.bnn.nc", *TINY_CLI)
    assert_one_line_error(code, err, "column 'height' of", "holds numbers stored as text (",
                          "pandas.to_numeric", "--categorical height")
    assert "--categorical[" not in err  # the Python fix is not rewritten into a broken flag
    assert not (tmp_path / "m.bnn.nc").exists()
    codes = rows.assign(height=np.where(table["height"] > 0, "1", "2"))
    BayesianMLPClassifier(**TINY).fit(codes[["height", "width"]], codes["label"])


def test_tables_saved_the_usual_wrong_ways_get_the_fix(capsys, tmp_path, table):
    """A saved pandas index, Excel's semicolon CSV with decimal commas, a Latin-1 CSV, the target
    named in --exclude. (A semicolon CSV with decimal points is read as it is.)"""
    rows = table[["height", "width", "label"]]
    rows.to_csv(tmp_path / "indexed.csv")  # index=True: an unnamed first column
    rows.to_csv(tmp_path / "semicolons.csv", sep=";", decimal=",", index=False)
    (tmp_path / "latin1.csv").write_bytes("café,label\n1,0\n2,1\n".encode("latin-1"))
    rows.to_csv(tmp_path / "plain.csv", index=False)
    out = ["--out", tmp_path / "m.bnn.nc", *TINY_CLI]
    cases = [
        (["indexed.csv"], ["without a name (Unnamed: 0", "--exclude 'Unnamed: 0'"]),
        (["semicolons.csv"], ["column 'height' of", "holds numbers written with decimal commas",
                              "pass --decimal ','"]),
        (["latin1.csv"], ["UnicodeDecodeError", "--encoding cp1252", "save it as UTF-8"]),
        (["plain.csv", "--exclude", "label"], ["--exclude names the target column 'label'"]),
    ]
    for (name, *more), phrases in cases:
        code, _, err = run_cli(capsys, "fit", tmp_path / name, "--target", "label", *more, *out)
        assert_one_line_error(code, err, *phrases)


def test_a_pipeline_handing_on_a_sparse_one_hot_matrix_fits():
    """A ColumnTransformer with a OneHotEncoder hands on a SciPy sparse matrix (as
    scikit-learn's MLP accepts); it is made dense, and predicts as the dense matrix does."""
    import scipy.sparse
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"city": rng.choice(list("abcdefgh"), 60), "x": rng.normal(size=60)})
    y = (rows["x"] > 0).astype(int)
    sparse = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["city"]), remainder="passthrough",
                                sparse_threshold=1.0),
        BayesianMLPClassifier(**TINY)).fit(rows, y)
    coded = sparse[0].transform(rows)
    assert scipy.sparse.issparse(coded)
    dense = BayesianMLPClassifier(**TINY).fit(coded.toarray(), y)
    np.testing.assert_allclose(sparse.predict_proba(rows), dense.predict_proba(coded.toarray()))


def test_an_estimator_warns_of_categories_it_never_saw():
    """A true/false column given as 0/1 at predict time is all-zero one-hot columns: the
    estimator says so (the command line notes it in its own words and silences this)."""
    from pymc_bnn import UnseenCategoryWarning

    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"member": rng.random(40) > 0.5, "x": rng.normal(size=40)})
    model = BayesianMLPClassifier(**TINY).fit(rows, rows["x"] > 0)
    with pytest.warns(UnseenCategoryWarning, match=r"member: '0', '1'"):
        model.predict_proba(rows.assign(member=rows["member"].astype(int)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnseenCategoryWarning)
        model.predict_proba(rows)  # the same spelling: no warning


def test_rows_to_predict_come_as_an_array_of_text_or_garbage_in_a_number_column(capsys,
                                                                                tmp_path):
    """A model fitted on a table with text: an object array of the same columns predicts as the
    DataFrame does; one row as a Series is refused with scikit-learn's fix; text that is not a number in
    a number column ("forty") is refused, not filled as if missing ("n/a" is filled)."""
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"city": rng.choice(["Oslo", "Rome"], 40), "x": rng.normal(size=40)})
    model = BayesianMLPClassifier(**TINY).fit(rows, rows["x"] > 0)
    np.testing.assert_array_equal(model.predict_proba(rows.to_numpy()),
                                  model.predict_proba(rows))
    with pytest.raises(InvalidInputError, match=r"Expected a 2-dimensional container.*Pass a "
                                                r"DataFrame containing a single row"):
        model.predict_proba(rows.iloc[0])
    garbage = rows.iloc[:3].astype({"x": object})
    garbage.loc[1, "x"] = "forty"
    with pytest.raises(InvalidInputError, match=r"column 'x' of X holds text where the model "
                                                r"takes numbers \(1 value\(s\); first: 'forty'"):
        model.predict_proba(garbage)
    garbage.loc[1, "x"] = "n/a"
    assert np.isfinite(model.predict_proba(garbage)).all()
    truth = rows.iloc[:3].astype({"x": object})
    truth.loc[1, "x"] = True  # read as 1.0 without a word before
    with pytest.raises(InvalidInputError, match=r"column 'x' of X holds True/False where the "
                                                r"model was fitted on numbers \(1 value\(s\); "
                                                r"first: True in row 1\)"):
        model.predict_proba(truth)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_an_empty_table_to_predict_and_lookalike_classes_are_named():
    rows = pd.DataFrame({"a": np.arange(30.0)})
    labels = ["yes", "yes ", "no"] * 10
    with pytest.warns(UserWarning, match=r"the classes 'yes' and 'yes ' differ only in spaces"):
        model = BayesianMLPClassifier(**TINY).fit(rows, labels)
    assert list(model.classes_) == ["no", "yes", "yes "]  # fitted as asked, with the warning
    with pytest.raises(InvalidInputError, match=r"X is empty \(0 rows\); pass at least one row"):
        model.predict_proba(rows.iloc[:0])


@pytest.mark.parametrize("name, said", [("sales.xlsx", "is a spreadsheet"),
                                        ("rows.json", "is JSON"),
                                        ("frame.pkl", "is a pickle"),
                                        ("sales.xlsx.gz", "is a spreadsheet")])
def test_a_table_in_a_format_we_do_not_read_is_named_with_the_fix(tmp_path, name, said):
    """An Excel file was "cannot read … as CSV (UnicodeDecodeError …)" and a JSON file
    "has no rows"."""
    from pymc_bnn.cli.table_files import read_table

    (tmp_path / name).write_bytes(b'PK\x03\x04[{"a": 1}]')
    with pytest.raises(InvalidInputError, match=f"{name} {said}, which pymc-bnn does not read; "
                                                "save the table as CSV or Parquet"):
        read_table(tmp_path / name)
