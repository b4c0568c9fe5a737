"""predictive_summary on posteriors whose draws are known exactly, and on a real moons fit."""

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from pymc_bnn import (
    Bernoulli,
    Categorical,
    Gaussian,
    NetworkSpec,
    NormalPrior,
    Poisson,
    Posterior,
    StudentT,
)
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.posterior import uncertainty
from pymc_bnn.posterior.uncertainty import (
    entropy_decomposition,
    predictive_summary,
    variation_ratio,
)


def _linear_posterior(likelihood, slopes, intercepts, *, preprocessing, extra=None,
                      n_outputs=1):
    """A Posterior whose draw s has output k: eta_sk(x) = slopes[s] * k' * x + intercepts[s, k].

    Identity network 1 → 1 → n_outputs with biases: w_0 = slope, w_1 = k' (1 for one output,
    −1, 0, 1 … across several), b_1 = intercept.
    """
    slopes = np.asarray(slopes, dtype=float)
    n = slopes.size
    intercepts = np.asarray(intercepts, dtype=float)
    intercepts = np.broadcast_to(intercepts.reshape(n, -1) if intercepts.ndim else intercepts,
                                 (n, n_outputs))
    spec = NetworkSpec(n_inputs=1, hidden=(1,), n_outputs=n_outputs, activation="identity",
                       bias=True)
    variables = {
        "w_0": (("chain", "draw", "feature", "hidden_0"), slopes.reshape(1, n, 1, 1)),
        "b_0": (("chain", "draw", "hidden_0"), np.zeros((1, n, 1))),
        "w_1": (("chain", "draw", "hidden_0", "output"),
                np.broadcast_to(np.linspace(-1, 1, n_outputs) if n_outputs > 1 else 1.0,
                                (1, n, 1, n_outputs))),
        "b_1": (("chain", "draw", "output"), intercepts.reshape(1, n, n_outputs)),
    }
    for name, values in (extra or {}).items():
        variables[name] = (("chain", "draw"), np.asarray(values, dtype=float).reshape(1, n))
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})
    return Posterior(spec=spec, likelihood=likelihood, prior=NormalPrior(), feature_names=("x",),
                     idata=idata, preprocessing=preprocessing,
                     likelihood_params=tuple(extra or {}))


STANDARD = {"y_mean": 0.0, "y_scale": 1.0}


def test_classifier_summary_matches_the_functions_on_its_draws(rng):
    posterior = _linear_posterior(Bernoulli(), rng.normal(size=200), rng.normal(size=200),
                                  preprocessing={"classes": [0, 1]})
    X = np.linspace(-3, 3, 41)[:, None]
    summary = posterior.uncertainty(X, level=0.8)
    probs = posterior.predictive_draws(X)["probs"]
    total, aleatoric, epistemic = entropy_decomposition(probs)
    # every number comes from the one fused float32 pass (the dtype policy): float32 rounding
    np.testing.assert_allclose(summary["probability"], probs.mean(axis=0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(summary["predictive_entropy"], total, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(summary["expected_entropy"], aleatoric, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(summary["mutual_information"], epistemic, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(summary["variation_ratio"], variation_ratio(probs))
    np.testing.assert_allclose(summary["probability_upper"], np.quantile(probs, 0.9, axis=0),
                               rtol=1e-6, atol=1e-7)
    assert summary["probability"].dims == ("obs", "class")
    assert summary.attrs["level"] == 0.8 and float(summary["level"]) == 0.8
    np.testing.assert_array_equal(summary["predicted_class"],
                                  (probs.mean(axis=0)[:, 1] > 0.5).astype(int))
    several = posterior.uncertainty(X, level=[0.5, 0.8, 0.95])
    for bound, sign in (("probability_lower", -1), ("probability_upper", 1)):
        np.testing.assert_allclose(
            several[bound], np.quantile(probs, 0.5 + sign * np.array([0.25, 0.4, 0.475]), axis=0),
            atol=1e-6)


def test_multiclass_keeps_labels_and_chunking_changes_nothing(rng, monkeypatch):
    labels = ["ant", "bee", "cat"]
    posterior = _linear_posterior(Categorical(), rng.normal(size=50), rng.normal(size=(50, 3)),
                                  preprocessing={"classes": labels}, n_outputs=3)
    X = rng.normal(size=(37, 1))
    whole = predictive_summary(posterior, X, level=[0.5, 0.9])
    monkeypatch.setattr(uncertainty, "_CHUNK_FLOATS", 50 * 3 * 4)  # 4 observations a chunk
    chunked = predictive_summary(posterior, X, level=[0.5, 0.9])
    xr.testing.assert_allclose(whole, chunked, rtol=1e-12)
    assert list(whole["class"].values) == labels
    assert whole["probability_lower"].dims == ("level", "obs", "class")
    assert set(whole["predicted_class"].values) <= set(labels)
    assert np.all(whole["probability_lower"] <= whole["probability"])


def test_gaussian_regression_splits_the_variance_and_gives_exact_mixture_intervals(rng):
    slopes, sigmas = rng.normal(1.0, 0.5, size=300), rng.uniform(0.2, 0.6, size=300)
    prep = {"y_mean": 10.0, "y_scale": 2.0}
    posterior = _linear_posterior(Gaussian(), slopes, 0.0, preprocessing=prep,
                                  extra={"sigma": sigmas})
    X = np.array([[-2.0], [0.0], [1.5]])
    summary = posterior.uncertainty(X, level=0.9, n_samples=20_000)
    means = 10.0 + 2.0 * slopes[:, None] * X[:, 0]
    np.testing.assert_allclose(summary["mean"], means.mean(axis=0))
    np.testing.assert_allclose(summary["epistemic_sd"], means.std(axis=0))
    np.testing.assert_allclose(summary["aleatoric_sd"], 2.0 * np.sqrt(np.mean(sigmas**2)))
    np.testing.assert_allclose(summary["sd"] ** 2,
                               summary["aleatoric_sd"] ** 2 + summary["epistemic_sd"] ** 2)
    # The interval ends are the 5% and 95% points of the mixture of 300 Normals.
    for bound, q in (("lower", 0.05), ("upper", 0.95)):
        cdf = stats.norm.cdf(summary[bound].values, means, 2.0 * sigmas[:, None]).mean(axis=0)
        np.testing.assert_allclose(cdf, q, atol=1e-9)
    # Predictive samples come from that mixture: 90% of them fall inside the interval.
    samples = summary["samples"]
    assert samples.dims == ("sample", "obs")
    inside = ((samples >= summary["lower"]) & (samples <= summary["upper"])).mean("sample")
    np.testing.assert_allclose(inside, 0.9, atol=0.01)
    # At x = 0 every draw predicts the same mean: no epistemic part.
    assert float(summary["epistemic_sd"][1]) == 0.0


@pytest.mark.parametrize("likelihood", ["gaussian", "categorical"])
def test_level_none_leaves_out_the_intervals_and_nothing_else(rng, likelihood):
    slopes = rng.normal(1.0, 0.5, size=50)
    posterior = (_linear_posterior(Gaussian(), slopes, 0.0, preprocessing=STANDARD,
                                   extra={"sigma": rng.uniform(0.2, 0.6, size=50)})
                 if likelihood == "gaussian" else
                 _linear_posterior(Categorical(), slopes, rng.normal(size=(50, 3)),
                                   preprocessing={"classes": ["a", "b", "c"]}, n_outputs=3))
    X = np.array([[-2.0], [0.0], [1.5]])
    with_intervals = posterior.uncertainty(X, level=0.9)
    without = posterior.uncertainty(X, level=None)
    dropped = {"lower", "upper", "probability_lower", "probability_upper"}
    assert set(without.data_vars) == set(with_intervals.data_vars) - dropped
    assert "level" not in without.coords and "level" not in without.attrs
    for name in without.data_vars:  # the same numbers, bit for bit
        np.testing.assert_array_equal(without[name].values, with_intervals[name].values)


def test_identical_draws_give_the_noise_distribution_itself():
    n = 20
    t_post = _linear_posterior(StudentT(df=5.0), np.full(n, 0.5), 1.0, preprocessing=STANDARD,
                               extra={"sigma": np.full(n, 0.3)})
    s = t_post.uncertainty(np.array([[2.0]]), level=0.8)
    assert float(s["epistemic_sd"][0]) == 0.0
    np.testing.assert_allclose(s["aleatoric_sd"], 0.3 * np.sqrt(5 / 3))
    # the t quantile is solved in float64 from the fused pass's float32 per-draw parameters
    np.testing.assert_allclose(s["upper"], stats.t.ppf(0.9, 5, loc=2.0, scale=0.3), rtol=1e-6)
    counts = _linear_posterior(Poisson(), np.zeros(n), 0.0, preprocessing={"log_rate_offset":
                                                                          np.log(4.0)})
    s = counts.uncertainty(np.array([[0.0]]), level=0.9)
    np.testing.assert_allclose(s["aleatoric_sd"], 2.0)
    assert float(s["lower"][0]) == stats.poisson.ppf(0.05, 4.0)
    assert float(s["upper"][0]) == stats.poisson.ppf(0.95, 4.0)


def test_count_mixture_quantile_is_the_smallest_integer_reaching_q():
    dist = stats.poisson(mu=np.array([[1.0], [6.0], [20.0]]))
    for q in (0.05, 0.5, 0.95):
        k = uncertainty.mixture_quantile(dist, q)[0]
        def mixture_cdf(x):
            return stats.poisson.cdf(x, [1.0, 6.0, 20.0]).mean()
        assert mixture_cdf(k) >= q > mixture_cdf(k - 1)


def test_mixture_quantiles_of_many_observations_each_meet_their_own_condition():
    """Observations converge at different steps (and count bounds double to different sizes);
    each one's answer is still its own: exact to tol, or the smallest integer reaching q."""
    rng = np.random.default_rng(4)
    mean = rng.normal(0, 3, size=(200, 300)) + rng.normal(0, 50, size=300)
    scale = np.exp(rng.normal(0, 1, size=(200, 300)))
    rates = np.exp(rng.normal(0, 0.5, size=(200, 300)) + rng.uniform(-3, 7, size=300))
    for q in (0.001, 0.05, 0.5, 0.95):
        for dist in (stats.norm(loc=mean, scale=scale), stats.t(df=3, loc=mean, scale=scale)):
            x = uncertainty.mixture_quantile(dist, q)
            assert np.abs(dist.cdf(x).mean(axis=0) - q).max() < 1e-10
        counts = stats.poisson(mu=rates)
        k = uncertainty.mixture_quantile(counts, q)
        assert (counts.cdf(k).mean(axis=0) >= q).all()
        assert (counts.cdf(k - 1).mean(axis=0) < q).all() and k.max() > 100


@pytest.mark.parametrize("level", [0.0, 1.0, [0.5, 1.5], "high"])
def test_bad_level_is_refused(level):
    posterior = _linear_posterior(Bernoulli(), [1.0], 0.0, preprocessing={"classes": [0, 1]})
    with pytest.raises(InvalidSettingError, match="level must be a probability"):
        posterior.uncertainty(np.zeros((1, 1)), level=level)


@pytest.mark.slow  # fits of several seconds
def test_epistemic_on_moons_grows_away_from_the_data(quick_posterior, moons):
    from scipy.spatial import cKDTree

    from pymc_bnn.datasets import grid_2d

    def epistemic(X):
        return quick_posterior.uncertainty(X, max_draws=300)["mutual_information"].values

    # Far = more than 1.5 (standardised units) from every training point. Not the corners
    # (±3, ±3) one by one: a corner deep on one class's side can stay certain for every draw.
    at_training_points = epistemic(moons.X_train).mean()
    grid, _, _ = grid_2d(n=30)
    distance, _ = cKDTree(moons.X_train).query(grid)
    assert epistemic(grid[distance > 1.5]).mean() > 2 * at_training_points
    # The model still knows its data: aleatoric entropy, not epistemic, dominates there.
    near = quick_posterior.uncertainty(moons.X_train, max_draws=300)
    assert float(near["expected_entropy"].mean()) > float(near["mutual_information"].mean())


def test_regression_scores_of_a_summary(rng):
    from pymc_bnn.posterior.metrics import coverage_by_level, crps_ensemble, regression_summary

    posterior = _linear_posterior(Gaussian(), rng.normal(1, 0.1, size=100), 0.0,
                                  preprocessing=STANDARD, extra={"sigma": np.full(100, 0.5)})
    X = rng.uniform(-1, 1, size=(400, 1))
    y = X[:, 0] + rng.normal(0, 0.5, size=400)
    summary = posterior.uncertainty(X, level=0.9, n_samples=400)
    scores = regression_summary(y, summary)
    assert scores["coverage"] == pytest.approx(0.9, abs=0.04)
    assert scores["rmse"] == pytest.approx(0.5, abs=0.05)
    assert scores["crps"] == crps_ensemble(y, summary["samples"].values)
    levels, observed = coverage_by_level(y, posterior.uncertainty(X, level=[0.5, 0.8, 0.95]))
    np.testing.assert_array_equal(levels, [0.5, 0.8, 0.95])
    np.testing.assert_allclose(observed, levels, atol=0.06)


@pytest.mark.filterwarnings("ignore::pymc_bnn.errors.ConvergenceWarning")
@pytest.mark.slow
def test_a_target_far_from_zero_keeps_its_spread():
    """The float32 passes added y_mean in float32: a target of 1e9 + noise (sd 1) gave every
    mean off by hundreds and intervals that covered nothing. The same standardised rows at
    offset 0 and 1e9 fit the same network, so the answers differ by the offset alone."""
    from pymc_bnn import BayesianMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=80)
    X_new = rng.normal(size=(20, 2))
    fits = [BayesianMLPRegressor((3,), steps=300, draws=200, random_state=0).fit(X, y + offset)
            for offset in (0.0, 1e9)]
    (m0, s0), (m9, s9) = (f.predict(X_new, return_std=True) for f in fits)
    np.testing.assert_allclose(m9 - 1e9, m0, atol=1e-5)
    np.testing.assert_allclose(s9, s0, rtol=1e-5)
    u0, u9 = (f.uncertainty(X_new, level=0.9) for f in fits)
    for name in ("lower", "upper"):
        np.testing.assert_allclose(np.asarray(u9[name]) - 1e9, np.asarray(u0[name]), atol=1e-4)
    np.testing.assert_allclose(np.asarray(u9["epistemic_sd"]), np.asarray(u0["epistemic_sd"]),
                               rtol=1e-4)


def test_noise_without_a_variance_is_infinite_on_both_paths(rng):
    # nu ~ Gamma(2, 0.1) puts draws below df = 1, where SciPy's t variance is NaN (undefined)
    # rather than inf; the variance of such noise is still infinite (E[y²] diverges), as for
    # 1 < df ≤ 2, and as the fused pass says: sd and aleatoric_sd are inf, never NaN.
    moments = uncertainty.regression_moments(
        {"mean": np.zeros((2, 1)), "scale": np.ones((2, 1)), "df": np.array([[0.8], [3.0]])})
    assert np.isposinf(moments["aleatoric_sd"][0]) and np.isposinf(moments["sd"][0])
    n = 30
    nu = np.where(np.arange(n) == 0, 0.8, 4.0)  # one draw of heavy tails
    posterior = _linear_posterior(StudentT(), rng.normal(1.0, 0.2, size=n), 0.0,
                                  preprocessing=STANDARD,
                                  extra={"sigma": np.full(n, 0.5), "nu": nu})
    X = np.array([[0.0], [1.0]])
    with pytest.warns(UserWarning, match="no finite variance"):
        fused = posterior.uncertainty(X, level=0.9)
    with pytest.warns(UserWarning, match="no finite variance"):
        sampled = posterior.uncertainty(X, level=0.9, n_samples=10)  # the float64 path
    for summary in (fused, sampled):
        assert np.isposinf(summary["sd"].values).all()
        assert np.isposinf(summary["aleatoric_sd"].values).all()
    np.testing.assert_allclose(sampled["upper"], fused["upper"], rtol=1e-5)
