"""Where ADVI starts: q's mean and sd for each restart, from the prior or from a previous fit."""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidSettingError

_PRIOR_DRAWS: dict = {}


def starting_point(compiled, model, init, restarts: int, init_sd: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Means (restarts, D) and sds (restarts, D) of q for each restart.

    Without `init`: each restart starts at a draw from the prior (so wide layers start at their
    prior scale, and a tanh network starts away from the all-zero saddle) with sd `init_sd`.
    With `init`: the previous fit's q (or its draws' mean and sd), for every restart.

    Parameters
    ----------
    compiled : CompiledModel
        `jax_model.compile_model(model)`.
    model : pm.Model
    init : Posterior or EngineResult, optional
        A previous fit of the same model structure.
    restarts : int
    init_sd : float
        The sd of every coordinate of a fresh start.
    rng : numpy.random.Generator
        Seeds the prior draws.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.vi_start import starting_point
    >>> with pm.Model() as model:
    ...     _ = pm.Normal("theta", 0.0, 1.0, shape=3)
    >>> mu, sd = starting_point(compile_model(model), model, None, 2, 0.1,
    ...                         np.random.default_rng(0))
    >>> mu.shape, sd.tolist()[0]
    ((2, 3), [0.1, 0.1, 0.1])
    """
    if init is not None:
        mu, sd = posterior_moments(compiled, init)
        return np.tile(mu, (restarts, 1)), np.tile(sd, (restarts, 1))
    draw = _prior_draw_function(compiled, model)
    seeds = rng.integers(0, 2**31 - 1, size=restarts)
    mu = np.stack([compiled.ravel(draw(int(s))) for s in seeds])
    return mu, np.full_like(mu, init_sd)


def _prior_draw_function(compiled, model):
    """Seed -> one prior draw of every value variable (cached per model structure)."""
    if compiled.key not in _PRIOR_DRAWS:
        from pymc.initial_point import make_initial_point_fn

        _PRIOR_DRAWS[compiled.key] = make_initial_point_fn(
            model=model, default_strategy="prior", jitter_rvs=set())
    return _PRIOR_DRAWS[compiled.key]


def posterior_moments(compiled, init) -> tuple[np.ndarray, np.ndarray]:
    """Flat mean and sd (D,) of a previous fit's q on the unconstrained space.

    From its `variational` group when it has one, else from the posterior draws of each
    variable. `init` is a `Posterior` or an `EngineResult` (anything with `idata`) of the same
    model structure; InvalidSettingError names a variable it lacks or a size that differs.

    Examples
    --------
    >>> from pymc_bnn.inference.jax_model import compile_model
    >>> from pymc_bnn.inference.vi_start import posterior_moments
    >>> compiled = compile_model(tiny_model.model)
    >>> mean, sd = posterior_moments(compiled, fitted)  # fitted: an ADVI fit of tiny_model
    >>> mean.shape, bool((sd > 0).all())  # 2·3 + 3·1 weights
    ((9,), True)
    """
    idata = init.idata
    groups = set(getattr(idata, "children", {}))
    mu, sd = [], []
    for name, shape in zip(compiled.value_names, compiled.value_shapes, strict=False):
        size = int(np.prod(shape))
        if "variational" in groups and f"{name}__mean" in idata["variational"]:
            mu.append(np.asarray(idata["variational"][f"{name}__mean"].values).reshape(-1))
            sd.append(np.asarray(idata["variational"][f"{name}__sd"].values).reshape(-1))
        elif name in idata["posterior"]:
            values = np.asarray(idata["posterior"][name].values).reshape(-1, size)
            mu.append(values.mean(axis=0))
            sd.append(values.std(axis=0) + 1e-6)
        else:
            raise InvalidSettingError(
                f"init= has no variable {name!r}: warm starts need a posterior of the same "
                "model structure; refit from scratch (init=None)")
        if mu[-1].size != size:
            raise InvalidSettingError(
                f"init= has {name!r} with {mu[-1].size} values but this model needs {size}: "
                "warm starts need the same architecture; refit from scratch (init=None)")
    return np.concatenate(mu), np.concatenate(sd)
