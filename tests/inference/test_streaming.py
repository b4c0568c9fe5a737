"""Streamed ADVI: the same fit from Parquet as from batches in memory, the likelihood scaled
by the true row count (a closed form), and a one-batch stream equal to the in-memory fit."""

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from pymc_bnn import build_model, fit
from pymc_bnn.data import batch_source, parquet_batches
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import vi
from pymc_bnn.model.build import build_streaming_model

PRIOR_SD = 10.0


def _table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _posterior_arrays(posterior):
    return {name: posterior.idata["posterior"][name].values
            for name in posterior.idata["posterior"].data_vars}


@pytest.mark.slow  # a few seconds of fits: the full suite runs it
def test_parquet_folder_fit_equals_the_same_rows_in_memory(tmp_path):
    X, y = _table()
    folder = tmp_path / "rows"
    folder.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(X)), 3)):  # files of 200 rows
        pd.DataFrame({"a": X[rows, 0], "b": X[rows, 1], "y": y[rows]}).to_parquet(
            folder / f"part{k}.parquet")
    in_memory = batch_source([(X[i:i + 250], y[i:i + 250]) for i in range(0, len(X), 250)],
                             feature_names=("a", "b"))
    fits = []
    for source in (parquet_batches(folder, target="y"), in_memory):
        bnn = build_streaming_model(source, batch_size=64, hidden=(4,))
        assert bnn.model["y"].owner is not None and bnn.n_obs == 64
        fits.append(fit(bnn, "advi", steps=700, restarts=2, screen_steps=300, draws=50,
                        random_seed=3, progress=False, tol=0))
    parquet_fit, memory_fit = map(_posterior_arrays, fits)
    assert parquet_fit.keys() == memory_fit.keys()
    for name in parquet_fit:
        np.testing.assert_array_equal(parquet_fit[name], memory_fit[name])
    assert fits[0].settings["streamed"] is True and fits[0].settings["minibatch_size"] == 64


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_one_batch_of_every_row_equals_the_in_memory_fit():
    X, y = _table(n=300)
    streamed = build_streaming_model(batch_source([(X, y)]), batch_size=300, hidden=(3,))
    plain = build_model(X, y, hidden=(3,))
    options = dict(steps=600, restarts=1, draws=40, random_seed=5, progress=False, tol=0)
    a, b = (_posterior_arrays(fit(m, "advi", **options)) for m in (streamed, plain))
    for name in b:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-12)


def _mean_model(batch, total_size):
    """mu ~ N(0, 10²), y ~ N(mu, 1) on one minibatch of `total_size` rows (pm.Minibatch's
    scaling), with a dummy X so that it streams like a network."""
    with pm.Model(coords={"obs": np.arange(len(batch)), "feature": [0]}) as model:
        pm.Data("X", np.zeros((len(batch), 1)), dims=("obs", "feature"))
        y_data = pm.Data("y_data", batch, dims="obs")
        mu = pm.Normal("mu", 0.0, PRIOR_SD)
        pm.Normal("y", mu, 1.0, observed=y_data, dims="obs", total_size=total_size)
    return model


@pytest.mark.slow
def test_minibatch_likelihood_is_scaled_by_the_true_row_count():
    """Every batch has the same mean, so the scaled minibatch ELBO has the full data's
    gradient: the streamed q equals the in-memory fit on all 4,096 rows, and both match the
    exact posterior N(n ȳ / (n + 1/100), 1 / (n + 1/100)); unscaled, the sd would be
    1/sqrt(256), 4× the exact one. (ADVI's constant-rate Adam leaves its sd about 16% wide
    here, in memory too.)"""
    rng = np.random.default_rng(0)
    n, size = 4096, 256
    batches = []
    for _ in range(n // size):
        z = rng.normal(size=size)
        batches.append((np.zeros((size, 1)), z - z.mean() + 1.3))
    precision = 1 / PRIOR_SD**2 + n
    exact_mean, exact_sd = n * 1.3 / precision, precision**-0.5
    options = dict(draws=100, random_seed=0, progress=False, steps=8000, restarts=1, tol=0)
    streamed = vi.run_advi(_mean_model(batches[0][1], n), stream=batch_source(batches),
                           **options)
    every_row = np.concatenate([y for _, y in batches])
    in_memory = vi.run_advi(_mean_model(every_row, None), **options)
    (mean, sd), (full_mean, full_sd) = (
        (float(r.idata["variational"]["mu__mean"].values[0]),
         float(r.idata["variational"]["mu__sd"].values[0])) for r in (streamed, in_memory))
    assert mean == pytest.approx(full_mean, rel=1e-9)
    assert sd == pytest.approx(full_sd, rel=1e-6)
    assert abs(mean - exact_mean) < 0.1 * exact_sd
    assert exact_sd < sd < 1.25 * exact_sd < size**-0.5 / 3


def test_engines_that_need_every_row_refuse_a_stream():
    X, y = _table(n=100)
    bnn = build_streaming_model(batch_source([(X, y)]), batch_size=50, hidden=(2,))
    with pytest.raises(InvalidSettingError, match="laplace cannot fit streamed data"):
        fit(bnn, "laplace", progress=False)
    with pytest.raises(InvalidSettingError, match="minibatch_size=32 but this streamed model"):
        fit(bnn, "advi", minibatch_size=32, steps=10, progress=False)


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_a_small_streamed_fit_that_has_converged_stops_within_its_noise():
    """900 rows, 128 a step: minibatch noise held the relative change of two 500-step windows
    near 0.02, so this fit ran all 8,000 steps (ELBO -126.8 at the end); judged by its trend
    against its noise it stops at 5,000, its ELBO within 5 nats (0.005 a row) of that."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 2))
    y = np.sin(X[:, 0]) + 0.15 * rng.normal(size=900)
    bnn = build_streaming_model(batch_source([(X, y)]), batch_size=128, likelihood="gaussian",
                                hidden=(8,))
    posterior = fit(bnn, "advi", steps=8000, window=500, restarts=1, draws=50, progress=False,
                    random_seed=0)
    diagnostics = posterior.diagnostics
    assert diagnostics["converged"] and diagnostics["stopped_by"] == "noise"
    assert diagnostics["steps_run"] < 8000
    assert diagnostics["relative_change"] > 1e-3  # the relative rule alone would run on
    trend, se = diagnostics["elbo_trend"]
    assert abs(trend) < 2 * se
    assert abs(diagnostics["window_means"][1] - (-126.8)) < 5
