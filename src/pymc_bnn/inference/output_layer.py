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

import numpy as np

# alpha = 1/s^2 is searched within these bounds (s from 0.01 to 1000).
ALPHA_RANGE = (1e-6, 1e4)


@dataclass(frozen=True)
class OutputLayerCurvature:
    """The output layer's curvature at one restart's MAP.

    eigenvalues, eigenvectors: of B^{-1/2} H B^{-1/2}, H the negative log-likelihood's Hessian in
    the output layer (clipped at zero), B its base prior precision; weighted_norm: theta' B theta
    at the MAP; covariance: (H + alpha B)^{-1}; sqrt_covariance: a factor L with L L' = covariance.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    weighted_norm: float
    covariance: np.ndarray
    sqrt_covariance: np.ndarray


def refine_output_layer(negative_log_joint, compiled, layout, z, alpha, data, newton_steps):
    """Newton steps on the output layer of every restart (rows of z (R, D)), then its
    curvature there: (z, list of OutputLayerCurvature). layout: the engine's ParameterLayout."""
    import jax
    import jax.numpy as jnp

    last = jnp.asarray(layout.last)
    base_last = layout.last_base_precision

    def restricted(theta, zr, a, d):
        return negative_log_joint(zr.at[last].set(theta), a, d)

    def loglik_restricted(theta, zr, d):
        return compiled.loglik(zr.at[last].set(theta), d)

    value_grad = jax.jit(jax.value_and_grad(restricted))
    hessian = jax.jit(jax.hessian(loglik_restricted))
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


def symmetrised(H):
    return 0.5 * (H + H.T)


def curvature_at(H_lik, theta, base, alpha) -> OutputLayerCurvature:
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
    """The alpha-dependent part of the output layer's log marginal likelihood (nats):
    d/2 log alpha − alpha/2 · theta'B theta − 1/2 Σ log(e_i + alpha)."""
    return (0.5 * eigenvalues.size * np.log(alpha) - 0.5 * alpha * weighted_norm
            - 0.5 * np.sum(np.log(eigenvalues[None, :] + np.atleast_1d(alpha)[:, None]), axis=1))


def best_prior_precision(eigenvalues, weighted_norm) -> float:
    """The prior precision that maximises the Laplace marginal likelihood at a fixed MAP:
    a grid over log alpha, then MacKay's fixed point alpha = gamma / theta'B theta with
    gamma = Σ e_i / (e_i + alpha) the effective number of parameters."""
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
    """Laplace estimate of log p(y | s) for one restart (nats): the log joint at the MAP plus
    the Gaussian's volume, −1/2 `log_det` (log det((H + alpha B) / 2π) over the parameters the
    Gaussian covers: `log_determinant` here, `ggn.log_determinant` for the whole network)."""
    import jax.numpy as jnp

    value = -float(negative_log_joint(jnp.asarray(z), alpha, data))
    # the log joint holds the network prior's normalising constant at the model's precision
    # (base / sigma0^2); at precision alpha·base it differs by d/2 · log(alpha · sigma0^2)
    log_norm = 0.5 * layout.network.size * math.log(alpha * sigma0**2)
    return value + log_norm - 0.5 * log_det


def log_determinant(curvature: OutputLayerCurvature, base: np.ndarray, alpha: float) -> float:
    """log det((H + alpha B) / 2π) over the output layer (nats)."""
    return float(np.sum(np.log(curvature.eigenvalues + alpha)) + np.sum(np.log(base))
                 - base.size * math.log(2 * math.pi))
