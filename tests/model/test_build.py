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

    from pymc_bnn.model.network import activation_function

    x = rng.normal(size=(6, 4)) * 3
    ref = activation_function(activation, "numpy")(x)
    sym = pt.matrix("x")
    via_pytensor = activation_function(activation, "pytensor")(sym).eval({sym: x})
    via_jax = np.asarray(activation_function(activation, "jax")(jnp.asarray(x)))
    np.testing.assert_allclose(via_pytensor, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(via_jax, ref, rtol=1e-5, atol=1e-6)


def test_skip_path_adds_a_linear_term_on_every_backend(rng):
    """forward with skip = the same network without it + X @ w_skip: NumPy, PyTensor, and the
    two JAX passes over draws (batched and draws-last)."""
    import jax.numpy as jnp
    import pytensor.tensor as pt

    from pymc_bnn.model.batched_forward import forward_draws_last, forward_over_draws

    spec = NetworkSpec(n_inputs=3, hidden=(4,), n_outputs=2, bias=True, skip=True)
    plain = NetworkSpec(n_inputs=3, hidden=(4,), n_outputs=2, bias=True)
    X = rng.normal(size=(6, 3))
    weights = [rng.normal(size=(5, *shape)) for shape in (*plain.weight_shapes(), (3, 2))]
    biases = [rng.normal(size=(5, width)) for width in (4, 2)]
    expected = forward(plain, X, weights[:-1], biases) + X @ weights[-1]
    np.testing.assert_allclose(forward(spec, X, weights, biases), expected, rtol=1e-12)
    symbolic = forward(spec, pt.as_tensor(X), [pt.as_tensor(w[0]) for w in weights],
                       [pt.as_tensor(b[0]) for b in biases], backend="pytensor")
    np.testing.assert_allclose(symbolic.eval(), expected[0], rtol=1e-12)
    as_jax = [jnp.asarray(a) for a in (*weights, *biases)]
    batched = forward_over_draws(spec, jnp.asarray(X), as_jax[:3], as_jax[3:])
    np.testing.assert_allclose(batched, expected, rtol=1e-5, atol=1e-5)
    last = [jnp.asarray(np.moveaxis(a, 0, -1).copy()) for a in (*weights, *biases)]
    draws_last = forward_draws_last(spec, jnp.asarray(X), last[:3], last[3:])
    np.testing.assert_allclose(np.moveaxis(np.asarray(draws_last), 1, 0), expected,
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(InvalidSettingError, match="needs 3 weight arrays .*w_skip.* got 2"):
        forward(spec, X, weights[:-1], biases)


def test_skip_path_in_the_model(moons, rng):
    bnn = build_model(moons.X_train, moons.y_train, hidden=(4,), bias=True, skip=True)
    model = bnn.model
    assert bnn.spec.skip and bnn.weight_names == ["w_0", "w_1", "w_skip"]
    assert model.named_vars_to_dims["w_skip"] == ("feature", "output")
    point = {k: rng.standard_normal(v.shape) for k, v in model.initial_point().items()}
    eta = (np.tanh(moons.X_train @ point["w_0"] + point["b_0"]) @ point["w_1"] + point["b_1"]
           + moons.X_train @ point["w_skip"])[:, 0]
    expected = np.sum(moons.y_train * eta - np.logaddexp(0, eta))
    got = model.compile_logp(vars=[model["y"]])(point)
    assert got == pytest.approx(expected, rel=1e-10)


def test_skip_path_shares_ard_relevances_with_the_first_layer(moons):
    """ARD: one relevance per feature, scaling both the first layer's and the skip path's rows
    (one variable, not two)."""
    bnn = build_model(moons.X_train, moons.y_train, hidden=(3,), skip=True, prior="ard")
    free = [v.name for v in bnn.model.free_RVs]
    assert free.count("ard_scale") == 1 and "w_skip_raw" in free


def test_skip_path_refusals(moons):
    from pymc_bnn.model.priors import InformedPrior

    prior = InformedPrior(weights=[np.zeros((2, 3)), np.zeros((3, 1))])
    with pytest.raises(InvalidSettingError, match="no centres for a skip path.*skip=False"):
        build_model(moons.X_train, moons.y_train, hidden=(3,), skip=True, prior=prior)


def test_spec_from_a_file_written_before_skip_paths_existed():
    """Model files saved before `skip` have no such key: they load as networks without one."""
    old = {"n_inputs": 2, "hidden": [5, 5], "n_outputs": 1, "activation": "tanh", "bias": False}
    assert NetworkSpec.from_dict(old) == NetworkSpec(n_inputs=2)
    spec = NetworkSpec(n_inputs=3, hidden=(4,), skip=True)
    assert NetworkSpec.from_dict(spec.to_dict()) == spec


@pytest.mark.slow
@pytest.mark.parametrize("method", ["advi", "nuts"])
def test_skip_path_carries_a_linear_signal(method):
    """y = 1[1.5·x0 − 2·x1 + noise > 0]: the skip weights point along (1.5, −2, 0)."""
    from pymc_bnn import fit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X @ [1.5, -2.0, 0.0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    bnn = build_model(X, y, hidden=(3,), bias=True, skip=True)
    options = {"steps": 2000} if method == "advi" else {"chains": 2, "tune": 300}
    posterior = fit(bnn, method, draws=200, progress=False, **options)
    w_skip = posterior.idata["posterior"]["w_skip"].mean(("chain", "draw")).values.ravel()
    cosine = w_skip @ [1.5, -2.0, 0.0] / (np.linalg.norm(w_skip) * 2.5)
    assert cosine > 0.95, w_skip
    assert ((posterior.predict(X)["mean"].values > 0.5) == y).mean() > 0.93


def test_total_size_is_the_rows_of_the_whole_data_set(rng):
    """X, y are one minibatch of `total_size` rows: the likelihood is scaled by
    total_size / rows, as `pm.Minibatch` scales it; fewer rows than given, a fraction or a
    non-number would silently shrink or drop the likelihood, so they are refused."""
    X = rng.normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    plain, scaled = build_model(X, y, hidden=(2,)), build_model(X, y, hidden=(2,), total_size=60)
    point = plain.model.initial_point()
    point["w_0"] = rng.normal(size=(2, 2))
    point["w_1"] = rng.normal(size=(2, 1))
    loglik = plain.model.compile_logp(vars=plain.model.observed_RVs)(point)
    assert scaled.model.compile_logp(vars=scaled.model.observed_RVs)(point) == pytest.approx(
        3 * loglik)
    for bad in (5, 0, -20, 25.5, "60", True):
        with pytest.raises(InvalidSettingError, match="total_size"):
            build_model(X, y, hidden=(2,), total_size=bad)


def test_build_streaming_model_shows_its_statistics_pass_unless_told_not_to(capsys):
    # the pass over the source (a whole folder of Parquet files) ran without a progress bar
    # where the model was built by hand; the estimators and the CLI showed one
    from pymc_bnn.data import batch_source
    from pymc_bnn.model.build import build_streaming_model

    rng = np.random.default_rng(0)
    source = batch_source([(rng.normal(size=(600, 2)), rng.integers(0, 2, 600)),
                           (rng.normal(size=(300, 2)), rng.integers(0, 2, 300))], n_rows=900)
    build_streaming_model(source, batch_size=64, hidden=(2,))
    shown = capsys.readouterr().out
    assert "Statistics" in shown and "900/900" in shown and "rows read" in shown
    build_streaming_model(source, batch_size=64, hidden=(2,), progress=False)
    assert capsys.readouterr().out == ""
