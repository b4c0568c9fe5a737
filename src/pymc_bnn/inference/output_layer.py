"""The output layer's Gaussian in the `laplace` engine: Newton steps, curvature, evidence.

The network output is linear in the output layer (last weights, last bias, skip path), so the
log-likelihood's Hessian there is the generalised Gauss-Newton matrix, and for a fixed MAP of
the hidden layers the Laplace marginal likelihood of the output layer is a closed form in the
eigenvalues of that Hessian (MacKay's evidence framework). Shapes: d is the number of output-
layer parameters; B (d,) their base prior precision (the precision at prior scale 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# alpha = 1/s^2 is searched within these bounds (s from 0.01 to 1000).
ALPHA_RANGE = (1e-6, 1e4)


@dataclass(frozen=True)
class OutputLayerCurvature:
    """The output layer's curvature at one restart's MAP.

    Attributes
    ----------
    eigenvalues, eigenvectors : numpy.ndarray
        `(d,)` and `(d, d)`, of B^{-1/2} H B^{-1/2}, H the negative log-likelihood's
        Hessian in the output layer (clipped at zero), B its base prior precision.
    weighted_norm : float
        theta' B theta at the MAP.
    covariance : numpy.ndarray
        `(d, d)` (H + alpha B)^{-1}.
    sqrt_covariance : numpy.ndarray
        `(d, d)` a factor L with L L' = covariance.

    Examples
    --------
    Made by `curvature_at`:

    >>> import numpy as np
    >>> curvature = curvature_at(np.diag([4.0, 1.0]), theta=np.array([1.0, 2.0]),
    ...                          base=np.ones(2), alpha=1.0)
    >>> curvature.eigenvalues, curvature.weighted_norm
    (array([1., 4.]), 5.0)
    >>> np.allclose(curvature.sqrt_covariance @ curvature.sqrt_covariance.T,
    ...             curvature.covariance)
    True
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    weighted_norm: float
    covariance: np.ndarray
    sqrt_covariance: np.ndarray


def refine_output_layer(negative_log_joint, compiled, layout, z, alpha, data, newton_steps):
    """Newton steps on the output layer of every restart, then its curvature there.

    Each Newton step holds the curvature at the start fixed (one Hessian, the costly part) and
    backtracks until the fit improves; the curvature is recomputed once where the steps end.

    Parameters
    ----------
    negative_log_joint : callable
        `negative_log_joint(z (D,), alpha, data)`, JAX-traceable.
    compiled : CompiledModel
        Its `loglik(z, data)` gives the curvature.
    layout : ParameterLayout
        The engine's layout: `last` and `last_base_precision` are used.
    z : numpy.ndarray
        `(R, D)` every restart's MAP.
    alpha : numpy.ndarray
        `(R,)` each restart's prior precision factor.
    data : tuple
        The model's data.
    newton_steps : int
        Newton steps per restart.

    Returns
    -------
    z : numpy.ndarray
        `(R, D)` with the output layers refined.
    curvatures : list of OutputLayerCurvature
        One per restart.

    Examples
    --------
    A linear Gaussian model, where one Newton step reaches the MAP (ridge regression) exactly:

    >>> import jax.numpy as jnp
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> X, y = jnp.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]), jnp.array([1.0, 2.0, 2.0])
    >>> compiled = SimpleNamespace(loglik=lambda z, d: -0.5 * jnp.sum((y - X @ z) ** 2))
    >>> def negative_log_joint(z, alpha, d):
    ...     return -compiled.loglik(z, d) + 0.5 * alpha * jnp.sum(z ** 2)
    >>> layout = SimpleNamespace(last=np.array([0, 1]), last_base_precision=np.ones(2))
    >>> z, curvatures = refine_output_layer(negative_log_joint, compiled, layout,
    ...                                     np.zeros((1, 2)), np.array([1.0]), (), 1)
    >>> ridge = np.linalg.solve(X.T @ X + np.eye(2), X.T @ y)
    >>> np.allclose(z[0], ridge), curvatures[0].covariance.shape
    (True, (2, 2))
    """
    import jax.numpy as jnp

    last = jnp.asarray(layout.last)
    base_last = layout.last_base_precision
    value_grad_at, hessian_at = _output_layer_programs(negative_log_joint, compiled.loglik)

    def value_grad(theta, zr, a, d):
        return value_grad_at(theta, zr, last, a, d)

    def hessian(theta, zr, d):
        return hessian_at(theta, zr, last, d)

    z = np.array(z)
    curvatures = []
    for r in range(z.shape[0]):
        zr = jnp.asarray(z[r])
        theta = zr[last]
        # Newton steps with the curvature at the start held fixed (one Hessian, the costly
        # part, instead of one per step); each step backtracks until the fit improves, and the
        # curvature is recomputed once where the steps end.
        H = symmetrised(-np.asarray(hessian(theta, zr, data)) + np.diag(alpha[r] * base_last))
        for _ in range(newton_steps):
            value, grad = value_grad(theta, zr, alpha[r], data)
            step = np.linalg.solve(H, np.asarray(grad))
            for _ in range(20):  # backtracking: a Newton step never makes the fit worse
                candidate = theta - step
                if float(value_grad(candidate, zr, alpha[r], data)[0]) <= float(value):
                    theta = candidate
                    break
                step = step / 2
            else:
                break
        zr = zr.at[last].set(theta)
        z[r] = np.asarray(zr)
        H_lik = -np.asarray(hessian(theta, zr, data))
        curvatures.append(curvature_at(H_lik, np.asarray(theta), base_last, alpha[r]))
    return z, curvatures


@lru_cache(maxsize=8)  # as `laplace_map.log_joint`'s: a stacked fit uses four
def _output_layer_programs(negative_log_joint, loglik):
    """The compiled value-and-gradient and Hessian in the output layer, for one model.

    Cached on the two functions, which stay the same over a fit's rounds and, as the `laplace`
    engine makes them once per model structure, over its fits: Newton steps reuse the programs
    instead of compiling new ones. The functions hold no data (it is an argument), so the cache
    keeps none alive. The output layer's indices are an argument, not a constant, for the same
    reason.
    """
    import jax

    def restricted(theta, zr, last, a, d):
        return negative_log_joint(zr.at[last].set(theta), a, d)

    def loglik_restricted(theta, zr, last, d):
        return loglik(zr.at[last].set(theta), d)

    return jax.jit(jax.value_and_grad(restricted)), jax.jit(jax.hessian(loglik_restricted))


def symmetrised(H):
    """(H + H') / 2: the symmetric part of a square matrix (rounding makes Hessians asymmetric).

    Parameters
    ----------
    H : numpy.ndarray
        `(d, d)`.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> symmetrised(np.array([[1.0, 2.0], [0.0, 1.0]]))
    array([[1., 1.],
           [1., 1.]])
    """
    return 0.5 * (H + H.T)


def curvature_at(H_lik, theta, base, alpha) -> OutputLayerCurvature:
    """The `OutputLayerCurvature` of Hessian `H_lik` at output layer `theta` and precision `alpha`.

    Parameters
    ----------
    H_lik : numpy.ndarray
        `(d, d)` the negative log-likelihood's Hessian in the output layer.
    theta : numpy.ndarray
        `(d,)` the output layer at the MAP.
    base : numpy.ndarray
        `(d,)` its base prior precision B.
    alpha : float
        The prior precision factor, 1/s².

    Returns
    -------
    OutputLayerCurvature
        Negative eigenvalues (Student-t's, rounding) clipped to 0.

    Examples
    --------
    >>> import numpy as np
    >>> curvature = curvature_at(np.diag([4.0, 1.0]), theta=np.array([1.0, 2.0]),
    ...                          base=np.ones(2), alpha=1.0)
    >>> curvature.covariance  # (H + alpha B)^-1
    array([[0.2, 0. ],
           [0. , 0.5]])
    """
    root = 1.0 / np.sqrt(base)
    scaled = symmetrised(H_lik * root[:, None] * root[None, :])
    eigenvalues, eigenvectors = np.linalg.eigh(scaled)
    # The likelihood is log-concave in the output layer for every likelihood but Student-t;
    # tiny negative eigenvalues are rounding, and Student-t's are clipped (a PSD curvature).
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    factor = root[:, None] * eigenvectors / np.sqrt(eigenvalues + alpha)[None, :]
    return OutputLayerCurvature(eigenvalues=eigenvalues, eigenvectors=eigenvectors,
                      weighted_norm=float(np.sum(base * theta**2)),
                      covariance=factor @ factor.T, sqrt_covariance=factor)


def evidence_terms(eigenvalues, weighted_norm, alpha):
    """The alpha-dependent part of the output layer's log marginal likelihood (nats).

    d/2 log alpha − alpha/2 · theta'B theta − 1/2 Σ log(e_i + alpha).

    Parameters
    ----------
    eigenvalues : numpy.ndarray
        `(d,)` of the scaled curvature.
    weighted_norm : float
        theta' B theta.
    alpha : float or numpy.ndarray
        One or several `(G,)` prior precision factors.

    Returns
    -------
    numpy.ndarray
        `(G,)`, one per alpha.

    Examples
    --------
    >>> import numpy as np
    >>> curvature = curvature_at(np.diag([4.0, 1.0]), theta=np.array([1.0, 2.0]),
    ...                          base=np.ones(2), alpha=1.0)
    >>> evidence_terms(curvature.eigenvalues, curvature.weighted_norm, np.array([0.5, 1.0]))
    array([-2.89791843, -3.65129255])
    """
    return (0.5 * eigenvalues.size * np.log(alpha) - 0.5 * alpha * weighted_norm
            - 0.5 * np.sum(np.log(eigenvalues[None, :] + np.atleast_1d(alpha)[:, None]), axis=1))


def best_prior_precision(eigenvalues, weighted_norm) -> float:
    """The prior precision that maximises the Laplace marginal likelihood at a fixed MAP.

    A grid over log alpha, then MacKay's fixed point alpha = gamma / theta'B theta with
    gamma = Σ e_i / (e_i + alpha) the effective number of parameters. Searched within
    `ALPHA_RANGE`.

    Parameters
    ----------
    eigenvalues : numpy.ndarray
        `(d,)` of the scaled curvature (zeros included).
    weighted_norm : float
        theta' B theta.

    Returns
    -------
    float
        alpha = 1/s².

    Examples
    --------
    >>> import numpy as np
    >>> curvature = curvature_at(np.diag([4.0, 1.0]), theta=np.array([1.0, 2.0]),
    ...                          base=np.ones(2), alpha=1.0)
    >>> alpha = best_prior_precision(curvature.eigenvalues, curvature.weighted_norm)
    >>> gamma = np.sum(curvature.eigenvalues / (curvature.eigenvalues + alpha))
    >>> round(alpha, 4), bool(np.isclose(alpha, gamma / curvature.weighted_norm))
    (0.3344, True)
    """
    log_low, log_high = np.log(ALPHA_RANGE)
    grid = np.exp(np.linspace(log_low, log_high, 241))
    alpha = float(grid[np.argmax(evidence_terms(eigenvalues, weighted_norm, grid))])
    for _ in range(100):
        gamma = float(np.sum(eigenvalues / (eigenvalues + alpha)))
        new = float(np.clip(gamma / max(weighted_norm, 1e-300), *ALPHA_RANGE))
        if abs(math.log(new / alpha)) < 1e-10:
            break
        alpha = new
    return alpha


def log_evidence(negative_log_joint, z, alpha, log_det, data, layout, sigma0) -> float:
    """Laplace estimate of log p(y | s) for one restart (nats).

    The log joint at the MAP plus the Gaussian's volume, −1/2 `log_det`.

    Parameters
    ----------
    negative_log_joint : callable
        `negative_log_joint(z, alpha, data)`.
    z : numpy.ndarray
        `(D,)` the MAP.
    alpha : float
        The prior precision factor.
    log_det : float
        log det((H + alpha B) / 2π) over the parameters the Gaussian covers:
        `log_determinant` here, `ggn.log_determinant` for the whole network.
    data : tuple
        The model's data.
    layout : ParameterLayout
        Its `network` size sets the prior's normalising constant.
    sigma0 : float
        The model's own prior scale, whose normalising constant the log joint holds.

    Returns
    -------
    float

    Examples
    --------
    One parameter, prior N(0, 1), no data: the evidence of "nothing observed" is log 1 = 0.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> def negative_log_joint(z, alpha, data):
    ...     return 0.5 * float(z @ z) + 0.5 * np.log(2 * np.pi)
    >>> layout = SimpleNamespace(network=np.arange(1))
    >>> log_det = np.log(1.0 / (2 * np.pi))  # det((0 + 1·1) / 2π)
    >>> evidence = log_evidence(negative_log_joint, np.zeros(1), 1.0, log_det, (), layout, 1.0)
    >>> round(float(evidence), 6)
    0.0
    """
    import jax.numpy as jnp

    value = -float(negative_log_joint(jnp.asarray(z), alpha, data))
    # the log joint holds the network prior's normalising constant at the model's precision
    # (base / sigma0^2); at precision alpha·base it differs by d/2 · log(alpha · sigma0^2)
    log_norm = 0.5 * layout.network.size * math.log(alpha * sigma0**2)
    return value + log_norm - 0.5 * log_det


def log_determinant(curvature: OutputLayerCurvature, base: np.ndarray, alpha: float) -> float:
    """Log det((H + alpha B) / 2π) over the output layer (nats).

    Parameters
    ----------
    curvature : OutputLayerCurvature
    base : numpy.ndarray
        `(d,)` the base prior precision B.
    alpha : float
        The prior precision factor.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> curvature = curvature_at(np.diag([4.0, 1.0]), theta=np.array([1.0, 2.0]),
    ...                          base=np.ones(2), alpha=1.0)
    >>> bool(np.isclose(log_determinant(curvature, np.ones(2), 1.0),
    ...                 np.log(5.0 * 2.0) - 2 * np.log(2 * np.pi)))
    True
    """
    return float(np.sum(np.log(curvature.eigenvalues + alpha)) + np.sum(np.log(base))
                 - base.size * math.log(2 * math.pi))
