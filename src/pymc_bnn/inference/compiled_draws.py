"""A compiled model's draws on the model's own scale, and as an ArviZ DataTree.

The engines draw points z of the unconstrained space (`jax_model.CompiledModel`);
`constrained_draws` maps them to the model's variables and `to_idata` labels those with the
model's dims and coordinates.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn.inference.jax_model import CompiledModel

# Each compiled model's draw function (key → jit(vmap(constrained))), most recently used last,
# bounded (`_runtime.lru`).
_DRAW_FUNCTIONS: OrderedDict[str, Callable] = OrderedDict()
# Draws are mapped to the constrained space this many at a time (bounded memory).
_DRAW_CHUNK = 1000


def constrained_draws(compiled, z: np.ndarray, data) -> list[np.ndarray]:
    """Model variables (free on their own scale, then Deterministics) for each row of z (S, D).

    Parameters
    ----------
    compiled : CompiledModel
        From `compile_model`.
    z : numpy.ndarray
        `(S, D)` points on the unconstrained space.
    data : tuple
        From `data_arguments`.

    Returns
    -------
    list of numpy.ndarray
        One `(S, *shape)` array per `compiled.output_names`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> compiled = compile_model(tiny_model.model)
    >>> draws = constrained_draws(compiled, np.zeros((5, compiled.size)),
    ...                           data_arguments(compiled, tiny_model.model))
    >>> [d.shape for d in draws]
    [(5, 2, 3), (5, 3, 1)]
    """
    import jax

    key = compiled.key
    fn = lru_get(_DRAW_FUNCTIONS, key,
                 lambda: jax.jit(jax.vmap(compiled.constrained, in_axes=(0, None))))
    n = z.shape[0]
    size = min(n, _DRAW_CHUNK)
    parts = []
    for start in range(0, n, size):
        rows = z[start:start + size]
        pad = size - rows.shape[0]
        if pad:  # keep one compiled shape for every chunk
            rows = np.concatenate([rows, np.repeat(rows[-1:], pad, axis=0)])
        parts.append([np.asarray(o)[: size - pad] for o in fn(rows, data)])
    return [np.concatenate(p) for p in zip(*parts, strict=False)]


def to_idata(compiled: CompiledModel, outputs: list[np.ndarray], *, n_chains: int = 1,
             sample_stats: dict | None = None, extra_groups: dict | None = None):
    """ArviZ DataTree with a `posterior` group of (chain, draw, ...) arrays and the model's dims.

    Parameters
    ----------
    compiled : CompiledModel
        Names, dims and coordinates of the outputs.
    outputs : list of numpy.ndarray
        One array per `compiled.output_names`, shaped `(n_chains * n_draws, ...)` with chains
        outermost (as `constrained_draws` returns them).
    n_chains : int, default 1
        Chains in `outputs`.
    sample_stats : dict, optional
        `(chain, draw)` arrays, e.g. NUTS diagnostics.
    extra_groups : dict, optional
        Group name → `{variable: (dims, values)}`, added as they are.

    Returns
    -------
    xarray.DataTree

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> compiled = compile_model(tiny_model.model)
    >>> draws = [np.zeros((6, 2, 3)), np.zeros((6, 3, 1))]
    >>> idata = to_idata(compiled, draws, n_chains=2)
    >>> idata["posterior"]["w_0"].dims, idata["posterior"]["w_0"].shape
    (('chain', 'draw', 'feature', 'hidden_0'), (2, 3, 2, 3))
    """
    import arviz as az
    import xarray as xr

    posterior = {name: np.asarray(v).reshape(n_chains, -1, *np.shape(v)[1:])
                 for name, v in zip(compiled.output_names, outputs, strict=False)}
    used = {d for dims in compiled.output_dims.values() for d in dims}
    groups = {"posterior": posterior}
    if sample_stats:
        groups["sample_stats"] = sample_stats
    idata = az.from_dict(groups, dims=compiled.output_dims,
                         coords={k: v for k, v in compiled.coords.items() if k in used})
    for name, dataset in (extra_groups or {}).items():
        idata[name] = xr.DataTree(xr.Dataset(dataset))
    return idata
