"""pymc_bnn.jax_setup: one JAX CPU device per core, and the compilation cache on disk."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pymc_bnn.jax_setup import (
    CACHE_ENV_VAR,
    ENV_VAR,
    compilation_cache_dir,
    expose_cpu_cores,
)

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


def test_cache_directory_follows_the_environment(monkeypatch):
    monkeypatch.setattr(Path, "home", lambda: Path("/home/ada"))
    assert compilation_cache_dir({}) == Path("/home/ada/.cache/pymc-bnn/jax")
    assert compilation_cache_dir({"XDG_CACHE_HOME": "/var/cache/ada"}) == Path(
        "/var/cache/ada/pymc-bnn/jax")
    assert compilation_cache_dir({CACHE_ENV_VAR: "/scratch/jax"}) == Path("/scratch/jax")
    assert compilation_cache_dir({CACHE_ENV_VAR: "0"}) is None


def test_a_fit_writes_its_compiled_programs_to_the_cache(tmp_path):
    """A new process finds the programs an earlier one compiled (here: the ADVI loop)."""
    script = ("from pymc_bnn import build_model, fit\n"
              "from pymc_bnn.datasets import two_moons\n"
              "d = two_moons(n_samples=100, split_seed=0)\n"
              "fit(build_model(d.X_train, d.y_train), steps=2000, draws=10, progress=False)\n")
    env = {**os.environ, CACHE_ENV_VAR: str(tmp_path / "jax")}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300,
                   capture_output=True)
    assert any((tmp_path / "jax").iterdir())
