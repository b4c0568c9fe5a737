"""`pymc-bnn predict` at its boundaries, as a user meets them with their own tables.

Each test holds a bug found by running the command on awkward tables: it failed before its fix.
One tiny fit serves them all; Parquet DATA in a folder of several files is read as several
batches, as a table too big for memory is.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pymc_bnn.cli.app import main
from pymc_bnn.errors import InvalidInputError
from reliability.helpers import TINY_CLI, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A classifier fitted (tiny) on numbers and a text column, with an --id column."""
    folder = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(0)
    n = 40
    train = pd.DataFrame({"tag": [f"t{i:03d}" for i in range(n)],
                          "x0": rng.normal(size=n), "x1": rng.normal(size=n),
                          "region": rng.choice(["north", "south"], n)})
    train["kind"] = np.where(train.x0 + train.x1 > 0, "yes", "no")
    train.to_csv(folder / "train.csv", index=False)
    assert main(["fit", str(folder / "train.csv"), "--target", "kind", "--id", "tag",
                 "--out", str(folder / "model.bnn.nc"), *TINY_CLI]) == 0
    return folder


def _rows(n, start=0):
    """`n` new rows as pyarrow columns (no pandas metadata, as Spark or polars write them)."""
    rng = np.random.default_rng(start)
    return {"tag": [f"n{i:03d}" for i in range(start, start + n)],
            "x0": rng.normal(size=n), "x1": rng.normal(size=n),
            "region": ["north", "south"] * (n // 2) + ["north"] * (n % 2)}


def _predict(capsys, folder, data, out, *more):
    return run_cli(capsys, "predict", folder / "model.bnn.nc", data, "--out", out, "--quiet",
                   *more)


def test_the_predict_helpers_still_import_from_model_commands_with_a_warning():
    from pymc_bnn.cli import model_commands, new_row_notes, predict_command

    with pytest.warns(DeprecationWarning,
                      match="moved to pymc_bnn.cli.predict_command._cmd_predict"):
        assert model_commands._cmd_predict is predict_command._cmd_predict
    with pytest.warns(DeprecationWarning,
                      match="moved to pymc_bnn.cli.new_row_notes.check_new_rows"):
        assert model_commands._check_new_rows is new_row_notes.check_new_rows
    with pytest.warns(DeprecationWarning,
                      match="moved to pymc_bnn.cli.new_row_notes.count_batch_new_rows"):
        assert model_commands._count_new_rows is new_row_notes.count_batch_new_rows
    assert model_commands.note_new_rows is new_row_notes.note_new_rows  # re-exported (report's)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        model_commands.nothing  # noqa: B018


@pytest.mark.slow
def test_parquet_data_without_rows_is_refused_and_the_old_predictions_kept(folder, capsys):
    """Was exit 0 and an empty file (0 bytes: not Parquet, a CSV without its header) in place
    of the predictions already there; a CSV without rows was refused."""
    pq.write_table(pa.table(_rows(4)), folder / "some.parquet")
    pq.write_table(pa.table({k: v[:0] for k, v in _rows(2).items()}), folder / "none.parquet")
    for out in ("empty.csv", "empty.parquet"):
        assert _predict(capsys, folder, folder / "some.parquet", folder / out)[0] == 0
        before = (folder / out).read_bytes()
        code, _, err = _predict(capsys, folder, folder / "none.parquet", folder / out)
        assert_one_line_error(code, err, "none.parquet has no rows; pass a table with data")
        assert (folder / out).read_bytes() == before


def _parts(folder, name, *tables):
    """A folder of Parquet files, one per table: DATA read as that many batches."""
    (folder / name).mkdir(exist_ok=True)
    for k, table in enumerate(tables):
        pq.write_table(pa.table(table), folder / name / f"part-{k}.parquet")
    return folder / name


@pytest.mark.parametrize("out", ["stopped.parquet", "stopped.csv"])
def test_ctrl_c_in_a_later_batch_leaves_the_old_predictions_and_says_one_line(
        folder, capsys, monkeypatch, out):
    """Ctrl-C (or a refusal) in a batch after the first left the Parquet writer open on a
    closed file: at exit Python printed 'Exception ignored in: ParquetWriter.__del__' and a
    traceback ending 'ValueError: write to closed file' after the one line."""
    import gc
    import sys

    from pymc_bnn.cli import predict_command

    parts = _parts(folder, "two_parts", _rows(4), _rows(4, start=4))
    assert _predict(capsys, folder, parts, folder / out)[0] == 0
    before = (folder / out).read_bytes()
    calls, real = [], predict_command.prediction_table

    def pressed_in_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    unraisable = []
    monkeypatch.setattr(predict_command, "prediction_table", pressed_in_the_second_batch)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    code, _, err = _predict(capsys, folder, parts, folder / out)
    gc.collect()
    assert code == 130 and err == "interrupted: nothing was kept\n", err
    assert not unraisable, [str(u.exc_value) for u in unraisable]
    assert (folder / out).read_bytes() == before
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file


def test_a_copied_column_empty_in_the_first_batch_is_written_to_parquet(folder, capsys):
    """A column with no value in the first batch (a Parquet file without pandas' metadata:
    Spark, polars, pyarrow) became Arrow's null type there, and the next batch's values could
    not be written: 'ValueError: Table schema does not match schema used to create file' and
    a traceback (seen on one file of 70,000 rows, its first 65,536 without a date)."""
    import datetime

    def typed(rows, vip, day):
        return pa.table({**{k: pa.array(v) for k, v in rows.items()},
                         "vip": pa.array(vip, pa.bool_()),
                         "signup": pa.array(day, pa.date32())})

    parts = _parts(folder, "late_values",
                   typed(_rows(4), [None] * 4, [None] * 4),
                   typed(_rows(4, start=4), [True, None, False, True],
                         [datetime.date(2024, 1, 2)] * 4))
    code, _, err = _predict(capsys, folder, parts, folder / "late.parquet")
    assert code == 0, err
    written = pq.read_table(folder / "late.parquet")
    assert written.schema.field("vip").type == pa.bool_()
    assert written.schema.field("signup").type == pa.date32()
    assert written.column("vip").to_pylist() == [None] * 4 + [True, None, False, True]
    assert written.column("tag").to_pylist() == [f"n{i:03d}" for i in range(8)]


def test_a_copied_column_of_another_type_in_a_later_file_is_written_or_named(folder, capsys):
    """A folder whose files hold a column as whole numbers in one and decimals in another
    ended in the same traceback; numbers that fit the first file's type are written so, others
    are refused naming the column."""
    whole = _parts(folder, "whole_then_float", {**_rows(4), "count": [1, 2, 3, 4]},
                   {**_rows(4, start=4), "count": [5.0, 6.0, None, 8.0]})
    code, _, err = _predict(capsys, folder, whole, folder / "counts.parquet")
    assert code == 0, err
    assert pq.read_table(folder / "counts.parquet").column("count").to_pylist() == [
        1, 2, 3, 4, 5, 6, None, 8]
    halves = _parts(folder, "whole_then_halves", {**_rows(4), "count": [1, 2, 3, 4]},
                    {**_rows(4, start=4), "count": [5.5, 6.0, 7.0, 8.0]})
    code, _, err = _predict(capsys, folder, halves, folder / "halves.parquet")
    assert_one_line_error(code, err, "column 'count' has the type int64 in the first batch and "
                          "double values that do not fit it in a later one; give the column "
                          "one type in every file")
    assert not (folder / "halves.parquet").exists()


@pytest.mark.parametrize("data", ["clash.csv", "clash.parquet"])
@pytest.mark.parametrize("out", ["clash_out.csv", "clash_out.parquet"])
def test_copied_columns_renamed_out_of_the_way_take_names_no_other_column_has(
        folder, capsys, data, out):
    """DATA with a column 'prediction' (last month's) and one 'prediction_input': both were
    written as 'prediction_input', a CSV with a repeated header and, for Parquet,
    'ValueError: Duplicate column names found' and a traceback."""
    rows = pd.DataFrame(_rows(4)).assign(prediction="old", prediction_input="older",
                                         p_yes=0.5)
    rows.to_csv(folder / "clash.csv", index=False)
    rows.to_parquet(folder / "clash.parquet")
    code, _, err = _predict(capsys, folder, folder / data, folder / out, "--force")
    assert code == 0, err
    written = (pd.read_csv(folder / out, dtype=str) if out.endswith(".csv")
               else pd.read_parquet(folder / out))
    assert list(written.columns) == ["tag", "prediction_input_input", "prediction_input",
                                     "p_yes_input", "prediction", "p_no", "p_yes"]
    assert written["prediction_input_input"].tolist() == ["old"] * 4
    assert written["prediction_input"].tolist() == ["older"] * 4


@pytest.mark.parametrize("out", ["p.csv", "p.parquet"])
def test_predictions_of_parquet_data_go_into_a_folder_not_made_yet(folder, capsys, out):
    """`--out results/march/p.csv` made the folders for CSV DATA, but for Parquet DATA said
    'results/march/p.csv does not exist; check the path' (the output, which was to be made)."""
    parts = _parts(folder, "two_parts", _rows(4), _rows(4, start=4))
    target = folder / "results" / out.split(".")[1] / out
    code, _, err = _predict(capsys, folder, parts, target)
    assert code == 0, err
    assert len(pd.read_csv(target) if out.endswith(".csv") else pd.read_parquet(target)) == 8


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("bad, said", [
    ("forty", "column 'x0' of {data} holds text where the model takes numbers (1 value(s); "
              "first: 'forty' in row 2)"),
    (float("inf"), "{data} column x0 holds an infinite value (first: row 2)"),
])
def test_a_value_the_model_cannot_take_is_refused_naming_the_file(folder, capsys, suffix, bad,
                                                                   said):
    """Text in a number column was noted as 'filled 1 missing value(s) (x0: 1) with the
    training median', then refused as a column 'of X'; an infinite value as 'X column x0'."""
    rows = pd.DataFrame(_rows(4)).astype({"x0": object})
    rows.loc[2, "x0"] = bad
    data = folder / f"bad_{'text' if isinstance(bad, str) else 'inf'}{suffix}"
    if suffix == ".csv":
        rows.to_csv(data, index=False)
    else:
        rows.astype({"x0": str if isinstance(bad, str) else float}).to_parquet(data)
    code, _, err = _predict(capsys, folder, data, folder / "bad.csv", "--force")
    assert_one_line_error(code, err, said.format(data=data))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_true_and_false_in_a_number_column_are_refused_not_read_as_one_and_zero(folder, capsys,
                                                                                 suffix):
    """A column the model was fitted on as numbers that holds True/False in DATA (a CSV of
    'True'/'False', a Parquet boolean column) was predicted as 1 and 0 without a word, while
    one 'True' among numbers was refused as text."""
    rows = pd.DataFrame(_rows(4))
    rows["x0"] = [True, False, True, True]
    data = folder / f"truth{suffix}"
    rows.to_csv(data, index=False) if suffix == ".csv" else rows.to_parquet(data)
    code, _, err = _predict(capsys, folder, data, folder / "truth_out.csv")
    assert_one_line_error(code, err, f"column 'x0' of {data} holds True/False where the model "
                                     "was fitted on numbers (4 value(s); first: True in row 0); "
                                     "write them as the numbers they stand for")
    assert not (folder / "truth_out.csv").exists()


def test_a_refusal_in_a_later_batch_names_the_row_of_the_table(folder, capsys):
    """Parquet DATA is read 65,536 rows at a time: a value refused at row 68,000 was said to be
    at 'row 2464' (its place in its batch), a row the user found nothing wrong with."""
    later = {**_rows(4, start=4), "x0": ["0.5", "0.25", "forty", "1.0"]}
    parts = _parts(folder, "late_text", {**_rows(4), "x0": [str(v) for v in _rows(4)["x0"]]},
                   later)
    code, _, err = _predict(capsys, folder, parts, folder / "late_text.csv")
    assert_one_line_error(code, err, f"column 'x0' of {parts} (rows 4 to 7) holds text where the "
                                     "model takes numbers (1 value(s); first: 'forty' in row 6)")


@pytest.mark.parametrize("data", ["some.parquet", "train.csv"])
@pytest.mark.parametrize("out, said", [
    ("p.csv.gz", "--out {out} ends in .gz, but predict writes its table uncompressed; name it "
                 "p.csv (and compress it afterwards), or p.parquet (compressed inside)"),
    ("p.xlsx", "--out {out} has the suffix of a spreadsheet, but predict writes CSV or Parquet; "
               "name it p.csv or p.parquet"),
    ("p.tsv", "--out {out} has the suffix of tab-separated text, but predict writes CSV or "
              "Parquet; name it p.csv or p.parquet"),
])
def test_an_output_name_that_promises_another_format_is_refused(folder, capsys, data, out, said):
    """'--out p.csv.gz' wrote plain text that pandas, reading by the suffix, refused as 'Not a
    gzipped file'; p.xlsx a CSV that a spreadsheet would not open; p.tsv commas, that pymc-bnn
    itself then read back as one column."""
    pq.write_table(pa.table(_rows(4)), folder / "some.parquet")
    code, _, err = _predict(capsys, folder, folder / data, folder / out)
    assert_one_line_error(code, err, said.format(out=folder / out))
    assert not (folder / out).exists()


@pytest.mark.slow  # a few seconds of fits: the full suite runs it
def test_rows_in_unseen_groups_are_said_once_for_a_table_read_in_batches(folder, capsys):
    """Parquet DATA said '2 row(s) in group(s) not seen in training' once per batch (each
    batch's count, between the progress bar's lines: thousands of lines for a big table)
    where a CSV says it once, for every row."""
    rows = pd.read_csv(folder / "train.csv")
    assert main(["fit", str(folder / "train.csv"), "--target", "kind", "--id", "tag",
                 "--groups", "region", "--out", str(folder / "grouped.bnn.nc"), *TINY_CLI]) == 0
    new = rows.drop(columns="kind").head(8).assign(
        region=["north", "west", "south", "west", "east", "north", "west", "west"])
    new.to_csv(folder / "grouped.csv", index=False)
    parts = _parts(folder, "grouped_parts", *(pa.Table.from_pandas(new.iloc[i:i + 4],
                                                                   preserve_index=False)
                                              for i in (0, 4)))
    said = []
    for data, out in ((folder / "grouped.csv", "g.csv"), (parts, "g.parquet")):
        code, stdout, err = run_cli(capsys, "predict", folder / "grouped.bnn.nc", data,
                                    "--out", folder / out)
        assert code == 0, err
        said.append([line.rstrip() for line in stdout.splitlines()
                     if "not seen in training" in line])
    assert said[0] == said[1] == [
        "• 5 row(s) in group(s) not seen in training (east, west): predicted from the"]


@pytest.mark.parametrize("name", ["blank.csv", "blank.parquet"])
def test_an_empty_file_is_named_as_empty(folder, capsys, name):
    """A file of 0 bytes (an export that failed) was 'cannot read blank.csv as CSV
    (EmptyDataError: No columns to parse from file)', and for Parquet Arrow's 'Could not read
    schema from … Is this a 'parquet' file?' cut off mid-word."""
    (folder / name).write_bytes(b"")
    code, _, err = _predict(capsys, folder, folder / name, folder / "blank_out.csv")
    assert_one_line_error(code, err, f"{folder / name} is empty (0 bytes); pass a file that "
                                     "holds the table")
    assert "Error" not in err


def test_a_folder_of_csv_files_is_named_as_one_with_both_ways_on(folder, capsys):
    """`predict MODEL folder_of_csv/` showed Arrow's own words cut off at 150 characters,
    mid-quote ("Could not read schema from '/…/p1.csv'. Is this a 'parquet' file?: Could not
    open Parquet input source '/…"): a folder is read as Parquet files; say so, and the ways on."""
    csvs = folder / "csvs"
    csvs.mkdir()
    for k in range(2):
        pd.DataFrame(_rows(3, start=3 * k)).to_csv(csvs / f"part{k}.csv", index=False)
    code, _, err = _predict(capsys, folder, csvs, folder / "csvs_out.csv")
    assert_one_line_error(
        code, err, f"error: {csvs} holds CSV files (part0.csv, part1.csv), but a folder is read "
        "as Parquet files: convert them to Parquet (pandas: pd.read_csv(file).to_parquet(...)), "
        "or pass each CSV file on its own\n")
    assert not (folder / "csvs_out.csv").exists()


@pytest.mark.parametrize("written", ["X0", " x0", "x0 "])
def test_a_column_named_but_for_case_or_spaces_is_named_with_its_fix(folder, capsys, written):
    """'new.csv lacks 1 column the model was fitted on: x0; the model needs x0, x1, region'
    for a table whose header reads 'X0' or 'x0 ': the user sees the column there."""
    pd.DataFrame(_rows(4)).rename(columns={"x0": written}).to_csv(folder / "renamed.csv",
                                                                  index=False)
    code, _, err = _predict(capsys, folder, folder / "renamed.csv", folder / "renamed_out.csv")
    assert_one_line_error(code, err, "lacks 1 column the model was fitted on: x0 (it has "
                                     f"{written!r}, the same but for case or spaces: rename it "
                                     "'x0')")


def test_a_wide_table_lacking_many_columns_names_the_first_few_and_counts_the_rest():
    """A DATA file that lacks 40 of a 50-feature model's columns (the wrong file) listed all 40
    and then all 50: a 700-character line. Now the first 12 and how many more; where the model
    needs more than 12, its count and where to read them."""
    from types import SimpleNamespace

    from pymc_bnn.cli.model_columns import model_features

    model = SimpleNamespace(feature_names_in_=[f"feature_{i}" for i in range(50)])
    rows = pd.DataFrame({f"feature_{i}": [1.0] for i in range(40, 50)})
    with pytest.raises(InvalidInputError) as caught:
        model_features(model, rows, "other.csv")
    message = str(caught.value)
    assert message == ("other.csv lacks 40 columns the model was fitted on: "
                       + ", ".join(f"feature_{i}" for i in range(12))
                       + " and 28 more; the model needs 50 columns (pymc-bnn info MODEL lists "
                         "them)")


def test_predictions_from_an_unfinished_fit_say_so_once_they_are_written(folder, capsys):
    """A model whose fit stopped at its step limit (TINY_CLI's 50 steps) or was stopped by
    Ctrl-C predicted without a word: the predictions table looked like a finished model's."""
    import json

    code, _, err = run_cli(capsys, "predict", folder / "model.bnn.nc", folder / "train.csv",
                           "--out", folder / "unsettled.csv", "--quiet")
    assert code == 0, err
    assert err.count("its fit did not settle") == 1 and (folder / "unsettled.csv").is_file()
    assert "stopped at the maximum of 50 steps" in err and "raise --steps" in err
    assert "steps=" not in err.replace("--steps", "")
    code, out, err = run_cli(capsys, "info", folder / "model.bnn.nc", "--json")
    assert json.loads(out)["posterior"]["diagnostics"]["converged"] is False


def test_the_index_pandas_stores_in_parquet_data_is_not_called_a_copied_column(folder, capsys):
    """Rows filtered or shuffled in pandas keep their index in the Parquet file
    ('__index_level_0__'), which pandas gives back as the index, so predictions do not copy it:
    the status line named it among the copied columns all the same."""
    rows = pd.DataFrame(_rows(6)).iloc[[3, 0, 5, 1, 4, 2]]
    rows.to_parquet(folder / "reversed.parquet")
    code, out, err = run_cli(capsys, "predict", folder / "model.bnn.nc",
                             folder / "reversed.parquet", "--out", folder / "reversed.csv")
    assert code == 0, err
    assert "Copying column(s) the model does not use to the output: tag\n" in out, out
    assert "__index_level_0__" not in pd.read_csv(folder / "reversed.csv").columns
