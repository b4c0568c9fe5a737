"""`pymc-bnn fit / predict / report / info` on a user's own tables, as a user runs them."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import load
from pymc_bnn.cli.app import main

FAST = ["--hidden", "8", "--steps", "400", "--draws", "50"]


def _pymc_bnn(*args, cwd=None, env=None):
    exe = shutil.which("pymc-bnn") or str(Path(sys.executable).with_name("pymc-bnn"))
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env=None if env is None else {**os.environ, **env})


def _imported_modules(stderr: str) -> set[str]:
    """The modules a process run with PYTHONPROFILEIMPORTTIME=1 imported (from its stderr)."""
    return {line.split("|")[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


pytestmark = pytest.mark.slow  # acceptance: fits through the console script


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(220, 3))
    table = pd.DataFrame(X, columns=["height", "width", "depth"])
    table["kind"] = np.array(["small", "medium", "large"])[np.digitize(X[:, 0] + X[:, 1], [-0.8, 0.8])]
    table["price"] = 10 + 2 * X[:, 0] - X[:, 2] + 0.2 * rng.normal(size=220)
    table[:160].to_csv(folder / "train.csv", index=False)
    table[160:].assign(order_id=np.arange(60)).to_csv(folder / "new.csv", index=False)
    table[:160].to_parquet(folder / "train.parquet")
    return folder


@pytest.fixture(scope="module")
def kind_model(tables):
    """`pymc-bnn fit --ensemble` (in this process; the console script is run once, by the test
    below): the classifier of column "kind", the laplace engine's MAP restarts kept as chains.
    One fit that the tests below only read."""
    model = tables / "kind.bnn.nc"
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        code = main(["fit", str(tables / "train.csv"), "--target", "kind", "--exclude", "price",
                     "--out", str(model), "--seed", "2", "--ensemble", *FAST])
    assert code == 0 and "training accuracy" in shown.getvalue() and model.exists()
    return model


def test_fit_predict_report_info_through_the_console_script(tables, kind_model, capsys):
    model = kind_model

    predicted = _pymc_bnn("predict", model.name, "new.csv", "--out", "pred.csv", "--quiet",
                          cwd=tables, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    # predicting reads the estimator's file without scikit-learn (and the SciPy it loads):
    # most of a short prediction's time would be those imports (issue 20's predict target)
    imported = _imported_modules(predicted.stderr)
    assert "pymc_bnn.io.saved_estimator" in imported  # the lines above are read correctly
    assert not {"sklearn", "scipy.stats", "pymc", "pytensor", "matplotlib"} & imported
    assert predicted.stdout == ""  # --quiet
    pred = pd.read_csv(tables / "pred.csv")
    new = pd.read_csv(tables / "new.csv")
    assert len(pred) == len(new)
    assert list(pred["order_id"]) == list(new["order_id"])  # non-feature columns copied
    probs = pred[["p_large", "p_medium", "p_small"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    estimator = load(model)
    features = new[["height", "width", "depth"]]
    np.testing.assert_allclose(probs, estimator.predict_proba(features))
    assert (pred["prediction"] == estimator.classes_[probs.argmax(axis=1)]).all()
    assert (pred["prediction"] == new["kind"]).mean() > 0.6  # it learned something
    assert [c for c in pred.columns if c not in new.columns] == [
        "prediction", "p_large", "p_medium", "p_small"]  # no --level: no interval, no entropy
    assert main(["predict", str(model), str(tables / "new.csv"), "--out",
                 str(tables / "pred80.csv"), "--level", "0.8", "--quiet"]) == 0
    full = pd.read_csv(tables / "pred80.csv")
    pd.testing.assert_frame_equal(full[pred.columns], pred)  # the same numbers
    summary = estimator.uncertainty(features, level=0.8)
    for k, label in enumerate(estimator.classes_):
        np.testing.assert_array_equal(full[f"p_{label}_lower"],
                                      summary["probability_lower"].values[:, k])
        assert (full[f"p_{label}_lower"] <= full[f"p_{label}_upper"]).all()
    np.testing.assert_array_equal(full["mutual_information"], summary["mutual_information"])

    # in-process from here on: the console script's start is checked once, above
    assert main(["report", str(model), str(tables / "new.csv"), "--out",
                 str(tables / "report.html")]) == 0
    capsys.readouterr()
    page = (tables / "report.html").read_text()
    assert "Held-out performance" in page and "Confusion matrix" in page
    accuracy = (pred["prediction"] == new["kind"]).mean()
    assert f"<td>accuracy</td><td>{accuracy:.4g}</td>" in page  # same model, same predictions
    assert "data:image/png;base64," in page  # the ELBO trace

    assert main(["info", str(model)]) == 0
    shown = capsys.readouterr().out
    assert ", ".join(map(str, estimator.classes_)) in shown and "__array__" not in shown
    assert f"<td>classes</td><td>{', '.join(map(str, estimator.classes_))}</td>" in page
    assert main(["info", str(model), "--json"]) == 0  # in-process: one interpreter start less
    description = json.loads(capsys.readouterr().out)
    assert description["notes"]["target"] == "kind"
    assert description["estimator"]["class"] == "BayesianMLPClassifier"


def test_regression_from_parquet_writes_mean_and_total_sd(tables, capsys):
    """(with --skip: a linear path beside the hidden layers)"""
    model = tables / "price.bnn.nc"
    assert main(["fit", str(tables / "train.parquet"), "--target", "price", "--out", str(model),
                 "--exclude", "kind", "--skip", "--quiet", *FAST]) == 0
    assert main(["predict", str(model), str(tables / "new.csv"), "--out",
                 str(tables / "price.csv"), "--quiet", "--level", "0.9"]) == 0
    pred = pd.read_csv(tables / "price.csv")
    new = pd.read_csv(tables / "new.csv")
    assert (pred["sd"] > 0).all() and (pred["lower"] < pred["prediction"]).all()
    np.testing.assert_allclose(pred["sd"] ** 2, pred["aleatoric_sd"] ** 2 + pred["epistemic_sd"] ** 2)
    # the same seed gives the same model file contents, hence the same predictions
    again = tables / "again.bnn.nc"
    assert main(["fit", str(tables / "train.parquet"), "--target", "price", "--out", str(again),
                 "--exclude", "kind", "--skip", "--quiet", *FAST]) == 0
    assert main(["predict", str(again), str(tables / "new.csv"), "--out",
                 str(tables / "again.csv"), "--quiet", "--level", "0.9"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tables / "again.csv"), pred)
    # without --level: the same columns, the same numbers, no interval
    assert main(["predict", str(model), str(tables / "new.csv"), "--out",
                 str(tables / "plain.csv"), "--quiet"]) == 0
    plain = pd.read_csv(tables / "plain.csv")
    assert list(plain.columns) == [c for c in pred.columns if c not in ("lower", "upper")]
    pd.testing.assert_frame_equal(plain, pred[plain.columns])
    assert np.corrcoef(pred["prediction"], new["price"])[0, 1] > 0.8
    assert main(["report", str(model), str(tables / "new.csv"), "--quiet"]) == 0
    page = model.with_suffix(".html").read_text()
    assert "Observed against predicted" in page
    rmse = np.sqrt(np.mean((pred["prediction"] - new["price"]) ** 2))
    inside = ((new["price"] >= pred["lower"]) & (new["price"] <= pred["upper"])).mean()
    assert f"<td>RMSE</td><td>{rmse:.4g}</td>" in page
    assert f"<td>share inside the 90% interval</td><td>{inside:.4g}</td>" in page
    assert main(["info", str(model)]) == 0
    info = capsys.readouterr().out
    # --skip reached the network (here stacked with its GLM, as the default does on 160 rows)
    assert "linear skip path" in info and "stacked with" in info


def test_grouped_fit_and_predict(tables, capsys):
    """--groups: a hierarchical fit; predict uses each row's group, a new group the population."""
    train = pd.read_csv(tables / "train.csv").assign(store=lambda t: np.arange(len(t)) % 4)
    new = pd.read_csv(tables / "new.csv").assign(store=lambda t: np.arange(len(t)) % 5)
    train.to_csv(tables / "stores.csv", index=False)
    new.to_csv(tables / "new-stores.csv", index=False)
    model = tables / "stores.bnn.nc"
    assert main(["fit", str(tables / "stores.csv"), "--target", "kind", "--groups", "store",
                 "--exclude", "price", "--out", str(model), "--quiet", *FAST]) == 0
    assert main(["predict", str(model), str(tables / "new-stores.csv"), "--out",
                 str(tables / "stores-pred.csv")]) == 0
    out = capsys.readouterr().out
    assert "12 row(s) in group(s) not seen in training (4): predicted from the population" in out
    pred = pd.read_csv(tables / "stores-pred.csv")
    estimator = load(model)
    assert estimator.posterior_.groups["pooling"] == "partial"
    assert list(estimator.feature_names_in_) == ["height", "width", "depth"]
    features = new[["height", "width", "depth"]]
    np.testing.assert_allclose(pred[["p_large", "p_medium", "p_small"]].to_numpy(),
                               estimator.predict_proba(features, groups=new["store"].tolist()))
    assert list(pred["store"]) == list(new["store"])  # the group column is copied
    assert main(["report", str(model), str(tables / "new-stores.csv"), "--quiet"]) == 0
    accuracy = (pred["prediction"] == new["kind"]).mean()
    assert f"<td>accuracy</td><td>{accuracy:.4g}</td>" in model.with_suffix(".html").read_text()


def test_fit_ensemble_keeps_every_restart_and_predicts(tables, kind_model):
    """`pymc-bnn fit --ensemble`: the laplace engine (the CLI's default method) keeps its 5 MAP
    restarts as chains; the saved model predicts like the estimator it holds."""
    model = load(kind_model)
    assert model.posterior_.method == "laplace"
    assert model.posterior_.idata["posterior"].sizes["chain"] == 5
    assert model.posterior_.diagnostics["members"] == [0, 1, 2, 3, 4]
    new = pd.read_csv(tables / "new.csv")[["height", "width", "depth"]]
    assert model.predict_proba(new).shape == (60, 3)


def test_report_names_the_training_file_and_takes_a_target_for_a_python_model(
        tables, kind_model, capsys):
    """Scoring the file the model was fitted to says the scores are optimistic; a model saved
    from Python records no target: report asks for --target, then scores that column."""
    from pymc_bnn import BayesianMLPClassifier, save

    page = tables / "train_report.html"
    assert main(["report", str(kind_model), str(tables / "train.csv"), "--out", str(page),
                 "--quiet"]) == 0
    html = page.read_text()
    assert "<h2>Performance on the training rows</h2>" in html
    assert "the file the model was fitted to: these scores are optimistic" in html
    assert "Held-out performance" not in html
    train = pd.read_csv(tables / "train.csv")
    python_model = tables / "python.bnn.nc"
    save(BayesianMLPClassifier((3,), steps=300, draws=50, random_state=0).fit(
        train[["height", "width", "depth"]], train["kind"]), python_model)
    capsys.readouterr()
    out = tables / "python_report.html"
    assert main(["report", str(python_model), str(tables / "new.csv"), "--out", str(out)]) == 2
    said = capsys.readouterr().err
    assert "records no target column (it was saved from Python" in said
    assert "name it with --target COLUMN" in said and "None" not in said and not out.exists()
    assert main(["report", str(python_model), str(tables / "new.csv"), "--target", "kind",
                 "--out", str(out), "--quiet"]) == 0
    assert "<h2>Held-out performance</h2>" in out.read_text()
    capsys.readouterr()
    assert main(["report", str(python_model), str(tables / "new.csv"), "--target", "height",
                 "--out", str(out), "--force"]) == 2
    assert "--target 'height' is one of the model's features" in capsys.readouterr().err
    assert main(["report", str(python_model), "--target", "kind", "--out", str(out),
                 "--force"]) == 2
    assert "--target names the column of DATA to score, but no DATA was given" in (
        capsys.readouterr().err)


def test_report_knows_the_training_file_from_another_folder(tables, kind_model, monkeypatch):
    """The fit ran with an absolute path; the report runs elsewhere with a relative one to the
    same file (training rows), and with another file of the same name (held out)."""
    elsewhere = tables / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    pd.read_csv(tables / "new.csv").to_csv(elsewhere / "train.csv", index=False)
    monkeypatch.chdir(elsewhere)
    assert main(["report", str(kind_model), "../train.csv", "--out", "same.html",
                 "--quiet"]) == 0
    assert "<h2>Performance on the training rows</h2>" in (elsewhere / "same.html").read_text()
    assert main(["report", str(kind_model), "train.csv", "--out", "other.html",
                 "--quiet"]) == 0
    assert "<h2>Held-out performance</h2>" in (elsewhere / "other.html").read_text()


def test_report_notes_unseen_categories_once_in_words(tmp_path, capsys):
    """report scored a held-out file with a category not seen in training through four
    predictions, each raising UnseenCategoryWarning at the console script's line; now one
    note, in the command's words, as predict and stability give it."""
    import warnings

    from pymc_bnn.errors import UnseenCategoryWarning

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=120), "colour": rng.choice(["red", "blue"], 120)})
    table["y"] = np.where(table.x + (table.colour == "red") > 0.5, "yes", "no")
    table[:90].to_csv(tmp_path / "train.csv", index=False)
    table[90:].assign(colour="green").to_csv(tmp_path / "new.csv", index=False)
    model = tmp_path / "m.bnn.nc"
    assert main(["fit", str(tmp_path / "train.csv"), "--target", "y", "--out", str(model),
                 "--quiet", *FAST]) == 0
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["report", str(model), str(tmp_path / "new.csv"), "--out",
                     str(tmp_path / "r.html"), "--quiet"]) == 0
    assert not [w for w in caught if issubclass(w.category, UnseenCategoryWarning)]
    said = capsys.readouterr().err
    assert said.count("not seen in training") == 1 and "green" in said
    # rows without a label are left out of the scores, said once; none labelled is refused
    table[90:].assign(y=lambda t: t.y.where(t.index % 3 > 0)).to_csv(tmp_path / "gaps.csv",
                                                                     index=False)
    assert main(["report", str(model), str(tmp_path / "gaps.csv"), "--out",
                 str(tmp_path / "g.html"), "--quiet"]) == 0
    assert "10 row(s) with an empty 'y' were left out of the scores" in capsys.readouterr().err
    assert "Scores on 20 rows of" in (tmp_path / "g.html").read_text()
    table[90:].assign(y=np.nan).to_csv(tmp_path / "none.csv", index=False)
    assert main(["report", str(model), str(tmp_path / "none.csv"), "--out",
                 str(tmp_path / "n.html"), "--quiet"]) == 2
    assert "is empty in every row, so there is nothing to score" in capsys.readouterr().err


@pytest.mark.parametrize("json", [False, True])
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(kind_model, json):
    """`pymc-bnn info m.bnn.nc | head -1`: rich's table gave exit 1 with no word, the JSON
    "a file could not use (Broken pipe); check the path and the disk" and exit 74."""
    exe = shutil.which("pymc-bnn") or str(Path(sys.executable).with_name("pymc-bnn"))
    process = subprocess.Popen([exe, "info", str(kind_model), *(["--json"] if json else [])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader leaves before the first line is written
    said = process.stderr.read().decode()
    assert process.wait(timeout=600) == 141 and said == ""


def test_an_interrupted_fit_without_one_step_count_is_said_without_a_question_mark(capsys):
    """Separate fits joined into one posterior (a pooling='none' network's groups or an
    ensemble's members with --jobs) have no single step count: the line said 'at step ?'."""
    from types import SimpleNamespace

    from pymc_bnn.cli.fit_command import _ending

    args = SimpleNamespace(out="m.bnn.nc")
    joined = SimpleNamespace(posterior_=SimpleNamespace(
        interrupted=True, diagnostics={"groups_fitted": "separately"}))
    assert _ending(args, joined) == 3
    assert capsys.readouterr().err == (
        "interrupted: the fit was stopped by Ctrl-C; the state reached so far is saved in "
        "m.bnn.nc, marked interrupted (exit 3)\n")
    one = SimpleNamespace(posterior_=SimpleNamespace(interrupted=True,
                                                     diagnostics={"steps_run": 1200}))
    assert _ending(args, one) == 3
    assert "stopped by Ctrl-C at step 1200; the state" in capsys.readouterr().err
