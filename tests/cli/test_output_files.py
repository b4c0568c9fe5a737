"""What the CLI's outputs may replace, and how: nothing a user owns is overwritten or lost.

A predictions table is replaced without --force only when pymc-bnn can tell it wrote it: a
Parquet file by the mark pymc-bnn puts in its schema's metadata, a CSV (which has no room for a
mark) only when its columns are exactly the ones this predict writes. An --out that is a
symbolic link is written through: the link's target is replaced (atomically, in the target's
folder) and the link stays, for every file the CLI writes.
"""

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pymc_bnn.cli.app import main
from reliability.helpers import TINY_CLI, assert_one_line_error, run_cli

# What `predict` writes for DATA below: the --id column, then the classifier's columns.
COLUMNS = ["tag", "prediction", "p_no", "p_yes"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A classifier fitted (tiny) with an --id column, and new rows as CSV and Parquet."""
    folder = tmp_path_factory.mktemp("outputs")
    rng = np.random.default_rng(0)
    n = 30
    train = pd.DataFrame({"tag": [f"t{i:03d}" for i in range(n)],
                          "x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    train["kind"] = np.where(train.x0 + train.x1 > 0, "yes", "no")
    train.to_csv(folder / "train.csv", index=False)
    train.drop(columns="kind").to_csv(folder / "new.csv", index=False)
    train.drop(columns="kind").to_parquet(folder / "new.parquet")
    assert main(["fit", str(folder / "train.csv"), "--target", "kind", "--id", "tag",
                 "--out", str(folder / "model.bnn.nc"), *TINY_CLI]) == 0
    return folder


def _predict(capsys, folder, data, out, *more):
    return run_cli(capsys, "predict", folder / "model.bnn.nc", folder / data, "--out", out,
                   "--quiet", *more)


def _no_temporary_files(*folders):
    for place in folders:
        assert [p.name for p in place.iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------- whose file


@pytest.mark.parametrize("data", ["new.csv", "new.parquet"])
def test_a_users_csv_laid_out_like_predictions_needs_force(capsys, tmp_path, folder, data):
    """Columns `prediction` then only p_* / sd-like ones passed for pymc-bnn's: a user's table
    of another model's probabilities was replaced without --force."""
    mine = tmp_path / "scores.csv"
    content = b"patient,prediction,p_low,p_high\nA17,low,0.8,0.2\n"
    mine.write_bytes(content)
    code, _, err = _predict(capsys, folder, data, mine)
    assert_one_line_error(code, err, f"--out {mine} exists", "p_low", "p_no",
                          "choose another path, or pass --force")
    assert mine.read_bytes() == content
    _no_temporary_files(tmp_path)
    code, _, err = _predict(capsys, folder, data, mine, "--force")
    assert code == 0, err
    assert list(pd.read_csv(mine).columns) == COLUMNS


def test_predictions_csv_of_the_same_columns_is_replaced_without_force(capsys, tmp_path,
                                                                       folder):
    """A CSV cannot carry a mark: an earlier predict's table (of any pymc-bnn version) is known
    by its columns, exactly the ones this predict writes."""
    out = tmp_path / "pred.csv"
    out.write_text(",".join(COLUMNS) + "\nold,yes,0.1,0.9\n")  # as an earlier version wrote it
    code, _, err = _predict(capsys, folder, "new.csv", out)
    assert code == 0, err
    assert len(pd.read_csv(out)) == 30
    code, _, err = _predict(capsys, folder, "new.parquet", out)  # streamed: the same check
    assert code == 0, err
    assert len(pd.read_csv(out)) == 30


def test_other_columns_than_this_predict_writes_need_force(capsys, tmp_path, folder):
    """Predictions with intervals are not replaced by predictions without them unasked."""
    out = tmp_path / "pred.csv"
    assert _predict(capsys, folder, "new.csv", out, "--level", "0.9")[0] == 0
    before = out.read_bytes()
    code, _, err = _predict(capsys, folder, "new.csv", out)
    assert_one_line_error(code, err, "p_no_lower", "pass --force")
    assert out.read_bytes() == before


def test_parquet_predictions_carry_a_mark_and_a_lookalike_needs_force(capsys, tmp_path,
                                                                       folder):
    out = tmp_path / "pred.parquet"
    for data in ("new.csv", "new.parquet", "new.csv"):  # ours: replaced without --force
        code, _, err = _predict(capsys, folder, data, out)
        assert code == 0, err
    assert b"pymc_bnn" in pq.read_schema(out).metadata
    # the same columns, written by the user (or by a pymc-bnn without the mark)
    mine = tmp_path / "mine.parquet"
    pd.read_parquet(out).to_parquet(mine)
    content = mine.read_bytes()
    code, _, err = _predict(capsys, folder, "new.csv", mine)
    assert_one_line_error(code, err, f"--out {mine} exists", "mark", "pass --force")
    assert mine.read_bytes() == content
    assert _predict(capsys, folder, "new.csv", mine, "--force")[0] == 0
    assert b"pymc_bnn" in pq.read_schema(mine).metadata


# --------------------------------------------------------------------------- symbolic links


@pytest.mark.parametrize("name", ["pred.csv", "pred.parquet"])
@pytest.mark.parametrize("data", ["new.csv", "new.parquet"])
def test_predict_writes_through_a_symbolic_link(capsys, tmp_path, folder, name, data):
    runs, here = tmp_path / "runs", tmp_path / "here"
    runs.mkdir()
    here.mkdir()
    target = runs / name
    assert _predict(capsys, folder, "new.csv", target)[0] == 0
    os.utime(target, (0, 0))
    link = here / f"latest_{name}"
    link.symlink_to(target)
    code, _, err = _predict(capsys, folder, data, link)
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.stat().st_mtime > 0  # the target was replaced, not left stale
    _no_temporary_files(runs, here)


def test_fit_and_report_write_through_a_symbolic_link(capsys, tmp_path, folder):
    runs = tmp_path / "runs"
    runs.mkdir()
    model, page = runs / "model.bnn.nc", runs / "model.html"
    model.write_bytes((folder / "model.bnn.nc").read_bytes())
    assert run_cli(capsys, "report", model, "--out", page, "--quiet")[0] == 0
    for target in (model, page):
        os.utime(target, (0, 0))
        (tmp_path / f"latest{''.join(target.suffixes)}").symlink_to(target)
    code, _, err = run_cli(capsys, "fit", folder / "train.csv", "--target", "kind",
                           "--out", tmp_path / "latest.bnn.nc", *TINY_CLI, "--seed", "1")
    assert code == 0, err
    code, _, err = run_cli(capsys, "report", tmp_path / "latest.bnn.nc",
                           "--out", tmp_path / "latest.html", "--quiet")
    assert code == 0, err
    for link, target in (("latest.bnn.nc", model), ("latest.html", page)):
        assert (tmp_path / link).is_symlink() and target.stat().st_mtime > 0, link
    _no_temporary_files(tmp_path, runs)


def test_a_link_to_a_users_file_is_judged_by_the_file(capsys, tmp_path, folder):
    mine = tmp_path / "notes.csv"
    mine.write_text("id,notes\n1,keep me\n")
    link = tmp_path / "pred.csv"
    link.symlink_to(mine)
    code, _, err = _predict(capsys, folder, "new.csv", link)
    assert_one_line_error(code, err, "exists and is not", "pass --force")
    assert mine.read_text() == "id,notes\n1,keep me\n" and link.is_symlink()


def test_a_link_that_loops_is_refused(capsys, tmp_path, folder):
    link = tmp_path / "pred.csv"
    link.symlink_to(link)
    code, _, err = _predict(capsys, folder, "new.csv", link)
    assert_one_line_error(code, err, "symbolic link", "loop")
    assert link.is_symlink()
