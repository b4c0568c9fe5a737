"""Data-parallel ADVI: each step's rows split over JAX's CPU devices give the fit of one device,
up to the order of the floating-point sum, for every way rows reach a step."""

import numpy as np
import pytest

from pymc_bnn import build_model, fit
from pymc_bnn.data import batch_source
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import vi_loop
from pymc_bnn.model.build import build_streaming_model

OPTIONS = {"draws": 20, "random_seed": 4, "progress": False, "steps": 200, "tol": 0}


@pytest.fixture(scope="module")
def devices():
    import jax

    if jax.device_count() < 4:
        pytest.skip("needs 4 JAX devices (pymc-bnn sets one per core, at least 4)")
    return jax.device_count()


def _q_mean(result):
    group = result.idata["variational"]
    return np.concatenate([group[name].values for name in sorted(group.data_vars)
                           if name.endswith("__mean")])


def _split_program() -> str:
    """The text of the chunk compiled last: an all-reduce sums the row shards."""
    return list(vi_loop._EXECUTABLES.values())[-1].as_text()


def _same_fit(split, together, data_devices, restart_devices=1):
    assert split.diagnostics["data_devices"] == data_devices
    assert split.diagnostics["restart_devices"] == restart_devices
    assert together.diagnostics["data_devices"] == 1
    np.testing.assert_allclose(split.elbo, together.elbo, rtol=1e-9)
    np.testing.assert_allclose(_q_mean(split), _q_mean(together), rtol=1e-7, atol=1e-9)


def test_every_row_split_over_four_devices_fits_as_on_one(small_moons, devices):
    """Each device holds a quarter of the rows; the all-reduce sums their log-likelihoods."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(4,))
    options = OPTIONS | {"restarts": 1}
    split = fit(bnn, "advi", data_devices=4, **options)
    assert "all-reduce" in _split_program()
    _same_fit(split, fit(bnn, "advi", **options), 4)


@pytest.mark.slow
def test_restarts_and_rows_share_a_two_dimensional_mesh(small_moons, devices):
    """2 restarts × 2 row shards on 4 devices, each step's rows sampled and then split: the
    race and the kept restart as on one device."""
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(4,))
    options = OPTIONS | {"restarts": 2, "screen_steps": 100, "minibatch_size": 40}
    split = fit(bnn, "advi", data_devices=2, **options)
    assert "all-reduce" in _split_program()
    together = fit(bnn, "advi", **options)
    _same_fit(split, together, data_devices=2, restart_devices=2)
    np.testing.assert_allclose(split.diagnostics["restart_elbos"],
                               together.diagnostics["restart_elbos"], rtol=1e-9)


@pytest.mark.slow
def test_streamed_minibatches_split_over_devices(devices):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(int)
    bnn = build_streaming_model(batch_source([(X[:200], y[:200]), (X[200:], y[200:])]),
                                batch_size=64, hidden=(3,))
    options = OPTIONS | {"restarts": 1}
    _same_fit(fit(bnn, "advi", data_devices=2, **options), fit(bnn, "advi", **options), 2)


def test_more_data_devices_than_jax_has_is_refused(small_moons, devices):
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))
    with pytest.raises(InvalidSettingError, match="PYMC_BNN_CPU_DEVICES"):
        fit(bnn, "advi", data_devices=devices + 1, **OPTIONS)
