"""What one ADVI fit is asked (`ADVISettings`) and what it did (`Outcome`): plain records.

`vi_loop.Loop` reads the one and returns the other; `vi` fills and reports them. The noise
rule's multiple (`NOISE_MULTIPLE`) is here beside the `tol` it completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pymc_bnn.inference.windows import WindowChange

# Minibatch and streamed fits are judged by the ELBO's rise per window over the last
# `windows.TREND_WINDOWS` windows, and also stop when it is under this many of its standard
# errors (`windows.window_trend`): the ELBO then moves no more than the noise the minibatches
# put on it, which a relative `tol` cannot see (minibatch noise holds the relative change of a
# 900-row streamed regression, 128 rows a step, near 0.003, over the default tol).
NOISE_MULTIPLE = 2.0


@dataclass(frozen=True)
class ADVISettings:
    """The settings of one ADVI fit (the engine options of `advi` and `fullrank_advi`).

    Parameters
    ----------
    steps : int
        Maximum optimisation steps.
    learning_rate : float
        Adam's step size (`fit` defaults it per family: `DEFAULT_LEARNING_RATE`).
    restarts : int or None
        Independent starts raced for `screen_steps` steps, the best run on; None picks 4 for
        small models, else 1 (5 with `ensemble`).
    tol : float
        Stop when the mean ELBO of the last `window` steps differs from the window before by
        less than tol (relative to the ELBO's size: its absolute value, or, where the
        log-likelihood ℓ at q's mean is above 0, ℓ + KL, since a close regression fit's ELBO,
        ℓ − KL, can sit near 0 where no change is small relative to it); 0 runs all `steps`.
        A minibatch or streamed fit, whose window means are noisy, is judged by the ELBO's rise
        per window fitted over the last 4 windows instead: it stops when that is under tol
        (relative) or under `NOISE_MULTIPLE` standard errors of itself, estimated from the
        steps of those windows (`windows.window_trend`, `windows.WindowChange.settled`).
    window : int
        Steps per window of the convergence test.
    minibatch_size : int or None
        Rows of data per step (None: all rows).
    mc_samples : int
        Draws of q per ELBO estimate.
    chunk_steps : int
        Steps per compiled chunk; progress, convergence and Ctrl-C act between chunks.
    init_sd : float
        Starting sd of q on the unconstrained space.
    screen_steps : int
        Steps the restarts race before all but the best stop.
    ensemble : bool
        Keep every restart, each run to the end (no race), as an equally weighted member of a
        mixture of Gaussians, one chain each: multi-mode VI.
    data_devices : int
        JAX devices each step's rows are split over (data parallel, see `vi_devices`).
        1 (the default) keeps a step on one device: on CPU the "devices" are the machine's
        cores, which one device's XLA threads already use, and the split pays where a step's
        rows are many and the devices are accelerators.
    dtype : {"float64", "float32"}
        The float type of the loop: q's parameters, the optimiser, the data and the ELBO.
        "float32" runs several times faster on CPU and is what accelerators are fast at
        (NumPyro's default); the ELBO's rounding (~1e-7 relative) is then far below its Monte
        Carlo noise. The default, float64, gives the results of earlier releases.

    Examples
    --------
    >>> from pymc_bnn.inference.vi import ADVISettings
    >>> ADVISettings(steps=500).window
    1000
    """

    steps: int = 30_000
    learning_rate: float = 0.01
    restarts: int | None = None
    tol: float = 1e-3
    window: int = 1000
    minibatch_size: int | None = None
    mc_samples: int = 1
    chunk_steps: int = 500
    init_sd: float = 0.1
    screen_steps: int = 1000
    ensemble: bool = False
    data_devices: int = 1
    dtype: str = "float64"


@dataclass(frozen=True)
class Outcome:
    """What `Loop.optimise` did: a plain record, built once.

    Attributes
    ----------
    state : dict
        The loop's state at the end (every leaf (restarts, ...)).
    history : ndarray (steps_run, restarts)
        The ELBO estimate of every step, nats.
    steps_run : int
    converged, interrupted : bool
        Stopped by the convergence test; stopped by Ctrl-C (or a callback's KeyboardInterrupt).
    relative_change : float
        Of the best restart's mean ELBO, last window against the one before (inf: too few
        steps).
    window_change : WindowChange or None
        Those two means, the relative change, and the trend with its standard error (None:
        too few steps).
    stopped_by : {"tol", "trend_tol", "noise"} or None
        Which rule stopped it (`windows.WindowChange.settled`): the relative change under
        `tol` (full batch; taken against the ELBO's size where the log-likelihood is above 0,
        `WindowChange.size`); for minibatch and streamed fits the trend under `tol` × the last
        mean, or within `NOISE_MULTIPLE` standard errors; None when not converged.
    best_restart : int
        The restart with the highest mean ELBO over the last window.
    final_elbos : list of float
        That mean for every restart.
    compile_s, fit_s : float
        Seconds compiling (0 when cached) and optimising.
    devices : int
        Devices the restarts were split over.
    data_devices : int
        Devices each step's rows were split over.

    Examples
    --------
    `Loop.optimise` returns one (see `Loop`); a record of two restarts that converged:

    >>> import numpy as np
    >>> outcome = Outcome(state={}, history=np.array([[-9.0, -8.0], [-5.0, -6.0]]),
    ...                   steps_run=2, converged=True, interrupted=False,
    ...                   relative_change=1e-4, best_restart=0, final_elbos=[-5.0, -6.0])
    >>> outcome.history[:, outcome.best_restart].tolist()
    [-9.0, -5.0]
    """

    state: dict
    history: np.ndarray
    steps_run: int
    converged: bool
    interrupted: bool
    relative_change: float
    best_restart: int
    final_elbos: list = field(default_factory=list)
    window_change: WindowChange | None = None
    stopped_by: str | None = None
    compile_s: float = 0.0
    fit_s: float = 0.0
    devices: int = 1
    data_devices: int = 1
