"""Model files: saving is atomic, and loading refuses files that are truncated, of a newer format,
not ours, or pickles, and never runs code — through `pymc_bnn.load` and the CLI."""

import dataclasses
import os
import pickle

import numpy as np
import pytest
import xarray as xr

from pymc_bnn import BayesianMLPClassifier, ModelFileError, load, save
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.io.model_file import FORMAT_VERSION
from reliability.helpers import TINY, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def data(table):
    return table[["height", "width", "depth"]], table["kind"]


@pytest.fixture(scope="module")
def classifier(data):
    return BayesianMLPClassifier(**TINY).fit(*data)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, classifier):
    path = tmp_path_factory.mktemp("models") / "classifier.bnn.nc"
    classifier.save(path)
    return path


def test_pickle_renamed_to_our_extension_is_refused(tmp_path):
    path = tmp_path / "evil.bnn.nc"
    path.write_bytes(pickle.dumps({"not": "a model"}))
    with pytest.raises(ModelFileError, match="pickle, and pymc-bnn never loads pickles.*pass a file written by"):
        load(path)


def test_truncated_file_is_refused(tmp_path, saved):
    data = saved.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 600):
        path = tmp_path / f"cut{cut}.bnn.nc"
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="truncated or corrupt.*save the model again"):
            load(path)


def test_foreign_netcdf_missing_and_empty_files_are_refused(tmp_path):
    foreign = tmp_path / "other.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(ModelFileError, match="not a pymc-bnn model file.*pass a file written by"):
        load(foreign)
    with pytest.raises(ModelFileError, match="no model file.*check the path"):
        load(tmp_path / "missing.bnn.nc")
    (tmp_path / "empty.bnn.nc").write_bytes(b"")
    with pytest.raises(ModelFileError, match="not a pymc-bnn model file"):
        load(tmp_path / "empty.bnn.nc")


def test_newer_format_version_is_refused(tmp_path, classifier, monkeypatch):
    from pymc_bnn.io import model_file

    monkeypatch.setattr(model_file, "FORMAT_VERSION", FORMAT_VERSION + 1)
    path = save(classifier, tmp_path / "future.bnn.nc")
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}.*upgrade pymc-bnn"):
        load(path)


def test_failed_save_leaves_the_previous_file_intact(tmp_path, saved, classifier, data):
    path = tmp_path / "model.bnn.nc"
    path.write_bytes(saved.read_bytes())
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk full")

    original = os.fsync
    os.fsync = crash
    try:
        with pytest.raises(OSError, match="disk full"):
            save(classifier, path)
    finally:
        os.fsync = original
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bnn.nc"]  # no temp file left
    np.testing.assert_array_equal(load(path).predict_proba(data[0]),
                                  classifier.predict_proba(data[0]))


def test_what_load_could_not_rebuild_is_refused_at_save(tmp_path, classifier):
    class MyPrior:
        name = "mine"

        def weight(self, *a, **k): ...
        def bias(self, *a, **k): ...
        def to_dict(self):
            return {"name": "mine"}

    custom = dataclasses.replace(classifier.posterior_, prior=MyPrior())
    with pytest.raises(InvalidSettingError, match="cannot be saved.*never runs code"):
        save(custom, tmp_path / "x.bnn.nc")
    odd = dataclasses.replace(classifier.posterior_, settings={"callback": print})
    with pytest.raises(InvalidSettingError, match="settings.callback"):
        save(odd, tmp_path / "x.bnn.nc")
    assert not (tmp_path / "x.bnn.nc").exists()
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    from pymc_bnn.errors import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        save(BayesianMLPClassifier(), tmp_path / "x.bnn.nc")
    with pytest.raises(SklearnNotFittedError, match="not fitted yet"):  # as predict raises
        BayesianMLPClassifier().save(tmp_path / "x.bnn.nc")


def test_load_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used while loading")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    assert type(load(saved)) is BayesianMLPClassifier


@pytest.mark.parametrize("command", ["predict", "info", "report"])
def test_cli_refuses_bad_model_files_in_one_line(tmp_path, saved, data, command, capsys):
    data[0].to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "cut.bnn.nc").write_bytes(saved.read_bytes()[:1000])
    (tmp_path / "evil.bnn.nc").write_bytes(pickle.dumps({"not": "a model"}))
    (tmp_path / "new.txt").write_text("a,b\n1,2\n")
    extra = {"predict": ["new.csv", "--out", "p.csv"], "info": [], "report": []}[command]
    for model, phrase in (("cut.bnn.nc", "truncated or corrupt"), ("evil.bnn.nc", "pickle"),
                          ("new.txt", "not a pymc-bnn model file")):
        code, _, err = run_cli(capsys, command, tmp_path / model,
                               *[tmp_path / a if a.endswith(".csv") else a for a in extra])
        assert_one_line_error(code, err, phrase)
    assert not (tmp_path / "p.csv").exists()
