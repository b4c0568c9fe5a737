"""Estimators and the CLI on streamed data: a Parquet folder in, batches through advi,
predictions out batch by batch."""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn.cli import main
from pymc_bnn.data import batch_source, parquet_batches
from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.sklearn import BayesianMLPClassifier, BayesianMLPRegressor

FAST = dict(hidden_layer_sizes=(4,), steps=600, draws=50, random_state=0, batch_size=128,
            engine_options={"tol": 0})


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(900, 2))
    frame = pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "id": np.arange(900),
                          "kind": np.where(X[:, 0] + X[:, 1] > 0, "up", "down"),
                          "value": 2 * X[:, 0] + 0.1 * rng.normal(size=900)})
    rows = tmp_path / "rows"
    rows.mkdir()
    for k in range(3):
        frame.iloc[300 * k:300 * (k + 1)].to_parquet(rows / f"part{k}.parquet")
    return frame, rows


@pytest.mark.slow
def test_classifier_streams_a_folder_as_the_same_batches_in_memory(folder):
    frame, rows = folder
    frame = frame.drop(columns="value")
    for k in range(3):  # the folder without the numeric column "value"
        frame.iloc[300 * k:300 * (k + 1)].to_parquet(rows / f"part{k}.parquet")
    source = batch_source(lambda: iter([(frame[["x0", "x1", "id"]].to_numpy(float),
                                         frame["kind"].to_numpy())]))
    in_memory = BayesianMLPClassifier(**FAST).fit(source)
    from_disk = BayesianMLPClassifier(**FAST).fit(rows, "kind")
    assert from_disk.classes_.tolist() == ["down", "up"] == in_memory.classes_.tolist()
    assert from_disk.feature_names_in_.tolist() == ["x0", "x1", "id"]
    X = frame[["x0", "x1", "id"]]
    np.testing.assert_allclose(from_disk.predict_proba(X), in_memory.predict_proba(X.to_numpy()),
                               rtol=1e-12)
    np.testing.assert_allclose(from_disk.x_mean_, X.to_numpy().mean(axis=0), rtol=1e-12)
    assert from_disk.posterior_.method == "advi" and from_disk.score(X, frame["kind"]) > 0.9


@pytest.mark.slow
def test_regressor_standardises_the_target_from_the_stream(folder):
    frame, rows = folder
    source = parquet_batches(rows / "part1.parquet", target="value", exclude=["kind"])
    model = BayesianMLPRegressor(**{**FAST, "steps": 1500}).fit(source)
    assert model.posterior_.preprocessing["y_mean"] == pytest.approx(
        frame["value"].iloc[300:600].mean(), rel=1e-12)
    part = frame.iloc[300:600]
    assert np.corrcoef(model.predict(part[["x0", "x1", "id"]]), part["value"])[0, 1] > 0.9


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_streamed_fits_refuse_what_they_cannot_do(folder):
    _, rows = folder
    with pytest.raises(InvalidSettingError, match="method='laplace' cannot fit streamed data"):
        BayesianMLPClassifier(method="laplace").fit(rows, "kind")
    with pytest.raises(InvalidInputError, match="name the target column as y"):
        BayesianMLPClassifier().fit(rows)
    with pytest.raises(InvalidInputError, match="non-numeric feature column\\(s\\): kind") as raised:
        BayesianMLPRegressor().fit(rows, "value")
    # the fit has no exclude=: the fix names the source that leaves the column out, which works
    assert f"parquet_batches({str(rows)!r}, target='value', exclude=['kind'])" in str(raised.value)
    assert BayesianMLPRegressor(**FAST).fit(
        parquet_batches(str(rows), target="value", exclude=["kind"])).n_features_in_ == 3
    with pytest.raises(InvalidSettingError, match="grouped networks cannot be fitted"):
        BayesianMLPClassifier().fit(rows, "kind", groups="id")


@pytest.mark.slow
def test_cli_fit_stream_and_predict_parquet_batch_by_batch(folder, tmp_path):
    frame, rows = folder
    model, out = tmp_path / "m.bnn.nc", tmp_path / "pred.parquet"
    assert main(["fit", str(rows), "--target", "kind", "--exclude", "value,id", "--stream",
                 "--batch-size", "128", "--hidden", "4", "--steps", "600", "--draws", "50",
                 "--out", str(model), "--quiet"]) == 0
    assert main(["predict", str(model), str(rows), "--out", str(out), "--quiet"]) == 0
    streamed = pd.read_parquet(out)
    csv = tmp_path / "pred.csv"
    frame.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["predict", str(model), str(tmp_path / "rows.csv"), "--out", str(csv),
                 "--quiet"]) == 0
    in_memory = pd.read_csv(csv)
    assert list(streamed.columns) == list(in_memory.columns)
    assert streamed["id"].tolist() == list(range(900))
    np.testing.assert_allclose(streamed["p_up"], in_memory["p_up"], rtol=1e-12)
    assert (streamed["prediction"] == frame["kind"]).mean() > 0.9


@pytest.mark.parametrize("labels", [("down", "up"),
                                    pytest.param(("cat", "dog", "eel"), marks=pytest.mark.slow)])
def test_rows_sorted_by_label_stream_though_the_first_batch_holds_one_class(labels):
    """The classes come from the pass over the whole stream, not from the first minibatch
    (the model is built on it): a table sorted by its label streams as any other."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 2))
    codes = np.digitize(X[:, 0], np.quantile(X[:, 0], np.linspace(0, 1, len(labels) + 1)[1:-1]))
    order = np.argsort(codes, kind="stable")
    X, y = X[order], np.asarray(labels)[codes[order]]
    source = batch_source([(X[i:i + 100], y[i:i + 100]) for i in range(0, 300, 100)])
    model = BayesianMLPClassifier(**{**FAST, "batch_size": 50}).fit(source)
    assert model.classes_.tolist() == sorted(labels)
    assert model.score(X, y) > 0.9


def _pressed_at(step):
    """An advi callback that raises KeyboardInterrupt at `step`, as a Ctrl-C there does."""
    def callback(info):
        if info["step"] >= step:
            raise KeyboardInterrupt
    return callback


@pytest.mark.slow
def test_an_interrupted_streamed_fit_says_so(folder):
    """Ctrl-C during a streamed fit keeps the state so far, and says so as an in-memory fit
    does: the estimator warns, and `pymc-bnn fit --stream` names the step and the file."""
    _, rows = folder
    options = {"tol": 0, "callback": _pressed_at(100), "chunk_steps": 50}
    with pytest.warns(UserWarning, match="interrupted; the estimator holds the state reached"):
        model = BayesianMLPClassifier(**{**FAST, "steps": 10_000,
                                         "engine_options": options}).fit(rows, "kind")
    assert model.posterior_.interrupted


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_cli_fit_stream_interrupted_names_the_step_and_exits_3(folder, tmp_path, monkeypatch,
                                                               capsys):
    from pymc_bnn.sklearn import base

    _, rows = folder
    plain_fit = base.fit
    monkeypatch.setattr(base, "fit", lambda *args, **options: plain_fit(
        *args, **{**options, "callback": _pressed_at(100), "chunk_steps": 50}))
    model = tmp_path / "m.bnn.nc"
    code = main(["fit", str(rows), "--target", "kind", "--exclude", "value,id", "--stream",
                 "--batch-size", "128", "--hidden", "4", "--steps", "10000", "--tol", "0",
                 "--draws", "20", "--out", str(model), "--quiet"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert err == (f"interrupted: the fit was stopped by Ctrl-C at step 100; the state reached "
                   f"so far is saved in {model}, marked interrupted (exit 3)\n"), err


def test_cli_fit_stream_shows_the_statistics_pass_and_a_press_there_keeps_nothing(
        folder, tmp_path, monkeypatch, capsys):
    """The pass over DATA before the fit shows its rows on the progress bar (as the fit its
    steps); Ctrl-C there ends as a press before any fit does: one line, exit 130, no file."""
    from pymc_bnn.data import BatchSource, stream_statistics
    from pymc_bnn.sklearn import base

    def pressed_after_one_file(source, **options):
        def batches():
            yield next(iter(source))
            raise KeyboardInterrupt
        return stream_statistics(BatchSource(batches, n_rows=source.n_rows, name=source.name),
                                 **options)

    monkeypatch.setattr(base, "stream_statistics", pressed_after_one_file)
    _, rows = folder
    model = tmp_path / "m.bnn.nc"
    code = main(["fit", str(rows), "--target", "kind", "--exclude", "value,id", "--stream",
                 "--hidden", "4", "--out", str(model)])
    out, err = capsys.readouterr()
    assert code == 130 and err == "interrupted: nothing was kept\n", err
    assert "Statistics" in out and "300/900" in out and "rows read" in out, out
    assert not model.exists() and [p.name for p in tmp_path.iterdir()] == ["rows"]


def test_predicting_a_path_or_a_stream_says_where_streamed_prediction_is(folder):
    """The estimators predict rows in memory: a Parquet path or a BatchSource given to predict
    is refused naming the batch-by-batch route, not read as text ('could not convert string to
    float') or as an object ('float() argument must be … not BatchSource')."""
    frame, rows = folder
    model = BayesianMLPClassifier(**FAST).fit(rows, "kind")
    new = parquet_batches(rows, exclude=["kind"])
    for X, what in ((rows, "a path"), (str(rows), "a path"), (new, "a stream of batches")):
        for method in (model.predict, model.predict_proba, model.uncertainty):
            with pytest.raises(InvalidInputError, match=f"X is {what}.*rows in memory.*"
                                                        "pymc-bnn predict"):
                method(X)
    assert model.predict(frame.drop(columns="kind")).shape == (900,)


def test_cli_fit_stream_refuses_jobs_for_an_ensemble_as_the_estimator_does(folder, tmp_path,
                                                                          capsys):
    """`--jobs` with `--stream --ensemble` was dropped without a word (the members ran
    together, one at a time): the estimator refuses n_jobs= there, and so does the command."""
    _, rows = folder
    model = tmp_path / "m.bnn.nc"
    code = main(["fit", str(rows), "--target", "kind", "--exclude", "value,id", "--stream",
                 "--method", "advi", "--ensemble", "--jobs", "2", "--steps", "100",
                 "--out", str(model), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "need in-memory rows" in err and "leave out --jobs" in err, err
    assert not model.exists()


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_cli_fit_stream_keeps_id_columns_out_and_refuses_column_codings(folder, tmp_path,
                                                                       capsys):
    """`--id` with `--stream` made the identifier a feature (a row number as an input), and
    `--categorical`/`--ordinal` were dropped without a word (a code column fitted as a
    quantity); now the identifier is left out as in memory, and the codings are refused."""
    from pymc_bnn import load

    _, rows = folder
    model = tmp_path / "m.bnn.nc"
    common = ["fit", str(rows), "--target", "kind", "--exclude", "value", "--stream",
              "--method", "advi", "--hidden", "2", "--steps", "100", "--draws", "20",
              "--out", str(model), "--quiet"]
    assert main([*common, "--id", "id"]) == 0, capsys.readouterr().err
    assert load(model).feature_names_in_.tolist() == ["x0", "x1"]
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(rows), "--out", str(out), "--quiet"]) == 0
    assert pd.read_csv(out).columns[0] == "id"  # written first, as --id promises
    capsys.readouterr()
    for flag in ("--categorical", "--ordinal"):
        assert main([*common, flag, "id", "--force"]) == 2
        err = capsys.readouterr().err
        assert f"{flag} cannot be combined with --stream yet" in err, err


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_cli_fit_stream_refuses_a_count_target_and_missing_drop_naming_the_flags(tmp_path,
                                                                                 capsys):
    """A whole-number target streamed without --likelihood was read as counts and then refused
    in the library's words ('stream a bernoulli, categorical or real-valued target'), naming no
    flag; --missing drop was ignored, and a missing value then refused as NaN."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    rows = tmp_path / "counts.parquet"
    pd.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "n": rng.poisson(np.exp(1.5 + X[:, 0]))}).to_parquet(
        rows)
    model = tmp_path / "m.bnn.nc"
    common = ["fit", str(rows), "--target", "n", "--stream", "--method", "advi", "--hidden",
              "2", "--steps", "50", "--draws", "20", "--out", str(model), "--quiet"]
    assert main(common) == 2
    err = capsys.readouterr().err
    assert "--stream cannot fit the " in err and " likelihood yet (whole numbers" in err, err
    assert "pass --likelihood gaussian to fit the counts as real numbers" in err, err
    assert main([*common, "--missing", "drop", "--likelihood", "gaussian"]) == 2
    err = capsys.readouterr().err
    assert "--missing drop cannot be combined with --stream yet" in err, err
    assert not model.exists()
    assert main([*common, "--likelihood", "gaussian"]) == 0, capsys.readouterr().err
