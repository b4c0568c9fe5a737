"""A Gaussian regressor's noise sd as a function of its mean (`posterior.noise_function`), and
the regressors' `noise=` that applies it.

References: closed forms of the variance function's fit (a constant variance's MLE is the mean
squared residual; the gradient against finite differences), data whose noise sd is known row by
row, and the Gaussian fit the function starts from (its mean predictions must not move).
"""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import check_grad

from pymc_bnn import BayesianMLPRegressor, build_model, fit
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.io import load, save
from pymc_bnn.posterior import noise_function
from pymc_bnn.posterior.noise_function import fit_variance_function, noise_follows_mean
from pymc_bnn.posterior.stacking import log_predictive_density
from pymc_bnn.posterior.uncertainty import predictive_summary


def _level_dependent(seed: int, n: int):
    """y = 3 + x₀ + noise of sd 0.1·(4 + x₀): 0.2 at x₀ = -2, 0.6 at x₀ = 2 (it follows the mean)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    return X, 3.0 + X[:, 0] + rng.normal(0.0, 0.1 * (4.0 + X[:, 0]))


@pytest.fixture(scope="module")
def gaussian_fit():
    """The default engine's Gaussian fit of a (6,) network to 200 rows of `_level_dependent`."""
    X, y = _level_dependent(0, 400)
    bnn = build_model(X[:200], y[:200], hidden=(6,), bias=True, likelihood="gaussian")
    return fit(bnn, "laplace", draws=200, random_seed=0, progress=False), X[200:], y[200:]


def test_a_constant_variance_is_the_mean_squared_residual():
    rng = np.random.default_rng(0)
    squares = rng.normal(0.0, 1.5, 500) ** 2
    found = fit_variance_function(rng.normal(size=500), squares, precisions=(1e12,), df=None)
    assert found.slope == pytest.approx(0.0, abs=1e-9)
    assert found.intercept == pytest.approx(np.log(np.mean(squares)), abs=1e-6)


def test_the_objectives_gradient_is_its_derivative():
    rng = np.random.default_rng(1)
    z = rng.normal(size=50)
    design = np.c_[np.ones(50), z]
    squares, weights = rng.exponential(size=50), rng.uniform(0.5, 2.0, 50)
    for df in (None, 4.0):
        args = (design, squares, weights, 3.0, df)
        value = lambda p, a=args: noise_function._negative_log_posterior(p, *a)[0]  # noqa: E731
        grad = lambda p, a=args: noise_function._negative_log_posterior(p, *a)[1]  # noqa: E731
        for point in ([0.1, -0.3], [-1.0, 0.8]):
            assert check_grad(value, grad, np.array(point)) < 1e-5
            # the evidence's curvature is the likelihood's Hessian (the prior's added apart)
            step, numeric = 1e-6, np.empty((2, 2))
            for i in range(2):
                shift = np.eye(2)[i] * step
                numeric[:, i] = (grad(np.array(point) + shift) - grad(np.array(point) - shift)) / (
                    2 * step)
            numeric[1, 1] -= 3.0
            np.testing.assert_allclose(noise_function._curvature(np.array(point), design, squares,
                                                                 weights, df), numeric,
                                       rtol=1e-5, atol=1e-6)


def test_integer_weights_fit_as_repeated_rows():
    rng = np.random.default_rng(2)
    z, squares = rng.normal(size=40), rng.exponential(size=40)
    weights = rng.integers(1, 4, size=40)
    weighted = fit_variance_function(z, squares, weights)
    repeated = fit_variance_function(np.repeat(z, weights), np.repeat(squares, weights))
    assert weighted.precision == repeated.precision
    assert weighted.intercept == pytest.approx(repeated.intercept, abs=1e-5)
    assert weighted.slope == pytest.approx(repeated.slope, abs=1e-5)


def test_the_evidence_finds_a_trend_only_where_there_is_one():
    """Known log s² = 0.2 + 0.8 z on 2,000 rows of Normal residuals, read as Normal: recovered
    to 0.05 (measured: 0.22, 0.82 at λ 1.6); Student-t residuals of 4 df at the default:
    likewise (0.24, 0.83); constant noise: strong shrinkage (λ 1e4) and a slope of about 0."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=2000)
    trend = fit_variance_function(z, rng.normal(0.0, np.exp(0.5 * (0.2 + 0.8 * z))) ** 2,
                                  df=None)
    assert trend.intercept == pytest.approx(0.2, abs=0.05)
    assert trend.slope == pytest.approx(0.8, abs=0.05)
    assert trend.precision < 10.0
    heavy = fit_variance_function(z, (np.exp(0.5 * (0.2 + 0.8 * z)) * rng.standard_t(4, 2000)) ** 2)
    assert heavy.intercept == pytest.approx(0.2, abs=0.1)
    assert heavy.slope == pytest.approx(0.8, abs=0.1)
    flat = fit_variance_function(z, rng.normal(0.0, 1.0, 2000) ** 2)
    assert flat.precision > 100.0
    assert abs(flat.slope) < 0.05


def test_the_noise_follows_the_mean_and_the_mean_stays(gaussian_fit):
    """Measured for data and fit seeds 0-2: predictive sd 0.20 / 0.28 / 0.26 at x₀ = -2 and
    0.58 / 0.53 / 0.65 at x₀ = 2 (noise sd 0.2 and 0.6; the Gaussian fit's 0.38-0.44 at both);
    held-out log density per row -0.554 / -0.569 / -0.476 against the Gaussian's -0.595 /
    -0.641 / -0.548 (the test takes seed 0)."""
    gaussian, X_test, y_test = gaussian_fit
    varying = noise_follows_mean(gaussian)
    assert varying.likelihood.name == "heteroscedastic" and varying.spec.n_outputs == 2
    assert "sigma" not in varying.idata["posterior"] and varying.n_draws == gaussian.n_draws
    np.testing.assert_allclose(varying.predict(X_test)["mean"], gaussian.predict(X_test)["mean"],
                               rtol=0, atol=1e-10)
    ends = np.array([[-2.0, 0.0], [2.0, 0.0]])
    sd = predictive_summary(varying, ends, level=None)["sd"].values
    assert sd[0] == pytest.approx(0.2, rel=0.35) and sd[1] == pytest.approx(0.6, rel=0.2)
    flat = predictive_summary(gaussian, ends, level=None)["sd"].values
    assert flat[0] > 1.5 * sd[0] and sd[1] > 1.2 * flat[1]
    assert (log_predictive_density(varying, X_test, y_test).mean()
            > log_predictive_density(gaussian, X_test, y_test).mean() + 0.015)
    described = varying.settings["noise_function"]
    assert described["slope"] > 0.3 and described["precision"] in noise_function.PRECISIONS


def test_the_level_is_the_gaussian_fits_noise_variance(gaussian_fit):
    """Over the training rows, the mean of s² equals the fit's σ² (both standardised)."""
    gaussian = gaussian_fit[0]
    varying = noise_follows_mean(gaussian)
    X = gaussian.idata["constant_data"]["X"].values
    log_sd = varying.network_output(X)[..., 1]
    assert np.mean(np.exp(2 * log_sd)) == pytest.approx(np.mean(gaussian.stacked("sigma") ** 2),
                                                        rel=0.05)


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_constant_noise_leaves_the_gaussian_fits_predictions():
    rng = np.random.default_rng(4)
    X = rng.uniform(-2.0, 2.0, size=(200, 1))
    y = np.sin(2 * X[:, 0]) + rng.normal(0.0, 0.3, 200)
    gaussian = fit(build_model(X, y, hidden=(6,), bias=True, likelihood="gaussian"), "laplace",
                   draws=200, random_seed=0, progress=False)
    varying = noise_follows_mean(gaussian)
    grid = np.linspace(-2, 2, 9)[:, None]
    np.testing.assert_allclose(predictive_summary(varying, grid, level=None)["sd"].values,
                               predictive_summary(gaussian, grid, level=None)["sd"].values,
                               rtol=0.03)


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_what_cannot_follow_the_mean_is_refused_in_one_line(tmp_path):
    X, y = _level_dependent(1, 60)
    student = fit(build_model(X, y, hidden=(3,), bias=True, likelihood="student_t"), "laplace",
                  draws=20, progress=False)
    no_bias = fit(build_model(X, y, hidden=(3,), likelihood="gaussian"), "laplace", draws=20,
                  progress=False)
    save(BayesianMLPRegressor((3,), noise="constant", draws=20, random_state=0).fit(X, y),
         tmp_path / "m.bnn.nc")
    saved = load(tmp_path / "m.bnn.nc").posterior_  # a model file keeps no training rows
    for posterior, why in ((student, r"not a Gaussian fit \(likelihood 'student_t'\)"),
                           (no_bias, r"no output biases \(bias=False\)"),
                           (saved, "holds no training rows")):
        with pytest.raises(InvalidSettingError, match="^the noise sd cannot follow the mean "
                                                      f"here: .*{why}.*; keep the constant"):
            noise_follows_mean(posterior)


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_the_regressors_default_lets_the_noise_follow_the_mean(tmp_path):
    X, y = _level_dependent(5, 150)
    # the network alone (on 150 rows the default also stacks its GLM, whose network's noise
    # follows its mean too: test_a_stacked_regressors_network_lets_its_noise_follow_the_mean_...)
    auto = BayesianMLPRegressor((4,), stack_linear=False, draws=50, random_state=0).fit(X, y)
    assert auto.posterior_.likelihood.name == "heteroscedastic"
    assert "noise_function" in auto.posterior_.settings
    constant = BayesianMLPRegressor((4,), noise="constant", stack_linear=False, draws=50,
                                    random_state=0).fit(X, y)
    assert constant.posterior_.likelihood.name == "gaussian"
    np.testing.assert_allclose(auto.predict(X[:5]), constant.predict(X[:5]), atol=1e-10)
    glm = BayesianMLPRegressor((), draws=50, random_state=0).fit(X, y)  # BayesianRidge's model
    assert glm.posterior_.likelihood.name == "gaussian"
    asked = BayesianMLPRegressor((), noise="follows_mean", draws=50, random_state=0).fit(X, y)
    assert asked.posterior_.likelihood.name == "heteroscedastic"
    # a GLM stacked with itself is that GLM, with the noise asked for
    stacked_glm = BayesianMLPRegressor((), noise="follows_mean", stack_linear=True, draws=50,
                                       random_state=0).fit(X, y)
    np.testing.assert_allclose(stacked_glm.predict(X[:5], return_std=True),
                               asked.predict(X[:5], return_std=True), rtol=1e-6)
    save(auto, tmp_path / "a.bnn.nc")
    again = load(tmp_path / "a.bnn.nc")
    np.testing.assert_allclose(again.predict(X[:5], return_std=True),
                               auto.predict(X[:5], return_std=True), rtol=1e-6)
    assert again.noise == "auto"


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_noise_follows_mean_is_refused_where_it_cannot_apply(tmp_path):
    X, y = _level_dependent(6, 40)
    for params, why in (({"likelihood": "student_t"}, "likelihood='student_t' has its own"),
                        ({"bias": False}, "bias=False")):
        with pytest.raises(InvalidSettingError, match=f"noise='follows_mean' .*{why}"):
            BayesianMLPRegressor((3,), noise="follows_mean", **params).fit(X, y)
    with pytest.raises(InvalidSettingError, match="grouped fit"):
        BayesianMLPRegressor((3,), noise="follows_mean").fit(X, y, groups=np.arange(40) % 2)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InvalidSettingError, match="streamed data do not keep"):
        BayesianMLPRegressor((3,), noise="follows_mean").fit(str(tmp_path / "t.parquet"), "y")
    # "auto" leaves them as they were: a constant noise sd, no error
    full = BayesianMLPRegressor((3,), engine_options={"hessian": "full"}, draws=20,
                                random_state=0).fit(X, y)
    assert full.posterior_.linearised and full.posterior_.likelihood.name == "gaussian"
    with pytest.raises(InvalidSettingError, match="linearised network"):
        BayesianMLPRegressor((3,), noise="follows_mean", engine_options={"hessian": "full"},
                             draws=20, random_state=0).fit(X, y)
    grouped = BayesianMLPRegressor((3,), steps=200, draws=20, random_state=0).fit(
        X, y, groups=np.arange(40) % 2)
    assert grouped.posterior_.likelihood.name == "gaussian"


@pytest.mark.slow  # stacked fits: five folds of two models each
def test_a_stacked_regressors_network_lets_its_noise_follow_the_mean_in_every_fold(tmp_path):
    """On a linear mean whose noise sd grows with it, only the noise-following network models
    the noise: the held-out densities that weigh the members must be those of that network."""
    X, y = _level_dependent(8, 200)
    settings = {"stack_linear": True, "draws": 100, "random_state": 0}
    follows = BayesianMLPRegressor((4,), **settings).fit(X, y)
    constant = BayesianMLPRegressor((4,), noise="constant", **settings).fit(X, y)
    assert follows.posterior_.likelihood.name == "heteroscedastic"
    assert constant.posterior_.likelihood.name == "gaussian"
    network = follows.named_estimators_["network"]
    assert network.noise == "auto" and "noise_function" in network.posterior_.settings
    assert follows.named_estimators_["linear"].noise == "constant"
    assert constant.named_estimators_["network"].noise == "constant"
    lpd = {name: est.posterior_.settings["stacking"]["held_out_lpd"]
           for name, est in (("follows", follows), ("constant", constant))}
    assert lpd["follows"]["network"] > lpd["constant"]["network"] + 0.02  # nats per row
    assert lpd["follows"]["linear"] == pytest.approx(lpd["constant"]["linear"], abs=1e-9)
    weights = {name: est.posterior_.settings["stacking"]["weights"]["network"]
               for name, est in (("follows", follows), ("constant", constant))}
    assert weights["follows"] > weights["constant"]
    # the mixture's intervals widen with the mean, as the noise does
    _, sd = follows.predict(np.array([[-1.8, 0.0], [1.8, 0.0]]), return_std=True)
    assert sd[1] > 1.5 * sd[0]
    from pymc_bnn.io import read_description
    from pymc_bnn.reporting.model_report import summary_rows

    rows = dict(summary_rows(read_description(save(follows, tmp_path / "stacked.bnn.nc"))))
    assert rows["likelihood"].endswith(": the network's noise sd following its mean (the other "
                                       "members keep one noise sd)")


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_a_fold_scored_with_the_noise_following_the_mean_is_that_posteriors_density():
    from pymc_bnn.sklearn.stacked_fit import fold_density

    X, y = _level_dependent(9, 80)
    build = {"X": X, "y": y, "hidden": (3,), "bias": True, "likelihood": "gaussian"}
    train, test = np.arange(20, 80), np.arange(20)
    options = {"steps": 300, "tol": 0}  # a fixed number of steps: no convergence warning
    part = fit(build_model(X[train], y[train], hidden=(3,), bias=True, likelihood="gaussian"),
               "laplace", draws=40, random_seed=0, progress=False, **options)
    expected = log_predictive_density(noise_follows_mean(part, random_seed=0), X[test], y[test])
    found = fold_density(build, "laplace", options, 40, 0, train, test, "follows_mean")
    np.testing.assert_allclose(found, expected, rtol=1e-6)
    assert not np.allclose(fold_density(build, "laplace", options, 40, 0, train, test), found)


@pytest.mark.slow  # fits of their own (first fits of a structure compile)
def test_the_cli_takes_noise_and_refuses_it_where_it_cannot_apply(tmp_path, capsys):
    from pymc_bnn.cli.app import main

    X, y = _level_dependent(7, 60)
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y, "label": (y > 3).astype(int)})
    table.to_csv(tmp_path / "t.csv", index=False)
    fit = ["fit", str(tmp_path / "t.csv"), "--hidden", "3", "--draws", "20", "--quiet"]
    assert main([*fit, "--target", "y", "--exclude", "label", "--noise", "constant",
                 "--out", str(tmp_path / "c.bnn.nc")]) == 0
    assert load(tmp_path / "c.bnn.nc").posterior_.likelihood.name == "gaussian"
    assert main([*fit, "--target", "y", "--exclude", "label",
                 "--out", str(tmp_path / "a.bnn.nc")]) == 0
    assert load(tmp_path / "a.bnn.nc").posterior_.likelihood.name == "heteroscedastic"
    capsys.readouterr()
    assert main(["info", str(tmp_path / "a.bnn.nc")]) == 0
    info = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "heteroscedastic: a Gaussian fit's noise sd following its mean" in info
    assert "log s² = a + b·(predicted mean, standardised), b = " in info
    assert "noise_function" not in info
    assert main([*fit, "--target", "label", "--exclude", "y", "--noise", "follows-mean",
                 "--out", str(tmp_path / "l.bnn.nc")]) == 2
    assert "--noise follows-mean is for a numeric target's noise sd, but label is classified" \
        in capsys.readouterr().err
    table.to_parquet(tmp_path / "t.parquet")
    assert main(["fit", str(tmp_path / "t.parquet"), "--target", "y", "--stream", "--noise",
                 "follows-mean", "--out", str(tmp_path / "s.bnn.nc"), "--quiet"]) == 2
    assert "--noise follows-mean cannot be combined with --stream" in capsys.readouterr().err
    assert not (tmp_path / "l.bnn.nc").exists() and not (tmp_path / "s.bnn.nc").exists()
