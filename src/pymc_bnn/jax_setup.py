"""How pymc-bnn sets JAX up: one CPU device per core, and a compilation cache on disk.

Devices. JAX's CPU backend is one device by default, so NUTS chains (and ADVI's restarts)
either share one core in lockstep (vectorised) or run one after another. XLA reads its flags once, when JAX first
computes something, so pymc-bnn sets `--xla_force_host_platform_device_count` when it is
imported, before that happens (as `numpyro.set_host_device_count` does). Other JAX code is
unaffected: its work still goes to the first device. PYMC_BNN_CPU_DEVICES chooses the count
(0 leaves XLA_FLAGS alone); an XLA_FLAGS that already sets it wins.

Compilation cache. Compiling the ADVI loop, the NUTS sampler and the prediction function
takes seconds; JAX's persistent cache keeps the compiled programs on disk, so the next process
(the next `pymc-bnn` command, test worker or script) loads them instead. The cache lives in
PYMC_BNN_JAX_CACHE if set (0 turns it off), else $XDG_CACHE_HOME/pymc-bnn/jax (default
~/.cache/pymc-bnn/jax), capped at 1 GiB; a cache directory the user gave JAX wins. Like any
compiled code, the cache is trusted: keep it somewhere only you can write.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PYMC_BNN_CPU_DEVICES"
CACHE_ENV_VAR = "PYMC_BNN_JAX_CACHE"
_FLAG = "--xla_force_host_platform_device_count"
# At least the default number of NUTS chains, so a default run samples every chain at once.
_MIN_DEVICES = 4
_CACHE_MAX_BYTES = 1 << 30
# Programs that compile faster than this are not worth a disk round trip.
_CACHE_MIN_COMPILE_S = 0.2


def expose_cpu_cores(environ=os.environ) -> int | None:
    """Add the device-count flag to XLA_FLAGS unless it is set or opted out; returns the count
    set (None when nothing was changed). Has no effect once JAX has initialised its backend."""
    flags = environ.get("XLA_FLAGS", "")
    if _FLAG in flags:
        return None
    wanted = environ.get(ENV_VAR, "").strip()
    if wanted and not wanted.isdigit():
        import warnings

        warnings.warn(f"{ENV_VAR}={wanted!r} is not a whole number; using the default (one "
                      "device per core, at least 4); set it to e.g. 2, or 0 to opt out",
                      stacklevel=2)
        wanted = ""
    count = int(wanted) if wanted else max(os.cpu_count() or 1, _MIN_DEVICES)
    if count <= 1:
        return None
    environ["XLA_FLAGS"] = f"{flags} {_FLAG}={count}".strip()
    return count


def compilation_cache_dir(environ=os.environ) -> Path | None:
    """Where pymc-bnn keeps JAX's compiled programs (None: no cache), from the environment."""
    chosen = environ.get(CACHE_ENV_VAR, "").strip()
    if chosen == "0":
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "pymc-bnn" / "jax"


_cache_ready = False


def use_compilation_cache() -> None:
    """Point JAX's persistent compilation cache at `compilation_cache_dir()` (once per
    process), unless the user configured one. Called before pymc-bnn's first compile."""
    global _cache_ready
    if _cache_ready:
        return
    _cache_ready = True
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own choice
        return
    path = compilation_cache_dir()
    if path is None:
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home, say: compile every time, as without a cache
        return
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", _CACHE_MIN_COMPILE_S)
    jax.config.update("jax_compilation_cache_max_size", _CACHE_MAX_BYTES)
