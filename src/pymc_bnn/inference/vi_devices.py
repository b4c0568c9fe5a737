"""Where an ADVI loop runs: its restarts and each step's rows spread over JAX's devices.

The devices form a 2-D mesh, restarts × data. Restarts (independent optimisations, vmapped)
map to the "restart" axis. With `data_devices` above 1, each step's rows (the minibatch, or
every row) are split over the "data" axis by a sharding constraint inside the one `jax.jit`
program: the likelihood's sum over rows, and so the ELBO gradient, is summed across the shards
by the compiler (an all-reduce), the result that of one device up to the order of the
floating-point sum. pymc-bnn gives JAX one CPU device per core (`jax_setup`), so both axes
exist on a plain CPU machine too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymc_bnn.errors import InvalidSettingError

# Restarts spread over devices copy the data to each; above this many extra bytes they share one.
_MAX_EXTRA_DATA_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Placement:
    """Where a loop's state and data live, and how later data are put there.

    Attributes
    ----------
    state, data
        The state and data arguments, placed.
    mesh : jax.sharding.Mesh or None
        Axes ("restart", "data"); None when everything runs on the first device.
    put : callable
        put(data) places later data (the next streamed chunk) as `data` was placed.

    Examples
    --------
    >>> import numpy as np
    >>> placed = place({"mu": np.zeros((2, 3))}, (np.ones((8, 2)),), restarts=2,
    ...                data_devices=1, batched=(True,), row_axis=0)
    >>> placed.restart_devices >= 1, placed.data_devices
    (True, 1)
    """

    state: dict
    data: tuple
    mesh: Any
    put: Callable

    @property
    def restart_devices(self) -> int:
        """Devices the restarts are split over."""
        return 1 if self.mesh is None else int(self.mesh.shape["restart"])

    @property
    def data_devices(self) -> int:
        """Devices each step's rows are split over."""
        return 1 if self.mesh is None else int(self.mesh.shape["data"])


def place(state: dict, data: tuple, *, restarts: int, data_devices: int,
          batched: tuple[bool, ...], row_axis: int | None) -> Placement:
    """Put a loop's state and data on a restart × data mesh of JAX's devices.

    The restarts split over the devices `data_devices` leave (the most that divide them);
    they share one when that would copy more than 256 MiB of data, or when the devices are
    on several hosts (`jax.distributed`). A data argument with one
    row per observation is stored split by rows (each device holds the rows it works on) when
    its rows divide evenly over the data devices, else copied to each.

    Parameters
    ----------
    state : dict
        The loop's state, every leaf (restarts, ...).
    data : tuple of ndarray
        The model's data arguments.
    restarts, data_devices : int
        Restarts run side by side; devices each step's rows are split over.
    batched : tuple of bool
        Per data argument: one row per observation?
    row_axis : int or None
        The axis of rows in the data arguments as given (1 for streamed chunks of steps); None
        when each step samples its rows from all of them (every device keeps every row).

    Returns
    -------
    Placement

    Raises
    ------
    InvalidSettingError
        More data devices than JAX has.

    Examples
    --------
    On 4 CPU devices (e.g. PYMC_BNN_CPU_DEVICES=4), 2 restarts × 2 row shards:

    >>> import numpy as np
    >>> placed = place({"mu": np.zeros((2, 3))}, (np.ones((8, 2)),), restarts=2,
    ...                data_devices=2, batched=(True,), row_axis=0)
    >>> placed.restart_devices, placed.data_devices
    (2, 2)
    """
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = jax.devices()
    if data_devices > len(devices):
        raise InvalidSettingError(
            f"data_devices={data_devices} but JAX sees {len(devices)} device(s); lower "
            "data_devices, or on CPU start Python with PYMC_BNN_CPU_DEVICES set to at least "
            f"{data_devices} (see pymc_bnn._runtime.jax_setup)")
    n = max(k for k in range(1, min(len(devices) // data_devices, restarts) + 1)
            if restarts % k == 0)
    if n > 1 and sum(np.asarray(d).nbytes for d in data) * (n - 1) > _MAX_EXTRA_DATA_BYTES:
        n = 1  # each device holds its own copy of the data: not for large data sets
    if jax.process_count() > 1:
        n = 1  # several hosts (jax.distributed): each must read every restart's ELBO
    if n * data_devices == 1:
        def put_one(d):
            return jax.device_put(d, devices[0])

        return Placement(jax.device_put(state, devices[0]), put_one(data), None, put_one)
    mesh = Mesh(np.array(devices[:n * data_devices]).reshape(n, data_devices),
                ("restart", "data"))

    def spec(d, by_rows):
        if row_axis is None or not by_rows or np.shape(d)[row_axis] % data_devices:
            return PartitionSpec()
        return PartitionSpec(*[None] * row_axis, "data")

    def put(data):
        return tuple(jax.device_put(d, NamedSharding(mesh, spec(d, b)))
                     for d, b in zip(data, batched, strict=False))

    return Placement(jax.device_put(state, NamedSharding(mesh, PartitionSpec("restart"))),
                     put(data), mesh, put)


def row_splitter(mesh) -> Callable | None:
    """split(array): inside a jitted step, mark the array's rows (axis 0) to split over "data".

    None without a mesh (nothing to split).

    Parameters
    ----------
    mesh : jax.sharding.Mesh or None
        From `place`.

    Returns
    -------
    callable or None

    Examples
    --------
    >>> row_splitter(None) is None
    True
    """
    if mesh is None:
        return None
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    rows = NamedSharding(mesh, PartitionSpec("data"))

    def split(array):
        return jax.lax.with_sharding_constraint(array, rows)

    return split
