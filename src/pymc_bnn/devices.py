"""JAX sees every CPU core as a device, so NUTS chains can run side by side.

JAX's CPU backend is one device by default, so chains either share one core in lockstep
(vectorised) or run one after another. XLA reads its flags once, when JAX first computes
something, so pymc-bnn sets `--xla_force_host_platform_device_count` when it is imported, before
that happens (as `numpyro.set_host_device_count` does). Other JAX code is unaffected: its work
still goes to the first device. Opt out or choose the count with the environment variable
PYMC_BNN_CPU_DEVICES (0 leaves XLA_FLAGS alone); an XLA_FLAGS that already sets the count wins.
"""

from __future__ import annotations

import os

ENV_VAR = "PYMC_BNN_CPU_DEVICES"
_FLAG = "--xla_force_host_platform_device_count"
# At least the default number of NUTS chains, so a default run samples every chain at once.
_MIN_DEVICES = 4


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
