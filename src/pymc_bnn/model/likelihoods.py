"""Likelihoods: how the network's pre-link output explains the target.

Each likelihood checks and encodes the target, says how many network outputs it needs, adds the
observed variable `y` to the PyMC model, and turns network outputs into the parameters of the
predictive distribution, in the user's units, on NumPy (for prediction over posterior draws).

| name                 | target            | outputs | own variables       | predictive_params        |
|----------------------|-------------------|---------|---------------------|--------------------------|
| `bernoulli`          | labels 0/1        | 1       | —                   | probs (S, n, 2)          |
| `categorical`        | any labels        | K       | —                   | probs (S, n, K)          |
| `gaussian`           | real              | 1       | sigma               | mean, scale (S, n)       |
| `heteroscedastic`    | real              | 2       | —                   | mean, scale (S, n)       |
| `student_t`          | real              | 1       | sigma (, nu)        | mean, scale, df (S, n)   |
| `poisson`            | counts 0, 1, 2 …  | 1       | —                   | mean (S, n)              |
| `negative_binomial`  | counts 0, 1, 2 …  | 1       | overdispersion      | mean, alpha (S, n)       |

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
from pymc_bnn.validation import (
    check_binary_labels,
    check_count_target,
    check_real_target,
    encode_class_labels,
    mean_and_scale,
)

OBSERVED = "y"
OFFSET = "log_rate_offset"  # count likelihoods: log of the mean training count


class Likelihood(Protocol):
    name: str
    is_classifier: bool

    def prepare_target(self, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """Validate `y` (1-D, length already checked); return it encoded for the model and a
        JSON-able record of the encoding (classes, standardisation) for `predictive_params`."""

    def n_outputs(self, y: np.ndarray) -> int:
        """Network outputs needed for the encoded target `y`."""

    def observe(self, eta, y_data, total_size=None) -> tuple[str, ...]:
        """Add the observed variable `y` (dims ("obs",)) to the model in context; eta: (obs, out).

        total_size: the number of rows of the whole data set when `y_data` is one minibatch of
        it (PyMC then scales the log-likelihood by total_size / rows, as `pm.Minibatch` does);
        None for all rows. Returns the names of any variables of its own it added (e.g. a noise
        scale "sigma")."""

    def predictive_params(self, eta: np.ndarray, params: dict[str, np.ndarray],
                          preprocessing: dict) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution, in the user's units.

        eta: (S, obs, out) pre-link outputs, a NumPy or JAX array: the body uses
        `array_namespace(eta)`, so it runs on both and inside jax.jit; params: the likelihood's
        own posterior variables (e.g. a noise scale), each (S, ...); preprocessing: what
        `prepare_target` recorded.
        Classifiers return {"probs": (S, obs, n_classes)}; regression returns at least
        {"mean": (S, obs), "scale": (S, obs)}; counts at least {"mean": (S, obs)}.
        """

    def predictive_mean(self, eta, preprocessing: dict):
        """The predictive distribution's mean per draw, from eta (..., out) alone: elementwise
        over the leading axes, in any layout (the fused prediction path passes (obs, S, out)).
        Classifiers: P(class 1) (...) for Bernoulli, the class probabilities (..., K) otherwise.
        """

    def to_dict(self) -> dict: ...


def array_namespace(x):
    """The array module of `x`: numpy for NumPy arrays, jax.numpy for JAX arrays and tracers.

    `predictive_params` is written against it, so the same code serves prediction in NumPy and
    the fused, jitted prediction path in `pymc_bnn.posterior`.
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
    def to_dict(self) -> dict:
        return {"name": self.name, **asdict(self)}


# --------------------------------------------------------------------------- classifiers


@dataclass(frozen=True)
class Bernoulli(_Serialisable):
    """Binary target in {0, 1} with a logit link: p = sigmoid(eta)."""

    name: ClassVar[str] = "bernoulli"
    is_classifier: ClassVar[bool] = True

    def prepare_target(self, y):
        return check_binary_labels(y), {"classes": [0, 1]}

    def n_outputs(self, y):
        return 1

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        pm.Bernoulli(OBSERVED, logit_p=eta[:, 0], observed=y_data, dims="obs",
                     total_size=total_size)
        return ()

    def predictive_params(self, eta, params, preprocessing):
        p = self.predictive_mean(eta, preprocessing)
        return {"probs": array_namespace(eta).stack([1.0 - p, p], axis=-1)}

    def predictive_mean(self, eta, preprocessing):
        return _sigmoid(eta[..., 0])


@dataclass(frozen=True)
class Categorical(_Serialisable):
    """K classes with a softmax link over K network outputs: P(class k) = softmax(eta)_k.

    Labels may be anything sortable (strings, integers, floats); they are encoded as 0 … K-1 in
    sorted order and kept in `preprocessing["classes"]`, so the probability columns follow that
    order. Pass `classes` to fix the label set (and its order) yourself, e.g. when a class is
    absent from this training set. The softmax is over-parameterised by one output; the prior
    keeps it identified.
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
        codes, classes = encode_class_labels(y, classes=self.classes)
        return codes, {"classes": classes}

    def n_outputs(self, y):
        return len(self.classes) if self.classes is not None else int(np.max(y)) + 1

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        pm.Categorical(OBSERVED, logit_p=eta, observed=y_data, dims="obs",
                       total_size=total_size)
        return ()

    def predictive_params(self, eta, params, preprocessing):
        return {"probs": self.predictive_mean(eta, preprocessing)}

    def predictive_mean(self, eta, preprocessing):
        return _softmax(eta)

    def to_dict(self):
        return {"name": self.name,
                "classes": None if self.classes is None else list(self.classes)}


# --------------------------------------------------------------------------- real targets


def standardise_target(y) -> tuple[np.ndarray, dict]:
    """(y - mean) / sd and the record {"y_mean", "y_scale"} (user units) to undo it."""
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

    sigma ~ HalfNormal(noise_prior) (standardised units: 1 = the target's own sd).
    predictive_params: {"mean", "scale"} (S, obs), user units; scale is the noise sd.
    """

    noise_prior: float = 1.0
    name: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        _positive(self.noise_prior, "noise_prior")

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        sigma = pm.HalfNormal("sigma", self.noise_prior)
        pm.Normal(OBSERVED, mu=eta[:, 0], sigma=sigma, observed=y_data, dims="obs",
                  total_size=total_size)
        return ("sigma",)

    def predictive_params(self, eta, params, preprocessing):
        scale = preprocessing["y_scale"] * _per_draw(params["sigma"], eta)
        return {"mean": self.predictive_mean(eta, preprocessing), "scale": scale}


@dataclass(frozen=True)
class HeteroscedasticGaussian(_RealTarget):
    """y ~ Normal(eta_0, exp(eta_1)): a second output head gives the log noise sd per input.

    The noise can then grow and shrink with x (e.g. measurement error that depends on the
    operating point). predictive_params: {"mean", "scale"} (S, obs), user units; scale is the
    noise sd at each input.
    """

    name: ClassVar[str] = "heteroscedastic"

    def n_outputs(self, y):
        return 2

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        pm.Normal(OBSERVED, mu=eta[:, 0], sigma=pm.math.exp(eta[:, 1]), observed=y_data,
                  dims="obs", total_size=total_size)
        return ()

    def predictive_params(self, eta, params, preprocessing):
        scale = preprocessing["y_scale"] * array_namespace(eta).exp(eta[..., 1])
        return {"mean": self.predictive_mean(eta, preprocessing), "scale": scale}


@dataclass(frozen=True)
class StudentT(_RealTarget):
    """Robust regression: y ~ StudentT(nu, eta, sigma) on the standardised target.

    Heavy tails let a few outliers pass without dragging the fit. `df=None` learns the degrees
    of freedom nu ~ Gamma(2, 0.1) (Juárez & Steel 2010: mean 20, most mass on 2–50); a number
    fixes it. sigma ~ HalfNormal(noise_prior). predictive_params: {"mean" (the location; the
    mean when df > 1), "scale" (the t scale, not the sd: sd = scale·sqrt(df/(df-2)) for df > 2),
    "df"}, each (S, obs), user units.
    """

    df: float | None = None
    noise_prior: float = 1.0
    name: ClassVar[str] = "student_t"

    def __post_init__(self) -> None:
        _positive(self.df, "df")
        _positive(self.noise_prior, "noise_prior")

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        sigma = pm.HalfNormal("sigma", self.noise_prior)
        nu = pm.Gamma("nu", alpha=2.0, beta=0.1) if self.df is None else float(self.df)
        pm.StudentT(OBSERVED, nu=nu, mu=eta[:, 0], sigma=sigma, observed=y_data, dims="obs",
                    total_size=total_size)
        return ("sigma",) if self.df is not None else ("sigma", "nu")

    def predictive_params(self, eta, params, preprocessing):
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
    def _log_rate(eta, y_data):
        """log E[y] in the model: the offset is a `pm.Data` scalar (not a constant baked into
        the graph), so refits on new counts reuse compiled code and the offset follows the data."""
        import pymc as pm

        offset = pm.Data(OFFSET, float(np.log(np.mean(y_data.get_value()))))
        return offset + eta[:, 0]

    @staticmethod
    def predictive_mean(eta, preprocessing):
        return array_namespace(eta).exp(preprocessing[OFFSET] + eta[..., 0])


@dataclass(frozen=True)
class Poisson(_CountTarget):
    """Counts: y ~ Poisson(exp(log_rate_offset + eta)); variance = mean.

    predictive_params: {"mean": (S, obs)}, the expected count.
    """

    name: ClassVar[str] = "poisson"

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        log_mean = self._log_rate(eta, y_data)
        pm.Poisson(OBSERVED, mu=pm.math.exp(log_mean), observed=y_data, dims="obs",
                   total_size=total_size)
        return ()

    def predictive_params(self, eta, params, preprocessing):
        return {"mean": self.predictive_mean(eta, preprocessing)}


@dataclass(frozen=True)
class NegativeBinomial(_CountTarget):
    """Over-dispersed counts: y ~ NegativeBinomial(mean, alpha), variance = mean + mean²/alpha.

    The free variable is `overdispersion` = 1/alpha ~ HalfNormal(overdispersion_prior), so the
    prior is centred on the Poisson model (overdispersion 0) and the data must argue for extra
    variance. predictive_params: {"mean", "alpha"}, each (S, obs).
    """

    overdispersion_prior: float = 1.0
    name: ClassVar[str] = "negative_binomial"

    def __post_init__(self) -> None:
        _positive(self.overdispersion_prior, "overdispersion_prior")

    def observe(self, eta, y_data, total_size=None):
        import pymc as pm

        log_mean = self._log_rate(eta, y_data)
        phi = pm.HalfNormal("overdispersion", self.overdispersion_prior)
        pm.NegativeBinomial(OBSERVED, mu=pm.math.exp(log_mean), alpha=1.0 / phi,
                            observed=y_data, dims="obs", total_size=total_size)
        return ("overdispersion",)

    def predictive_params(self, eta, params, preprocessing):
        alpha = 1.0 / _per_draw(params["overdispersion"], eta)
        return {"mean": self.predictive_mean(eta, preprocessing), "alpha": alpha}


def encode_target(likelihood: Likelihood, y, record: dict) -> np.ndarray:
    """`y` encoded for the model with a fixed preprocessing `record` (from a streaming pass over
    the whole data set) rather than with statistics of `y` itself, so every minibatch of a
    streamed fit is encoded alike. Real targets are standardised with record's y_mean and
    y_scale; class labels are encoded as `prepare_target` does (their record depends on no
    statistics). Count targets are refused: their log-rate offset is data of the model."""
    if isinstance(likelihood, _RealTarget):
        y = check_real_target(y, likelihood=likelihood.name)
        return (y - record["y_mean"]) / record["y_scale"]
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
    """A likelihood from its name (with `options`, e.g. df=4 for student_t) or the object itself."""
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
    """Rebuild a likelihood saved with `to_dict` (used when loading a model file)."""
    data = dict(data)
    name = data.pop("name")
    if name not in LIKELIHOODS:
        raise InvalidSettingError(f"this version of pymc-bnn does not know the likelihood {name!r}")
    return LIKELIHOODS[name](**data)
