"""pymc_bnn._runtime.jax_setup: one JAX CPU device per core (set only where pymc-bnn first needs JAX),
and the compilation cache on disk."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pymc_bnn._runtime.jax_setup import (
    CACHE_ENV_VAR,
    ENV_VAR,
    compilation_cache_dir,
    configure_devices,
    expose_cpu_cores,
    xla_flags_kept,
)

FLAG = "--xla_force_host_platform_device_count"
CORES = "pymc_bnn._runtime.jax_setup.usable_cores"


def test_sets_one_device_per_core(monkeypatch):
    monkeypatch.setattr(CORES, lambda: 2)
    environ = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    assert expose_cpu_cores(environ) == 2
    assert environ["XLA_FLAGS"] == f"--xla_cpu_enable_fast_math=false {FLAG}=2"
    monkeypatch.setattr(CORES, lambda: 1)  # one core: JAX's own single device, flags untouched
    environ = {}
    assert expose_cpu_cores(environ) is None and environ == {}
    monkeypatch.setattr(CORES, lambda: 16)
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
    monkeypatch.setattr(CORES, lambda: 3)
    environ = {ENV_VAR: "all"}
    with pytest.warns(UserWarning, match="not a whole number.*0 to opt out"):
        assert expose_cpu_cores(environ) == 3


def test_cache_directory_follows_the_environment(monkeypatch):
    monkeypatch.setattr(Path, "home", lambda: Path("/home/ada"))
    assert compilation_cache_dir({}) == Path("/home/ada/.cache/pymc-bnn/jax")
    assert compilation_cache_dir({"XDG_CACHE_HOME": "/var/cache/ada"}) == Path(
        "/var/cache/ada/pymc-bnn/jax")
    assert compilation_cache_dir({CACHE_ENV_VAR: "/scratch/jax"}) == Path("/scratch/jax")
    assert compilation_cache_dir({CACHE_ENV_VAR: "0"}) is None


@pytest.mark.slow  # a fit in a fresh process: ~25 s on 2 cores
def test_a_fit_writes_its_compiled_programs_to_the_cache(tmp_path):
    """A new process finds the programs an earlier one compiled (here: the ADVI loop; the
    compiled programs do not depend on the step count, so a few steps do)."""
    script = ("from pymc_bnn import build_model, fit\n"
              "from pymc_bnn.datasets import two_moons\n"
              "d = two_moons(n_samples=100, split_seed=0)\n"
              "fit(build_model(d.X_train, d.y_train), steps=100, draws=10, progress=False)\n")
    env = {**os.environ, CACHE_ENV_VAR: str(tmp_path / "jax")}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300,
                   capture_output=True)
    assert any((tmp_path / "jax").iterdir())


@pytest.fixture
def undecided(monkeypatch):
    """configure_devices as in a fresh process: nothing decided yet."""
    monkeypatch.setattr("pymc_bnn._runtime.jax_setup._devices_decided", False)


def test_devices_are_configured_once_and_only_before_jax(monkeypatch, undecided):
    monkeypatch.setattr(CORES, lambda: 8)
    environ = {}
    assert configure_devices(environ, modules={}) == 8 and environ["XLA_FLAGS"] == f"{FLAG}=8"
    environ = {}
    assert configure_devices(environ, modules={}) is None and environ == {}  # decided already
    monkeypatch.setattr("pymc_bnn._runtime.jax_setup._devices_decided", False)
    environ = {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    # JAX imported first (by the user's code): their process keeps its devices
    assert configure_devices(environ, modules={"jax": object()}) is None
    assert environ == {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}


def _run(script: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", ENV_VAR)}
    done = subprocess.run([sys.executable, "-c", script], env={**environ, **env}, check=True,
                          timeout=300, capture_output=True, text=True)
    return done.stdout.strip()


def test_importing_pymc_bnn_leaves_xla_flags_as_they_were():
    script = ("import os, pymc_bnn, pymc_bnn.cli\n"
              "pymc_bnn.NetworkSpec, pymc_bnn.Posterior, pymc_bnn.fit\n"  # lazy names too
              "print(repr(os.environ.get('XLA_FLAGS')))")
    assert _run(script) == "None"
    assert _run(script, XLA_FLAGS="--xla_cpu_enable_fast_math=false") == (
        "'--xla_cpu_enable_fast_math=false'")


@pytest.mark.slow  # two NUTS fits in fresh processes
def test_a_fit_runs_nuts_chains_side_by_side_unless_jax_came_first():
    fit_nuts = ("from pymc_bnn import build_model, fit\n"
                "from pymc_bnn.datasets import two_moons\n"
                "d = two_moons(n_samples=60, split_seed=0)\n"
                "post = fit(build_model(d.X_train, d.y_train, hidden=(2,)), 'nuts', draws=20,\n"
                "           chains=2, tune=20, init_steps=0, progress=False)\n"
                "import jax, os\n"
                "print(post.settings['chain_method'], post.diagnostics['devices'],\n"
                "      jax.local_device_count(), os.environ.get('XLA_FLAGS'))\n")
    assert _run("import warnings; warnings.simplefilter('ignore')\n" + fit_nuts,
                **{ENV_VAR: "3"}) == f"parallel 2 3 {FLAG}=3"
    # fewer devices than chains: one chain after another on each device, the devices at once
    assert _run("import warnings; warnings.simplefilter('ignore')\n"
                + fit_nuts.replace("chains=2", "chains=3"),
                **{ENV_VAR: "2"}) == f"sequential 2 2 {FLAG}=2"
    # the user's JAX came first: one device, chains one after another, flags untouched (by
    # pymc-bnn, and by the PyMC module it imports)
    assert _run("import jax, warnings; warnings.simplefilter('ignore')\n" + fit_nuts,
                **{ENV_VAR: "3"}) == "sequential 1 1 None"
    # ... unless they opt in before importing JAX: then JAX has the devices, and a fit's chains
    # run side by side as in the first run (nuts: "parallel" when devices ≥ chains)
    assert _run("import pymc_bnn._runtime.jax_setup; pymc_bnn._runtime.jax_setup.expose_cpu_cores()\n"
                "import jax, os\n"
                "print(jax.local_device_count(), os.environ.get('XLA_FLAGS'))\n",
                **{ENV_VAR: "3"}) == f"3 {FLAG}=3"


def test_xla_flags_kept_restores_the_value_or_its_absence():
    environ = {"XLA_FLAGS": "--a"}
    with xla_flags_kept(environ):
        environ["XLA_FLAGS"] = f"{FLAG}=100"
    assert environ == {"XLA_FLAGS": "--a"}
    environ = {}
    with xla_flags_kept(environ):
        environ["XLA_FLAGS"] = f"{FLAG}=100"
    assert environ == {}


def test_the_cache_is_pruned_least_recently_used_first_once_a_day(tmp_path):
    from pymc_bnn._runtime.jax_setup import prune_compilation_cache

    for age, name in enumerate(["new", "middle", "old"]):
        (tmp_path / f"{name}-cache").write_bytes(bytes(100))
        os.utime(tmp_path / f"{name}-cache", (1e9 - age * 1000, 1e9 - age * 1000))
    (tmp_path / "new-atime").write_bytes(bytes(8))  # left by JAX's own size limit
    assert prune_compilation_cache(tmp_path, max_bytes=150) == 3  # old, middle and the atime
    assert sorted(p.name for p in tmp_path.iterdir()) == [".pymc-bnn-pruned", "new-cache"]
    (tmp_path / "more-cache").write_bytes(bytes(100))
    assert prune_compilation_cache(tmp_path, max_bytes=0) == 0  # not a day yet
    assert prune_compilation_cache(tmp_path, max_bytes=0, every_s=0) == 2


def test_jax_keeps_no_lock_on_the_cache(tmp_path):
    """JAX's own size limit serialises every read and write of all processes on one lock file;
    pymc-bnn turns it off and prunes the folder itself."""
    script = ("from pymc_bnn._runtime.jax_setup import use_compilation_cache\n"
              "use_compilation_cache()\n"
              "import jax\n"
              "print(jax.config.jax_compilation_cache_max_size)\n")
    assert _run(script, **{CACHE_ENV_VAR: str(tmp_path / "jax")}) == "-1"
    assert (tmp_path / "jax" / ".pymc-bnn-pruned").exists()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_one_device_per_core_counts_only_the_cores_the_process_may_run_on():
    # a process held to one core (taskset, a container's cpuset) gets JAX's single device
    script = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
              "from pymc_bnn._runtime.jax_setup import expose_cpu_cores, usable_cores\n"
              "print(usable_cores(), expose_cpu_cores({}))")
    assert _run(script) == "1 None"
