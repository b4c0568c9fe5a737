"""The classifiers' likelihoods: `Bernoulli` (labels 0/1) and `Categorical` (any labels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.label_checks import check_binary_labels, encode_class_labels
from pymc_bnn.model.likelihood_protocol import (
    SerialisableLikelihood,
    array_namespace,
    observe_rows,
)


def _sigmoid(x):
    xp = array_namespace(x)
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def _softmax(x):
    xp = array_namespace(x)
    z = x - xp.max(x, axis=-1, keepdims=True)
    e = xp.exp(z)
    return e / xp.sum(e, axis=-1, keepdims=True)


@dataclass(frozen=True)
class Bernoulli(SerialisableLikelihood):
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
class Categorical(SerialisableLikelihood):
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
