"""`pymc-bnn report MODEL HELD_OUT` where HELD_OUT holds labels the model never saw: the
rows it can score are scored, and it says how many rows it skipped and why."""

import re

import pytest

from reliability.helpers import TINY_CLI, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("report")
    table.to_csv(folder / "train.csv", index=False)
    return folder


def _fit(capsys, folder):
    model = folder / "m.bnn.nc"
    if not model.exists():
        code, _, err = run_cli(capsys, "fit", folder / "train.csv", "--target", "kind",
                               "--exclude", "label,price", "--out", model, *TINY_CLI)
        assert code == 0, err
    return model


def test_rows_with_unseen_labels_are_skipped_and_counted(fitted, table, capsys):
    model = _fit(capsys, fitted)
    held = table.copy()
    held.loc[[1, 4, 7], "kind"] = "medium"
    held.loc[9, "kind"] = "huge"
    held.to_csv(fitted / "held.csv", index=False)
    out = fitted / "r.html"
    code, _, err = run_cli(capsys, "report", model, fitted / "held.csv", "--out", out,
                           "--quiet")
    assert code == 0, err
    assert re.fullmatch(r"warning: .*held\.csv: skipped 4 of 40 rows whose label the model has "
                        r"not seen \('huge', 'medium'\): it gives those classes no probability; "
                        r"scored the other 36\n", err), err
    page = out.read_text()
    assert "skipped 4 of 40 rows whose label the model has not seen" in page


def test_only_unseen_labels_is_one_line_naming_them(fitted, table, capsys):
    model = _fit(capsys, fitted)
    held = table.assign(kind="medium")
    held.to_csv(fitted / "new.csv", index=False)
    code, _, err = run_cli(capsys, "report", model, fitted / "new.csv",
                           "--out", fitted / "n.html", "--quiet")
    assert_one_line_error(code, err, "no row of", "'medium' are new; it knows 'big', 'small'",
                          "nothing to score")
    assert not (fitted / "n.html").exists()
