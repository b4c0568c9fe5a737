"""One ModelRecord describes a network for BNNModel, Posterior and the model file."""

import dataclasses

import pytest

from pymc_bnn import Posterior, build_model, fit, load, save
from pymc_bnn.model.build import BNNModel
from pymc_bnn.model.record import RECORD_FIELDS, ModelRecord


@pytest.fixture(scope="module")
def fitted(small_moons):
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(3,))
    return bnn, fit(bnn, "advi", steps=200, tol=0, draws=20, progress=False)


def test_fit_hands_the_models_record_to_the_posterior(fitted):
    bnn, posterior = fitted
    assert posterior.record is bnn.record
    for name in RECORD_FIELDS:  # every field reads as an attribute of both holders
        assert getattr(posterior, name) is getattr(bnn.record, name) is getattr(bnn, name)


def test_holders_take_the_record_or_its_fields_one_by_one(fitted):
    bnn, posterior = fitted
    fields = {name: getattr(bnn.record, name) for name in RECORD_FIELDS}
    one_by_one = Posterior(idata=posterior.idata, method="advi", **fields)
    assert one_by_one.record == posterior.record
    assert BNNModel(model=bnn.model, output=bnn.output, **fields).record == bnn.record
    with pytest.raises(TypeError, match="spekc"):
        Posterior(posterior.record, posterior.idata, spekc=None)


def test_replace_changes_a_record_field_and_keeps_the_rest(fitted):
    _, posterior = fitted
    renamed = dataclasses.replace(posterior, feature_names=("a", "b"))
    assert renamed.feature_names == ("a", "b") and renamed.record.feature_names == ("a", "b")
    assert renamed.spec is posterior.spec and renamed.idata is posterior.idata
    assert posterior.feature_names == ("x0", "x1")  # the original is unchanged
    assert dataclasses.replace(posterior, method="x").record is posterior.record


def test_the_record_round_trips_through_a_model_file(fitted, tmp_path):
    _, posterior = fitted
    loaded = load(save(posterior, tmp_path / "m.bnn.nc"))
    assert isinstance(loaded.record, ModelRecord) and loaded.record == posterior.record
