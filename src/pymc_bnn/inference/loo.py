"""The `laplace` engine's predictive spread chosen by leave-one-out predictive density.

Why: the marginal likelihood chooses the output layer's prior precision alpha = 1/s^2 from how
well the prior explains the labels. Where the classes are nearly separable at the MAP, the
likelihood's curvature diag(p) − pp' is about zero at every training row, so almost every
direction of the output layer keeps the prior's variance and the GLM predictive spreads the
logits as widely as their range: good MAP probabilities become underconfident. Moving alpha
does not cure it: a narrower prior also shrinks the MAP, and the leave-one-out density then
agrees with the evidence's alpha. So alpha stays the evidence's (it sets the MAP's
regularisation) and `temperature="loo"` scales the Gaussian's covariance by the temperature T
on a grid (a cold posterior, (lik · prior)^(1/T)) that maximises the leave-one-out log
predictive density of the training rows.

How: each training row's term in the Laplace posterior is a Gaussian site in that row's output
eta (K,): precision Λ (the negative Hessian of its log-likelihood at the MAP) and gradient g.
Removing the site from the GLM predictive marginal N(m, V) of eta leaves the cavity
N(m − V_c g, V_c), V_c = (V^-1 − Λ)^-1 (the Laplace-LOO of Vehtari et al. 2016, "Bayesian
leave-one-out cross-validation approximations for Gaussian latent variable models"); under
temperature T every term is divided by T, so the cavity mean stays and its covariance is T·V_c.
The row's held-out density is its likelihood averaged over the cavity (Gauss-Hermite for one
output, quasi-Monte Carlo for several). For a Gaussian likelihood and an identity network this
is the exact leave-one-out predictive at a fixed noise sd. It is optimistic for a network: the
hidden layers were fitted with the row in, and only the output layer lets it go. PSIS-LOO
(ArviZ's Pareto smoothing of the importance weights over draws of the GLM predictive) at the
chosen T is recorded as the check: its
Pareto k flags rows whose removal moves the posterior too far for importance sampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from pymc_bnn.inference import flat_network, output_likelihood

# Temperatures searched. The floor is 0.01 (logit sd ÷ 10), not 0: a posterior of zero width
# would drop the epistemic uncertainty that predictions and active learning report; above 1 the
# data may ask for more spread than the Laplace posterior has.
TEMPERATURES = (4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01)
_HERMITE_NODES = 32  # one output: Gauss-Hermite, exact to rounding for smooth likelihoods
_QMC_NODES = 256  # several outputs: scrambled Sobol points (fixed seed: the same at every T)
_PSIS_DRAWS = 1000
# ArviZ flags k above min(1 − 1/log10(S), 0.7): 0.67 for S = 1000 draws
PARETO_K_LIMIT = 0.7


@dataclass(frozen=True)
class LooChoice:
    """The leave-one-out choice of one member's temperature.

    Attributes
    ----------
    temperatures : numpy.ndarray
        `(G,)` the grid searched.
    elpd : numpy.ndarray
        `(G,)` the cavity LOO log predictive density at each (nats, summed over the training
        rows).
    temperature : float
        The chosen one.
    psis_elpd : float
        PSIS-LOO there (nats).
    pareto_k_max : float
        Its largest Pareto k.
    n_high_k : int
        Rows above `PARETO_K_LIMIT`.

    Examples
    --------
    >>> import numpy as np
    >>> choice = LooChoice(temperatures=np.array([1.0, 0.5]), elpd=np.array([-30.0, -29.5]),
    ...                    temperature=0.5, psis_elpd=-29.6, pareto_k_max=0.3, n_high_k=0)
    >>> summary(choice)
    {'elpd': -29.5, 'psis_elpd': -29.6, 'pareto_k_max': 0.3, 'high_pareto_k_rows': 0}
    """

    temperatures: np.ndarray
    elpd: np.ndarray
    temperature: float
    psis_elpd: float
    pareto_k_max: float
    n_high_k: int


def output_marginals(spec, X, theta, last_positions, covariance):
    """The GLM predictive marginals of the network output at X under the output layer's Gaussian.

    Parameters
    ----------
    spec : NetworkSpec
    X : numpy.ndarray
        `(n_obs, n_inputs)`.
    theta : numpy.ndarray
        `(P,)` the network's parameters in the engine's order.
    last_positions : numpy.ndarray
        `(d,)` where the output layer sits in theta, in the order of `covariance`.
    covariance : numpy.ndarray
        `(d, d)` the output layer's Gaussian.

    Returns
    -------
    mean : numpy.ndarray
        `(n_obs, K)`.
    covariance : numpy.ndarray
        `(n_obs, K, K)`.

    Examples
    --------
    A network without hidden layers (a linear model): the output's variance at x is x' C x.

    >>> import numpy as np
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(), n_outputs=1)
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> mean, cov = output_marginals(spec, X, np.array([0.5, -0.5]), np.array([0, 1]),
    ...                              np.eye(2))
    >>> mean[:, 0].tolist(), cov[:, 0, 0].tolist()
    ([0.5, 0.0], [1.0, 2.0])
    """
    mean, J = flat_network.output_jacobian(spec, X, theta, last_positions)
    return mean, np.einsum("nkd,de,nle->nkl", J, covariance, J)


def cavity_loo(row_loglik, z, eta, V, *, loglik=None, temperatures=(1.0,)) -> np.ndarray:
    """Each row's leave-one-out log predictive density (G, n_obs) in nats at each temperature.

    By the analytic cavity of the row's Gaussian site (module docstring).

    Parameters
    ----------
    row_loglik : callable
        `row_loglik(eta (n, K), z) -> (n,)`.
    z : numpy.ndarray
        `(D,)` the model's other values, passed through.
    eta : numpy.ndarray
        `(n, K)` the GLM predictive means at T = 1.
    V : numpy.ndarray
        `(n, K, K)` the GLM predictive covariances at T = 1.
    loglik : callable, optional
        The summed form; defaults to `row_loglik`'s sum.
    temperatures : sequence of float, default (1.0,)
        The G temperatures.

    Returns
    -------
    numpy.ndarray
        `(G, n_obs)`.

    Examples
    --------
    Three Gaussian rows (sd 1) whose outputs have predictive variance 0.5, at two
    temperatures:

    >>> import jax.numpy as jnp
    >>> y = jnp.array([0.0, 1.0, 0.5])
    >>> def row_loglik(eta, z):  # Gaussian rows, sd 1
    ...     return -0.5 * (y - eta[:, 0]) ** 2 - 0.5 * jnp.log(2 * jnp.pi)
    >>> import numpy as np
    >>> eta, V = np.array([[0.0], [0.5], [0.25]]), np.full((3, 1, 1), 0.5)
    >>> cavity_loo(row_loglik, np.zeros(0), eta, V, temperatures=(1.0, 0.5)).shape
    (2, 3)
    """
    import jax
    import jax.numpy as jnp
    from scipy.special import logsumexp

    summed = loglik or (lambda e, zz: jnp.sum(row_loglik(e, zz)))
    zj, ej = jnp.asarray(z), jnp.asarray(eta)
    g = np.asarray(jax.jit(jax.grad(summed))(ej, zj))  # (n, K)
    roots = output_likelihood.output_curvature_roots(summed, ej, zj)
    Lam = np.einsum("nji,njk->nik", roots, roots)  # (n, K, K)
    K = eta.shape[1]
    # V_c = (V^-1 − Λ)^-1 = V (I − Λ V)^-1; it is positive definite in exact arithmetic (the
    # marginal precision of a row's output includes its own site), so clip rounding only
    M = np.eye(K)[None] - Lam @ V
    Vc = np.swapaxes(np.linalg.solve(np.swapaxes(M, 1, 2), np.swapaxes(V, 1, 2)), 1, 2)
    Vc = 0.5 * (Vc + np.swapaxes(Vc, 1, 2))
    spread, vectors = np.linalg.eigh(Vc)
    root_c = vectors * np.sqrt(np.clip(spread, 0.0, None))[:, None, :]  # (n, K, K)
    mean_c = eta - np.einsum("nkl,nl->nk", Vc, g)
    nodes, log_weights = _standard_normal_rule(K)
    out = []
    at_points = jax.jit(jax.vmap(row_loglik, in_axes=(0, None)))  # one program, every temperature
    for t in temperatures:
        points = mean_c[None] + np.sqrt(t) * np.einsum("nkl,sl->snk", root_c, nodes)  # (S, n, K)
        ll = np.asarray(at_points(jnp.asarray(points), zj))
        out.append(logsumexp(ll + log_weights[:, None], axis=0))
    return np.array(out)


def psis_loo(row_loglik, z, eta, V, temperature: float = 1.0,
             seed: int = 0) -> tuple[float, np.ndarray]:
    """PSIS-LOO from draws of the GLM predictive marginals N(eta, T·V).

    Under temperature T a row's term in the posterior is its likelihood^(1/T), so leaving it
    out weights each draw by likelihood^(-1/T), smoothed by ArviZ's PSIS (the draws are
    independent: relative efficiency 1).

    Parameters
    ----------
    row_loglik : callable
        `row_loglik(eta (n, K), z) -> (n,)`.
    z : numpy.ndarray
        `(D,)` passed through.
    eta, V : numpy.ndarray
        `(n, K)` and `(n, K, K)`, the marginals at T = 1.
    temperature : float, default 1.0
        T.
    seed : int, default 0
        Seeds the draws.

    Returns
    -------
    elpd : float
        Summed over rows, nats.
    pareto_k : numpy.ndarray
        `(n_obs,)`; above `PARETO_K_LIMIT` the importance weights are unreliable.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> y = jnp.array([0.0, 1.0, 0.5])
    >>> def row_loglik(eta, z):  # Gaussian rows, sd 1
    ...     return -0.5 * (y - eta[:, 0]) ** 2 - 0.5 * jnp.log(2 * jnp.pi)
    >>> import numpy as np
    >>> elpd, k = psis_loo(row_loglik, np.zeros(0), np.array([[0.0], [0.5], [0.25]]),
    ...                    np.full((3, 1, 1), 0.5))
    >>> k.shape, bool(elpd < 0)
    ((3,), True)
    """
    import arviz_stats  # noqa: F401  (registers the .azstats accessor)
    import jax
    import jax.numpy as jnp
    import xarray as xr
    from scipy.special import logsumexp

    K = eta.shape[1]
    values, vectors = np.linalg.eigh(0.5 * (V + np.swapaxes(V, 1, 2)))
    root = vectors * np.sqrt(temperature * np.clip(values, 0.0, None))[:, None, :]
    eps = np.random.default_rng(seed).normal(size=(_PSIS_DRAWS, K))
    points = eta[None] + np.einsum("nkl,sl->snk", root, eps)
    ll = np.asarray(jax.jit(jax.vmap(row_loglik, in_axes=(0, None)))(jnp.asarray(points),
                                                                     jnp.asarray(z)))
    # psislw takes the log-likelihood and smooths the ratios exp(−that)
    log_weights, k = xr.DataArray(ll / temperature, dims=("draw", "obs")).azstats.psislw(
        dim="draw", r_eff=1.0)
    elpd = logsumexp(log_weights.transpose("draw", "obs").values + ll, axis=0)
    return float(np.sum(elpd)), np.asarray(k)


def choose_temperature(bnn, layout, zr, covariance, offsets) -> LooChoice:
    """The temperature on `TEMPERATURES` with the highest cavity LOO for one member.

    Parameters
    ----------
    bnn : BNNModel
        The model; its data are the training rows.
    layout : ParameterLayout
        The engine's layout.
    zr : numpy.ndarray
        `(D,)` the member's MAP.
    covariance : numpy.ndarray
        `(d, d)` its output layer's Gaussian at T = 1.
    offsets : dict
        Name → indices into zr.

    Returns
    -------
    LooChoice

    Examples
    --------
    It compiles the model's pointwise likelihood (seconds), so this is not run here:

    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> offsets = {"w_0": np.arange(6), "w_1": np.arange(6, 9)}  # tiny_model's 9 weights
    >>> zr = np.random.default_rng(0).normal(size=9)
    >>> layout = parameter_layout(tiny_model, compile_model(tiny_model.model))  # doctest: +SKIP
    >>> choice = choose_temperature(tiny_model, layout, zr, np.eye(3), offsets)  # doctest: +SKIP
    >>> choice.temperature in TEMPERATURES  # doctest: +SKIP
    True
    """
    from pymc_bnn.inference.jax_model import model_data

    X = np.asarray(model_data(bnn.model)["X"], dtype=np.float64)
    row_loglik = output_likelihood.output_loglik(bnn, offsets, pointwise=True)
    position = {int(v): i for i, v in enumerate(layout.network)}
    last_positions = np.array([position[int(v)] for v in layout.last])
    eta, V = output_marginals(bnn.spec, X, zr[layout.network], last_positions, covariance)
    elpd = cavity_loo(row_loglik, zr, eta, V, loglik=output_likelihood.output_loglik(bnn, offsets),
                      temperatures=TEMPERATURES).sum(axis=1)
    best = int(np.nanargmax(np.where(np.isfinite(elpd), elpd, -np.inf)))
    psis_elpd, k = psis_loo(row_loglik, zr, eta, V, TEMPERATURES[best])
    return LooChoice(temperatures=np.array(TEMPERATURES), elpd=elpd,
                     temperature=float(TEMPERATURES[best]), psis_elpd=psis_elpd,
                     pareto_k_max=float(np.nanmax(k, initial=-np.inf)),
                     n_high_k=int(np.sum(~(k <= PARETO_K_LIMIT))))  # nan k: weights unusable


def temper(bnn, layout, z, curvature, members, settings, offsets):
    """Each member's output-layer Gaussian with its covariance times the temperature.

    The temperature is fixed, or chosen by `choose_temperature`; `curvature` is changed in
    place.

    Parameters
    ----------
    bnn, layout, offsets
        The model, the engine's layout and the value offsets (used by "loo" only).
    z : numpy.ndarray
        `(R, D)` every restart's MAP.
    curvature : list of OutputLayerCurvature
        One per restart; the members' entries are replaced.
    members : list of int
        The restarts kept.
    settings : LaplaceSettings
        Its `temperature`: 1 (nothing to do), a number, or "loo".

    Returns
    -------
    choices : list of LooChoice
        One per member for "loo", else [].
    temperature : list of float
        One per member.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.laplace_settings import LaplaceSettings
    >>> from pymc_bnn.inference.output_layer import curvature_at
    >>> curvature = [curvature_at(np.eye(2), np.zeros(2), np.ones(2), 1.0)]
    >>> curvature[0].covariance
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> choices, temperature = temper(None, None, np.zeros((1, 2)), curvature, [0],
    ...                               LaplaceSettings(temperature=0.5), None)
    >>> choices, temperature, round(float(curvature[0].covariance[0, 0]), 6)
    ([], [0.5], 0.25)
    """
    if settings.temperature == 1.0:
        return [], [1.0] * len(members)
    choices = ([choose_temperature(bnn, layout, z[m], curvature[m].covariance, offsets)
                for m in members] if settings.temperature == "loo" else [])
    temperature = ([c.temperature for c in choices] if choices
                   else [float(settings.temperature)] * len(members))
    for m, t in zip(members, temperature, strict=True):
        c = curvature[m]
        curvature[m] = replace(c, covariance=t * c.covariance,
                               sqrt_covariance=math.sqrt(t) * c.sqrt_covariance)
    return choices, temperature


def record(choices, temperature) -> dict:
    """The laplace group's record of the temperature and, for "loo", of its choice.

    The grid, the cavity LOO at each (nats), PSIS-LOO and its largest Pareto k at the chosen
    value.

    Parameters
    ----------
    choices : list of LooChoice
        One per member, or [] for a fixed temperature.
    temperature : list of float
        One per member.

    Returns
    -------
    dict
        Variable name → (dims, values).

    Examples
    --------
    >>> record([], [1.0])
    {'temperature': (('member',), array([1.]))}
    """
    group: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        "temperature": (("member",), np.asarray(temperature, dtype=float))}
    if choices:
        group.update({
            "loo_temperature": (("loo_grid",), choices[0].temperatures),
            "loo_elpd": (("member", "loo_grid"), np.stack([c.elpd for c in choices])),
            "psis_loo_elpd": (("member",), np.array([c.psis_elpd for c in choices])),
            "pareto_k_max": (("member",), np.array([c.pareto_k_max for c in choices]))})
    return group


def summary(choice: LooChoice) -> dict:
    """The chosen member's LOO record for `Posterior.diagnostics` (nats).

    Parameters
    ----------
    choice : LooChoice

    Returns
    -------
    dict
        `elpd` (the best on the grid), `psis_elpd`, `pareto_k_max`, `high_pareto_k_rows`.

    Examples
    --------
    See `LooChoice`.

    >>> import numpy as np
    >>> summary(LooChoice(np.array([1.0]), np.array([-3.0]), 1.0, -3.1, 0.2, 0))["elpd"]
    -3.0
    """
    return {"elpd": float(np.max(choice.elpd)), "psis_elpd": choice.psis_elpd,
            "pareto_k_max": choice.pareto_k_max, "high_pareto_k_rows": choice.n_high_k}


def _standard_normal_rule(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (S, K) and log weights (S,) integrating against N(0, I_K)."""
    if K == 1:
        nodes, weights = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)
        return nodes[:, None], np.log(weights / weights.sum())
    from scipy.stats import qmc

    nodes = qmc.MultivariateNormalQMC(np.zeros(K), seed=0).random(_QMC_NODES)
    return nodes, np.full(_QMC_NODES, -np.log(_QMC_NODES))
