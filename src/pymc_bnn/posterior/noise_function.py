"""A Gaussian regressor's noise sd as a function of its predicted mean (a variance function).

Why: a Gaussian likelihood gives every row the same noise sd. Where the noise grows with the
level of the target (counts, amounts, most measurements), its intervals are too wide on the
quiet rows and too narrow on the loud ones, and the held-out log density pays for both. A
heteroscedastic network (a second output head for the log noise sd) can follow any pattern,
but on a few hundred rows it becomes too sure of some of them. The classic middle way is a
*variance function* of the mean (Carroll and Ruppert 1988, "Transformation and Weighting in
Regression"; the "power of the mean" model): two numbers, fitted to the network's residuals.

How: with f̄(x) the fit's mean output (the standardised target's scale) and rᵢ = yᵢ − f̄(xᵢ)
its training residuals, the variance function is

    log s²(x) = a + b·z(x),   z = (f̄ − m) / d,   rᵢ / s(xᵢ) ~ Student-t with 4 df,

m and d the mean and sd of f̄ over the training rows, b ~ Normal(0, 1/λ), a flat. The residuals
are read through a Student-t of 4 degrees of freedom, not a Normal: residuals of counts and
amounts have heavier tails than a Normal's, and under a Normal a few large ones set the slope
(on the RAND doctor visits the Normal's variance function made some rows' intervals too
narrow; `benchmarks/README.md`, "The noise sd follows the mean"). The MAP of
(a, b) is found by L-BFGS; λ is the value of `PRECISIONS` with the highest Laplace evidence
(MacKay's rule, as the `laplace` engine chooses its output layer's prior precision), and the
Gaussian at the MAP gives each draw its own (a, b). The function only shares out the fit's own
noise variance: s² is scaled so that its mean over the training rows is the fit's σ² (the
evidence's σ² = RSS / (n − γ) for the estimators' default), so the residuals of a flexible fit,
smaller than new rows' errors, set the shape and not the level. Where the evidence finds no
trend (constant noise), b is 0 to a few digits and the predictions are the Gaussian fit's.

The result is a heteroscedastic posterior of the same network: since the mean output is linear
in the last hidden layer, log s(x) = α + β·f(x) is a log-sd output whose weights are β times the
mean output's and whose bias is α + β times its bias (the skip path's likewise), draw by draw.
Predictions, uncertainty, files and reports treat it as any heteroscedastic fit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import xarray as xr

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.model.data_groups import DATA_GROUPS
from pymc_bnn.model.network import SKIP_WEIGHT, bias_name, weight_name
from pymc_bnn.posterior.posterior import Posterior
from pymc_bnn.validation import mean_and_scale

# The prior precisions of the slope b that the evidence chooses from: 1e-1 … 1e4, five a decade.
PRECISIONS = tuple(float(v) for v in np.logspace(-1, 4, 26))
# Degrees of freedom of the residuals' Student-t (the likelihood of the variance function): 4,
# heavy tails with a finite variance, as the library's `StudentT(df=4)` (None: a Normal).
RESIDUAL_DF = 4.0
# The smallest squared residual the variance function reads, in the standardised target's
# units: (1e-10 of its sd)², far below any noise a fit estimates, far above float64 rounding.
SQUARE_FLOOR = 1e-20


@dataclass(frozen=True)
class VarianceFunction:
    """log s²(x) = intercept + slope·z(x), fitted to squared residuals.

    Parameters
    ----------
    intercept, slope : float
        The MAP of (a, b).
    covariance : ndarray
        (2, 2) the Laplace Gaussian's covariance of (a, b) at the MAP.
    precision : float
        The prior precision λ of b the evidence chose.
    log_evidence : float
        The Laplace log evidence at that precision (up to a constant shared by every λ).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=2000)
    >>> residuals = rng.normal(0.0, np.exp(0.5 * (0.2 + 0.8 * z)))  # log s² = 0.2 + 0.8 z
    >>> found = fit_variance_function(z, residuals ** 2, df=None)  # Normal residuals
    >>> round(found.intercept, 1), round(found.slope, 1)
    (0.2, 0.8)
    """

    intercept: float
    slope: float
    covariance: np.ndarray
    precision: float
    log_evidence: float


def _negative_log_posterior(params, design, squares, weights, precision, df=None):
    """−log p(a, b | r) up to a constant, and its gradient.

    rᵢ = exp(ηᵢ / 2)·εᵢ, εᵢ a Student-t of `df` degrees of freedom (None: a standard Normal).
    """
    eta = design @ params
    scaled = squares * np.exp(-eta)
    if df is None:
        per_row, slope = 0.5 * (eta + scaled), 0.5 * (1.0 - scaled)
    else:
        ratio = scaled / df
        per_row = 0.5 * eta + 0.5 * (df + 1.0) * np.log1p(ratio)
        slope = 0.5 - 0.5 * (df + 1.0) * ratio / (1.0 + ratio)
    value = weights @ per_row + 0.5 * precision * params[1] ** 2
    grad = design.T @ (weights * slope)
    grad[1] += precision * params[1]
    return value, grad


def _curvature(params, design, squares, weights, df=None):
    """The likelihood's second derivatives in (a, b) at `params`: (2, 2)."""
    scaled = squares * np.exp(-(design @ params))
    if df is None:
        per_row = 0.5 * scaled
    else:
        ratio = scaled / df
        per_row = 0.5 * (df + 1.0) * ratio / (1.0 + ratio) ** 2
    return (design * (weights * per_row)[:, None]).T @ design


def _at_precision(design, squares, weights, precision, df) -> VarianceFunction:
    from scipy.optimize import minimize

    start = np.array([np.log(np.average(squares, weights=weights) + 1e-300), 0.0])
    params = minimize(_negative_log_posterior, start, jac=True, method="L-BFGS-B",
                      args=(design, squares, weights, precision, df)).x
    value = _negative_log_posterior(params, design, squares, weights, precision, df)[0]
    hessian = _curvature(params, design, squares, weights, df)
    hessian[1, 1] += precision
    log_evidence = -value + 0.5 * np.log(precision) - 0.5 * np.linalg.slogdet(hessian)[1]
    return VarianceFunction(float(params[0]), float(params[1]), np.linalg.inv(hessian),
                            float(precision), float(log_evidence))


def fit_variance_function(z, squares, weights=None, precisions=PRECISIONS,
                          df: float | None = RESIDUAL_DF) -> VarianceFunction:
    """The variance function log s² = a + b·z of squared residuals, λ by the evidence.

    Parameters
    ----------
    z : array-like
        (n,) the standardised predictor of the log variance (here the fit's mean output).
    squares : array-like
        (n,) squared residuals rᵢ², each rᵢ / s(zᵢ) a Student-t of `df` degrees of freedom.
    weights : array-like, optional
        (n,) row weights (a row of weight 2 counts twice); default 1 each.
    precisions : sequence of float
        The prior precisions of b to choose from by the Laplace evidence.
    df : float or None, default `RESIDUAL_DF` (4)
        The residuals' degrees of freedom; None reads them as Normal (s² is then their
        variance; with df, the t's squared scale).

    Returns
    -------
    VarianceFunction
        The MAP at the chosen precision, its covariance, the precision and its log evidence.

    Examples
    --------
    Constant noise: the evidence takes strong shrinkage and the slope is about 0; read as
    Normal, the residuals' variance is exp(a).

    >>> rng = np.random.default_rng(1)
    >>> found = fit_variance_function(rng.normal(size=300), rng.normal(0.0, 2.0, 300) ** 2,
    ...                               df=None)
    >>> found.precision > 100, abs(found.slope) < 0.01, round(float(np.exp(found.intercept)))
    (True, True, 4)

    Residuals of 0 (a network through every row) give the floor's tiny variance, not an error:

    >>> bool(np.exp(fit_variance_function(np.arange(5.0), np.zeros(5)).intercept) < 1e-15)
    True
    """
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    # a network that interpolates its rows leaves squared residuals of 0 (rounding), where
    # log s² has no maximum and the curvature is singular: floor them at (1e-10 sd)²
    squares = np.maximum(np.asarray(squares, dtype=np.float64).reshape(-1), SQUARE_FLOOR)
    weights = (np.ones_like(z) if weights is None
               else np.asarray(weights, dtype=np.float64).reshape(-1))
    design = np.c_[np.ones_like(z), z]
    fits = [_at_precision(design, squares, weights, p, df) for p in precisions]
    return max(fits, key=lambda found: found.log_evidence)


def noise_follows_mean(posterior: Posterior, *, random_seed: int = 0) -> Posterior:
    """`posterior`'s network with its noise sd a function of its mean: a heteroscedastic fit.

    Parameters
    ----------
    posterior : Posterior
        A Gaussian fit with output biases and no groups, holding its training rows
        (`observed_data`, `constant_data`: every fit in memory does; model files do not).
    random_seed : int, default 0
        Draws each network draw's (a, b) from the variance function's Gaussian.

    Returns
    -------
    Posterior
        Likelihood "heteroscedastic", the same draws of the mean output, a log noise sd output
        per draw, and `settings["noise_function"]`: the variance function (intercept, slope,
        precision, the residuals' degrees of freedom, the mean output's centre and scale it was
        fitted on, the scale factor to the fit's σ²).

    Raises
    ------
    InvalidSettingError
        Another likelihood, no output biases, groups, a linearised (full-network Laplace) fit,
        or no training rows.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(200, 1))
    >>> y = 3 + X[:, 0] + rng.normal(0, 0.1 * (4 + X[:, 0]))  # noise grows with the mean
    >>> from pymc_bnn import build_model, fit
    >>> gaussian = fit(build_model(X, y, hidden=(4,), bias=True, likelihood="gaussian"), "laplace",
    ...                draws=100, progress=False)
    >>> varying = noise_follows_mean(gaussian)
    >>> varying.likelihood.name, varying.settings["noise_function"]["slope"] > 0
    ('heteroscedastic', True)
    >>> from pymc_bnn.posterior.uncertainty import predictive_summary
    >>> sd = predictive_summary(varying, [[-2.0], [2.0]], level=None)["sd"].values
    >>> sd.round(1).tolist()  # the noise sd is 0.2 and 0.6 there; the Gaussian fit's: 0.5 both
    [0.2, 0.7]
    """
    _check_gaussian_network(posterior)
    observed, constant = (posterior.idata[name] for name in DATA_GROUPS)
    X = np.asarray(constant["X"].values, dtype=np.float64)
    y = np.asarray(observed["y"].values, dtype=np.float64)  # standardised, as the model's
    weights = (np.asarray(constant["sample_weight"].values, dtype=np.float64)
               if "sample_weight" in constant else None)
    # the mean output over the draws, standardised: the prediction path's mean (one compiled
    # pass that reduces over the draws, not every draw's outputs: 0.03 s against 4 s on 10,000
    # rows and 1,000 draws)
    preprocessing = posterior.preprocessing
    mean_output = ((np.asarray(posterior.predict(X)["mean"].values, dtype=np.float64)
                    - preprocessing["y_mean"]) / preprocessing["y_scale"])
    centre, spread = (float(v) for v in mean_and_scale(mean_output, weights=weights))
    spread = spread if spread > 0 else 1.0  # a constant fit: z is 0 and only a remains
    z = (mean_output - centre) / spread
    found = fit_variance_function(z, (y - mean_output) ** 2, weights)
    # the level is the fit's own noise variance: s²'s mean over the training rows is σ²
    sigma2 = float(np.mean(posterior.stacked("sigma") ** 2))
    level = sigma2 / float(np.average(np.exp(found.intercept + found.slope * z),
                                      weights=weights))
    rng = np.random.default_rng(random_seed)
    ab = rng.multivariate_normal([found.intercept, found.slope], found.covariance,
                                 size=posterior.n_draws)
    # log s(x) = ½(log level + a + b (f − centre) / spread) = alpha + beta·f, per draw
    beta = ab[:, 1] / (2.0 * spread)
    alpha = 0.5 * (np.log(level) + ab[:, 0]) - beta * centre
    return _heteroscedastic(posterior, alpha, beta, {
        "intercept": found.intercept, "slope": found.slope, "precision": found.precision,
        "df": RESIDUAL_DF,
        "mean_centre": centre, "mean_scale": spread, "level": level})


def _check_gaussian_network(posterior: Posterior) -> None:
    """Refuse what a variance function of the mean cannot be added to, naming why."""
    why = ("it is not a Gaussian fit (likelihood " + repr(posterior.likelihood.name) + ")"
           if posterior.likelihood.name != "gaussian" else
           "the network has no output biases (bias=False)" if not posterior.spec.bias else
           "it is a grouped fit" if posterior.groups is not None else
           "its predictions go through the linearised network (hessian='full')"
           if posterior.linearised else
           "it holds no training rows (a model read from a file, or streamed data)"
           if not all(name in posterior.idata.children for name in DATA_GROUPS) else None)
    if why is not None:
        raise InvalidSettingError(f"the noise sd cannot follow the mean here: {why}; keep the "
                                  "constant noise sd (noise='constant')")


def _heteroscedastic(posterior: Posterior, alpha, beta, described: dict) -> Posterior:
    """The same draws with a second, log noise sd output alpha + beta·(mean output)."""
    from pymc_bnn.model.regression_likelihoods import HeteroscedasticGaussian

    spec = dataclasses.replace(posterior.spec, n_outputs=2)
    last = posterior.spec.n_layers - 1
    variables = {}
    source = posterior.idata["posterior"]
    for name, values in source.data_vars.items():
        if name in posterior.likelihood_params:  # sigma: now the second output's
            continue
        draws = np.asarray(values.values, dtype=np.float64)
        if name in (weight_name(last), SKIP_WEIGHT):
            second = beta.reshape(draws.shape[:2] + (1,) * (draws.ndim - 2)) * draws[..., :1]
            draws = np.concatenate([draws, second], axis=-1)
        elif name == bias_name(last):
            shape = draws.shape[:2] + (1,)
            second = (alpha.reshape(shape) + beta.reshape(shape) * draws[..., :1])
            draws = np.concatenate([draws, second], axis=-1)
        variables[name] = (values.dims, draws)
    coords = {dim: source.coords[dim].values for dim in source.coords if dim != "output"}
    coords["output"] = np.arange(2)
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset(variables, coords=coords)})
    for name in DATA_GROUPS:
        idata[name] = posterior.idata[name].copy()
    record = dataclasses.replace(posterior.record, spec=spec,
                                 likelihood=HeteroscedasticGaussian(), likelihood_params=())
    return dataclasses.replace(posterior, record=record, idata=idata,
                               settings={**posterior.settings, "noise_function": described},
                               timings=dict(posterior.timings),
                               diagnostics=dict(posterior.diagnostics))
