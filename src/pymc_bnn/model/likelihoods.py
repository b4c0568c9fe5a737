"""Likelihoods: how the network's pre-link output explains the target.

Each likelihood checks and encodes the target, says how many network outputs it needs, adds the
observed variable `y` to the PyMC model, and turns network outputs into the parameters of the
predictive distribution, in the user's units, on NumPy (for prediction over posterior draws).

===================  ================  =======  ==============  ======================
name                 target            outputs  own variables   predictive_params
===================  ================  =======  ==============  ======================
`bernoulli`          labels 0/1        1        —               probs (S, n, 2)
`categorical`        any labels        K        —               probs (S, n, K)
`gaussian`           real              1        sigma           mean, scale (S, n)
`heteroscedastic`    real              2        —               mean, scale (S, n)
`student_t`          real              1        sigma (, nu)    mean, scale, df (S, n)
`poisson`            counts 0, 1, 2 …  1        —               mean (S, n)
`negative_binomial`  counts 0, 1, 2 …  1        overdispersion  mean, alpha (S, n)
===================  ================  =======  ==============  ======================

S: posterior draws, n: observations, K: classes.

Real targets are standardised before fitting (`y_mean`, `y_scale` in the preprocessing record),
so noise-scale priors and weight priors mean the same thing whatever the target's units; every
`predictive_params` result is transformed back. The likelihood's own variables (e.g. `sigma`)
live on the standardised scale: multiply by `y_scale` for user units. Count likelihoods add an
offset log(mean training count) to the log rate instead (a scalar `pm.Data("log_rate_offset")`),
so a zero network output predicts the average count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Protocol

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.label_checks import (
    check_binary_labels,
    check_count_target,
    check_real_target,
    encode_class_labels,
)
from pymc_bnn.validation import mean_and_scale

OBSERVED = "y"
OFFSET = "log_rate_offset"  # count likelihoods: log of the mean training count


class Likelihood(Protocol):
    """What a likelihood provides: target encoding, outputs, the observed variable, predictions.

    A user may pass any object with these methods wherever a likelihood name is taken
    (`get_likelihood` checks that the methods exist).

    Attributes
    ----------
    name : str
        The registry name, also written to model files.
    is_classifier : bool
        Whether the target is class labels (predictions are class probabilities).

    Examples
    --------
    The built-in Gaussian, one of the classes that follow this protocol:

    >>> import numpy as np
    >>> gaussian = get_likelihood("gaussian")
    >>> encoded, record = gaussian.prepare_target(np.array([1.0, 3.0]))
    >>> encoded, record, gaussian.n_outputs(encoded)
    (array([-1.,  1.]), {'y_mean': 2.0, 'y_scale': 1.0}, 1)
    >>> eta = np.zeros((1, 2, 1))  # one draw, two rows: the standardised output 0
    >>> gaussian.predictive_params(eta, {"sigma": np.ones(1)}, record)
    {'mean': array([[2., 2.]]), 'scale': array([[1., 1.]])}
    """

    name: ClassVar[str]
    is_classifier: ClassVar[bool]

    def prepare_target(self, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """Validate `y` and return it encoded for the model, with a record of the encoding.

        Parameters
        ----------
        y : numpy.ndarray
            `(n_obs,)`, length already checked.

        Returns
        -------
        encoded : numpy.ndarray
            `(n_obs,)`: class codes, standardised reals or int64 counts.
        record : dict
            JSON-able (classes, standardisation, count offset), passed back to
            `predictive_params` as `preprocessing`.
        """

    def n_outputs(self, y: np.ndarray) -> int:
        """Network outputs needed for the encoded target `y`."""

    def observe(self, eta, y_data, total_size=None, weight=None) -> tuple[str, ...]:
        """Add the observed variable `y` (dims ("obs",)) to the PyMC model in context.

        Parameters
        ----------
        eta : pytensor tensor
            `(n_obs, n_outputs)` pre-link network output.
        y_data : pymc.Data
            The encoded target.
        total_size : int, optional
            The number of rows of the whole data set when `y_data` is one minibatch of it (PyMC
            then scales the log-likelihood by total_size / rows, as `pm.Minibatch` does); None
            for all rows.
        weight : pymc.Data, optional
            `(n_obs,)` non-negative weights, each row's log-likelihood multiplied by its own
            (`observe_rows` does it); None for weight 1 everywhere.

        Returns
        -------
        tuple of str
            Names of any variables of its own it added (e.g. a noise scale "sigma").
        """

    def predictive_params(self, eta: np.ndarray, params: dict[str, np.ndarray],
                          preprocessing: dict) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution, in the user's units.

        The body uses `array_namespace(eta)`, so it runs on NumPy and JAX arrays and inside
        jax.jit.

        Parameters
        ----------
        eta : numpy.ndarray or jax.Array
            `(n_draws, n_obs, n_outputs)` pre-link outputs.
        params : dict of str to array
            The likelihood's own posterior variables (e.g. a noise scale), each `(n_draws, ...)`.
        preprocessing : dict
            What `prepare_target` recorded.

        Returns
        -------
        dict of str to array
            Classifiers: {"probs": `(n_draws, n_obs, n_classes)`}; regression at least {"mean",
            "scale"}, counts at least {"mean"}, each `(n_draws, n_obs)`.
        """

    def predictive_mean(self, eta, preprocessing: dict):
        """The predictive distribution's mean per draw, from `eta` alone.

        Elementwise over the leading axes, in any layout (the fused prediction path passes
        `(n_obs, n_draws, n_outputs)`).

        Parameters
        ----------
        eta : numpy.ndarray or jax.Array
            `(..., n_outputs)` pre-link outputs.
        preprocessing : dict
            What `prepare_target` recorded.

        Returns
        -------
        array
            P(class 1) `(...)` for Bernoulli, class probabilities `(..., n_classes)` for
            Categorical, the mean `(...)` in user units otherwise.
        """

    def to_dict(self) -> dict:
        """A JSON-able record that `likelihood_from_dict` turns back into this likelihood."""


def array_namespace(x):
    """The array module of `x`: numpy for NumPy arrays, jax.numpy for JAX arrays and tracers.

    `predictive_params` is written against it, so the same code serves prediction in NumPy and
    the fused, jitted prediction path in `pymc_bnn.posterior`.

    Parameters
    ----------
    x : array-like

    Returns
    -------
    module

    Examples
    --------
    >>> import numpy as np
    >>> array_namespace(np.zeros(2)) is np, array_namespace([0.0]) is np
    (True, True)
    """
    return x.__array_namespace__() if hasattr(x, "__array_namespace__") else np


def _sigmoid(x):
    xp = array_namespace(x)
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def _softmax(x):
    xp = array_namespace(x)
    z = x - xp.max(x, axis=-1, keepdims=True)
    e = xp.exp(z)
    return e / xp.sum(e, axis=-1, keepdims=True)


def _per_draw(value, eta):
    """A scalar variable's draws (S,) broadcast against eta[..., 0] (S, obs), in eta's namespace."""
    xp = array_namespace(eta)
    value = xp.asarray(value, dtype=eta.dtype)
    return xp.broadcast_to(xp.reshape(value, value.shape + (1,) * (eta.ndim - 1 - value.ndim)),
                           eta.shape[:-1])


def _positive(value, what: str) -> None:
    if value is not None and (not np.isfinite(value) or value <= 0):
        raise InvalidSettingError(f"{what} must be a positive number, got {value}")


class _Serialisable:
    name: ClassVar[str]

    def to_dict(self) -> dict:
        # every subclass is a dataclass, which mypy cannot see from here
        return {"name": self.name, **asdict(self)}  # type: ignore[call-overload]


# --------------------------------------------------------------------------- classifiers


@dataclass(frozen=True)
class Bernoulli(_Serialisable):
    """Binary target in {0, 1} with a logit link: p = sigmoid(eta).

    Examples
    --------
    >>> import numpy as np
    >>> eta = np.array([[[0.0], [np.log(3.0)]]])    # (n_draws=1, n_obs=2, n_outputs=1)
    >>> Bernoulli().predictive_params(eta, {}, {"classes": [0, 1]})["probs"]
    array([[[0.5 , 0.5 ],
            [0.25, 0.75]]])
    """

    name: ClassVar[str] = "bernoulli"
    is_classifier: ClassVar[bool] = True

    def prepare_target(self, y):
        """Check the labels are 0/1 (or booleans); see `Likelihood.prepare_target`."""
        return check_binary_labels(y), {"classes": [0, 1]}

    def n_outputs(self, y):
        """One output, the logit of P(y = 1)."""
        return 1

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add y ~ Bernoulli(logit_p=eta); see `Likelihood.observe`."""
        import pymc as pm

        observe_rows(pm.Bernoulli, y_data, total_size, weight, logit_p=eta[:, 0])
        return ()

    def predictive_params(self, eta, params, preprocessing):
        """{'probs': (n_draws, n_obs, 2)}; see `Likelihood.predictive_params`."""
        p = self.predictive_mean(eta, preprocessing)
        return {"probs": array_namespace(eta).stack([1.0 - p, p], axis=-1)}

    def predictive_mean(self, eta, preprocessing):
        """P(y = 1), `eta`'s shape without the output axis."""
        return _sigmoid(eta[..., 0])


@dataclass(frozen=True)
class Categorical(_Serialisable):
    """K classes with a softmax link over K network outputs: P(class k) = softmax(eta)_k.

    Labels may be anything sortable (strings, integers, floats); they are encoded as 0 … K-1 in
    sorted order and kept in `preprocessing["classes"]`, so the probability columns follow that
    order. The softmax is over-parameterised by one output; the prior keeps it identified.

    Parameters
    ----------
    classes : sequence, optional
        Fix the label set and its order yourself, e.g. when a class is absent from this
        training set.

    Examples
    --------
    >>> codes, record = Categorical().prepare_target(["b", "a", "c"])
    >>> codes, record
    (array([1, 0, 2]), {'classes': ['a', 'b', 'c']})
    >>> Categorical().n_outputs(codes)
    3
    """

    classes: tuple | None = None
    name: ClassVar[str] = "categorical"
    is_classifier: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.classes is not None:
            classes = tuple(np.asarray(self.classes).tolist())
            if len(set(classes)) != len(classes) or len(classes) < 2:
                raise InvalidSettingError(
                    f"classes must list at least two distinct labels, got {list(classes)}"
                )
            object.__setattr__(self, "classes", classes)

    def prepare_target(self, y):
        """Encode the labels as 0 … K-1; see `Likelihood.prepare_target`."""
        codes, classes = encode_class_labels(y, classes=self.classes)
        return codes, {"classes": classes}

    def n_outputs(self, y):
        """K outputs, one per class (declared or found in the encoded `y`)."""
        return len(self.classes) if self.classes is not None else int(np.max(y)) + 1

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add y ~ Categorical(logit_p=eta); see `Likelihood.observe`."""
        import pymc as pm

        observe_rows(pm.Categorical, y_data, total_size, weight, logit_p=eta)
        return ()

    def predictive_params(self, eta, params, preprocessing):
        """{'probs': (n_draws, n_obs, K)}; see `Likelihood.predictive_params`."""
        return {"probs": self.predictive_mean(eta, preprocessing)}

    def predictive_mean(self, eta, preprocessing):
        """Softmax over the last axis: class probabilities `(..., K)`."""
        return _softmax(eta)

    def to_dict(self):
        """{'name': 'categorical', 'classes': list or None}."""
        return {"name": self.name,
                "classes": None if self.classes is None else list(self.classes)}


# --------------------------------------------------------------------------- real targets


def standardise_target(y) -> tuple[np.ndarray, dict]:
    """Standardise a real target, and record how to undo it.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` real target with some spread.

    Returns
    -------
    standardised : numpy.ndarray
        `(n_obs,)`, (y − mean) / sd.
    record : dict
        {"y_mean", "y_scale"} in user units.

    Examples
    --------
    >>> standardise_target([1.0, 3.0])
    (array([-1.,  1.]), {'y_mean': 2.0, 'y_scale': 1.0})
    """
    y = np.asarray(y, dtype=np.float64)
    mean, scale = map(float, mean_and_scale(y))  # no overflow at 1e300, no underflow at 1e-300
    return (y - mean) / scale, {"y_mean": mean, "y_scale": scale}


class _RealTarget(_Serialisable):
    is_classifier: ClassVar[bool] = False

    def prepare_target(self, y):
        return standardise_target(check_real_target(y, likelihood=self.name))

    def n_outputs(self, y):
        return 1

    @staticmethod
    def predictive_mean(eta, preprocessing):
        return preprocessing["y_mean"] + preprocessing["y_scale"] * eta[..., 0]


@dataclass(frozen=True)
class Gaussian(_RealTarget):
    """y ~ Normal(eta, sigma) on the standardised target, with one learned noise sd `sigma`.

    `predictive_params` gives {"mean", "scale"} `(n_draws, n_obs)` in user units; scale is the
    noise sd.

    Parameters
    ----------
    noise_prior : float, default 1.0
        sigma ~ HalfNormal(noise_prior), in standardised units: 1 is the target's own sd, so the
        default lets the noise explain all of the target and no more.

    Examples
    --------
    >>> import numpy as np
    >>> eta = np.array([[[0.0], [1.0]]])            # (n_draws=1, n_obs=2, n_outputs=1)
    >>> params = Gaussian().predictive_params(eta, {"sigma": np.array([0.5])},
    ...                                       {"y_mean": 10.0, "y_scale": 2.0})
    >>> params["mean"], params["scale"]
    (array([[10., 12.]]), array([[1., 1.]]))
    """

    noise_prior: float = 1.0
    name: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        _positive(self.noise_prior, "noise_prior")

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add sigma and y ~ Normal(eta, sigma); see `Likelihood.observe`."""
        import pymc as pm

        sigma = pm.HalfNormal("sigma", self.noise_prior)
        observe_rows(pm.Normal, y_data, total_size, weight, mu=eta[:, 0], sigma=sigma)
        return ("sigma",)

    def predictive_params(self, eta, params, preprocessing):
        """{'mean', 'scale'} in user units; see `Likelihood.predictive_params`."""
        scale = preprocessing["y_scale"] * _per_draw(params["sigma"], eta)
        return {"mean": self.predictive_mean(eta, preprocessing), "scale": scale}


@dataclass(frozen=True)
class HeteroscedasticGaussian(_RealTarget):
    """y ~ Normal(eta_0, exp(eta_1)): a second output head gives the log noise sd per input.

    The noise can then grow and shrink with x (e.g. measurement error that depends on the
    operating point). `predictive_params` gives {"mean", "scale"} `(n_draws, n_obs)` in user
    units; scale is the noise sd at each input.

    Examples
    --------
    >>> import numpy as np
    >>> eta = np.array([[[0.0, 0.0], [0.0, np.log(2.0)]]])  # second output: log noise sd
    >>> HeteroscedasticGaussian().predictive_params(
    ...     eta, {}, {"y_mean": 0.0, "y_scale": 1.0})["scale"]
    array([[1., 2.]])
    """

    name: ClassVar[str] = "heteroscedastic"

    def n_outputs(self, y):
        """Two outputs: the mean and the log noise sd."""
        return 2

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add y ~ Normal(eta_0, exp(eta_1)); see `Likelihood.observe`."""
        import pymc as pm

        observe_rows(pm.Normal, y_data, total_size, weight, mu=eta[:, 0],
                     sigma=pm.math.exp(eta[:, 1]))
        return ()

    def predictive_params(self, eta, params, preprocessing):
        """{'mean', 'scale'} in user units; see `Likelihood.predictive_params`."""
        scale = preprocessing["y_scale"] * array_namespace(eta).exp(eta[..., 1])
        return {"mean": self.predictive_mean(eta, preprocessing), "scale": scale}


@dataclass(frozen=True)
class StudentT(_RealTarget):
    """Robust regression: y ~ StudentT(nu, eta, sigma) on the standardised target.

    Heavy tails let a few outliers pass without dragging the fit. `predictive_params` gives
    {"mean" (the location; the mean when df > 1), "scale" (the t scale, not the sd:
    sd = scale·sqrt(df/(df-2)) for df > 2), "df"}, each `(n_draws, n_obs)`, user units.

    Parameters
    ----------
    df : float, optional
        Fixed degrees of freedom. None learns them: nu ~ Gamma(2, 0.1) (Juárez & Steel 2010:
        mean 20, most mass on 2–50).
    noise_prior : float, default 1.0
        sigma ~ HalfNormal(noise_prior), standardised units.

    Examples
    --------
    >>> import numpy as np
    >>> eta = np.zeros((1, 2, 1))
    >>> StudentT(df=4).predictive_params(eta, {"sigma": np.array([1.0])},
    ...                                   {"y_mean": 0.0, "y_scale": 1.0})["df"]
    array([[4., 4.]])
    """

    df: float | None = None
    noise_prior: float = 1.0
    name: ClassVar[str] = "student_t"

    def __post_init__(self) -> None:
        _positive(self.df, "df")
        _positive(self.noise_prior, "noise_prior")

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add sigma (and nu) and y ~ StudentT(nu, eta, sigma); see `Likelihood.observe`."""
        import pymc as pm

        sigma = pm.HalfNormal("sigma", self.noise_prior)
        nu = pm.Gamma("nu", alpha=2.0, beta=0.1) if self.df is None else float(self.df)
        observe_rows(pm.StudentT, y_data, total_size, weight, nu=nu, mu=eta[:, 0], sigma=sigma)
        return ("sigma",) if self.df is not None else ("sigma", "nu")

    def predictive_params(self, eta, params, preprocessing):
        """{'mean', 'scale', 'df'} in user units; see `Likelihood.predictive_params`."""
        df = _per_draw(params["nu"] if self.df is None else self.df, eta)
        return {"mean": self.predictive_mean(eta, preprocessing),
                "scale": preprocessing["y_scale"] * _per_draw(params["sigma"], eta),
                "df": df}


# --------------------------------------------------------------------------- counts


class _CountTarget(_Serialisable):
    is_classifier: ClassVar[bool] = False

    def prepare_target(self, y):
        y = check_count_target(y, likelihood=self.name)
        return y, {OFFSET: float(np.log(y.mean()))}

    def n_outputs(self, y):
        return 1

    @staticmethod
    def _log_rate(eta, y_data, weight=None):
        """Log E[y] in the model: the network output plus the log mean count.

        The offset is a `pm.Data` scalar (not a constant baked into the graph), so refits on
        new counts reuse compiled code and the offset follows the data. With the rows'
        weights, their weighted mean (that of the rows repeated by weight).
        """
        import pymc as pm

        weights = None if weight is None else weight.get_value()
        mean = np.average(y_data.get_value(), weights=weights)
        offset = pm.Data(OFFSET, float(np.log(mean)))
        return offset + eta[:, 0]

    @staticmethod
    def predictive_mean(eta, preprocessing):
        return array_namespace(eta).exp(preprocessing[OFFSET] + eta[..., 0])


@dataclass(frozen=True)
class Poisson(_CountTarget):
    """Counts: y ~ Poisson(exp(log_rate_offset + eta)); variance = mean.

    `predictive_params` gives {"mean": `(n_draws, n_obs)`}, the expected count.

    Examples
    --------
    >>> import numpy as np
    >>> counts, record = Poisson().prepare_target([1, 3])
    >>> round(record["log_rate_offset"], 4)                 # log of the mean count, 2
    0.6931
    >>> Poisson().predictive_params(np.zeros((1, 2, 1)), {}, record)["mean"]
    array([[2., 2.]])
    """

    name: ClassVar[str] = "poisson"

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add y ~ Poisson(exp(offset + eta)); see `Likelihood.observe`."""
        import pymc as pm

        log_mean = self._log_rate(eta, y_data, weight)
        observe_rows(pm.Poisson, y_data, total_size, weight, mu=pm.math.exp(log_mean))
        return ()

    def predictive_params(self, eta, params, preprocessing):
        """{'mean'}, the expected count; see `Likelihood.predictive_params`."""
        return {"mean": self.predictive_mean(eta, preprocessing)}


@dataclass(frozen=True)
class NegativeBinomial(_CountTarget):
    """Over-dispersed counts: y ~ NegativeBinomial(mean, alpha), variance = mean + mean²/alpha.

    The free variable is `overdispersion` = 1/alpha, so the prior is centred on the Poisson
    model (overdispersion 0) and the data must argue for extra variance. `predictive_params`
    gives {"mean", "alpha"}, each `(n_draws, n_obs)`.

    Parameters
    ----------
    overdispersion_prior : float, default 1.0
        overdispersion ~ HalfNormal(overdispersion_prior).

    Examples
    --------
    >>> import numpy as np
    >>> NegativeBinomial().predictive_params(
    ...     np.zeros((1, 1, 1)), {"overdispersion": np.array([0.5])},
    ...     {"log_rate_offset": 0.0})
    {'mean': array([[1.]]), 'alpha': array([[2.]])}
    """

    overdispersion_prior: float = 1.0
    name: ClassVar[str] = "negative_binomial"

    def __post_init__(self) -> None:
        _positive(self.overdispersion_prior, "overdispersion_prior")

    def observe(self, eta, y_data, total_size=None, weight=None):
        """Add overdispersion and y ~ NegativeBinomial; see `Likelihood.observe`."""
        import pymc as pm

        log_mean = self._log_rate(eta, y_data, weight)
        phi = pm.HalfNormal("overdispersion", self.overdispersion_prior)
        observe_rows(pm.NegativeBinomial, y_data, total_size, weight, mu=pm.math.exp(log_mean),
                     alpha=1.0 / phi)
        return ("overdispersion",)

    def predictive_params(self, eta, params, preprocessing):
        """{'mean', 'alpha'}; see `Likelihood.predictive_params`."""
        alpha = 1.0 / _per_draw(params["overdispersion"], eta)
        return {"mean": self.predictive_mean(eta, preprocessing), "alpha": alpha}


def observe_rows(distribution, y_data, total_size=None, weight=None, **params):
    """Add the observed `y` ~ `distribution(**params)`, each row's log-likelihood weighted.

    Without `weight` this is `distribution("y", **params, observed=y_data, dims="obs")`. With
    it, `y` is a `pm.CustomDist` that draws as `distribution` does and whose log density is
    each row's log density times that row's weight: a weight of 2 counts a row twice, 0
    leaves it out (the weighted, or power, likelihood of survey and importance weights). The
    weights are part of the model, so every engine and PyMC's own `model.logp()` see them.

    Parameters
    ----------
    distribution : type
        A PyMC distribution class (`pm.Bernoulli`, `pm.Normal`, ...).
    y_data : pymc.Data
        `(n_obs,)` the encoded target.
    total_size : int, optional
        As for `Likelihood.observe` (not with `weight`: a streamed fit has no weights).
    weight : pymc.Data, optional
        `(n_obs,)` non-negative weights.
    **params
        The distribution's parameters (tensors with the rows first).

    Returns
    -------
    TensorVariable
        The observed variable.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> with pm.Model(coords={"obs": range(3)}) as model:
    ...     y_data = pm.Data("y_data", np.array([1, 0, 1]), dims="obs")
    ...     weight = pm.Data("sample_weight", np.array([2.0, 0.0, 1.0]), dims="obs")
    ...     y = observe_rows(pm.Bernoulli, y_data, weight=weight, p=0.8)
    >>> float(model.compile_logp()({})), 3 * float(np.log(0.8))  # 2·log .8 + 0 + log .8
    (-0.669..., -0.669...)
    """
    import pymc as pm

    if weight is None:
        return distribution(OBSERVED, **params, observed=y_data, dims="obs",
                            total_size=total_size)
    if total_size is not None:
        raise InvalidSettingError("sample weights cannot be used with streamed (minibatched) "
                                  "data; fit the rows in memory, or leave the weights out")
    names = tuple(params)

    def draw(*args):
        *values, _, size = args  # the parameters, the weights, the size
        return distribution.dist(**dict(zip(names, values, strict=True)), size=size)

    def weighted_logp(value, *args):
        *values, row_weight = args
        base = distribution.dist(**dict(zip(names, values, strict=True)))
        return row_weight * pm.logp(base, value)

    return pm.CustomDist(OBSERVED, *params.values(), weight, dist=draw, logp=weighted_logp,
                         observed=y_data, dims="obs",
                         class_name=f"Weighted{distribution.__name__}")


def encode_target(likelihood: Likelihood, y, record: dict) -> np.ndarray:
    """`y` encoded for the model with a fixed preprocessing `record`.

    The record comes from a streaming pass over the whole data set rather than from statistics
    of `y` itself, so every minibatch of a streamed fit is encoded alike. Real targets are
    standardised with record's y_mean and y_scale; class labels are encoded as `prepare_target`
    does (their record depends on no statistics), except that a Bernoulli target may hold a
    single class (a minibatch of sorted rows, one group's rows).

    Parameters
    ----------
    likelihood : Likelihood
        A real-valued or classification likelihood.
    y : array-like
        `(n_obs,)` one minibatch's target.
    record : dict
        The preprocessing record (y_mean and y_scale for a real target).

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`.

    Raises
    ------
    InvalidSettingError
        Count targets, whose log-rate offset is data of the model.

    Examples
    --------
    >>> encode_target(Gaussian(), [2.0, 4.0], {"y_mean": 2.0, "y_scale": 1.0})
    array([0., 2.])
    >>> encode_target(Poisson(), [2, 4], {})
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: the 'poisson' likelihood cannot be fitted to streamed ...
    """
    if isinstance(likelihood, _RealTarget):
        y = check_real_target(y, likelihood=likelihood.name)
        return (y - record["y_mean"]) / record["y_scale"]
    if isinstance(likelihood, Bernoulli):
        # one minibatch (or one group's rows) may hold a single class: the record's are both
        return check_binary_labels(y, both=False)
    if getattr(likelihood, "is_classifier", False):
        return likelihood.prepare_target(y)[0]
    raise InvalidSettingError(
        f"the {getattr(likelihood, 'name', likelihood)!r} likelihood cannot be fitted to streamed "
        "batches yet (its encoding depends on the data); stream a bernoulli, categorical or "
        "real-valued target, or load the data into memory")


# --------------------------------------------------------------------------- registry

LIKELIHOODS: dict[str, type] = {
    cls.name: cls
    for cls in (Bernoulli, Categorical, Gaussian, HeteroscedasticGaussian, StudentT, Poisson,
                NegativeBinomial)
}


def get_likelihood(likelihood: str | Likelihood = "bernoulli", **options) -> Likelihood:
    """A likelihood from its name (with `options`), or the likelihood object itself.

    Parameters
    ----------
    likelihood : str or Likelihood, default "bernoulli"
        A name of `LIKELIHOODS` ("bernoulli", "categorical", "gaussian", "heteroscedastic",
        "student_t", "poisson", "negative_binomial") or an object with the `Likelihood` methods.
    **options
        Passed to the likelihood's class, e.g. df=4 for "student_t".

    Returns
    -------
    Likelihood

    Raises
    ------
    InvalidSettingError
        On an unknown name, a bad option, or an object that lacks a method.

    Examples
    --------
    >>> get_likelihood("student_t", df=4)
    StudentT(df=4, noise_prior=1.0)
    >>> get_likelihood("logistic")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: unknown likelihood 'logistic'; use one of bernoulli, ...
    """
    if isinstance(likelihood, str):
        if likelihood not in LIKELIHOODS:
            raise InvalidSettingError(
                f"unknown likelihood {likelihood!r}; use one of {', '.join(LIKELIHOODS)}"
            )
        try:
            return LIKELIHOODS[likelihood](**options)
        except TypeError as exc:
            raise InvalidSettingError(
                f"bad option for the {likelihood} likelihood ({exc}); see "
                f"help(pymc_bnn.model.likelihoods.{LIKELIHOODS[likelihood].__name__})"
            ) from None
    for attr in ("prepare_target", "n_outputs", "observe", "predictive_params", "to_dict"):
        if not hasattr(likelihood, attr):
            raise InvalidSettingError(
                f"a likelihood object needs a {attr}() method; {likelihood!r} has none"
            )
    return likelihood


def likelihood_from_dict(data: dict) -> Likelihood:
    """Rebuild a likelihood saved with `to_dict` (used when loading a model file).

    Parameters
    ----------
    data : dict
        "name" and the likelihood's options.

    Returns
    -------
    Likelihood

    Raises
    ------
    InvalidSettingError
        For a name this version does not know.

    Examples
    --------
    >>> likelihood_from_dict(Gaussian(noise_prior=0.5).to_dict())
    Gaussian(noise_prior=0.5)
    """
    data = dict(data)
    name = data.pop("name")
    if name not in LIKELIHOODS:
        raise InvalidSettingError(f"this version of pymc-bnn does not know the likelihood {name!r}")
    return LIKELIHOODS[name](**data)
