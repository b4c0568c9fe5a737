"""The noise rule of minibatch ADVI: an ELBO trend over windows against its batch-means noise."""

import numpy as np
import pytest
from scipy.signal import lfilter

from pymc_bnn.inference import windows


def test_the_trend_standard_error_is_calibrated_on_noise_and_errs_low_on_correlated_noise():
    """Pure noise stays within 2 standard errors about 95% of the time; noise correlated over
    ~100 steps (a batch) gets a smaller standard error, so the rule runs on rather than stops."""
    rng = np.random.default_rng(1)
    within = {}
    for rho in (0.0, 0.99):
        hits = 0
        for _ in range(200):
            x = lfilter([1.0], [1.0, -rho], rng.normal(size=4000))
            trend, se = windows.window_trend(x, 1000)
            hits += abs(trend) < 2 * se
        within[rho] = hits / 200
    assert 0.85 < within[0.0] < 0.99
    assert within[0.99] < within[0.0] - 0.2


def test_a_trend_inside_the_windows_is_not_taken_for_noise():
    noise = np.random.default_rng(2).normal(0.0, 1.0, 4000)
    flat_trend, flat_se = windows.window_trend(noise, 1000)
    trend, se = windows.window_trend(noise + 0.0002 * np.arange(4000), 1000)
    assert se == pytest.approx(flat_se, rel=1e-9)  # second differences cancel a straight line
    assert trend == pytest.approx(flat_trend + 0.2, rel=1e-6)
    assert abs(trend) > 2 * se


def test_the_trend_needs_its_windows_and_finite_values():
    assert np.isnan(windows.window_trend(np.zeros(3999), 1000)).all()
    values = np.zeros(4000)
    values[10] = np.nan
    assert np.isnan(windows.window_trend(values, 1000)).all()
    assert np.isnan(windows.window_trend(np.zeros(20), 5)).all()  # 2 batches: no 2nd difference


def test_a_noisy_fit_is_judged_by_its_trend_and_a_full_batch_fit_by_its_relative_change():
    """A chance dip of two noisy means under tol no longer stops a minibatch fit whose trend
    is 4 standard errors (the scale benchmark's 20,000-row streamed fit stopped so at 8,004
    steps, rising 331 ± 43 nats a window); a full-batch fit keeps its rule."""
    rising = windows.WindowChange(before=-8307.4, last=-8312.5, relative=6e-4, trend=331.0,
                                  trend_se=43.0)
    assert rising.settled(1e-3) == "tol"
    assert rising.settled(1e-3, noise_multiple=2.0) is None
    near_zero = windows.WindowChange(before=-0.4, last=0.3, relative=1.75, trend=0.2,
                                     trend_se=0.5)
    assert near_zero.settled(1e-3) is None
    assert near_zero.settled(1e-3, noise_multiple=2.0) == "noise"
    settled = windows.WindowChange(before=-8307.4, last=-8312.5, relative=6e-4, trend=3.0,
                                   trend_se=0.5)
    assert settled.settled(1e-3, noise_multiple=2.0) == "trend_tol"  # 3 < 8.3 nats, 6 se
    too_few = windows.WindowChange(-100.0, -100.0, 0.0, float("nan"), float("nan"))
    assert too_few.settled(1e-3, noise_multiple=2.0) is None


def test_window_change_reports_the_best_restarts_means_and_trend():
    rng = np.random.default_rng(3)
    history = np.column_stack([rng.normal(-50.0, 1.0, 400),  # flat
                               -40.0 + 0.01 * np.arange(400) + rng.normal(0, 0.3, 400)])
    change = windows.window_change(history, 100)
    assert change.last == pytest.approx(history[-100:, 1].mean())
    assert change.before == pytest.approx(history[-200:-100, 1].mean())
    assert change.trend == pytest.approx(1.0, abs=0.1)  # 0.01 a step, 100 steps a window
    assert windows.window_change(history[:150], 100) is None
