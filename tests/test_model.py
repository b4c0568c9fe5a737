"""The PyMC graph the builder makes: names, shapes, dims, and that it matches the forward pass."""

import numpy as np
import pytest

from pymc_bnn import InvalidSettingError, NetworkSpec, build_model, forward


def test_seed_network_graph(moons):
    bnn = build_model(moons.X_train, moons.y_train)
    model = bnn.model
    assert bnn.spec == NetworkSpec(n_inputs=2, hidden=(5, 5), n_outputs=1)
    assert [v.name for v in model.free_RVs] == ["w_0", "w_1", "w_2"]
    assert [v.name for v in model.observed_RVs] == ["y"]
    assert set(model.named_vars) >= {"X", "y_data", "w_0", "w_1", "w_2", "y"}
    assert model.named_vars_to_dims["w_0"] == ("feature", "hidden_0")
    assert model.named_vars_to_dims["w_1"] == ("hidden_0", "hidden_1")
    assert model.named_vars_to_dims["w_2"] == ("hidden_1", "output")
    assert model.named_vars_to_dims["X"] == ("obs", "feature")
    assert model.named_vars_to_dims["y"] == ("obs",)
    point = model.initial_point()
    assert point["w_0"].shape == (2, 5)
    assert point["w_1"].shape == (5, 5)
    assert point["w_2"].shape == (5, 1)
    assert len(model.coords["obs"]) == len(moons.y_train)
    assert list(model.coords["feature"]) == ["x0", "x1"]


def test_biases_and_widths_are_parameters(moons):
    bnn = build_model(moons.X_train, moons.y_train, hidden=(7, 3, 4), activation="relu", bias=True)
    point = bnn.model.initial_point()
    assert [point[f"w_{i}"].shape for i in range(4)] == [(2, 7), (7, 3), (3, 4), (4, 1)]
    assert [point[f"b_{i}"].shape for i in range(4)] == [(7,), (3,), (4,), (1,)]
    assert bnn.model.named_vars_to_dims["b_1"] == ("hidden_1",)


def test_model_logp_matches_numpy_forward(moons, rng):
    """The model's Bernoulli log-likelihood equals one computed from our NumPy forward pass."""
    bnn = build_model(moons.X_train, moons.y_train, hidden=(4, 3), bias=True)
    point = {k: rng.standard_normal(v.shape) for k, v in bnn.model.initial_point().items()}
    weights = [point[f"w_{i}"] for i in range(3)]
    biases = [point[f"b_{i}"] for i in range(3)]
    eta = forward(bnn.spec, moons.X_train, weights, biases)[:, 0]
    expected = np.sum(moons.y_train * eta - np.logaddexp(0, eta))
    loglike = bnn.model.compile_logp(vars=[bnn.model["y"]])
    got = loglike(point)
    assert got == pytest.approx(expected, rel=1e-10)


def test_spec_validation():
    with pytest.raises(InvalidSettingError, match="at least 1 unit"):
        NetworkSpec(n_inputs=2, hidden=(5, 0))
    with pytest.raises(InvalidSettingError, match="unknown activation 'swish'"):
        NetworkSpec(n_inputs=2, activation="swish")


def test_spec_round_trips_through_dict():
    spec = NetworkSpec(n_inputs=3, hidden=(8, 4), n_outputs=2, activation="gelu", bias=True)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "softplus", "sigmoid", "identity"])
def test_activations_agree_across_backends(activation, rng):
    import jax.numpy as jnp
    import pytensor.tensor as pt

    from pymc_bnn.network import activation_function

    x = rng.normal(size=(6, 4)) * 3
    ref = activation_function(activation, "numpy")(x)
    sym = pt.matrix("x")
    via_pytensor = activation_function(activation, "pytensor")(sym).eval({sym: x})
    via_jax = np.asarray(activation_function(activation, "jax")(jnp.asarray(x)))
    np.testing.assert_allclose(via_pytensor, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(via_jax, ref, rtol=1e-5, atol=1e-6)
