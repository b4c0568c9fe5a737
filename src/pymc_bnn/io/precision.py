"""How finely a model file stores posterior draws: exactly, or rounded well below their spread.

Random float32 draws hardly compress: their low mantissa bits are noise, whatever the codec
(`benchmarks/model_file_size.py` compares gzip, zstd, brotli and xz after byte shuffling).
`round_draws` rounds each weight's draws to a power-of-two step of at most its posterior standard
deviation times 2**-bits, so every draw moves by at most sd · 2**-(bits + 1) and the bits below
the step are zeros that shuffle + gzip store almost for free. The arrays stay float32 (or
whatever they were), so any reader of the format reads them unchanged; only the description
records the precision. Weights that do not vary across draws (sd 0, e.g. laplace's hidden layers
fixed at the MAP) are kept exactly.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError

# A float32 mantissa has 23 bits: a step below sd · 2**-23 changes nothing worth storing.
MAX_BITS = 23
_DRAW_DIMS = ("chain", "draw")


def check_draws_precision(value) -> int | None:
    """`value` as a draws precision: None (exact) or a whole number of bits from 1 to 23.

    Parameters
    ----------
    value : None or int
        None stores the draws exactly; `bits` rounds each draw to within sd · 2**-(bits + 1).

    Returns
    -------
    int or None

    Raises
    ------
    InvalidSettingError
        Anything else, naming the allowed values.

    Examples
    --------
    >>> check_draws_precision(8), check_draws_precision(None)
    (8, None)
    >>> check_draws_precision(0)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: draws_precision must be None (exact draws) or ...
    """
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) \
            and 1 <= value <= MAX_BITS:
        return int(value)
    raise InvalidSettingError(
        f"draws_precision must be None (exact draws) or a whole number of bits from 1 to "
        f"{MAX_BITS} (each draw kept within its posterior sd × 2**-(bits + 1)), got {value!r}"
    )


def round_to_spread(values: np.ndarray, bits: int) -> np.ndarray:
    """`values` (chain, draw, …) rounded per element to a power-of-two step ≤ its sd · 2**-bits.

    The sd is over chains and draws together. Elements whose sd is 0 or not finite are returned
    unchanged, and so is every value whose float32 (or float64) spacing is already coarser than
    the step, so the result has `values`' dtype and is exact in it.

    Parameters
    ----------
    values : numpy.ndarray
        Floating draws, the first two axes (chain, draw).
    bits : int
        1 to 23 (`check_draws_precision`).

    Returns
    -------
    numpy.ndarray
        Same shape and dtype; each value within sd · 2**-(bits + 1) of the original.

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).normal(3.0, 0.5, size=(1, 1000, 2)).astype(np.float32)
    >>> rounded = round_to_spread(draws, 8)
    >>> rounded.dtype, bool(np.all(np.abs(rounded - draws) <= draws.std(axis=(0, 1)) / 2**9))
    (dtype('float32'), True)
    >>> fixed = np.ones((1, 5, 1), np.float32) / 3  # no spread: kept as it is
    >>> bool((round_to_spread(fixed, 8) == fixed).all())
    True
    """
    wide = values.astype(np.float64)
    sd = wide.std(axis=(0, 1), keepdims=True)
    usable = np.isfinite(sd) & (sd > 0)
    exponent = np.floor(np.log2(np.where(usable, sd, 1.0))) - bits
    step = np.where(usable, np.exp2(exponent), 1.0)
    rounded = np.where(usable & np.isfinite(wide), np.round(wide / step) * step, wide)
    return rounded.astype(values.dtype)


def round_draws(idata, bits: int | None):
    """`idata` with the floating draws of its posterior group rounded (`round_to_spread`).

    Parameters
    ----------
    idata : xarray.DataTree
        ArviZ data; only `posterior` variables with leading (chain, draw) dimensions change.
    bits : int or None
        None returns `idata` itself.

    Returns
    -------
    xarray.DataTree

    Examples
    --------
    >>> from pymc_bnn.io.precision import round_draws
    >>> rounded = round_draws(fitted.idata, 8)
    >>> w, sd = fitted.idata["posterior"]["w_0"], fitted.idata["posterior"]["w_0"].std(
    ...     ("chain", "draw"))
    >>> bool((abs(rounded["posterior"]["w_0"] - w) <= sd / 2**9).all())
    True
    >>> round_draws(fitted.idata, None) is fitted.idata
    True
    """
    if bits is None or idata is None or "posterior" not in idata.children:
        return idata
    import xarray as xr

    dataset = idata["posterior"].to_dataset(inherit=False)
    changed = {name: var.copy(data=round_to_spread(var.values, bits))
               for name, var in dataset.data_vars.items()
               if var.dtype.kind == "f" and var.dims[:2] == _DRAW_DIMS}
    if not changed:
        return idata
    tree = idata.copy()
    tree["posterior"] = xr.DataTree(dataset.assign(changed))
    return tree
