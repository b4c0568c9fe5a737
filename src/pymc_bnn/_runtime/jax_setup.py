"""How pymc-bnn sets JAX up: one CPU device per core, and a compilation cache on disk.

Devices. JAX's CPU backend is one device by default, so NUTS chains (and ADVI's restarts)
either share one core in lockstep (vectorised) or run one after another. One device per core
lets them run side by side. Not more devices than cores: XLA gives its CPU client a pool of
max(cores, devices) threads, which spin between tasks, so 4 devices on 2 cores put 4 busy
threads on 2 cores, and every fit on one device (a streamed ADVI fit, the default estimators'
laplace) slows beside the idle ones; NUTS's 4 chains then share 2 devices
(`pymc_bnn.inference.nuts.chain_devices`) and lose a little (`benchmarks/cpu_devices.py`
measures the three). PYMC_BNN_CPU_DEVICES=4 gives each NUTS chain a device back. XLA reads its flags
once, when JAX first computes something, so `--xla_force_host_platform_device_count` must be
in XLA_FLAGS before that (as `numpyro.set_host_device_count` does). `import pymc_bnn` leaves
XLA_FLAGS alone; `configure_devices` sets it just before pymc-bnn itself first imports JAX
(or ArviZ or NumPyro, which import it), and only when JAX is not imported yet: a process
whose own code already uses JAX keeps the devices it has. Such a user opts in with one call,
before their first `import jax`::

    import pymc_bnn._runtime.jax_setup
    pymc_bnn._runtime.jax_setup.expose_cpu_cores()
    import jax  # now one CPU device per core

PYMC_BNN_CPU_DEVICES chooses the count (0 leaves XLA_FLAGS alone); an XLA_FLAGS that already
sets it wins. The `pymc-bnn` command configures devices at its start.

Compilation cache. Compiling the ADVI loop, the NUTS sampler and the prediction function
takes seconds; JAX's persistent cache keeps the compiled programs on disk, so the next process
(the next `pymc-bnn` command, test worker or script) loads them instead. The cache lives in
PYMC_BNN_JAX_CACHE if set (0 turns it off), else $XDG_CACHE_HOME/pymc-bnn/jax (default
~/.cache/pymc-bnn/jax), pruned to 1 GiB once a day (least recently used programs
first); a cache directory the user gave JAX wins. Like any
compiled code, the cache is trusted: keep it somewhere only you can write.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_VAR = "PYMC_BNN_CPU_DEVICES"
CACHE_ENV_VAR = "PYMC_BNN_JAX_CACHE"
_FLAG = "--xla_force_host_platform_device_count"
_CACHE_MAX_BYTES = 1 << 30
# The cache folder is pruned to _CACHE_MAX_BYTES at most this often (seconds).
_PRUNE_EVERY_S = 24 * 3600
# Every program is kept, the small ones too: a fit runs a hundred or so small programs outside
# jit (NumPyro's set-up, operations on JAX arrays), each compiled anew in every process
# (tens of ms apiece) unless it is read back from disk (about a millisecond).
_CACHE_MIN_COMPILE_S = 0.0


def expose_cpu_cores(environ=os.environ) -> int | None:
    """Add the device-count flag to XLA_FLAGS unless it is set or opted out (the opt-in).

    Call it before the first `import jax` of a process that imports JAX before pymc-bnn
    needs it; it has no effect once JAX has initialised its backend.

    Parameters
    ----------
    environ : mapping, default os.environ
        The environment whose XLA_FLAGS is extended (other flags in it are kept).

    Returns
    -------
    int or None
        The device count set: PYMC_BNN_CPU_DEVICES, else one per core this process may run
        on; None when nothing was changed (the flag was already there, or a count of 0 or 1).

    Examples
    --------
    On a copy of an environment (the default is `os.environ`):

    >>> environ = {"XLA_FLAGS": "--xla_cpu_enable_fast_math=false", "PYMC_BNN_CPU_DEVICES": "8"}
    >>> expose_cpu_cores(environ)
    8
    >>> environ["XLA_FLAGS"]
    '--xla_cpu_enable_fast_math=false --xla_force_host_platform_device_count=8'
    >>> expose_cpu_cores(environ) is None  # already set: left alone
    True
    >>> expose_cpu_cores({"PYMC_BNN_CPU_DEVICES": "0"}) is None  # the opt-out
    True
    """
    flags = environ.get("XLA_FLAGS", "")
    if _FLAG in flags:
        return None
    wanted = environ.get(ENV_VAR, "").strip()
    if wanted and not wanted.isdigit():
        from pymc_bnn._runtime.caller import warn_caller

        warn_caller(f"{ENV_VAR}={wanted!r} is not a whole number; using the default (one "
                    "device per core); set it to e.g. 2, or 0 to opt out")
        wanted = ""
    count = int(wanted) if wanted else usable_cores()
    if count <= 1:
        return None
    environ["XLA_FLAGS"] = f"{flags} {_FLAG}={count}".strip()
    return count


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one).

    What XLA sizes its CPU thread pool by, so one device per core adds no thread.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


_devices_decided = False


def configure_devices(environ=os.environ, modules=sys.modules) -> int | None:
    """Give JAX one CPU device per core before pymc-bnn's first JAX import, once per process.

    Called by pymc-bnn just before its own code first imports JAX (or ArviZ or NumPyro): in
    `fit`, before compiling a model or a prediction function. The first call decides: when JAX
    is already imported (by the user's code, or by a library they imported) it changes
    nothing, so other JAX users in the process keep their devices; otherwise it calls
    `expose_cpu_cores`. Later calls do nothing.

    Parameters
    ----------
    environ : mapping, default os.environ
        The environment whose XLA_FLAGS is set.
    modules : mapping, default sys.modules
        The imported modules (looked up for "jax").

    Returns
    -------
    int or None
        The device count set, or None when XLA_FLAGS was left as it was.
    """
    global _devices_decided
    if _devices_decided:
        return None
    _devices_decided = True
    if "jax" in modules:
        return None
    return expose_cpu_cores(environ)


def import_jax():
    """`configure_devices`, then import JAX whole (a Ctrl-C during the import waits for its end).

    pymc-bnn's own code imports JAX through this, the first time it needs it.

    Returns
    -------
    module
        The `jax` module.

    Examples
    --------
    >>> import_jax().numpy.zeros(2).shape
    (2,)
    """
    from pymc_bnn._runtime.interrupt import import_whole

    configure_devices()
    return import_whole("jax")


@contextmanager
def xla_flags_kept(environ=os.environ) -> Iterator[None]:
    """Restore XLA_FLAGS (or its absence) on exit.

    `pymc.sampling.jax` rewrites it at import (to 100 CPU devices), which would reach every JAX
    user in the process.
    """
    before = environ.get("XLA_FLAGS")
    try:
        yield
    finally:
        if before is None:
            environ.pop("XLA_FLAGS", None)
        else:
            environ["XLA_FLAGS"] = before


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
    """Point JAX's persistent compilation cache at `compilation_cache_dir()`, once per process.

    Unless the user configured one. Called before pymc-bnn's first compile.
    """
    global _cache_ready
    if _cache_ready:
        return
    _cache_ready = True
    jax = import_jax()

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
    # No size limit inside JAX: with one, every read takes a lock file shared by all processes
    # and every write lists the whole folder while holding it, so test workers, Dask workers
    # and CLI commands queue behind each other. The folder is pruned here instead.
    jax.config.update("jax_compilation_cache_max_size", -1)
    prune_compilation_cache(path)


def prune_compilation_cache(path: Path, max_bytes: int = _CACHE_MAX_BYTES,
                            every_s: float = _PRUNE_EVERY_S) -> int:
    """Delete the least recently used programs until the cache holds at most `max_bytes`.

    At most once every `every_s` seconds (a stamp file in the folder records the last time), so
    a process usually pays one `stat`. Files another process removes meanwhile are skipped; a
    process that was about to read a removed program compiles it again.

    Parameters
    ----------
    path : pathlib.Path
        The cache folder (`compilation_cache_dir()`).
    max_bytes : int, default 1 GiB
    every_s : float, default one day

    Returns
    -------
    int
        Files removed (0 when it was not yet time).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     _ = (folder / f"program{i}-cache").write_bytes(bytes(100))
    >>> prune_compilation_cache(folder, max_bytes=250)  # the oldest goes
    1
    >>> prune_compilation_cache(folder, max_bytes=0)  # pruned within the day: nothing to do
    0
    """
    import time

    stamp = path / ".pymc-bnn-pruned"
    now = time.time()
    try:
        if now - stamp.stat().st_mtime < every_s:
            return 0
    except OSError:  # never pruned yet
        pass
    removed = 0
    try:
        stamp.touch()
        entries = []
        with os.scandir(path) as found:
            for entry in found:
                if entry.name.endswith("-atime"):  # left by JAX's own size limit, used before
                    removed += _removed(entry.path)
                elif entry.name.endswith("-cache") and entry.is_file():
                    info = entry.stat()
                    entries.append((max(info.st_atime, info.st_mtime), info.st_size, entry.path))
    except OSError:  # a read-only or vanished folder: nothing to prune
        return removed
    total = sum(size for _, size, _ in entries)
    for _, size, file in sorted(entries):
        if total <= max_bytes:
            break
        removed += _removed(file)
        total -= size
    return removed


def _removed(file: str) -> int:
    try:
        os.remove(file)
    except OSError:  # another process removed it first
        return 0
    return 1
