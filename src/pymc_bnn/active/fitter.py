"""How each active-learning round fits: `BNNFitter`, a network and an engine, checked when made.

The loop calls its fitter once per round, after a person has labelled that round's points, so
every setting is checked when the fitter is made (`_check_fitter`), not in the first fit.
`pad_to` appends all-zero rows so every round's data has one shape and the engine reuses its
compiled code; it is refused (`_check_neutral_padding`) for networks in which such rows would
change the posterior (biases, an activation that does not map 0 to 0, a regression
likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.validation import whole_number

if TYPE_CHECKING:
    from pymc_bnn.model.likelihoods import Likelihood
    from pymc_bnn.model.priors import Prior


@dataclass(frozen=True)
class BNNFitter:
    """How each round fits: a `build_model` network and an inference engine with its options.

    Called as `fitter(X, y, init=previous_posterior, random_seed=...)`. With `warm_start` the
    previous round's posterior goes to the engine's `init=` option, so a round starts where the
    last ended (the engine must support `init`, as "advi" does). Defaults: the seed's 2→5→5→1
    tanh network with the library's default prior, the default engine, 200 draws (enough for
    stable entropy/BALD ranks at a fraction of the prediction cost of thousands).

    Parameters
    ----------
    hidden, activation, bias, prior, likelihood
        The network and model, as for `build_model`.
    method : str, optional
        The engine (a key of `pymc_bnn.inference.ENGINES`); default `DEFAULT_METHOD`.
    draws : int, default 200
        Posterior draws per round.
    options : dict, optional
        The engine's own options, e.g. ``{"steps": 2000}``.
    warm_start : bool, default False
        Start each round's engine from the previous round's posterior. Off by default: on a few
        dozen labels the mean-field posterior of a small tanh network sits near the prior, at
        the network's saddle, and a round started there can stay there (held-out accuracy
        0.19 at 30 labels on two moons, where a cold fit gets 0.83; docs/design.md).
    pad_to : int, optional
        Append all-zero input rows up to this many rows, so every round's data has one
        shape and the engine reuses its compiled code instead of compiling once per round
        (each compile costs seconds, a fit a fraction of one). Exact, not an approximation: in
        a network without biases whose activation maps 0 to 0 (tanh, relu, gelu, identity), a
        zero row gives output 0 under every weight, so a classifier gives it probability 1/K
        whatever its label: a constant likelihood term with zero gradient, which leaves the
        posterior unchanged (the ELBO shifts by a constant). Other networks raise
        `InvalidSettingError`.

    Raises
    ------
    InvalidSettingError
        When the fitter is made, not in the loop's first fit after a person has labelled the
        first points: an unknown method, activation or likelihood, `draws` below 1, an engine
        option the engine does not take or a bad value of one, `pad_to` on a network it would
        change. `run_active_learning` also refuses a likelihood that is not a classifier's.

    Examples
    --------
    >>> fitter = BNNFitter(hidden=(3,), draws=50, options={"steps": 500}, pad_to=40)
    >>> fitter.hidden, fitter.warm_start
    ((3,), False)
    >>> BNNFitter(bias=True, pad_to=40)
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: pad_to only leaves the posterior unchanged ...

    `fitter(X, y, init=None, random_seed=0)` then returns a fitted `Posterior`.
    """

    hidden: tuple[int, ...] = (5, 5)
    activation: str = "tanh"
    bias: bool = False
    prior: str | Prior | None = None
    likelihood: str | Likelihood = "bernoulli"
    method: str | None = None
    draws: int = 200
    options: dict = field(default_factory=dict)
    warm_start: bool = False
    pad_to: int | None = None

    def __post_init__(self) -> None:
        _check_fitter(self)
        if self.pad_to is not None:
            _check_neutral_padding(self, self.pad_to)

    def __call__(self, X, y, *, init=None, random_seed: int = 0):
        """Build the model on (X, y) and fit it; `init` is the previous round's posterior."""
        from pymc_bnn.inference import DEFAULT_METHOD, fit
        from pymc_bnn.model.build import build_model

        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        if self.pad_to is not None and len(y) < self.pad_to:
            n_pad = self.pad_to - len(y)
            X = np.vstack([X, np.zeros((n_pad, X.shape[1]))])
            y = np.concatenate([y, np.repeat(y[:1], n_pad)])  # any valid label: it has no effect
        bnn = build_model(X, y, hidden=self.hidden, activation=self.activation, bias=self.bias,
                          prior=self.prior, likelihood=self.likelihood)
        options = dict(self.options)
        if self.warm_start and init is not None:
            options["init"] = init
        return fit(bnn, self.method or DEFAULT_METHOD, draws=self.draws,
                   random_seed=random_seed, progress=False, **options)


def _check_fitter(fitter: BNNFitter) -> None:
    """Refuse bad settings now: a round's fit runs only after a person labelled its points."""
    from pymc_bnn.inference import DEFAULT_METHOD, ENGINES
    from pymc_bnn.inference.options import check_engine_options
    from pymc_bnn.model.likelihoods import get_likelihood
    from pymc_bnn.model.network import activation_function

    method = fitter.method or DEFAULT_METHOD
    if method not in ENGINES:
        raise InvalidSettingError(
            f"unknown inference method {method!r}; use one of {', '.join(ENGINES)}")
    whole_number(fitter.draws, "draws", minimum=1)
    check_engine_options(method, dict(fitter.options))
    activation_function(fitter.activation)
    get_likelihood(fitter.likelihood)


def _check_neutral_padding(fitter: BNNFitter, pad_to: int) -> None:
    from pymc_bnn.model.likelihoods import get_likelihood
    from pymc_bnn.model.network import activation_function

    zero_out = float(activation_function(fitter.activation)(np.zeros(1))[0]) == 0.0
    if fitter.bias or not zero_out or not get_likelihood(fitter.likelihood).is_classifier:
        raise InvalidSettingError(
            "pad_to only leaves the posterior unchanged for classifiers without biases whose "
            f"activation maps 0 to 0 (got bias={fitter.bias}, activation={fitter.activation!r}); "
            "use pad_to=None"
        )
    if int(pad_to) < 1:
        raise InvalidSettingError(f"pad_to must be a positive number of rows, got {pad_to}")
