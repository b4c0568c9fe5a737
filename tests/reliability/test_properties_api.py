"""Property-based tests: whatever a user passes, the public API works or raises our errors.

Random shapes, dtypes, NaN/inf patterns, label sets and settings go through `build_model`,
`NetworkSpec`, the priors and `Posterior.predict`. The only exceptions allowed out are
`pymc_bnn.errors.PymcBnnError` subclasses (never an internal traceback from PyMC, PyTensor or
NumPy), and when a call succeeds its result has the promised shape. Example counts are bounded
so the module runs in seconds in CI.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pymc_bnn import NetworkSpec, PymcBnnError, build_model, get_prior
from pymc_bnn.model.likelihoods import LIKELIHOODS

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FEATURE_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.bool_,
                                  np.complex128])


@st.composite
def usable_features(draw):
    """2-D, finite X with 4–12 rows and 1–3 columns: the inputs that must work."""
    shape = (draw(st.integers(4, 12)), draw(st.integers(1, 3)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    return draw(hnp.arrays(dtype, shape, elements=st.integers(-5, 5)))


@st.composite
def messy_features(draw):
    """X of 0–3 dims, any of several dtypes, sometimes holding NaN or inf."""
    ndim = draw(st.sampled_from([0, 1, 2, 2, 2, 3]))
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=0, max_side=6)) \
        if ndim else ()
    dtype = draw(FEATURE_DTYPES)
    elements = None
    if np.issubdtype(dtype, np.floating):
        elements = st.floats(width=32 if dtype == np.float32 else 64, allow_nan=True,
                             allow_infinity=True, min_value=None, max_value=None)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def feature_arrays():
    return st.one_of(usable_features(), messy_features())


LABEL_SETS = st.sampled_from([
    [0, 1], [0, 1, 2], [1, 2], ["a", "b"], ["a", "b", "c"], [0.0, 0.5, 1.0], [True, False],
    [0], [-1, 3, 7], [0.0, np.nan, 1.0],
])


@st.composite
def targets(draw, n):
    labels = draw(LABEL_SETS)
    n = draw(st.sampled_from([n, n, max(0, n - 1)]))  # sometimes one short
    return np.array([labels[i % len(labels)] for i in draw(
        st.lists(st.integers(0, 10), min_size=n, max_size=n))])


def _n_rows(X) -> int:
    return X.shape[0] if np.ndim(X) >= 1 else 0


@FAST
@given(data=st.data(), likelihood=st.sampled_from(sorted(LIKELIHOODS)),
       hidden=st.lists(st.sampled_from([1, 2, 3, 4, 0]), min_size=0, max_size=2),
       activation=st.sampled_from(["tanh", "relu", "gelu", "softplus", "swish"]))
def test_build_model_works_or_raises_our_errors(data, likelihood, hidden, activation):
    X = data.draw(feature_arrays())
    y = data.draw(targets(_n_rows(X)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bnn = build_model(X, y, hidden=hidden, activation=activation, likelihood=likelihood)
    except PymcBnnError as exc:
        assert str(exc), "errors must say what is wrong"
        event(f"refused: {type(exc).__name__}")
        return
    event("built")
    # It built: the inputs were usable, and the model says so.
    assert bnn.spec.n_inputs == X.shape[1]
    assert np.all(np.isfinite(np.asarray(X, dtype=float)))
    assert min(hidden, default=1) >= 1
    assert {"X", "y_data", "y"} <= set(bnn.model.named_vars)


@FAST
@given(hidden=st.one_of(st.lists(st.one_of(st.integers(-2, 6), st.floats(-2, 6),
                                           st.text(max_size=2)), max_size=3),
                        st.text(max_size=4), st.integers(-2, 6)),
       n_inputs=st.one_of(st.integers(-1, 4), st.floats(-1, 4)),
       bias=st.booleans())
def test_network_spec_works_or_raises_our_errors(hidden, n_inputs, bias):
    try:
        spec = NetworkSpec(n_inputs=n_inputs, hidden=hidden, bias=bias)
    except PymcBnnError:
        return
    assert all(isinstance(h, int) and h >= 1 for h in spec.hidden)
    assert spec.widths == (int(n_inputs), *[int(h) for h in hidden], 1)


@FAST
@given(name=st.sampled_from(["normal", "laplace", "ard", "horseshoe", "spike_and_slab"]),
       scale=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3)))
def test_prior_scales_are_checked(name, scale):
    field = {"normal": "sigma", "laplace": "sigma"}.get(name)
    options = {field: scale} if field else {}
    try:
        prior = get_prior(name, **options)
    except PymcBnnError:
        assert field and not (np.isfinite(scale) and scale > 0)
        return
    assert not field or (np.isfinite(scale) and scale > 0)
    assert prior.to_dict()["name"] == name


@pytest.fixture(scope="module")
def bernoulli_posterior(random_posterior):
    spec = NetworkSpec(n_inputs=3, hidden=(4,), n_outputs=1, bias=True)
    return random_posterior(spec, "bernoulli", 20, np.random.default_rng(0))


@FAST
@given(X=feature_arrays())
def test_predict_works_or_raises_our_errors(bernoulli_posterior, X):
    try:
        pred = bernoulli_posterior.predict(X)
    except PymcBnnError as exc:
        assert str(exc)
        event("refused")
        return
    event("predicted")
    assert X.ndim == 2 and X.shape[1] == 3 and X.shape[0] >= 1
    assert pred["mean"].shape == (X.shape[0],)
    assert np.all((pred["mean"].values >= 0) & (pred["mean"].values <= 1))
