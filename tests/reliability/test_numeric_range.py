"""Numbers on extreme scales: features and targets near 1e300 or 1e-300 are standardised without
overflow or underflow (a fit on X * 1e300 is the fit on X), counts beyond 2^53 and dates are
refused, and a prediction or uncertainty that is not finite is an error naming the rows,
never a silent NaN."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymc_bnn import (
    BayesianMLPClassifier,
    BayesianMLPRegressor,
    InvalidInputError,
    build_model,
    fit,
)
from pymc_bnn.label_checks import check_count_target
from pymc_bnn.validation import mean_and_scale, refuse_nonfinite
from reliability.helpers import TINY


@pytest.fixture(scope="module")
def Xy(table):
    return table[["height", "width"]].to_numpy(), table["label"].to_numpy()


@pytest.fixture(scope="module")
def reference(Xy):
    return BayesianMLPClassifier(**TINY).fit(*Xy)


@pytest.mark.slow
@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e-310])
def test_a_fit_on_rescaled_features_is_the_same_fit(Xy, reference, factor):
    X, y = Xy
    clf = BayesianMLPClassifier(**TINY).fit(X * factor, y)
    np.testing.assert_allclose(clf.x_scale_ / factor, reference.x_scale_, rtol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X * factor), reference.predict_proba(X),
                               atol=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(exponent=st.integers(-320, 307), n=st.integers(2, 30), seed=st.integers(0, 3))
def test_mean_and_scale_never_overflow_nor_underflow(exponent, n, seed):
    values = np.random.default_rng(seed).normal(size=(n, 2)) + [3.0, 0.0]
    scaled = values * 10.0**exponent
    if not np.all(np.isfinite(scaled)) or np.all(scaled == 0):
        return
    mean, sd = mean_and_scale(scaled)
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(sd)) and np.all(sd > 0)
    if exponent >= -300:  # above the subnormal range the spread is exact to rounding
        np.testing.assert_allclose(sd / 10.0**exponent, values.std(axis=0), rtol=1e-9)


def test_a_constant_column_is_still_constant():
    mean, sd = mean_and_scale(np.array([[5e-300, 0.0], [5e-300, 0.0]]))
    np.testing.assert_array_equal(sd, [0.0, 0.0])
    np.testing.assert_array_equal(mean, [5e-300, 0.0])


@pytest.mark.slow
def test_a_target_on_a_1e300_scale_predicts_finite_numbers(table):
    X, y = table[["height", "width"]].to_numpy(), table["price"].to_numpy()
    small = BayesianMLPRegressor(**TINY).fit(X, y)
    huge = BayesianMLPRegressor(**TINY).fit(X, y * 1e300)
    mean, sd = huge.predict(X, return_std=True)
    reference_mean, reference_sd = small.predict(X, return_std=True)
    np.testing.assert_allclose(mean / 1e300, reference_mean, rtol=1e-6)
    np.testing.assert_allclose(sd / 1e300, reference_sd, rtol=1e-6)
    summary = huge.uncertainty(X[:5])
    for name in ("mean", "sd", "epistemic_sd", "lower", "upper"):
        assert np.all(np.isfinite(summary[name].values)), name


@pytest.mark.slow
def test_float32_overflow_in_predict_is_recomputed_in_float64(Xy):
    """Posterior.predict runs in float32; inputs 1e40 standard deviations out overflow it.
    (An advi fit: its weights differ per draw and the float32 pass gives NaN there; the
    default laplace fit saturates every tanh to the same finite value instead.)"""
    reference = BayesianMLPClassifier(**{**TINY, "method": "advi"}).fit(*Xy)
    X = reference._scaled(Xy[0][:6]) * 1e40
    fast = reference.posterior_.predict(X)
    exact = reference.posterior_.mean_draws(X)
    np.testing.assert_allclose(fast["mean"].values, exact.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(fast["std"].values, exact.std(axis=0), rtol=1e-12)


def test_nan_network_outputs_are_refused_naming_the_rows(Xy):
    """Identity units: features of 1e308 times weights of 10 make both hidden units inf, and
    output weights +1 and -1 make inf - inf = NaN."""
    X, y = Xy
    posterior = fit(build_model(X, y, hidden=(2,), activation="identity"), "advi", draws=4,
                    steps=20, tol=0, restarts=1, random_seed=0, progress=False)
    posterior.idata["posterior"]["w_0"].values[...] = 10.0
    posterior.idata["posterior"]["w_1"].values[..., :, 0] = [1.0, -1.0]
    extreme = np.vstack([X[:3], [[1e308, 1e308]], X[3:5], [[1e308, 1e308]]])
    message = (r"the network outputs of 2 row\(s\) are not finite numbers \(rows 3, 6\): their "
               r"features are far outside the range seen in training")
    for call in (lambda: posterior.predict(extreme), lambda: posterior.uncertainty(extreme),
                 lambda: posterior.mean_draws(extreme)):
        with pytest.raises(InvalidInputError, match=message):
            call()
    assert np.all(np.isfinite(posterior.predict(X)["mean"].values))


def test_refuse_nonfinite_reads_each_array_along_its_obs_axis():
    refuse_nonfinite({"a": np.ones((3, 4)), "b": np.ones((2, 4))}, obs_axis={"a": 1, "b": 1})
    with pytest.raises(InvalidInputError, match=r"predictions of 1 row\(s\).*\(rows 2\)"):
        refuse_nonfinite({"a": np.ones((3, 4)), "b": np.array([[1, 1, np.inf, 1]] * 2)},
                         obs_axis={"a": 1, "b": 1})


@pytest.mark.parametrize("counts", [
    np.array([1, 2, 2**63], dtype=np.uint64), np.array([1.0, 2.0, 1e19]),
    np.array([1, 2, 2**53 + 2], dtype=np.int64)])
def test_counts_beyond_2_to_the_53_are_refused(counts):
    with pytest.raises(InvalidInputError, match=r"counts up to 2\^53 .* value\(s\) are larger "
                                                r"\(first: .* in row 2\)"):
        check_count_target(counts, likelihood="poisson")
    np.testing.assert_array_equal(check_count_target(np.array([1, 2, 2**53]),
                                                     likelihood="poisson"), [1, 2, 2**53])


@pytest.mark.parametrize("make", [
    lambda X: X.astype("datetime64[D]"),
    lambda X: X.astype("timedelta64[s]"),
    lambda X: pd.DataFrame({"when": pd.to_datetime(X[:, 0], unit="D"), "x": X[:, 1]}),
    lambda X: pd.DataFrame({"when": pd.to_datetime(X[:, 0], unit="D", utc=True),
                            "x": X[:, 1]}),
])
def test_dates_as_features_are_refused(Xy, make):
    X, y = Xy
    dates = make(np.abs(X * 1000).astype(np.int64))
    for call in (lambda: BayesianMLPClassifier(**TINY).fit(dates, y),
                 lambda: build_model(dates, y)):
        with pytest.raises(InvalidInputError, match="dates or durations|non-numeric columns: "
                                                    "when"):
            call()
