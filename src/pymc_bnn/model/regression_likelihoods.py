"""The regressors' likelihoods: real targets and counts.

Real targets (`Gaussian`, `HeteroscedasticGaussian`, `StudentT`) are fitted standardised;
counts (`Poisson`, `NegativeBinomial`) get a log-rate offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.label_checks import check_count_target, check_real_target
from pymc_bnn.model.likelihood_protocol import (
    SerialisableLikelihood,
    array_namespace,
    observe_rows,
)
from pymc_bnn.validation import mean_and_scale

OFFSET = "log_rate_offset"  # count likelihoods: log of the mean training count


def _per_draw(value, eta):
    """A scalar variable's draws (S,) broadcast against eta[..., 0] (S, obs), in eta's namespace."""
    xp = array_namespace(eta)
    value = xp.asarray(value, dtype=eta.dtype)
    return xp.broadcast_to(xp.reshape(value, value.shape + (1,) * (eta.ndim - 1 - value.ndim)),
                           eta.shape[:-1])


def _positive(value, what: str) -> None:
    if value is not None and (not np.isfinite(value) or value <= 0):
        raise InvalidSettingError(f"{what} must be a positive number, got {value}")

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


class RealTarget(SerialisableLikelihood):
    """What the real-target likelihoods share: the target standardised, the mean in user units.

    `Gaussian`, `HeteroscedasticGaussian` and `StudentT` derive from it; their first output is
    the standardised mean.

    Examples
    --------
    >>> import numpy as np
    >>> isinstance(StudentT(), RealTarget), isinstance(Poisson(), RealTarget)
    (True, False)
    >>> RealTarget.predictive_mean(np.ones((1, 2, 1)), {"y_mean": 10.0, "y_scale": 2.0})
    array([[12., 12.]])
    """

    is_classifier: ClassVar[bool] = False

    def prepare_target(self, y):
        """Check a real target and standardise it; see `Likelihood.prepare_target`."""
        return standardise_target(check_real_target(y, likelihood=self.name))

    def n_outputs(self, y):
        """One output, the standardised mean."""
        return 1

    @staticmethod
    def predictive_mean(eta, preprocessing):
        """The mean in user units, `eta`'s shape without the output axis."""
        return preprocessing["y_mean"] + preprocessing["y_scale"] * eta[..., 0]


@dataclass(frozen=True)
class Gaussian(RealTarget):
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
class HeteroscedasticGaussian(RealTarget):
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
class StudentT(RealTarget):
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


class _CountTarget(SerialisableLikelihood):
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
