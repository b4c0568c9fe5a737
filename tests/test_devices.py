"""pymc_bnn.devices: the XLA flag that gives JAX one CPU device per core."""

import pytest

from pymc_bnn.devices import ENV_VAR, expose_cpu_cores

FLAG = "--xla_force_host_platform_device_count"


def test_sets_one_device_per_core_and_at_least_four(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    environ = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    assert expose_cpu_cores(environ) == 4
    assert environ["XLA_FLAGS"] == f"--xla_cpu_enable_fast_math=false {FLAG}=4"
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    environ = {}
    assert expose_cpu_cores(environ) == 16 and environ["XLA_FLAGS"] == f"{FLAG}=16"


def test_a_users_own_setting_wins():
    environ = {"XLA_FLAGS": f"{FLAG}=3"}
    assert expose_cpu_cores(environ) is None and environ["XLA_FLAGS"] == f"{FLAG}=3"
    for opt_out in ("0", "1"):
        environ = {ENV_VAR: opt_out}
        assert expose_cpu_cores(environ) is None and "XLA_FLAGS" not in environ
    environ = {ENV_VAR: "6"}
    assert expose_cpu_cores(environ) == 6


def test_a_count_that_is_not_a_number_warns_and_uses_the_default(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    environ = {ENV_VAR: "all"}
    with pytest.warns(UserWarning, match="not a whole number.*0 to opt out"):
        assert expose_cpu_cores(environ) == 4
