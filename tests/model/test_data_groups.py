"""The training data as ArviZ groups (`observed_data`, `constant_data`), read from built models.

References: the data given to `build_model` (the target as the likelihood takes it: class codes,
standardised reals, counts) and what PyMC's own converter, `pm.to_inference_data`, makes of the
same model.
"""

import numpy as np
import pymc as pm
import pytest

from pymc_bnn import build_model
from pymc_bnn.data import as_source
from pymc_bnn.model.build import build_streaming_model
from pymc_bnn.model.data_groups import DATA_GROUPS, data_groups, with_data_groups

RNG = np.random.default_rng(11)
X = RNG.normal(size=(24, 3))


def test_a_classifiers_groups_hold_its_labels_and_inputs_with_the_models_coordinates():
    y = (X[:, 0] > 0).astype(int)
    bnn = build_model(X, y, hidden=(2,), feature_names=["a", "b", "c"])
    groups = data_groups(bnn)
    observed, constant = groups["observed_data"], groups["constant_data"]
    assert list(observed.data_vars) == ["y"]  # named as the model's observed variable
    assert observed["y"].dims == ("obs",)
    np.testing.assert_array_equal(observed["y"].values, y)
    np.testing.assert_array_equal(observed["obs"].values, np.arange(24))
    assert constant["X"].dims == ("obs", "feature")
    np.testing.assert_array_equal(constant["X"].values, X)
    assert constant["feature"].values.tolist() == ["a", "b", "c"]
    assert "class codes" in observed.attrs["target_scale"]


def test_the_groups_are_those_pymcs_own_converter_makes():
    bnn = build_model(X, (X[:, 1] > 0).astype(int), hidden=(2,))
    reference = pm.to_inference_data(prior={}, model=bnn.model)  # PyMC's groups of the model
    ours = data_groups(bnn)
    for name in DATA_GROUPS:
        mine = ours[name].drop_attrs()
        theirs = reference[name].to_dataset().drop_attrs()
        assert mine.identical(theirs), name


def test_a_real_target_is_on_the_models_standardised_scale_and_says_so():
    y = 50.0 + 10.0 * X[:, 0]
    weight = RNG.uniform(0.5, 2.0, size=24)
    bnn = build_model(X, y, hidden=(2,), likelihood="gaussian", sample_weight=weight)
    groups = data_groups(bnn)
    observed = groups["observed_data"]
    mean, scale = bnn.preprocessing["y_mean"], bnn.preprocessing["y_scale"]
    assert (observed.attrs["y_mean"], observed.attrs["y_scale"]) == (mean, scale)
    assert observed.attrs["target_scale"].startswith("standardised")
    # the values y's log-likelihood and posterior predictive are on, back to the user's units
    np.testing.assert_allclose(observed["y"].values, (y - mean) / scale)
    np.testing.assert_allclose(mean + scale * observed["y"].values, y)
    np.testing.assert_array_equal(groups["constant_data"]["sample_weight"].values, weight)


def test_group_indices_and_a_count_models_offset_are_constant_data():
    groups = np.repeat(["g0", "g1", "g2"], 8)
    bnn = build_model(X, (X[:, 0] > 0).astype(int), hidden=(2,), groups=groups)
    constant = data_groups(bnn)["constant_data"]
    np.testing.assert_array_equal(constant["group_index"].values, np.repeat([0, 1, 2], 8))
    counts = RNG.poisson(3.0, size=24)
    count_model = build_model(X, counts, hidden=(2,), likelihood="poisson")
    count_groups = data_groups(count_model)
    offset = count_groups["constant_data"]["log_rate_offset"]
    assert offset.dims == ()  # a scalar stays a scalar
    assert float(offset) == pytest.approx(np.log(counts.mean()))
    np.testing.assert_array_equal(count_groups["observed_data"]["y"].values, counts)
    assert count_groups["observed_data"].attrs["target_scale"].startswith("as given")


def test_a_categorical_models_outputs_are_named_by_its_classes():
    labels = np.array(["lo", "mid", "hi"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    bnn = build_model(X, labels, hidden=(2,), likelihood="categorical")
    assert list(bnn.model.coords["output"]) == ["hi", "lo", "mid"]  # sorted, as the codes
    observed = data_groups(bnn)["observed_data"]["y"].values
    np.testing.assert_array_equal(np.array(["hi", "lo", "mid"])[observed], labels)
    # a Bernoulli network's one output is no class of its own
    assert list(build_model(X, (labels == "hi").astype(int), hidden=(2,)).model.coords[
        "output"]) == [0]


def test_a_streamed_model_holds_one_batch_so_gives_no_groups():
    batches = [(RNG.normal(size=(20, 2)), RNG.integers(0, 2, size=20)) for _ in range(3)]
    bnn = build_streaming_model(as_source(batches), batch_size=16, hidden=(2,))
    assert data_groups(bnn) == {}
    idata = pm.to_inference_data(prior={}, model=bnn.model)
    assert with_data_groups(idata, bnn) is idata


def test_with_data_groups_replaces_them_in_a_copy():
    import arviz as az

    bnn = build_model(X, (X[:, 2] > 0).astype(int), hidden=(2,))
    idata = az.from_dict({"posterior": {"w_0": np.zeros((1, 4, 3, 2))},
                          "observed_data": {"y": np.zeros(3)}}, sample_dims=["chain", "draw"])
    out = with_data_groups(idata, bnn)
    assert idata["observed_data"]["y"].shape == (3,)  # the argument is unchanged
    assert out["observed_data"]["y"].shape == (24,)
    assert set(DATA_GROUPS) <= set(out.children) and "posterior" in out.children
