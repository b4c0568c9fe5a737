"""The `laplace` engine's options: `LaplaceSettings`, each documented, and their check."""

from __future__ import annotations

from dataclasses import dataclass

from pymc_bnn.inference.options import check_engine_options


@dataclass(frozen=True)
class LaplaceSettings:
    """Options of the `laplace` engine.

    Parameters
    ----------
    map_optimizer : "adam" or "lbfgs"
        The MAP's optimiser. "adam" (default): Adam, on every row or on minibatches.
        "lbfgs": L-BFGS with a zoom line search (`optax.lbfgs`), every row at every iteration
        (up to 4,096 rows unless `minibatch_size` covers them all); it reaches the MAP in a
        tenth of Adam's steps, but not the better predictions: on the panel its MAPs took
        0.2–0.9 of Adam's seconds (whole fits 0.5–1.0) and won 23 (data set, split) pairs to
        Adam's 25, losing two on digits, where Adam's unsettled last steps overfit less than
        the exact MAP (benchmarks/README.md, "L-BFGS for the MAP"). The held-out search of
        `map_scale="holdout"` always runs Adam: its candidates fit together and some never
        settle (a noise sd that shrinks without end), where L-BFGS's line search would hold
        every candidate back.
    steps : int or None
        Maximum steps (Adam updates or L-BFGS iterations) for the first MAP fit (later rounds
        get half). None (default): 10,000 Adam steps, or 2,000 L-BFGS iterations (the panel's
        MAPs converge in 200–350; a network that interpolates its rows would otherwise follow
        its noise sd towards 0 for 10,000).
    learning_rate : float
        Adam's step size. Default 0.01 (inputs and targets are standardised). L-BFGS takes its
        step from its line search: to tune the step size, ask for `map_optimizer="adam"`.
    tol : float
        Stop a MAP fit when the mean loss over `window` steps changes by less than this many
        nats per observation from the window before. Default 1e-5.
    window : int or None
        Steps per convergence window. None (default): 200 Adam steps, or 20 L-BFGS iterations.
    restarts : int or None
        Random starts; None: 4 for small networks (parameters × rows ≤ 200,000), else 1 (and
        1 for a network without hidden layers, whose log posterior has one mode); with
        `ensemble`, 5. With `map_scale="holdout"` the first start is the chosen candidate's
        MAP and None means that start alone.
    prior_scale : "marglik" or float
        "marglik" (default): the MAP is fitted with prior scale `map_scale`, and the output
        layer's prior precision is then chosen by its marginal likelihood (post hoc, as
        laplace-torch's `optimize_prior_precision` does); for a network without hidden layers
        (a GLM, where the output layer is the whole network) MAP and precision alternate
        (`rounds`) to the exact evidence maximum. A number fixes s for both. Either way this
        replaces the model's own Normal scale: weights Normal(0, s/sqrt(fan_in)), biases
        Normal(0, s).
    map_scale : float, "holdout" or None
        The prior scale s of the MAP fit under "marglik". None (default): the model's own
        prior's sigma. "holdout": the scale among `map_scale.CANDIDATE_SCALES` whose MAP,
        fitted on 80% of the rows, predicts the other 20% best (the smallest within one
        standard error of the best, passing over a MAP fallen to the constant function of
        all-zero weights where another scale within reach uses the features), then the MAP on
        every row at that scale; the estimators'
        regressors use it (`pymc_bnn.sklearn.LAPLACE_REGRESSION_OPTIONS`); the classifiers
        build their networks with sigma = 4 (`pymc_bnn.sklearn.LAPLACE_PRIOR`): under a narrow
        prior the MAP of a tanh network can settle in a nearly linear function. The output
        layer's evidence alone cannot choose the hidden layers' scale: re-fitting at its
        choice drives s up without bound, because it sees no Occam factor for the hidden
        weights.
    rounds : int
        Maximum MAP / marginal-likelihood rounds for a network without hidden layers; they stop
        once s moves by less than 0.1%. Default 10.
    ensemble : bool
        Keep every restart as an equally weighted member (one chain each). Default False: the
        restart with the highest marginal likelihood.
    newton_steps : int
        Newton steps on the output layer after each MAP fit. Default 5.
    minibatch_size : int or None
        Rows per Adam step of the MAP fit. None (default): every row up to 4,096 rows, else
        1,024 (a full-batch step on 10,000 rows costs ten times as much and the MAP needs as
        many steps). The Newton steps, the curvature and the marginal likelihood always use
        every row.
    chunk_steps : int or None
        Steps per compiled chunk (progress and Ctrl-C act between chunks). None (default): 250
        Adam steps, or 50 L-BFGS iterations.
    hessian : "last_layer", "full" or "auto"
        Which parameters get the Gaussian. "last_layer" (default): the output layer, the
        hidden layers fixed at the MAP. "full": every weight and bias, from the whole
        network's generalised Gauss-Newton matrix (`ggn`); its evidence sees every
        parameter, so MAP and prior scale alternate (`rounds`), and predictions go through
        the network linearised at the MAP. "auto": "full" up to 5,000 parameters where the
        GGN has at most 2,000 non-zero eigenvalues, else "last_layer".
    output_layer : "auto", "gaussian" or "sampled"
        How the output layer's draws are made (last-layer only). "gaussian": from the Laplace
        Gaussian. "sampled": from the output layer's exact posterior given the hidden layers
        at the MAP, by NUTS whitened by the Laplace Gaussian (`output_sampler`): a classifier's
        likelihood there is one-sided (rows classified with near certainty bound the posterior
        but add no curvature), so the Gaussian spreads mass where the data rule it out and
        under-states the predictive's confidence. "auto" (default): "sampled" for the
        categorical likelihood (several classes), "gaussian" for the rest: for a Gaussian
        likelihood the Gaussian is the exact posterior, and for the Bernoulli one the
        evidence's prior scale is still too wide for exact draws (the training rows are
        separable in the MAP's hidden units, so the output layer's evidence keeps rising with
        the scale) and the Gaussian's extra spread happens to offset it (benchmarks/README.md).
    temperature : "loo" or float
        The output layer's covariance is multiplied by this (its log posterior divided by it
        where the output layer is sampled) (a cold posterior below 1). 1
        (default): the Laplace posterior as it is. "loo": the value on a grid from 0.01 to 4
        with the best leave-one-out log predictive density of the training rows
        (`pymc_bnn.inference.loo`: where the classes are nearly separable, the evidence's prior
        leaves the predictive far wider than the held-out data want; but the rows also
        shaped the hidden layers, so it leans cold: README, defaults). Last-layer only.
    noise_sd : "map" or "evidence"
        The Gaussian likelihood's noise sd. "map" (default): the MAP's, which divides the
        residual sum of squares by every row and so comes out too small where the network
        follows the rows (towards 0 where it interpolates them). "evidence": MacKay's
        σ² = RSS / (n − γ) at the MAP, γ the parameters the data determine (from the whole
        network's GGN; `noise_sd`), then the output layer again at it; the estimators'
        regressors use it. Networks too large for the whole GGN (over 5,000 parameters, or a
        rank over 2,000) keep the MAP's. Last-layer only.

    Examples
    --------
    >>> settings = LaplaceSettings(hessian="full", restarts=2)
    >>> settings.prior_scale, settings.steps, settings.temperature
    ('marglik', None, 1.0)

    `settings_from_options` makes one from `fit`'s options, checked; `laplace_map.map_plan`
    resolves the optimiser's steps, window and chunk.
    """

    steps: int | None = None
    learning_rate: float = 0.01
    tol: float = 1e-5
    window: int | None = None
    restarts: int | None = None
    prior_scale: str | float = "marglik"
    map_scale: float | str | None = None
    rounds: int = 10
    ensemble: bool = False
    newton_steps: int = 5
    chunk_steps: int | None = None
    minibatch_size: int | None = None
    hessian: str = "last_layer"
    output_layer: str = "auto"
    temperature: str | float = 1.0
    noise_sd: str = "map"
    map_optimizer: str = "adam"


def settings_from_options(options: dict) -> LaplaceSettings:
    """`LaplaceSettings` from engine options, each checked where every engine's options are.

    The checks are `pymc_bnn.inference.options`', so `run` called directly refuses what `fit`
    refuses.

    Parameters
    ----------
    options : dict
        Option name → value (the fields of `LaplaceSettings`, and `callback`, which is dropped).

    Returns
    -------
    LaplaceSettings

    Raises
    ------
    InvalidSettingError
        An unknown option or a bad value.

    Examples
    --------
    >>> settings = settings_from_options({"steps": 2000.0, "temperature": "loo"})
    >>> settings.steps, settings.temperature, settings.hessian
    (2000, 'loo', 'last_layer')
    >>> settings_from_options({"temperature": "cold"})
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: temperature must be 'loo' or a positive number, ...
    """
    checked = check_engine_options("laplace", options)
    checked.pop("callback", None)  # an argument of run, not a setting
    return LaplaceSettings(**checked)
