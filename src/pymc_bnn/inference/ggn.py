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
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from pymc_bnn._runtime.lru import lru_get
from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.inference.output_likelihood import curvature_roots, row_curvature_program, row_loglik
from pymc_bnn.model.network import NetworkSpec, bias_name, forward

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


def network_shapes(spec: NetworkSpec) -> list[tuple[int, ...]]:
    """Shapes of the network's parameters in the engine's order (`ParameterLayout.network`).

    Each weight matrix, then its layer's bias; the skip path last.

    Parameters
    ----------
    spec : NetworkSpec

    Returns
    -------
    list of tuple of int

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> network_shapes(spec)
    [(2, 3), (3,), (3, 1), (1,)]
    """
    shapes = []
    for slot in spec.weight_slots:
        shapes.append(tuple(slot.shape))
        if spec.bias and slot.name != "w_skip":
            shapes.append((slot.shape[1],))
    return shapes


def unflatten(spec: NetworkSpec, theta) -> tuple[list, list | None]:
    """(weights, biases) in `forward`'s order from the flat network parameters theta (P,).

    Parameters
    ----------
    spec : NetworkSpec
    theta : array-like
        `(P,)` in `network_shapes` order (a NumPy or JAX array).

    Returns
    -------
    weights : list
        One array per weight slot, as `forward` takes them.
    biases : list or None
        One per layer; None for a network without biases.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> weights, biases = unflatten(spec, np.arange(13.0))
    >>> [w.shape for w in weights], [b.shape for b in biases]
    ([(2, 3), (3, 1)], [(3,), (1,)])
    >>> biases[1]
    array([12.])
    """
    parts, start = [], 0
    for shape in network_shapes(spec):
        size = math.prod(shape)
        parts.append(theta[start:start + size].reshape(shape))
        start += size
    if not spec.bias:
        return parts, None
    layers = [parts[2 * i] for i in range(spec.n_layers)]
    biases = [parts[2 * i + 1] for i in range(spec.n_layers)]
    skip = [parts[-1]] if spec.skip else []
    return layers + skip, biases


def output_jacobian(spec: NetworkSpec, X, theta, last_positions):
    """The network output at X and its Jacobian in the output layer (constant: it is linear).

    Parameters
    ----------
    spec : NetworkSpec
    X : array-like
        `(n_obs, n_inputs)`.
    theta : array-like
        `(P,)` the network's parameters in the engine's order.
    last_positions : array-like
        `(d,)` where the output layer sits in theta.

    Returns
    -------
    output : numpy.ndarray
        `(n_obs, K)` at theta.
    jacobian : numpy.ndarray
        `(n_obs, K, d)`: the output at theta + delta on the output layer is
        output + jacobian @ delta, exactly.

    Examples
    --------
    A network without hidden layers: the Jacobian of x w + b is (x, 1).

    >>> import numpy as np
    >>> spec = NetworkSpec(n_inputs=2, hidden=(), n_outputs=1, bias=True)
    >>> output, jacobian = output_jacobian(spec, np.array([[1.0, 2.0]]),
    ...                                    np.array([0.5, -0.5, 1.0]), np.arange(3))
    >>> output.tolist(), jacobian.tolist()
    ([[0.5]], [[[1.0, 2.0, 1.0]]])
    """
    import jax
    import jax.numpy as jnp

    theta = jnp.asarray(theta)
    where = jnp.asarray(last_positions)

    def output(last):
        return forward(spec, jnp.asarray(X), *unflatten(spec, theta.at[where].set(last)),
                       backend="jax")

    def output_and_jacobian(last):  # one compiled program, not op by op
        return output(last), jax.jacfwd(output)(last)

    value, jacobian = jax.jit(output_and_jacobian)(theta[where])
    return np.asarray(value), np.asarray(jacobian)


# Jitted programs of `curvatures_at`, per model structure: the network's output, and each row's
# output curvature with the rows an argument (so padded row counts share them).
_PROGRAMS: OrderedDict = OrderedDict()


def _output_function(spec: NetworkSpec):
    """Jitted (theta (P,), X (n, n_inputs)) -> (n, K): the network's pre-link output."""
    import jax

    return jax.jit(lambda theta, X: forward(spec, X, *unflatten(spec, theta), backend="jax"))


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
        `(P,)` the network's parameters, `network_shapes` order.
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


def expansion_point_group(spec: NetworkSpec, thetas: np.ndarray) -> dict:
    """The `linearised_at` group's variables: each member's MAP weights and biases, (chain, ...).

    Parameters
    ----------
    spec : NetworkSpec
    thetas : numpy.ndarray
        `(n_members, P)` each member's network parameters.

    Returns
    -------
    dict
        Variable name → (dims, values), values `(n_members, ...)`.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> import numpy as np
    >>> group = expansion_point_group(spec, np.zeros((2, 13)))
    >>> {name: values.shape for name, (dims, values) in group.items()}
    {'w_0': (2, 2, 3), 'w_1': (2, 3, 1), 'b_0': (2, 3), 'b_1': (2, 1)}
    """
    group: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    parts = [unflatten(spec, t) for t in thetas]
    for i, name in enumerate(spec.weight_names):
        group[name] = (("chain", f"{name}_in", f"{name}_out"),
                       np.stack([p[0][i] for p in parts]))
    if spec.bias:
        for i in range(spec.n_layers):
            group[bias_name(i)] = (("chain", f"{bias_name(i)}_out"),
                                   np.stack([p[1][i] for p in parts]))  # type: ignore[index]
    return group


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


# Names that moved to `pymc_bnn.inference.output_likelihood` when this module was split (the
# likelihood replayed on the output there, the network's curvature here): importing them from
# here still works, with a DeprecationWarning, for one release.
__getattr__ = moved_names(__name__, dict.fromkeys(
    ("output_loglik", "RowLoglik", "output_curvature_roots"),
    "pymc_bnn.inference.output_likelihood"))
