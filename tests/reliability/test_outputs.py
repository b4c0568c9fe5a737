"""Outputs never destroy what a user owns: every output path of every CLI command is checked
before any work starts (`pymc_bnn._runtime.outputs`), never replaces one of the command's inputs (by
path, hard link or symbolic link, even with --force), never replaces a file pymc-bnn did not
write without --force, and writes are atomic."""

import errno
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymc_bnn import BayesianMLPClassifier, FileSystemError, OutputPathError, save
from pymc_bnn._runtime.atomic_writes import write_bytes_atomic
from pymc_bnn._runtime.file_kinds import is_ours
from pymc_bnn._runtime.outputs import check_output, check_output_folder
from reliability.helpers import TINY, TINY_CLI, assert_one_line_error, run_cli

BOUNDED = dict(deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def files(trained_files):
    return trained_files


# Each way of naming the same file: the path itself, with "./" or a "sub/.." detour, absolute,
# a hard link and a symbolic link to it.
ALIASES = ("same", "dot", "detour", "absolute", "hardlink", "symlink")


def _alias(kind: str, target: Path, folder: Path) -> Path:
    (folder / "sub").mkdir(exist_ok=True)
    if kind == "hardlink":
        link = folder / f"hard_{target.name}"
        os.link(target, link)
        return link
    if kind == "symlink":
        link = folder / f"soft_{target.name}"
        link.symlink_to(target)
        return link
    relative = Path(os.path.relpath(target, folder))
    return {"same": target, "dot": Path(".") / relative, "detour": Path("sub") / ".." / relative,
            "absolute": target.resolve()}[kind]


# (command line without --out, which input the output collides with)
COMMANDS = {
    "fit": (lambda d, m: ["fit", d, "--target", "label", *TINY_CLI], "DATA"),
    "predict/model": (lambda d, m: ["predict", m, d, "--quiet"], "MODEL"),
    "predict/data": (lambda d, m: ["predict", m, d, "--quiet"], "DATA"),
    "report/model": (lambda d, m: ["report", m, d, "--quiet"], "MODEL"),
    "report/data": (lambda d, m: ["report", m, d, "--quiet"], "DATA"),
}


@settings(max_examples=30, **BOUNDED)
@given(command=st.sampled_from(sorted(COMMANDS)), alias=st.sampled_from(ALIASES),
       force=st.booleans())
def test_an_output_that_is_an_input_is_refused_before_any_work(
        capsys, files, command, alias, force):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, model = (Path(folder / p.name) for p in files)
        for source, copy in zip(files, (data, model), strict=False):
            copy.write_bytes(source.read_bytes())
        make_args, victim_name = COMMANDS[command]
        victim = data if victim_name == "DATA" else model
        before = victim.read_bytes()
        out = _alias(alias, victim, folder)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            code, _, err = run_cli(capsys, *make_args(str(data), str(model)), "--out", out,
                                   *(["--force"] if force else []))
        finally:
            os.chdir(cwd)
        assert_one_line_error(code, err, "is the same file as the input", victim_name,
                              "choose another --out")
        assert victim.read_bytes() == before
        assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_report_default_path_colliding_with_its_model_is_refused(capsys, tmp_path, files):
    # `report MODEL` writes MODEL with .html: a model file called model.html would be replaced
    model = tmp_path / "model.html"
    model.write_bytes(files[1].read_bytes())
    code, _, err = run_cli(capsys, "report", model)
    assert_one_line_error(code, err, "the default report path", "same file as the input MODEL",
                          "choose another --out path")
    assert model.read_bytes() == files[1].read_bytes()


@pytest.mark.parametrize("command, existing, kind", [
    ("fit", "table.dat", "a pymc-bnn model file"),
    ("predict", "model_copy.bnn.nc", "a predictions table pymc-bnn wrote"),
    ("report", "notes.html", "a pymc-bnn HTML report"),
])
def test_a_file_pymc_bnn_did_not_write_needs_force(capsys, tmp_path, files, command, existing,
                                                   kind):
    data, model = files
    target = tmp_path / existing
    content = (model.read_bytes() if existing.endswith(".nc")
               else b"<!DOCTYPE html><title>my notes</title>" if existing.endswith(".html")
               else data.read_bytes())
    target.write_bytes(content)
    args = {"fit": ["fit", data, "--target", "label", *TINY_CLI],
            "predict": ["predict", model, data, "--quiet"],
            "report": ["report", model, "--quiet"]}[command]
    code, _, err = run_cli(capsys, *args, "--out", target)
    assert_one_line_error(code, err, f"exists and is not {kind}", "pass --force")
    assert target.read_bytes() == content
    if command != "fit":  # fast to redo: with --force the file is replaced
        code, _, err = run_cli(capsys, *args, "--out", target, "--force")
        assert code == 0, err
        assert target.read_bytes() != content and is_ours(target, {"predict": "predictions",
                                                                   "report": "report"}[command])


# Files of the user's that share a name or a column with what pymc-bnn writes: summary
# statistics (mean, std), hand labels (a prediction column among others), a page or a figure
# that mentions pymc-bnn. Each is refused without --force.
LOOKALIKES = {
    "summary.csv": b"variable,mean,std\nincome,50.1,9.8\n",
    "labels.csv": b"id,prediction,notes\n1,cat,hand label\n",
    "alone.csv": b"id,prediction\n1,cat\n",
    "notes.html": b"<!DOCTYPE html><title>my pymc-bnn notes</title><p>weeks of notes</p>",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_users_file_that_only_looks_like_an_output_needs_force(capsys, tmp_path, files, name):
    data, model = files
    target = tmp_path / name
    target.write_bytes(LOOKALIKES[name])
    args = (["report", model, "--quiet"] if name.endswith(".html")
            else ["predict", model, data, "--quiet"])
    code, _, err = run_cli(capsys, *args, "--out", target)
    assert_one_line_error(code, err, "exists and is not", "pass --force")
    assert target.read_bytes() == LOOKALIKES[name]


def test_parquet_and_png_lookalikes_are_not_ours(tmp_path):
    import matplotlib.pyplot as plt
    import pandas as pd

    from pymc_bnn.reporting.plots import save

    table = tmp_path / "stats.parquet"
    pd.DataFrame({"variable": ["a"], "mean": [1.0], "std": [2.0]}).to_parquet(table)
    # a Parquet table is ours by the mark pymc-bnn writes, not by its columns
    from pymc_bnn.data import write_batches

    predictions = pd.DataFrame({"id": [1], "prediction": ["a"], "p_a": [0.9], "p_b": [0.1]})
    ours, alike = tmp_path / "pred.parquet", tmp_path / "alike.parquet"
    write_batches([predictions], ours, mark="predictions")
    predictions.to_parquet(alike)
    assert not is_ours(table, "predictions") and is_ours(ours, "predictions")
    assert not is_ours(alike, "predictions")
    fig, ax = plt.subplots(figsize=(1, 1))
    fig.savefig(tmp_path / "mine.png", dpi=20)  # anyone's matplotlib figure
    save(ax, tmp_path / "figure.png", dpi=20)  # ours: marked as pymc-bnn's
    assert not is_ours(tmp_path / "mine.png", "figure") and is_ours(tmp_path / "figure.png",
                                                                      "figure")
    with pytest.raises(OutputPathError, match=r"did not write \(alike.parquet, mine.png, pred"):
        check_output_folder(tmp_path)  # (Parquet is not among a demo folder's outputs)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_predictions_get_the_usual_permissions(tmp_path, suffix):
    """Written through a temporary file (0600 when made): a new file gets 0666 less the umask,
    a replaced one keeps its permissions."""
    import pandas as pd

    from pymc_bnn.data import write_batches

    frame = pd.DataFrame({"mean": [0.5], "std": [0.1]})
    new, old = tmp_path / f"new{suffix}", tmp_path / f"old{suffix}"
    write_batches([frame], old)
    old.chmod(0o640)
    umask = os.umask(0o022)
    try:
        write_batches([frame], new)
        write_batches([frame], old)
    finally:
        os.umask(umask)
    assert new.stat().st_mode & 0o777 == 0o644
    assert old.stat().st_mode & 0o777 == 0o640


def test_outputs_pymc_bnn_wrote_are_replaced_without_force(capsys, tmp_path, files):
    data, model = files
    out, page = tmp_path / "pred.csv", tmp_path / "model.html"
    for _ in range(2):
        assert run_cli(capsys, "predict", model, data, "--out", out, "--quiet")[0] == 0
        assert run_cli(capsys, "report", model, "--out", page, "--quiet")[0] == 0
    assert "prediction" in out.read_text().splitlines()[0].split(",")
    refit = tmp_path / "refit.bnn.nc"
    refit.write_bytes(model.read_bytes())
    code, _, err = run_cli(capsys, "fit", data, "--target", "label", "--out", refit, *TINY_CLI,
                           "--seed", "1")
    assert code == 0, err
    assert refit.read_bytes() != model.read_bytes()


def test_a_folder_in_the_way_is_refused(capsys, tmp_path, files):
    data, model = files
    (tmp_path / "a_file").write_text("x")
    code, _, err = run_cli(capsys, "predict", model, data, "--out", tmp_path / "a_file" / "p.csv")
    assert_one_line_error(code, err, "cannot be created", "is a file, not a folder")
    code, _, err = run_cli(capsys, "predict", model, data, "--out", tmp_path)
    assert_one_line_error(code, err, "is a folder; give a file name, e.g. "
                          f"{tmp_path / 'predictions.csv'}")  # was out.predictions
    code, _, err = run_cli(capsys, "report", model, "--out", tmp_path)
    assert_one_line_error(code, err, f"e.g. {tmp_path / 'report.html'}")
    # a model file named like a table would be opened as one (it is netCDF)
    code, _, err = run_cli(capsys, "fit", data, "--target", "label", "--out",
                           tmp_path / "model.csv", *TINY_CLI)
    assert_one_line_error(code, err, "has the suffix of a text table, but a model file is "
                          f"netCDF; name it e.g. {tmp_path / 'model.bnn.nc'}")
    assert not (tmp_path / "model.csv").exists()
    code, _, err = run_cli(capsys, "predict", model, data, "--out", "-")
    assert_one_line_error(code, err, "--out - (standard output) is not supported; give a file "
                          "name, e.g. predictions.csv")


def test_demo_folders_are_checked_before_the_demo_runs(capsys, tmp_path):
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "report.html").write_text("<!DOCTYPE html><title>my thesis</title>")
    for command in (["demo"], ["demo", "--hierarchical"], ["demo", "--methods", "advi"],
                    ["active"]):
        code, _, err = run_cli(capsys, *command, "--out", mine, "--quiet")
        assert_one_line_error(code, err, "already holds files pymc-bnn did not write",
                              "report.html", "pass --force")
    assert (mine / "report.html").read_text() == "<!DOCTYPE html><title>my thesis</title>"
    code, _, err = run_cli(capsys, "demo", "--out", mine / "report.html", "--quiet")
    assert_one_line_error(code, err, "is a file, not a folder")


def test_a_folder_holding_only_pymc_bnn_outputs_is_accepted(tmp_path):
    from pymc_bnn.reporting.html import render_html

    folder = tmp_path / "demo"
    write_bytes_atomic(folder / "01_training_data.png",
                       b"\x89PNG\r\n\x1a\n" + b"0" * 10 + b"Software\x00pymc-bnn")
    write_bytes_atomic(folder / "report.html", render_html("anything", []).encode())
    write_bytes_atomic(folder / "metrics.json", b'{"versions": {"pymc_bnn": "0.1"}}')
    assert check_output_folder(folder) == folder
    (folder / "metrics.json").write_text('{"accuracy": 1}')  # a metrics.json of someone else
    with pytest.raises(OutputPathError, match=r"did not write \(metrics.json\)"):
        check_output_folder(folder)
    assert check_output_folder(folder, force=True) == folder


def test_save_from_python_refuses_to_replace_a_table(tmp_path, table):
    clf = BayesianMLPClassifier(**TINY).fit(table[["height", "width", "depth"]], table["kind"])
    csv = tmp_path / "data.csv"
    table.to_csv(csv, index=False)
    before = csv.read_bytes()
    for call in (lambda: save(clf, csv), lambda: clf.save(csv)):
        with pytest.raises(OutputPathError, match="not a pymc-bnn model file.*force=True"):
            call()
    assert csv.read_bytes() == before
    save(clf, csv, force=True)
    assert is_ours(csv, "model")


def test_check_output_names_every_input_it_compares(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.nc"
    a.write_text("x\n1\n")
    b.write_text("")
    with pytest.raises(OutputPathError, match="same file as the input LEFT"):
        check_output(a, "predictions", inputs={"LEFT": a, "RIGHT": b})
    with pytest.raises(OutputPathError, match="same file as the input file"):
        check_output(tmp_path / "." / "b.nc", "model", inputs=[a, b], force=True)
    assert check_output(tmp_path / "new" / "c.csv", "predictions", inputs=[a, b]) == \
        tmp_path / "new" / "c.csv"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "pred.csv"
    path.write_text("prediction\n1\n")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(FileSystemError, match=f"{path} is on a full disk.*free some space"):
        write_bytes_atomic(path, b"prediction\n2\n")
    assert path.read_text() == "prediction\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pred.csv"]
