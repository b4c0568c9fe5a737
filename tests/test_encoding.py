"""pymc_bnn.encoding: a real table coded exactly as scikit-learn's own ColumnTransformer codes
it, kept as plain JSON and rebuilt from it."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from pymc_bnn.encoding import (
    TableEncoding,
    apply_encoding,
    build_transformer,
    encode,
    learn_encoding,
)
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.new_rows import count_new_rows, describe_new_row_counts, describe_new_rows

NUMERIC = ["bill", "mass"]
TEXT = ["island", "sex"]


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    n = 40
    table = pd.DataFrame({"island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
                          "bill": rng.normal(40, 5, n), "mass": rng.normal(4000, 500, n).round(),
                          "sex": rng.choice(["male", "female"], n)})
    table.loc[[1, 5], "bill"] = np.nan
    table.loc[[2, 7], "sex"] = np.nan
    return table


def scikit_learn_reference():
    """The ColumnTransformer a scikit-learn user writes for such a table."""
    return ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median", add_indicator=True), NUMERIC),
        ("text", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                               OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
         TEXT)])


def test_the_coding_is_scikit_learns_and_survives_json(table):
    encoding = learn_encoding(table)
    rebuilt = TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict())))
    assert rebuilt == encoding
    assert encoding.numeric == tuple(NUMERIC) and encoding.categorical == tuple(TEXT)
    assert encoding.medians == (np.nanmedian(table["bill"]), np.median(table["mass"]))
    assert encoding.indicators == ("bill",)  # mass had no gaps: no indicator column
    assert encoding.categories == (("Biscoe", "Dream", "Torgersen"), ("female", "male", "missing"))
    assert encoding.feature_names == (
        "bill", "mass", "bill_missing", "island=Biscoe", "island=Dream", "island=Torgersen",
        "sex=female", "sex=male", "sex=missing")
    reference = scikit_learn_reference().fit(table)
    new = table.head(4).copy()
    new.loc[0, "island"] = "Atlantis"  # unseen category
    new.loc[1, "mass"] = np.nan       # missing where training had no gaps
    for rows in (table, new):
        np.testing.assert_array_equal(encode(build_transformer(rebuilt), rebuilt, rows),
                                      reference.transform(rows))


def test_new_rows_get_the_documented_treatment(table):
    encoding = learn_encoding(table)
    new = table.iloc[10:13].reset_index(drop=True)  # rows without gaps
    new.loc[0, "island"] = "Atlantis"
    new.loc[1, "mass"] = np.nan
    coded = pd.DataFrame(encode(build_transformer(encoding), encoding, new),
                         columns=encoding.feature_names)
    assert coded.loc[0, ["island=Biscoe", "island=Dream", "island=Torgersen"]].tolist() == [0, 0, 0]
    assert coded.loc[1, "mass"] == encoding.medians[1]
    assert describe_new_rows(encoding, new) == (
        "filled 1 missing value(s) (mass: 1) with the training median (numbers) or the "
        "'missing' category (text); 1 value(s) in categories not seen in training (island: "
        "'Atlantis') coded as no known category (all-zero one-hot columns, ordinal code -1)")
    assert describe_new_rows(encoding, table.dropna().head(3)) is None


def test_counts_added_batch_by_batch_describe_the_rows_as_a_whole(table):
    """A file read in batches: each batch's counts added up say what the whole rows say."""
    encoding = learn_encoding(table)
    new = table.copy()
    new.loc[[3, 30], "island"] = ["Atlantis", "Mu"]  # one unseen category in each half
    new.loc[[4, 25, 26], "mass"] = np.nan
    counts = None
    for start in range(0, len(new), 16):  # batches of 16, 16 and 8 rows
        counts = count_new_rows(encoding, new.iloc[start:start + 16], counts)
    assert describe_new_row_counts(counts) == describe_new_rows(encoding, new)
    assert "filled 7 missing value(s) (bill: 2, mass: 3, sex: 2)" in describe_new_rows(
        encoding, new)
    assert "2 value(s) in categories not seen in training (island: 'Atlantis', 'Mu')" in (
        describe_new_rows(encoding, new))


def test_ordinal_codes_follow_the_categories_order():
    sizes = pd.Categorical(["small", "large", None, "medium"],
                           categories=["small", "medium", "large"], ordered=True)
    frame = pd.DataFrame({"size": sizes, "x": [1.0, 2.0, 3.0, 4.0]})
    encoding = learn_encoding(frame, ordinal=["size"])
    assert encoding.ordinal_categories == (("small", "medium", "large", "missing"),)
    new = pd.DataFrame({"size": ["large", "huge", None], "x": [1.0, 2.0, 3.0]})
    coded = encode(build_transformer(encoding), encoding, new)
    np.testing.assert_array_equal(coded[:, -1], [2, -1, 3])  # huge is unseen: -1


def test_numeric_codes_named_categorical_are_one_category_with_or_without_gaps():
    frame = pd.DataFrame({"zip": [10115, 20095, 10115, 80331], "x": [0.0, 1.0, 2.0, 3.0]})
    encoding = learn_encoding(frame, categorical=["zip"])
    assert encoding.categories == (("10115", "20095", "80331"),)
    with_gap = pd.DataFrame({"zip": [80331.0, np.nan], "x": [0.0, 1.0]})  # read back as floats
    coded = encode(build_transformer(encoding), encoding, with_gap)
    np.testing.assert_array_equal(coded[:, 1:], [[0, 0, 1], [0, 0, 0]])


@pytest.mark.parametrize("make, options, message", [
    (lambda t: t.assign(day=pd.date_range("2024-01-01", periods=len(t))), {},
     r"X column\(s\) day hold dates or durations.*\(X.drop\(columns=\['day'\]\); on the "
     r"command line --exclude day\)"),
    (lambda t: t.assign(day="2024-01-05"), {}, r"X column\(s\) day hold dates"),
    (lambda t: t.assign(name=[f"bird {i}" for i in range(len(t))]).pipe(
        lambda t: pd.concat([t] * 3, ignore_index=True).assign(
            name=[f"bird {i}" for i in range(3 * len(t))])), {},
     "column 'name' has 120 distinct values in 120 rows, like an identifier"),
    (lambda t: t.assign(empty=np.nan), {}, r"X column\(s\) empty hold no values"),
    (lambda t: t, {"missing": "error"},
     r"X has missing values in 4 row\(s\) \(first: row 1; column\(s\) bill \(2\), sex \(2\)\) "
     "and the missing-value policy is 'error'; fill them in"),
    (lambda t: t, {"categorical": ["colour"]},
     "categorical names column.s. X does not have: colour"),
], ids=["datetime", "date-text", "identifier", "empty", "missing-error", "unknown-role"])
def test_tables_it_cannot_code_are_refused_with_the_fix(table, make, options, message):
    with pytest.raises(InvalidInputError, match=message):
        learn_encoding(make(table), **options)


@pytest.mark.parametrize("change, message", [
    ({"medians": [1.0]}, "medians must be one finite number per numeric column"),
    ({"categories": [["a"], []]}, "categories must be 2 non-empty lists of text"),
    ({"numeric": ["bill"], "medians": [1.0]}, "roles must name each column exactly once"),
    ({"missing": "guess"}, "missing must be one of impute, drop, error"),
])
def test_a_damaged_encoding_is_named(table, change, message):
    with pytest.raises(ValueError, match=message):
        TableEncoding.from_dict({**learn_encoding(table).to_dict(), **change})


def _mixed_table(rng, n):
    """Every kind of column the encoding codes, each with gaps: numbers (some text among them),
    numeric codes, text, booleans, an ordered pandas Categorical and unordered text codes."""
    table = pd.DataFrame({
        "x": rng.normal(size=n), "code": rng.integers(0, 4, n).astype(float),
        "city": rng.choice(["Oslo", "Rome", "Lima"], n).astype(object),
        "flag": rng.choice([True, False], n).astype(object),
        "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"],
                               ordered=True),
        "grade": rng.choice(["a", "b", "c"], n).astype(object)})
    for column in table.columns:
        table.loc[rng.random(n) < 0.15, column] = np.nan
    return table


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_train=st.integers(4, 30), n_new=st.integers(1, 20))
def test_applying_a_saved_encoding_without_scikit_learn_gives_its_numbers(seed, n_train, n_new):
    """`apply_encoding` (what `pymc-bnn predict` uses) equals the ColumnTransformer bit for bit,
    on new rows with gaps, unseen categories and text in a numeric column."""
    rng = np.random.default_rng(seed)
    train = _mixed_table(rng, n_train)
    for column, value in {"x": 0.5, "code": 1.0, "city": "Oslo", "flag": True, "size": "S",
                          "grade": "a"}.items():
        if train[column].isna().all():  # an empty column is refused, not coded
            train.loc[0, column] = value
    encoding = learn_encoding(train, categorical=["code"], ordinal=["size", "grade"])
    new = _mixed_table(rng, n_new).astype({"x": object})
    new.loc[rng.random(n_new) < 0.2, "city"] = "Paris"  # unseen categories
    new.loc[rng.random(n_new) < 0.2, "grade"] = "z"
    new.loc[rng.random(n_new) < 0.2, "code"] = 9.0
    new.loc[rng.random(n_new) < 0.2, "x"] = "n/a"  # text in a numeric column: a gap
    for rows in (train, new):
        np.testing.assert_array_equal(apply_encoding(encoding, rows),
                                      encode(build_transformer(encoding), encoding, rows))


def test_an_infinite_number_is_named_not_encoded(table):
    encoding = learn_encoding(table)
    table.loc[3, "mass"] = np.inf
    with pytest.raises(InvalidInputError,
                       match=r"new.csv column mass holds an infinite value \(first: row 3\)"):
        apply_encoding(encoding, table, name="new.csv")


# --------------------------------------------------------------------------- generated names


def _clashing_tables():
    """Tables whose own column names are unique but equal a name the encoding generates: a
    `<col>_missing` flag next to the column it flags, and a numeric column named like a
    one-hot column (`c=x` next to a text column `c` holding "x")."""
    rng = np.random.default_rng(0)
    n = 60
    income = rng.normal(size=n)
    income[::7] = np.nan
    flagged = pd.DataFrame({"income": income,
                            "income_missing": np.isnan(income).astype(int)})
    onehot = pd.DataFrame({"c": rng.choice(["x", "y"], n), "c=x": rng.normal(size=n)})
    y = (rng.normal(size=n) > 0).astype(int)
    return {"indicator": (flagged, ("income", "income_missing", "income_missing (indicator)"), y),
            "one-hot": (onehot, ("c=x", "c=x (one-hot)", "c=y"), y)}


@pytest.mark.parametrize("kind", ["indicator", "one-hot"])
def test_a_generated_name_that_clashes_gets_its_kind_and_the_tables_names_stay(kind):
    frame, names, _ = _clashing_tables()[kind]
    encoding = learn_encoding(frame)
    assert encoding.feature_names == names
    assert TableEncoding.from_dict(json.loads(json.dumps(encoding.to_dict()))).feature_names \
        == names  # a saved model gives the same names back
    assert apply_encoding(encoding, frame).shape == (len(frame), len(names))


def test_generated_names_are_unique_among_themselves_and_plain_without_clashes():
    # "a" holding "b=c" and "a=b" holding "c" both make "a=b=c"; the ordinal column (last in
    # the matrix) keeps its own name all the same
    encoding = TableEncoding(
        columns=("a", "a=b", "a=b=c (one-hot)", "n"), numeric=("n",), medians=(0.0,),
        indicators=("n",), categorical=("a", "a=b"), categories=(("b=c",), ("c",)),
        ordinal=("a=b=c (one-hot)",), ordinal_categories=(("u",),))
    assert encoding.feature_names == ("n", "n_missing", "a=b=c", "a=b=c (one-hot 2)",
                                      "a=b=c (one-hot)")
    plain = TableEncoding(columns=("age", "city"), numeric=("age",), medians=(40.0,),
                          indicators=("age",), categorical=("city",), categories=(("Oslo",),))
    assert plain.feature_names == ("age", "age_missing", "city=Oslo")


ESTIMATOR_OPTIONS = dict(hidden_layer_sizes=(4,), steps=100, draws=20, random_state=0)


@pytest.mark.filterwarnings("ignore::pymc_bnn.errors.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["indicator", "one-hot"])
def test_the_estimator_fits_predicts_and_saves_a_table_with_clashing_names(kind, tmp_path):
    from pymc_bnn import BayesianMLPClassifier, load

    frame, names, y = _clashing_tables()[kind]
    model = BayesianMLPClassifier(**ESTIMATOR_OPTIONS).fit(frame, y)
    assert list(model.feature_names_in_) == list(frame.columns)  # the table's names, as given
    assert model.posterior_.feature_names == names
    proba = model.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    model.save(tmp_path / "model.bnn.nc")
    loaded = load(tmp_path / "model.bnn.nc")
    assert loaded.posterior_.feature_names == names
    assert TableEncoding.from_dict(loaded.table_encoding_).feature_names == names
    np.testing.assert_allclose(loaded.predict_proba(frame), proba)


@pytest.mark.filterwarnings("ignore::pymc_bnn.errors.ConvergenceWarning")
def test_the_cli_fits_and_predicts_a_table_with_clashing_names(tmp_path):
    from pymc_bnn import load
    from pymc_bnn.cli.app import main

    (flagged, _, y), (onehot, _, _) = _clashing_tables().values()
    table = pd.concat([flagged, onehot], axis=1).assign(y=y)
    table.to_csv(tmp_path / "collide.csv", index=False)
    out = tmp_path / "m.bnn.nc"
    assert main(["fit", str(tmp_path / "collide.csv"), "--target", "y", "--out", str(out),
                 "--hidden", "4", "--steps", "100", "--draws", "20", "--seed", "0",
                 "--quiet"]) == 0
    assert load(out).posterior_.feature_names == (
        "income", "income_missing", "c=x", "income_missing (indicator)", "c=x (one-hot)", "c=y")
    assert main(["predict", str(out), str(tmp_path / "collide.csv"),
                 "--out", str(tmp_path / "predictions.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "predictions.csv")) == len(table)


def test_complex_columns_are_refused_not_cut_to_their_real_part():
    """A complex column was cast to its real part with only pandas' ComplexWarning."""
    table = pd.DataFrame({"z": np.array([1 + 2j, 3 - 1j, 0.5j]), "x": [0.1, 0.2, 0.3]})
    with pytest.raises(InvalidInputError, match=r"X column\(s\) z hold complex numbers; pass real"):
        learn_encoding(table)


def test_a_period_column_is_refused_as_dates_not_as_an_identifier():
    table = pd.DataFrame({"month": pd.period_range("2024-01", periods=60, freq="M"),
                          "x": np.arange(60.0)})
    with pytest.raises(InvalidInputError, match="column.s. month hold dates or durations"):
        learn_encoding(table)


def test_numbers_with_thousands_separators_are_refused_with_the_fix():
    """'1,234' read as text: one category per number (or, past 50 values, "an identifier")."""
    table = pd.DataFrame({"n": ["1,234", "12", "3,456,789", "999"] * 10, "x": np.arange(40.0)})
    with pytest.raises(InvalidInputError, match=r"column 'n' of X holds numbers written with "
                       r"thousands separators \('1,234', '3,456,789', …\).*thousands=','"):
        learn_encoding(table)
    european = pd.DataFrame({"n": ["1,5", "2,5"] * 20, "x": np.arange(40.0)})
    assert learn_encoding(european).categorical == ("n",)  # two codes, not thousands


def test_a_gap_in_a_text_column_without_gaps_in_training_is_said_once():
    """It becomes the category "missing", which training never saw: it was counted as a value
    filled and again as an unseen category."""
    encoding = learn_encoding(pd.DataFrame({"colour": ["red", "blue"] * 10,
                                            "x": np.arange(20.0)}))
    said = describe_new_row_counts(count_new_rows(
        encoding, pd.DataFrame({"colour": ["red", None], "x": [1.0, np.nan]})))
    assert "filled 1 missing value(s) (x: 1)" in said
    assert "1 value(s) in categories not seen in training (colour: 'missing')" in said


def test_names_moved_out_of_the_module_still_import_with_a_deprecation_warning():
    import pymc_bnn.encoding as encoding_module
    from pymc_bnn import new_rows, table_checks

    with pytest.warns(DeprecationWarning, match="moved to pymc_bnn.table_checks.missing_rows"):
        assert encoding_module.missing_rows is table_checks.missing_rows
    with pytest.warns(DeprecationWarning, match="pymc_bnn.new_rows.count_new_rows"):
        from pymc_bnn.encoding import count_new_rows as old
    assert old is new_rows.count_new_rows
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        encoding_module.nothing  # noqa: B018


@pytest.mark.slow  # two fits (fast tier kept under 2 minutes)
def test_a_fit_does_not_depend_on_the_memory_order_of_x():
    """An all-number table codes through one imputer, whose output would keep pandas'
    column-major block: the coding is C-ordered whatever X's order, so the standardisation's
    column means (and so every fitted number) are the same for X and its Fortran-ordered copy."""
    from pymc_bnn import BayesianMLPRegressor

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 5)) * [1.0, 10.0, 1e3, 0.1, 7.0]
    y = X @ [1.0, 0.1, 1e-3, 2.0, 0.0] + rng.normal(0, 0.1, 40)
    encoding = learn_encoding(pd.DataFrame(X, columns=[f"x{i}" for i in range(5)]))
    for order in ("C", "F"):
        frame = pd.DataFrame(np.asarray(X, order=order), columns=[f"x{i}" for i in range(5)])
        assert encode(build_transformer(encoding), encoding, frame).flags.c_contiguous
    fits = [BayesianMLPRegressor((3,), steps=200, draws=20, random_state=0).fit(
        np.asarray(X, order=order), y) for order in ("C", "F")]
    np.testing.assert_array_equal(fits[0].x_mean_, fits[1].x_mean_)
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X))
