"""Likelihoods: how the network's pre-link output explains the target.

Each likelihood checks and encodes the target, says how many network outputs it needs, adds the
observed variable `y` to the PyMC model, and turns network outputs into the distribution's mean
on any backend (for prediction over posterior draws).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar, Protocol

import numpy as np

from pymc_bnn.errors import InvalidInputError, InvalidSettingError

OBSERVED = "y"


class Likelihood(Protocol):
    name: str
    is_classifier: bool

    def prepare_target(self, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """Validate `y` (1-D, length already checked); return it encoded for the model and a
        JSON-able record of the encoding (classes, standardisation) for `predictive_params`."""

    def n_outputs(self, y: np.ndarray) -> int:
        """Network outputs needed for the encoded target `y`."""

    def observe(self, eta, y_data) -> tuple[str, ...]:
        """Add the observed variable `y` (dims ("obs",)) to the model in context; eta: (obs, out).

        Returns the names of any variables of its own it added (e.g. a noise scale "sigma")."""

    def predictive_params(self, eta: np.ndarray, params: dict[str, np.ndarray],
                          preprocessing: dict) -> dict[str, np.ndarray]:
        """Per-draw parameters of the predictive distribution, in the user's units (NumPy).

        eta: (S, obs, out) pre-link outputs; params: the likelihood's own posterior variables
        (e.g. a noise scale), each (S, ...); preprocessing: what `prepare_target` recorded.
        Classifiers return {"probs": (S, obs, n_classes)}; regression returns at least
        {"mean": (S, obs), "scale": (S, obs)}.
        """

    def to_dict(self) -> dict: ...


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


@dataclass(frozen=True)
class Bernoulli:
    """Binary target in {0, 1} with a logit link: p = sigmoid(eta)."""

    name: ClassVar[str] = "bernoulli"
    is_classifier: ClassVar[bool] = True

    def prepare_target(self, y):
        values = np.unique(y)
        if y.dtype.kind == "b":
            y = y.astype(np.int64)
            values = np.unique(y)
        if not set(values.tolist()) <= {0, 1}:
            shown = ", ".join(map(str, values[:5])) + (", ..." if values.size > 5 else "")
            raise InvalidInputError(
                f"the bernoulli likelihood needs labels 0 and 1, got {shown}; encode the two "
                "classes as 0/1 (BayesianMLPClassifier does this for you) or use "
                "likelihood='categorical' for more than two classes"
            )
        if values.size < 2:
            raise InvalidInputError(
                f"y holds a single class ({values[0] if values.size else 'none'}); a classifier "
                "needs examples of both classes"
            )
        return y.astype(np.int64), {"classes": [0, 1]}

    def n_outputs(self, y):
        return 1

    def observe(self, eta, y_data):
        import pymc as pm

        pm.Bernoulli(OBSERVED, logit_p=eta[:, 0], observed=y_data, dims="obs")
        return ()

    def predictive_params(self, eta, params, preprocessing):
        p = _sigmoid(eta[..., 0])
        return {"probs": np.stack([1.0 - p, p], axis=-1)}

    def to_dict(self):
        return {"name": self.name, **asdict(self)}


LIKELIHOODS: dict[str, type] = {"bernoulli": Bernoulli}


def get_likelihood(likelihood: str | Likelihood = "bernoulli", **options) -> Likelihood:
    if isinstance(likelihood, str):
        if likelihood not in LIKELIHOODS:
            raise InvalidSettingError(
                f"unknown likelihood {likelihood!r}; use one of {', '.join(LIKELIHOODS)}"
            )
        return LIKELIHOODS[likelihood](**options)
    return likelihood


def likelihood_from_dict(data: dict) -> Likelihood:
    data = dict(data)
    name = data.pop("name")
    if name not in LIKELIHOODS:
        raise InvalidSettingError(f"this version of pymc-bnn does not know the likelihood {name!r}")
    return LIKELIHOODS[name](**data)
