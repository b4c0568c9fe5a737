"""The laplace engine's first stage: the MAP network, its objective and its prior scale.

`laplace` minimises the negative log joint (the model's own log-density with the network's Normal
prior swapped for one at scale s = 1/sqrt(alpha)) by Adam in `map_loop`, full batch up to
`FULL_BATCH_ROWS` rows and on `BATCH` random rows per step above that. `held_out_scale` chooses
s on held-out rows first where `map_scale="holdout"` asks for it (`map_scale`). The curvature,
the prior precision's evidence and the draws are `laplace`'s later stages.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import map_loop, map_scale
from pymc_bnn.inference.flat_network import unflatten
from pymc_bnn.inference.jax_model import compile_model, model_data
from pymc_bnn.inference.laplace_settings import LaplaceSettings
from pymc_bnn.model.network import forward, hidden_activations

# minibatch_size=None: full-batch MAP steps up to this many rows, else minibatches of BATCH.
FULL_BATCH_ROWS = 4096
BATCH = 1024
# A MAP whose last hidden layer varies by less than this over the rows (every unit's standard
# deviation, in the activation's own units) feeds its output layer a constant: it predicts
# the same for every row. Adam reaches the all-zero point of a tanh network to about 1e-13.
CONSTANT_SPREAD = 1e-4
# A regression MAP with at least as many parameters as rows interpolates them when its training
# RMSE is below this share of the target's sd (`interpolation_at_map`); the likelihoods that
# learn a noise scale, which shrinks with the residuals there.
INTERPOLATION_SHARE = 0.1
LEARNED_NOISE = ("gaussian", "student_t", "heteroscedastic")


def steps_batch(minibatch_size: int | None, n_rows: int) -> int | None:
    """Rows per MAP step for `n_rows` rows: None is the full batch.

    The asked `minibatch_size`, or `BATCH` above `FULL_BATCH_ROWS` rows; a batch of every row
    or more is the full batch.

    Examples
    --------
    >>> steps_batch(None, 500), steps_batch(None, 10_000), steps_batch(256, 10_000)
    (None, 1024, 256)
    >>> steps_batch(600, 500) is None
    True
    """
    batch = minibatch_size
    if batch is None and n_rows > FULL_BATCH_ROWS:
        batch = BATCH
    if batch is not None and batch >= n_rows:
        batch = None
    return batch


# (steps, window, chunk_steps) when not given: an L-BFGS iteration does the work of about ten
# Adam steps, so its window and chunks are a tenth as long (progress and Ctrl-C come as often).
_DEFAULT_STEPS = {"adam": (10_000, 200, 250), "lbfgs": (2_000, 20, 50)}


def map_plan(settings: LaplaceSettings, batch: int | None) -> tuple[str, int, int, int]:
    """(optimiser, steps, window, chunk_steps) of a MAP fit whose steps see `batch` rows.

    Parameters
    ----------
    settings : LaplaceSettings
    batch : int or None
        Rows per step (`steps_batch`); None: every row.

    Returns
    -------
    tuple
        "adam" or "lbfgs", and the most steps, the window and the chunk, in its steps.

    Raises
    ------
    InvalidSettingError
        map_optimizer="lbfgs" with minibatches.

    Examples
    --------
    >>> map_plan(LaplaceSettings(), None), map_plan(LaplaceSettings(map_optimizer="lbfgs"), None)
    (('adam', 10000, 200, 250), ('lbfgs', 2000, 20, 50))
    >>> lbfgs = LaplaceSettings(map_optimizer="lbfgs", window=50)
    >>> map_plan(lbfgs, None), map_plan(LaplaceSettings(steps=500), 256)
    (('lbfgs', 2000, 50, 50), ('adam', 500, 200, 250))
    >>> map_plan(LaplaceSettings(map_optimizer="lbfgs", minibatch_size=256), 256)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: map_optimizer='lbfgs' needs every row at every step, ...
    """
    name = settings.map_optimizer
    if name == "lbfgs" and batch is not None:
        raise InvalidSettingError(
            f"map_optimizer='lbfgs' needs every row at every step, but this fit takes {batch} rows "
            f"per step; leave minibatch_size out (tables up to {FULL_BATCH_ROWS:,} rows), give "
            "minibatch_size at least the number of rows, or use map_optimizer='adam'")
    given = (settings.steps, settings.window, settings.chunk_steps)
    steps, window, chunk = (default if value is None else value
                            for value, default in zip(given, _DEFAULT_STEPS[name], strict=True))
    return name, steps, window, chunk


def _minibatch(data: tuple, batched: tuple, rows_key, step, batch: int, n_rows: int) -> tuple:
    """`batch` rows of `data` drawn uniformly with replacement from its `n_rows`, for `step`.

    The same key and step give the same rows, so a compiled loop is reproducible; entries of
    `data` that are not per-row (`batched` False) pass unchanged.
    """
    import jax

    rows = jax.random.randint(jax.random.fold_in(rows_key, step), (batch,), 0, n_rows)
    return tuple(x[rows] if b else x for x, b in zip(data, batched, strict=True))


# A stacked fit (the estimators' default on small binary and Gaussian tables) alternates two
# structures, each at its full fit's and its folds' padded row counts: four, and room for more.
@lru_cache(maxsize=8)
def log_joint(loglik, prior_logp, network: tuple, base: tuple, model_precision: tuple):
    """(prior_swap, negative_log_joint) of one model structure, the same functions every fit.

    They hold no data (it is their argument), so the programs compiled from them
    (`refine_output_layer`'s) serve every later fit of the same structure.

    Parameters
    ----------
    loglik, prior_logp : callable
        The compiled model's `(z, data) -> float` log-likelihood and prior log-density.
    network : tuple of int
        Indices in z of the network's parameters.
    base : tuple of float
        Their base prior precision B (the fan-in factor): the prior is Normal(0, 1/sqrt(a·B)).
    model_precision : tuple of float
        Their precision under the model's own prior (swapped out).

    Returns
    -------
    prior_swap : callable
        `(z, a) -> float`, the log-density of the network prior at precision factor a minus
        the model's own, up to constants.
    negative_log_joint : callable
        `(z, a, data) -> float`.

    Examples
    --------
    >>> import numpy as np
    >>> swap, _ = log_joint(None, None, (0, 1), (1.0, 1.0), (1.0, 1.0))
    >>> float(swap(np.array([1.0, 2.0, 5.0]), 2.0))  # (1 - 2)/2 · (1 + 4)
    -2.5
    """
    import jax.numpy as jnp

    network_ = jnp.asarray(network, dtype=int)
    base_, model_precision_ = jnp.asarray(base), jnp.asarray(model_precision)

    def prior_swap(zv, a):
        theta = zv[network_]
        return 0.5 * jnp.sum((model_precision_ - a * base_) * theta**2)

    def negative_log_joint(zv, a, d):
        return -(loglik(zv, d) + prior_logp(zv, d) + prior_swap(zv, a))

    return prior_swap, negative_log_joint


def constant_maps(spec, X, thetas) -> np.ndarray:
    """Which MAPs are constant functions: the network at the all-zero point of its weights.

    At a tight prior scale a tanh network's MAP can fall to zero weights (a point the
    gradients of every layer vanish at), where the output layer sees the same hidden values on
    every row and predicts one value for all of them, whatever the features say. A MAP counts
    as constant when every unit of its last hidden layer varies by less than `CONSTANT_SPREAD`
    over the rows. A network with a skip path (`skip=True`) or no hidden layer is never
    constant here: its linear part still sees the features.

    Parameters
    ----------
    spec : NetworkSpec
    X : numpy.ndarray
        `(n_obs, n_inputs)` the rows, as the model takes them.
    thetas : numpy.ndarray
        `(k, P)` the network's parameters of k MAPs, in `flat_network.network_shapes` order.

    Returns
    -------
    numpy.ndarray
        `(k,)` bool.

    Examples
    --------
    >>> from pymc_bnn.model.network import NetworkSpec
    >>> spec = NetworkSpec(n_inputs=2, hidden=(3,), n_outputs=1, bias=True)
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> thetas = np.stack([np.full(13, 0.5), np.zeros(13)])
    >>> constant_maps(spec, X, thetas).tolist()
    [False, True]
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    if spec.skip or not spec.hidden or len(X) < 2:
        return np.zeros(len(thetas), dtype=bool)
    X = np.asarray(X, dtype=np.float64)
    spread = [np.max(np.std(hidden_activations(spec, X, *unflatten(spec, theta))[-1], axis=0))
              for theta in thetas]
    return np.asarray(spread) < CONSTANT_SPREAD


def interpolation_at_map(bnn, theta) -> dict | None:
    """Whether a regression MAP interpolates its training rows, and by how much.

    With at least as many network parameters as rows, a MAP whose likelihood learns its own
    noise scale (Gaussian, Student-t, heteroscedastic) can fit every row: the noise sd shrinks
    with the residuals (the likelihood grows without bound as it goes to 0), the loss keeps
    falling to the step limit, and the intervals are far too narrow (40 rows of 60 features,
    (8,) units: noise sd 0.03 for a noise of 0.5, 90% intervals covering 3% of new rows). It
    interpolates when its training RMSE is below `INTERPOLATION_SHARE` of the target's sd
    (both on the likelihood's scale, so the share is the user's too).

    Parameters
    ----------
    bnn : BNNModel
        The model, with its rows.
    theta : numpy.ndarray
        `(P,)` the network's parameters at the MAP, in `flat_network.network_shapes` order.

    Returns
    -------
    dict or None
        {"rows", "parameters", "rmse_share"} where it interpolates, else None (also for other
        likelihoods and for fewer parameters than rows).

    Examples
    --------
    >>> from pymc_bnn import build_model
    >>> X = np.random.default_rng(0).normal(size=(6, 3))
    >>> bnn = build_model(X, X[:, 0], hidden=(4,), likelihood="gaussian")
    >>> from pymc_bnn.inference.flat_network import network_shapes
    >>> n_parameters = sum(int(np.prod(shape)) for shape in network_shapes(bnn.spec))
    >>> interpolation_at_map(bnn, np.zeros(n_parameters)) is None  # all zero: the mean
    True
    """
    if getattr(bnn.likelihood, "name", None) not in LEARNED_NOISE:
        return None
    data = model_data(bnn.model)
    y = np.asarray(data["y_data"], dtype=np.float64)
    parameters = int(np.asarray(theta).size)
    if parameters < y.size or not np.std(y) > 0:
        return None
    location = forward(bnn.spec, np.asarray(data["X"], dtype=np.float64),
                       *unflatten(bnn.spec, np.asarray(theta, dtype=np.float64)))[:, 0]
    share = float(np.sqrt(np.mean((location - y) ** 2)) / np.std(y))
    if share >= INTERPOLATION_SHARE:
        return None
    return {"rows": int(y.size), "parameters": parameters, "rmse_share": share}


def map_objective(bnn, compiled, data, n_obs, batch, prior_swap, negative_log_joint, seed):
    """(objective(z, a, data, step), its data): the MAP's loss on the `n_obs` rows `data` holds.

    `compiled` is compiled for exactly these rows. With `batch` rows per step the likelihood
    is an unbiased estimate (`batch` random rows scaled by n/batch); the rows' random key
    travels with the data, so one compiled loop serves every seed.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> compiled = compile_model(tiny_model.model)
    >>> layout = parameter_layout(tiny_model, compiled)
    >>> data = tuple(data_arguments(compiled, tiny_model.model))
    >>> swap, loss = log_joint(compiled.loglik, compiled.prior_logp, *(
    ...     tuple(np.asarray(v).tolist()) for v in (layout.network, layout.base_precision,
    ...                                             layout.model_precision)))
    >>> z = random_starts(compiled, layout, 1, np.random.default_rng(0))[0]
    >>> objective, same = map_objective(tiny_model, compiled, data, compiled.n_obs, None, swap,
    ...                                 loss, seed=0)
    >>> bool(np.isclose(objective(z, 1.0, same, 0), loss(z, 1.0, data)))  # full batch
    True
    >>> objective, with_key = map_objective(tiny_model, compiled, data, compiled.n_obs, 4, swap,
    ...                                     loss, seed=0)
    >>> len(with_key) == len(data) + 1  # the rows' random key travels with the data
    True
    """
    import jax

    if batch is None:
        def full_objective(zv, a, d, step):
            return negative_log_joint(zv, a, d)
        return full_objective, data
    batched = compile_model(bnn.model, batch_size=int(batch))

    def minibatch_objective(zv, a, d, step):
        *d, rows_key = d
        part = _minibatch(tuple(d), batched.batched, rows_key, step, batch, n_obs)
        return -(n_obs / batch * batched.loglik(zv, part) + batched.prior_logp(zv, part)
                 + prior_swap(zv, a))
    return minibatch_objective, (*data, jax.random.PRNGKey(seed))


def held_out_scale(bnn, compiled, layout, data, settings, prior_swap, seed, progress,
                   callback):
    """The MAP's prior scale chosen on held-out rows (`map_scale`), and the fits behind it.

    Every candidate's MAP is fitted on the same rows in one vectorised loop, for at most
    `map_scale.HELD_OUT_STEPS` steps. The rows' log-likelihood is the one-row model mapped
    over them, so no model is compiled for the subset's size.

    Returns (ScaleChoice, MapOutcome), or (None, None) when there are too few rows to hold
    any out.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn import build_model
    >>> from pymc_bnn.inference.jax_model import compile_model, data_arguments
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> from pymc_bnn.inference.laplace_settings import LaplaceSettings
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 1))
    >>> bnn = build_model(X, np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=60), hidden=(8,),
    ...                   likelihood="gaussian")
    >>> compiled = compile_model(bnn.model)
    >>> layout = parameter_layout(bnn, compiled)
    >>> swap, _ = log_joint(compiled.loglik, compiled.prior_logp, *(
    ...     tuple(np.asarray(v).tolist()) for v in (layout.network, layout.base_precision,
    ...                                             layout.model_precision)))
    >>> choice, outcome = held_out_scale(bnn, compiled, layout,
    ...                                  tuple(data_arguments(compiled, bnn.model)),
    ...                                  LaplaceSettings(steps=300), swap, 0, False, None)
    >>> choice.held_out_rows, outcome.z.shape == (5, compiled.size)  # one MAP per candidate
    (12, True)
    >>> choice.scale in choice.scales
    True
    """
    import jax
    import jax.numpy as jnp

    copies = map_scale.row_copies(data, compiled.batched, compiled.n_obs)
    split = map_scale.held_out_rows(compiled.n_obs, seed, copies)
    if split is None:
        return None, None
    fit_rows, scored_rows = split
    n_fit = fit_rows.size
    one_row = compile_model(bnn.model, batch_size=1)
    axes = tuple(0 if b else None for b in one_row.batched)
    row_loglik = jax.vmap(one_row.loglik, in_axes=(None, axes))
    rows_data = map_scale.rows_data(one_row, data, fit_rows)
    batch = steps_batch(settings.minibatch_size, n_fit)
    k = len(data)

    def objective(zv, a, d, step):  # d: the fit rows' data, every row's data, a random key
        rows, every_row, rows_key = d[:k], d[k:2 * k], d[2 * k]
        if batch is not None:  # `batch` random rows, scaled by n/batch: unbiased
            rows = _minibatch(rows, one_row.batched, rows_key, step, batch, n_fit)
        loglik = jnp.sum(row_loglik(zv, rows)) * (n_fit / (batch or n_fit))
        return -(loglik + compiled.prior_logp(zv, every_row) + prior_swap(zv, a))

    # Adam whatever `map_optimizer` says: the candidates fit together and some never settle, where
    # L-BFGS's line search would hold every candidate back (LaplaceSettings.map_optimizer)
    _, steps, window, chunk_steps = map_plan(dataclasses.replace(settings, map_optimizer="adam"),
                                             batch)
    scales = map_scale.CANDIDATE_SCALES
    z0 = random_starts(compiled, layout, len(scales), np.random.default_rng([seed, 16]))
    outcome = map_loop.minimise(
        objective, z0, np.array([1.0 / s**2 for s in scales]),
        (*rows_data, *data, jax.random.PRNGKey(seed)),
        cache_key=("laplace-held-out", compiled.key, tuple(layout.network),
                   float(bnn.prior.sigma), batch, n_fit if batch else None),
        steps=min(steps, map_scale.HELD_OUT_STEPS),
        learning_rate=settings.learning_rate, tol=settings.tol, window=window,
        chunk_steps=chunk_steps, progress=progress, n_obs=n_fit, callback=callback,
        title="[bold]Laplace[/] · prior scale on held-out rows")
    row_losses = -map_scale.pointwise_loglik(one_row, data, scored_rows, outcome.z)
    constant = constant_maps(bnn.spec, np.asarray(model_data(bnn.model)["X"])[fit_rows],
                             np.asarray(outcome.z)[:, layout.network])
    index, mean, se = map_scale.one_standard_error_choice(scales, row_losses, constant)
    choice = map_scale.ScaleChoice(
        scale=float(scales[index]), scales=tuple(float(s) for s in scales),
        held_out_loss=tuple(float(m) for m in mean), standard_error=tuple(float(e) for e in se),
        held_out_rows=int(scored_rows.size), interrupted=outcome.interrupted,
        constant=tuple(bool(c) for c in constant))
    return choice, outcome


def random_starts(compiled, layout, n, rng) -> np.ndarray:
    """`(n, D)` starting points, the network's parameters drawn at the fan-in (LeCun) scale.

    Away from the all-zero saddle of tanh networks; the other variables at the model's
    initial point.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.laplace_layout import parameter_layout
    >>> compiled = compile_model(tiny_model.model)
    >>> layout = parameter_layout(tiny_model, compiled)
    >>> z = random_starts(compiled, layout, 3, np.random.default_rng(0))
    >>> z.shape == (3, compiled.size), bool(np.all(z[0] != z[1]))
    (True, True)
    """
    z = np.tile(compiled.initial_point, (n, 1))
    z[:, layout.network] = rng.normal(size=(n, layout.network.size)) / np.sqrt(
        np.where(layout.base_precision > 1, layout.base_precision, 1.0))
    return z


__all__ = ["BATCH", "FULL_BATCH_ROWS", "held_out_scale", "log_joint", "map_objective",
           "random_starts", "steps_batch"]
