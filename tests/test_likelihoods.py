"""Likelihoods: target encoding, the model's log-likelihood against SciPy in the user's units,
round-trips, and clear errors. (Fits that recover known answers are in test_model_family.py.)"""

import json

import numpy as np
import pytest
from scipy import stats

from pymc_bnn import InvalidInputError, InvalidSettingError, build_model
from pymc_bnn.likelihoods import (
    LIKELIHOODS,
    Categorical,
    NegativeBinomial,
    StudentT,
    get_likelihood,
    likelihood_from_dict,
)
from pymc_bnn.network import forward


def _targets(name, rng, n):
    if name == "bernoulli":
        return rng.integers(0, 2, n)
    if name == "categorical":
        return rng.choice(np.array(["setosa", "versicolor", "virginica"]), n)
    if name in ("poisson", "negative_binomial"):
        return rng.poisson(4.0, n)
    return 50.0 + 12.0 * rng.standard_normal(n)  # real target far from standardised units


def _user_loglik(name, y, draws):
    """log p(y | params) from SciPy, with params as predictive_params reports them (user units)."""
    if "probs" in draws:
        codes = np.unique(y, return_inverse=True)[1]
        return np.log(draws["probs"][0, np.arange(len(y)), codes]).sum()
    mean = draws["mean"][0]
    if name == "student_t":
        return stats.t.logpdf(y, draws["df"][0], mean, draws["scale"][0]).sum()
    if name == "poisson":
        return stats.poisson.logpmf(y, mean).sum()
    if name == "negative_binomial":
        alpha = draws["alpha"][0]
        return stats.nbinom.logpmf(y, alpha, alpha / (alpha + mean)).sum()
    return stats.norm.logpdf(y, mean, draws["scale"][0]).sum()


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_model_loglik_equals_scipy_in_user_units(name, rng):
    """observe() and predictive_params() describe the same distribution: the model's
    log-likelihood of the encoded target, minus the standardisation's Jacobian, equals SciPy's
    log-likelihood of the raw target under the reported user-unit parameters."""
    n = 40
    X = rng.normal(size=(n, 3))
    y = _targets(name, rng, n)
    bnn = build_model(X, y, hidden=(4,), bias=True, likelihood=name)
    point = bnn.model.initial_point()
    point = {k: 0.3 * rng.standard_normal(v.shape) for k, v in point.items()}
    model_loglik = bnn.model.compile_logp(vars=[bnn.model["y"]])(point)

    weights = [point[f"w_{i}"] for i in range(2)]
    biases = [point[f"b_{i}"] for i in range(2)]
    eta = forward(bnn.spec, X, weights, biases)[None]
    params = {}
    for var in bnn.likelihood_params:  # back from the log-transformed value to the variable
        rv = bnn.model[var]
        value_name = bnn.model.rvs_to_values[rv].name
        params[var] = np.atleast_1d(np.exp(point[value_name]))
    draws = bnn.likelihood.predictive_params(eta, params, bnn.preprocessing)
    jacobian = n * np.log(bnn.preprocessing["y_scale"]) if "y_scale" in bnn.preprocessing else 0.0
    assert model_loglik - jacobian == pytest.approx(_user_loglik(name, y, draws), rel=1e-9)


@pytest.mark.parametrize("name", sorted(LIKELIHOODS))
def test_predictive_params_keys_and_shapes(name, rng):
    n, S = 25, 7
    y = _targets(name, rng, n)
    like = get_likelihood(name)
    encoded, preprocessing = like.prepare_target(y)
    json.dumps(preprocessing)  # the record goes into model files
    k = like.n_outputs(encoded)
    eta = rng.normal(size=(S, n, k))
    params = {"sigma": np.full(S, 0.5), "nu": np.full(S, 5.0), "overdispersion": np.full(S, 0.2)}
    out = like.predictive_params(eta, params, preprocessing)
    expected = {"bernoulli": {"probs"}, "categorical": {"probs"},
                "gaussian": {"mean", "scale"}, "heteroscedastic": {"mean", "scale"},
                "student_t": {"mean", "scale", "df"}, "poisson": {"mean"},
                "negative_binomial": {"mean", "alpha"}}[name]
    assert set(out) == expected
    for key, value in out.items():
        assert value.shape == ((S, n, k if k > 1 else 2) if key == "probs" else (S, n))
        assert np.all(np.isfinite(value))
    if "probs" in out:
        np.testing.assert_allclose(out["probs"].sum(-1), 1.0, rtol=1e-12)
    if "scale" in out:
        assert np.all(out["scale"] > 0)


def test_regression_target_standardised_and_reported_in_user_units(rng):
    y = 1000.0 + 250.0 * rng.standard_normal(60)
    like = get_likelihood("gaussian")
    z, record = like.prepare_target(y)
    assert record == {"y_mean": pytest.approx(y.mean()), "y_scale": pytest.approx(y.std())}
    assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
    eta = z[None, :, None]  # an output that reproduces the standardised target exactly
    out = like.predictive_params(eta, {"sigma": np.array([0.1])}, record)
    np.testing.assert_allclose(out["mean"][0], y, rtol=1e-12)
    np.testing.assert_allclose(out["scale"], 25.0 * y.std() / 250.0, rtol=1e-12)


def test_categorical_encodes_any_labels_and_keeps_class_names(rng):
    y = np.array(["cat", "dog", "bird", "dog", "cat", "bird"])
    codes, record = Categorical().prepare_target(y)
    assert record == {"classes": ["bird", "cat", "dog"]}
    np.testing.assert_array_equal(codes, [1, 2, 0, 2, 1, 0])
    codes, record = Categorical(classes=("dog", "cat", "bird", "fish")).prepare_target(y)
    assert record["classes"] == ["dog", "cat", "bird", "fish"]
    np.testing.assert_array_equal(codes, [1, 0, 2, 0, 1, 2])
    assert Categorical(classes=("dog", "cat", "bird", "fish")).n_outputs(codes) == 4
    bnn = build_model(rng.normal(size=(6, 2)), y, likelihood="categorical")
    assert bnn.spec.n_outputs == 3 and bnn.preprocessing["classes"] == ["bird", "cat", "dog"]


@pytest.mark.parametrize("like", [
    get_likelihood("bernoulli"), Categorical(classes=(3, 1, 2)), get_likelihood("gaussian"),
    get_likelihood("heteroscedastic"), StudentT(df=3.5, noise_prior=0.5), StudentT(),
    get_likelihood("poisson"), NegativeBinomial(overdispersion_prior=2.0),
])
def test_round_trip_through_json(like):
    data = json.loads(json.dumps(like.to_dict()))
    again = likelihood_from_dict(data)
    assert again == like and type(again) is type(like)


@pytest.mark.parametrize("name, y, message", [
    ("categorical", ["a"] * 5, "single class"),
    ("gaussian", ["a", "b", "c", "d", "e"], "needs a numeric target.*categorical"),
    ("gaussian", [2.0] * 5, "y is constant"),
    ("poisson", [0, 1, 2, -1, 3], r"negative or fractional \(first: -1 in row 3\)"),
    ("negative_binomial", [0, 1.5, 2, 1, 3], "negative or fractional"),
    ("poisson", [0, 0, 0, 0, 0], "every count is 0"),
    ("bernoulli", [0, 2, 1, 0, 1], "needs labels 0 and 1.*categorical"),
])
def test_bad_targets_get_clear_errors(name, y, message):
    X = np.zeros((5, 2))
    with pytest.raises(InvalidInputError, match=message):
        build_model(X, np.array(y), likelihood=name)


def test_unknown_labels_for_declared_classes():
    with pytest.raises(InvalidInputError, match="not among the declared classes: c"):
        Categorical(classes=("a", "b")).prepare_target(np.array(["a", "b", "c"]))


def test_bad_likelihood_settings():
    with pytest.raises(InvalidSettingError, match="unknown likelihood 'gamma'.*bernoulli"):
        get_likelihood("gamma")
    with pytest.raises(InvalidSettingError, match="bad option for the gaussian likelihood"):
        get_likelihood("gaussian", df=3)
    with pytest.raises(InvalidSettingError, match="df must be a positive number"):
        StudentT(df=-1)
    with pytest.raises(InvalidSettingError, match="at least two distinct labels"):
        Categorical(classes=("a", "a"))
