"""The whole network's Gaussian in the `laplace` engine (hessian="full").

The generalised Gauss-Newton (GGN) matrix, its evidence and draws.

The GGN is G = Σ_n J_n' Λ_n J_n, with J_n (K, P) the Jacobian of the network's pre-link
output at row n in the P network parameters and Λ_n (K, K) the negative Hessian of that row's
log-likelihood in the output (the likelihood is the model's own, replayed on the output:
`pymc_bnn.inference.output_likelihood`, so any likelihood works). Written G = A'A with the
rows of A (n·K, P) equal to Λ_n^{1/2} J_n, its non-zero spectrum comes from whichever of A'A
(P, P) or AA' (n·K, n·K) is smaller: a small table never needs the P × P matrix.

In the coordinates u = B^{1/2} (theta − theta*) (B (P,) the base prior precision, the precision
at prior scale 1) the posterior precision is V diag(e) V' + alpha I, with V (P, r) the
orthonormal directions the data inform and e (r,) their curvature; every other direction keeps
the prior's variance 1/alpha. Predictions go through the network linearised at theta*
(`pymc_bnn.model.batched_forward.forward_linearised`): the GLM predictive (Immer et al. 2021).

The network's parameters are one flat vector theta, read through
`pymc_bnn.inference.flat_network`; the GGN at a fit's MAPs, from the model's rows, and whether a
fit takes it are `pymc_bnn.inference.ggn_at_maps`'s.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.inference.flat_network import unflatten
from pymc_bnn.model.network import NetworkSpec, forward

# Eigenvalues below this fraction of the largest are treated as zero (rounding, not data).
_RELATIVE_FLOOR = 1e-10
# Floats of the Jacobian held per chunk of rows (chunk rows × K × P): ~64 MB.
_CHUNK_FLOATS = 8_000_000


@dataclass(frozen=True)
class NetworkCurvature:
    """The whole network's GGN at one restart's MAP, in the scaled coordinates u.

    Attributes
    ----------
    eigenvalues : numpy.ndarray
        `(r,)` the non-zero spectrum of B^{-1/2} G B^{-1/2}.
    vectors : numpy.ndarray
        `(P, r)` its orthonormal directions.
    weighted_norm : float
        theta*' B theta*.
    size : int
        P, the network's parameters.

    Examples
    --------
    One informed direction among three parameters; the other two keep the prior:

    >>> import numpy as np
    >>> curvature = NetworkCurvature(eigenvalues=np.array([4.0]),
    ...                              vectors=np.array([[1.0], [0.0], [0.0]]),
    ...                              weighted_norm=1.0, size=3)
    >>> curvature.all_eigenvalues()
    array([4., 0., 0.])
    """

    eigenvalues: np.ndarray
    vectors: np.ndarray
    weighted_norm: float
    size: int

    def all_eigenvalues(self) -> np.ndarray:
        """`(P,)`: the spectrum with its zeros, as `best_prior_precision` takes it."""
        return np.concatenate([self.eigenvalues, np.zeros(self.size - self.eigenvalues.size)])


@functools.lru_cache(maxsize=16)
def _scaled_rows_function(spec: NetworkSpec, size: int):
    """Jitted (theta, X (c, n_inputs), roots (c, K, K), root_base (P,)) -> rows of A B^{-1/2}.

    The rows are (c·K, P): each row's Jacobian by reverse mode (K backward passes over one row).
    """
    import jax
    import jax.numpy as jnp

    def row_jacobian(theta, x):
        return jax.jacrev(lambda t: forward(spec, x[None, :], *unflatten(spec, t),
                                            backend="jax")[0])(theta)

    def rows(theta, X, roots, root_base):
        J = jax.vmap(row_jacobian, in_axes=(None, 0))(theta, X)  # (c, K, P)
        return jnp.einsum("cjk,ckp->cjp", roots, J).reshape(-1, size) * root_base[None, :]

    return jax.jit(rows)


def network_curvature(spec: NetworkSpec, theta: np.ndarray, X: np.ndarray, roots: np.ndarray,
                      base: np.ndarray) -> NetworkCurvature:
    """The GGN of the network at theta (P,) on inputs X (n_obs, n_inputs).

    Parameters
    ----------
    spec : NetworkSpec
    theta : numpy.ndarray
        `(P,)` the network's parameters, `flat_network.network_shapes` order.
    X : numpy.ndarray
        `(n_obs, n_inputs)`.
    roots : numpy.ndarray
        `(n_obs, K, K)` the output curvature factors (`output_curvature_roots`).
    base : numpy.ndarray
        `(P,)` the base prior precision B; the result is in the scaled coordinates.

    Returns
    -------
    NetworkCurvature
        Rank at most min(n_obs·K, P).

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> roots = np.full((3, 1, 1), 2.0)
    >>> curvature = network_curvature(spec, np.linspace(-1, 1, 13), X, roots, np.ones(13))
    >>> curvature.size, curvature.eigenvalues.shape, curvature.vectors.shape  # 3 rows: rank 3
    (13, (3,), (13, 3))
    """
    from threadpoolctl import threadpool_limits

    rows_or_gram, dual = _scaled_gram(spec, theta, X, roots, base)
    # OpenBLAS's threads fight JAX's for the cores: one thread is faster (eigh of 372 × 372:
    # 2 s with its default threads beside JAX, 0.03 s with one; of 1603 × 1603: 0.8 s)
    with threadpool_limits(1):
        return _spectrum(rows_or_gram, dual, float(np.sum(base * theta**2)), theta.size)


def network_spectrum(spec: NetworkSpec, theta: np.ndarray, X: np.ndarray, roots: np.ndarray,
                     base: np.ndarray) -> np.ndarray:
    """`(P,)` every eigenvalue of the scaled GGN (zeros included), without its directions.

    What `network_curvature(...).all_eigenvalues()` gives, for what needs only the spectrum
    (the effective number of parameters, `pymc_bnn.inference.noise_sd`): the eigenvalues
    alone cost a fraction of the decomposition.

    Parameters
    ----------
    spec, theta, X, roots, base
        As `network_curvature`.

    Returns
    -------
    numpy.ndarray
        `(P,)`, descending.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> values = network_spectrum(spec, np.linspace(-1, 1, 13), X, np.full((3, 1, 1), 2.0),
    ...                           np.ones(13))
    >>> values.shape, int(np.sum(values > 0))  # 3 rows: rank 3
    ((13,), 3)
    """
    from threadpoolctl import threadpool_limits

    rows_or_gram, dual = _scaled_gram(spec, theta, X, roots, base)
    with threadpool_limits(1):
        if dual:
            A = np.concatenate(rows_or_gram)
            values = np.linalg.eigvalsh(A @ A.T)
        else:
            values = np.linalg.eigvalsh(0.5 * (rows_or_gram + rows_or_gram.T))
    values = np.where(_informed(values), values, 0.0)
    out = np.zeros(theta.size)
    top = np.sort(values)[::-1][: theta.size]
    out[: top.size] = top
    return out


def _scaled_gram(spec: NetworkSpec, theta, X, roots, base):
    """A = Λ^{1/2} J B^{-1/2}: (its rows in chunks, True) where n·K ≤ P, else (A'A, False)."""
    import jax.numpy as jnp

    n_obs, K = roots.shape[:2]
    P = theta.size
    root_base = 1.0 / np.sqrt(base)
    dual = n_obs * K <= P  # the Gram matrix A A' is the smaller one
    chunk = max(1, min(n_obs, _CHUNK_FLOATS // max(1, K * P)))
    rows_of = _scaled_rows_function(spec, P)
    parts, gram = [], np.zeros((P, P)) if not dual else None
    for start in range(0, n_obs, chunk):
        stop = min(start + chunk, n_obs)
        pad = chunk - (stop - start)  # one compiled shape: zero rows add nothing
        Xc = np.concatenate([X[start:stop], np.zeros((pad, X.shape[1]))])
        Rc = np.concatenate([roots[start:stop], np.zeros((pad, K, K))])
        A = np.asarray(rows_of(jnp.asarray(theta), jnp.asarray(Xc), jnp.asarray(Rc),
                               jnp.asarray(root_base)))[: (stop - start) * K]
        if dual:
            parts.append(A)
        else:
            gram += A.T @ A
    return (parts, True) if dual else (gram, False)


def _informed(values: np.ndarray) -> np.ndarray:
    """Which eigenvalues the data inform: above `_RELATIVE_FLOOR` of the largest (else rounding)."""
    return values > _RELATIVE_FLOOR * max(values.max(initial=0.0), 1e-300)


def _spectrum(rows_or_gram, dual: bool, weighted_norm: float, size: int) -> NetworkCurvature:
    if dual:
        A = np.concatenate(rows_or_gram)
        values, U = np.linalg.eigh(A @ A.T)
        keep = _informed(values)
        values, U = values[keep], U[:, keep]
        vectors = (A.T @ U) / np.sqrt(values)[None, :]
    else:
        values, vectors = np.linalg.eigh(0.5 * (rows_or_gram + rows_or_gram.T))
        keep = _informed(values)
        values, vectors = values[keep], vectors[:, keep]
    return NetworkCurvature(eigenvalues=values, vectors=vectors, weighted_norm=weighted_norm,
                            size=size)


def gaussian_draws(curvature: NetworkCurvature, theta: np.ndarray, base: np.ndarray,
                   alpha: float, eps: np.ndarray) -> np.ndarray:
    """Draws (S, P) of N(theta, (G + alpha B)^{-1}) from standard normals eps (S, P).

    Parameters
    ----------
    curvature : NetworkCurvature
        G, in the scaled coordinates.
    theta : numpy.ndarray
        `(P,)` the mean (the MAP).
    base : numpy.ndarray
        `(P,)` the base prior precision B.
    alpha : float
        The prior precision factor, 1/s².
    eps : numpy.ndarray
        `(S, P)` standard normal draws.

    Returns
    -------
    numpy.ndarray
        `(S, P)`.

    Examples
    --------
    Along the informed direction the sd is 1/sqrt(4 + 1); elsewhere the prior's 1:

    >>> import numpy as np
    >>> curvature = NetworkCurvature(eigenvalues=np.array([4.0]),
    ...                              vectors=np.array([[1.0], [0.0], [0.0]]),
    ...                              weighted_norm=1.0, size=3)
    >>> eps = np.random.default_rng(0).normal(size=(20000, 3))
    >>> draws = gaussian_draws(curvature, np.zeros(3), np.ones(3), 1.0, eps)
    >>> draws.std(axis=0).round(1)
    array([0.4, 1. , 1. ])
    """
    from threadpoolctl import threadpool_limits

    V, e = curvature.vectors, curvature.eigenvalues
    with threadpool_limits(1):  # see network_curvature
        along = eps @ V  # (S, r)
        u = (eps - along @ V.T) / math.sqrt(alpha) + (along / np.sqrt(e + alpha)) @ V.T
    return theta[None, :] + u / np.sqrt(base)[None, :]


def log_determinant(curvature: NetworkCurvature, base: np.ndarray, alpha: float) -> float:
    """Log det((G + alpha B) / 2π) (nats): the Gaussian's volume term in the evidence.

    Parameters
    ----------
    curvature : NetworkCurvature
    base : numpy.ndarray
        `(P,)` the base prior precision B.
    alpha : float
        The prior precision factor.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> curvature = NetworkCurvature(eigenvalues=np.array([4.0]),
    ...                              vectors=np.array([[1.0], [0.0], [0.0]]),
    ...                              weighted_norm=1.0, size=3)
    >>> bool(np.isclose(log_determinant(curvature, np.ones(3), 1.0),
    ...                 np.log(5.0) - 3 * np.log(2 * np.pi)))
    True
    """
    P, r = curvature.size, curvature.eigenvalues.size
    return float(np.sum(np.log(curvature.eigenvalues + alpha)) + (P - r) * math.log(alpha)
                 + np.sum(np.log(base)) - P * math.log(2 * math.pi))


def output_covariance(spec: NetworkSpec, theta: np.ndarray, X: np.ndarray, vectors: np.ndarray,
                      eigenvalues: np.ndarray, base: np.ndarray, alpha: float) -> tuple:
    """Mean (n_obs, K) and covariance (n_obs, K, K) of the linearised network's output at X.

    They are f(X, theta) and J Σ J' with
    Σ = B^{-1/2} (V diag(1/(e+alpha)) V' + (I − V V')/alpha) B^{-1/2}.

    Parameters
    ----------
    spec : NetworkSpec
    theta : numpy.ndarray
        `(P,)` the expansion point.
    X : numpy.ndarray
        `(n_obs, n_inputs)`.
    vectors, eigenvalues : numpy.ndarray
        V `(P, r)` and e `(r,)` of a `NetworkCurvature`.
    base : numpy.ndarray
        `(P,)` the base prior precision B.
    alpha : float
        The prior precision factor.

    Returns
    -------
    mean : numpy.ndarray
        `(n_obs, K)`.
    covariance : numpy.ndarray
        `(n_obs, K, K)`.

    Examples
    --------
    With no curvature (no data) the covariance is the prior's pushed through J:

    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> mean, covariance = output_covariance(spec, np.linspace(-1, 1, 13), X,
    ...                                      np.zeros((13, 0)), np.zeros(0), np.ones(13), 1.0)
    >>> mean.shape, covariance.shape, bool((covariance > 0).all())
    ((2, 1), (2, 1, 1), True)
    """
    import jax
    import jax.numpy as jnp

    def network(t):
        return forward(spec, jnp.asarray(X), *unflatten(spec, t), backend="jax")

    t = jnp.asarray(theta)
    mean = np.asarray(network(t))
    J = np.asarray(jax.jacrev(network)(t)) / np.sqrt(base)  # (n, K, P), scaled coordinates
    JV = J @ vectors  # (n, K, r)
    weights = 1.0 / (eigenvalues + alpha) - 1.0 / alpha
    cov = (np.einsum("nkp,nlp->nkl", J, J) / alpha
           + np.einsum("nkr,r,nlr->nkl", JV, weights, JV))
    return mean, cov


# Names that moved out when this module was split: to `pymc_bnn.inference.output_likelihood`
# (the likelihood replayed on the output there, the network's curvature here), then to
# `pymc_bnn.inference.flat_network` (theta's shapes, the network read from it) and
# `pymc_bnn.inference.ggn_at_maps` (the GGN at a fit's MAPs, from the model). Importing them
# from here still works, with a DeprecationWarning, for one release; `unflatten`, which this
# module uses, imports from here without one.
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(("output_loglik", "RowLoglik", "output_curvature_roots"),
                    "pymc_bnn.inference.output_likelihood"),
    **dict.fromkeys(("network_shapes", "output_jacobian", "expansion_point_group"),
                    "pymc_bnn.inference.flat_network"),
    **dict.fromkeys(("uses_full_hessian", "curvatures_at", "spectra_at"),
                    "pymc_bnn.inference.ggn_at_maps"),
})
