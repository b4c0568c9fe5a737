"""The Gaussian noise sd by the evidence at the MAP: MacKay's σ² = RSS / (n − γ).

A MAP of the noise sd jointly with the network's weights divides the residual sum of squares by
every row, n, as if the fit had spent no degrees of freedom on the rows; a network that can
follow them spends many, so its MAP noise sd is too small and its intervals too narrow, and one
that interpolates the rows drives it towards 0 (90% intervals covering 3% of new rows). MacKay's
evidence framework (1992, "A practical Bayesian framework for backpropagation networks")
divides by n − γ instead, where γ = Σ λᵢ / (λᵢ + α) counts the parameters the data determine
(λᵢ the eigenvalues of the likelihood's curvature, here the whole network's generalised
Gauss-Newton matrix at the MAP, `ggn`; α the prior precision): the noise sd that maximises the
Laplace evidence with the weights at the MAP. γ depends on σ (the curvature scales as 1/σ²), so
σ solves s² (n − γ(s)) = RSS, whose left side grows with s: one root, found by bisection.
"""

from __future__ import annotations

import math

import numpy as np

# Bisection interval for s in the model's units (the regressors' targets are standardised: 1 is
# the target's own sd) and its steps (each halves the interval in log s: 1e-9 relative).
_LOG_S_RANGE = (math.log(1e-8), math.log(1e4))
_BISECTION_STEPS = 80


def effective_parameters(eigenvalues, alpha: float, scale: float = 1.0) -> float:
    """γ = Σ λᵢ·scale / (λᵢ·scale + α): the parameters the data determine.

    Parameters
    ----------
    eigenvalues : array-like
        `(d,)` the curvature's eigenvalues (zeros included or not: they add nothing).
    alpha : float
        The prior precision factor, in the same coordinates.
    scale : float, default 1
        A factor on every eigenvalue (σ₀² / σ² when the noise sd moves from σ₀ to σ).

    Returns
    -------
    float

    Examples
    --------
    >>> round(effective_parameters([1e6, 1.0, 1e-6], alpha=1.0), 4)  # about 1 + 1/2 + 0
    1.5
    """
    e = np.asarray(eigenvalues, dtype=np.float64) * scale
    return float(np.sum(e / (e + alpha)))


def evidence_noise_sd(rss: float, n: float, eigenvalues, alpha: float, sigma0: float) -> float:
    """The noise sd s with s² (n − γ(s)) = RSS, γ(s) from eigenvalues taken at sd `sigma0`.

    Parameters
    ----------
    rss : float
        The (weighted) residual sum of squares of the MAP, > 0.
    n : float
        The (weighted) number of rows.
    eigenvalues : array-like
        `(d,)` the curvature of the log-likelihood at the MAP, computed with noise sd
        `sigma0` (so at sd s they are these times sigma0² / s²).
    alpha : float
        The prior precision factor.
    sigma0 : float
        The noise sd the eigenvalues were taken at.

    Returns
    -------
    float
        s, in the units of the residuals.

    Examples
    --------
    No parameter determined by the data (γ = 0): the mean square; one well determined
    parameter out of 11 rows: RSS / 10.

    >>> round(evidence_noise_sd(40.0, 10, [0.0], alpha=1.0, sigma0=1.0), 6)
    2.0
    >>> round(evidence_noise_sd(40.0, 11, [1e12], alpha=1.0, sigma0=1.0) ** 2, 6)
    4.0
    """
    e = np.asarray(eigenvalues, dtype=np.float64)

    def excess(log_s: float) -> float:
        s2 = math.exp(2 * log_s)
        return s2 * (n - effective_parameters(e, alpha, sigma0**2 / s2)) - rss

    low, high = _LOG_S_RANGE
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if excess(middle) < 0 else (low, middle)
    return math.exp((low + high) / 2)


# The value variable of the Gaussian likelihood's noise sd (`model.likelihoods.Gaussian`).
NOISE_VALUE = "sigma_log__"


def at_maps(bnn, layout, z: np.ndarray, offsets: dict, alpha) -> list[dict]:
    """The evidence's noise sd at each restart's MAP, and what it came from.

    Parameters
    ----------
    bnn : BNNModel
        A model whose likelihood is the Gaussian with one learned noise sd (`applies`).
    layout : ParameterLayout
        Where the network sits in z (`pymc_bnn.inference.laplace_layout.parameter_layout`).
    z : numpy.ndarray
        `(R, D)` one MAP per restart, the noise sd's log among its values.
    offsets : dict
        Name → indices into z of every value variable.
    alpha : array-like
        `(R,)` each restart's prior precision factor.

    Returns
    -------
    list of dict
        One per restart: "sd" (None where the MAP fits every row exactly), "map_sd",
        "effective_parameters" (γ at "sd"), "rss" and "rows" (weighted), in the model's units.
        The MAP's own sd can exceed sqrt(rss / rows): the output layer's Newton steps after
        the MAP lower the residuals.

    Examples
    --------
    The `laplace` engine calls it with `noise_sd="evidence"` and keeps what it found in its
    diagnostics; the sd solves sd² (rows − γ) = RSS:

    >>> import numpy as np
    >>> from pymc_bnn import build_model, fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 1))
    >>> bnn = build_model(X, X[:, 0] + rng.normal(0, 0.5, 40), hidden=(2,),
    ...                   likelihood="gaussian")
    >>> posterior = fit(bnn, "laplace", draws=10, random_seed=0, progress=False, restarts=1,
    ...                 noise_sd="evidence")
    >>> found = posterior.diagnostics["noise_sd"][0]
    >>> sorted(found)
    ['effective_parameters', 'map_sd', 'rows', 'rss', 'sd']
    >>> bool(np.isclose(found["sd"] ** 2 * (found["rows"] - found["effective_parameters"]),
    ...                 found["rss"]))
    True
    """
    from pymc_bnn.inference import ggn_at_maps
    from pymc_bnn.inference.jax_model import model_data
    from pymc_bnn.model.build import SAMPLE_WEIGHT

    data = model_data(bnn.model)
    y = np.asarray(data["y_data"], dtype=np.float64).reshape(-1)
    weight = np.asarray(data.get(SAMPLE_WEIGHT, np.ones_like(y)), dtype=np.float64)
    rows = float(np.sum(weight))
    out = []
    spectra = ggn_at_maps.spectra_at(bnn, layout, z, offsets)
    for zr, a, (eigenvalues, eta) in zip(z, alpha, spectra, strict=True):
        rss = float(np.sum(weight * (y - eta[:, 0]) ** 2))
        sigma0 = float(np.exp(np.asarray(zr)[offsets[NOISE_VALUE]][0]))
        if not rss > 0:
            out.append({"sd": None, "map_sd": sigma0, "effective_parameters": None,
                        "rss": rss, "rows": rows})
            continue
        sd = evidence_noise_sd(rss, rows, eigenvalues, float(a), sigma0)
        out.append({"sd": sd, "map_sd": sigma0, "rss": rss, "rows": rows,
                    "effective_parameters": effective_parameters(eigenvalues, float(a),
                                                                 sigma0**2 / sd**2)})
    return out


def applies(bnn, offsets: dict) -> bool:
    """Whether the model's likelihood is the Gaussian with one learned noise sd.

    Examples
    --------
    >>> applies(tiny_model, {})  # a classifier
    False
    """
    return getattr(bnn.likelihood, "name", None) == "gaussian" and NOISE_VALUE in offsets


__all__ = ["NOISE_VALUE", "applies", "at_maps", "effective_parameters", "evidence_noise_sd"]
