"""The Gaussian families ADVI fits on a model's unconstrained space: mean-field and full-rank.

A family is a small frozen object of pure functions of its parameters (a dict of arrays, one q
per call): `init` from a mean and a marginal sd, `sample` by reparameterisation, `entropy` in
nats and `marginal_sd`. The optimiser (`vi_optimiser`) moves the parameters, the driver
(`vi_loop`) maps the functions over restarts; neither knows which family it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pymc_bnn.errors import InvalidSettingError

_LOG_2_PI_E = 1.0 + math.log(2.0 * math.pi)


@dataclass(frozen=True)
class MeanField:
    """q(z) = N(mu, diag(sd²)) with sd = exp(log_sd): parameters {"mu": (D,), "log_sd": (D,)}.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.vi_family import MeanField
    >>> q = MeanField()
    >>> params = q.init(np.zeros(3), np.full(3, 0.5))
    >>> q.sample(params, np.ones((2, 3))).tolist()  # 2 draws: mu + sd * eps
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    >>> round(float(q.entropy(params)), 4)  # 3 × (½ log(2πe) + log 0.5), nats
    2.1774
    >>> q.marginal_sd(params)
    array([0.5, 0.5, 0.5])
    """

    name: str = "meanfield"
    title: str = "ADVI"

    def init(self, mu, sd) -> dict:
        """Parameters of q with mean `mu` (D,) and marginal sds `sd` (D,), in their dtype."""
        import jax.numpy as jnp

        return {"mu": jnp.asarray(mu), "log_sd": jnp.log(jnp.asarray(sd))}

    def sample(self, params: dict, eps):
        """Draws (S, D) of q from standard-normal noise `eps` (S, D)."""
        import jax.numpy as jnp

        return params["mu"] + jnp.exp(params["log_sd"]) * eps

    def entropy(self, params: dict):
        """H[q] in nats (a scalar)."""
        import jax.numpy as jnp

        return jnp.sum(params["log_sd"]) + 0.5 * params["mu"].shape[-1] * _LOG_2_PI_E

    def marginal_sd(self, params: dict) -> np.ndarray:
        """The sd of each coordinate under q, (D,)."""
        return np.exp(_float64(params["log_sd"]))


@dataclass(frozen=True)
class FullRank:
    """q(z) = N(mu, L Lᵀ): parameters {"mu": (D,), "chol": (D, D)}.

    `chol` is unconstrained: L is its lower triangle with the diagonal exponentiated, so every
    value of the parameters is a valid covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.inference.vi_family import FullRank
    >>> q = FullRank()
    >>> params = q.init(np.zeros(2), np.array([1.0, 2.0]))  # starts diagonal
    >>> params["chol"] = params["chol"].at[1, 0].set(1.0)    # then correlates z₁ with z₀
    >>> q.sample(params, np.array([[1.0, 0.0]])).tolist()
    [[1.0, 1.0]]
    >>> q.marginal_sd(params).round(4)  # sqrt(1), sqrt(1² + 2²)
    array([1.    , 2.2361])
    """

    name: str = "fullrank"
    title: str = "full-rank ADVI"

    def init(self, mu, sd) -> dict:
        """Parameters of a diagonal q with mean `mu` (D,) and marginal sds `sd` (D,)."""
        import jax.numpy as jnp

        return {"mu": jnp.asarray(mu), "chol": jnp.diag(jnp.log(jnp.asarray(sd)))}

    def sample(self, params: dict, eps):
        """Draws (S, D) of q from standard-normal noise `eps` (S, D)."""
        import jax.numpy as jnp

        return params["mu"] + eps @ _cholesky(params["chol"], jnp).T

    def entropy(self, params: dict):
        """H[q] in nats (a scalar): the log-determinant of L plus the Gaussian constant."""
        import jax.numpy as jnp

        return jnp.sum(jnp.diag(params["chol"])) + 0.5 * params["mu"].shape[-1] * _LOG_2_PI_E

    def marginal_sd(self, params: dict) -> np.ndarray:
        """The sd of each coordinate under q, (D,): the norms of L's rows."""
        chol = _cholesky(_float64(params["chol"]), np)
        return np.sqrt(np.sum(chol**2, axis=1))


def _float64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _cholesky(raw, xp):
    """Lower-triangular factor with a positive diagonal from an unconstrained (D, D) matrix."""
    return xp.tril(raw, -1) + xp.diag(xp.exp(xp.diag(raw)))


FAMILIES: dict[str, MeanField | FullRank] = {"meanfield": MeanField(), "fullrank": FullRank()}


def get_family(name: str) -> MeanField | FullRank:
    """The family called `name` (a key of `FAMILIES`).

    Examples
    --------
    >>> from pymc_bnn.inference.vi_family import get_family
    >>> get_family("fullrank").title
    'full-rank ADVI'
    """
    if name not in FAMILIES:
        raise InvalidSettingError(
            f"unknown variational family {name!r}; use one of {', '.join(FAMILIES)}")
    return FAMILIES[name]
