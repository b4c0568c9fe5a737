"""The whole network's GGN at a `laplace` fit's MAPs, from the model's rows.

Whether a fit takes the whole network (`uses_full_hessian`), and each restart's curvature or
spectrum. The matrix itself, its draws and evidence are `pymc_bnn.inference.ggn`'s; this module
reads the model's rows, replays its likelihood on the network's output
(`pymc_bnn.inference.output_likelihood`) and hands `ggn` the output curvature at each MAP.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn.inference.flat_network import unflatten
from pymc_bnn.inference.ggn import NetworkCurvature, network_curvature, network_spectrum
from pymc_bnn.inference.output_likelihood import curvature_roots, row_curvature_program, row_loglik
from pymc_bnn.model.network import NetworkSpec, forward

# Jitted programs of `curvatures_at`, per model structure: the network's output, and each row's
# output curvature with the rows an argument (so padded row counts share them).
_PROGRAMS: OrderedDict = OrderedDict()


def _output_function(spec: NetworkSpec):
    """Jitted (theta (P,), X (n, n_inputs)) -> (n, K): the network's pre-link output."""
    import jax

    return jax.jit(lambda theta, X: forward(spec, X, *unflatten(spec, theta), backend="jax"))



# hessian="auto" takes the whole network when it has at most this many parameters and the
# GGN's spectrum (min(n_obs·K, P) eigenvalues) is at most _FULL_MAX_RANK: then the dense
# eigendecomposition costs about a second and the stored directions (P × r floats) a few MB.
_FULL_MAX_PARAMS = 5_000
_FULL_MAX_RANK = 2_000


def uses_full_hessian(hessian: str, n_params: int, n_obs: int, n_outputs: int) -> bool:
    """Whether `hessian` ("auto", "full" or "last_layer") means the whole network here.

    "auto" takes the whole network up to 5,000 parameters when the GGN has at most 2,000
    non-zero eigenvalues (min(n_obs·K, P)).

    Parameters
    ----------
    hessian : {"auto", "full", "last_layer"}
    n_params, n_obs, n_outputs : int
        The network's parameters, the rows and the outputs K.

    Returns
    -------
    bool

    Examples
    --------
    >>> uses_full_hessian("auto", n_params=13, n_obs=700, n_outputs=1)
    True
    >>> uses_full_hessian("auto", n_params=10_000, n_obs=700, n_outputs=1)
    False
    """
    if hessian != "auto":
        return hessian == "full"
    return n_params <= _FULL_MAX_PARAMS and min(n_obs * n_outputs, n_params) <= _FULL_MAX_RANK


def curvatures_at(bnn, layout, z: np.ndarray, offsets: dict) -> list[NetworkCurvature]:
    """The whole network's GGN at every restart's MAP (rows of z (R, D)).

    Parameters
    ----------
    bnn : BNNModel
        The model; its data are the rows.
    layout : ParameterLayout
        Where the network sits in z (`pymc_bnn.inference.laplace_layout.parameter_layout`).
    z : numpy.ndarray
        `(R, D)` one MAP per restart.
    offsets : dict
        Name → indices into z of every value variable.

    Returns
    -------
    list of NetworkCurvature
        One per restart.

    Examples
    --------
    It compiles the network's Jacobian (seconds), so this is not run here:

    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> layout = parameter_layout(tiny_model, compile_model(tiny_model.model))
    >>> offsets = {"w_0": np.arange(6), "w_1": np.arange(6, 9)}
    >>> z = np.random.default_rng(0).normal(size=(1, 9))
    >>> [c.size for c in curvatures_at(tiny_model, layout, z, offsets)]  # doctest: +SKIP
    [9]
    """
    return [network_curvature(bnn.spec, theta, X, roots, layout.base_precision)
            for theta, X, _, roots, _ in _at_maps(bnn, layout, z, offsets)]


def spectra_at(bnn, layout, z: np.ndarray, offsets: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each restart's GGN spectrum and the network's output at the model's rows.

    What the effective number of parameters needs (`pymc_bnn.inference.noise_sd`), without the
    GGN's directions (`curvatures_at`).

    Parameters
    ----------
    bnn, layout, z, offsets
        As `curvatures_at`.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        One per restart: the eigenvalues `(P,)` (`network_spectrum`) and the pre-link output
        `(n_obs, K)` at that MAP.

    Examples
    --------
    It compiles the network's Jacobian (seconds), so this is not run here:

    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> layout = parameter_layout(tiny_model, compile_model(tiny_model.model))
    >>> offsets = {"w_0": np.arange(6), "w_1": np.arange(6, 9)}
    >>> z = np.random.default_rng(0).normal(size=(1, 9))
    >>> [(v.shape, out.shape) for v, out in spectra_at(tiny_model, layout, z, offsets)]
    ... # doctest: +SKIP
    [((9,), (42, 1))]
    """
    return [(network_spectrum(bnn.spec, theta, X, roots, layout.base_precision),
             np.asarray(eta)[:n_obs])
            for theta, X, eta, roots, n_obs in _at_maps(bnn, layout, z, offsets)]


def _at_maps(bnn, layout, z, offsets):
    """(theta (P,), X (m, n_inputs), output (m, K), roots (m, K, K), n_obs) at each MAP.

    The first n_obs of the m rows are the model's; the rest are padding.

    Rows are padded to a few sizes and weighted 0 (their curvature roots are 0, so they add
    nothing): fits on nearby row counts share the compiled programs.
    """
    import jax.numpy as jnp

    from pymc_bnn.inference.jax_model import model_data
    from pymc_bnn.inference.row_padding import ROW_WEIGHT, pad_rows, padded_rows

    spec = bnn.spec
    X = np.asarray(model_data(bnn.model)["X"], dtype=np.float64)
    rows = row_loglik(bnn, offsets)
    size = padded_rows(X.shape[0]) if ROW_WEIGHT in rows.rows else X.shape[0]
    data = {name: jnp.asarray(value) for name, value in rows.padded(size).items()}
    X_padded = pad_rows(X, size)
    output = lru_get(_PROGRAMS, ("output", spec), lambda: _output_function(spec))
    blocks_of = lru_get(_PROGRAMS, ("blocks", rows.key, spec.n_outputs),
                        lambda: row_curvature_program(rows, spec.n_outputs))
    for zr in z:
        theta = np.asarray(zr, dtype=np.float64)[layout.network]
        eta = output(jnp.asarray(theta), jnp.asarray(X_padded))
        roots = curvature_roots(np.asarray(blocks_of(eta, jnp.asarray(zr), data)))
        yield theta, X_padded, eta, roots, X.shape[0]
