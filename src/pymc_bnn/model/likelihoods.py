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

This module is the registry (`LIKELIHOODS`, `get_likelihood`, `likelihood_from_dict`) and names
every likelihood; `likelihood_protocol` holds the protocol and what the built-in ones share,
`classifier_likelihoods` and `regression_likelihoods` the built-in ones.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.label_checks import check_binary_labels, check_real_target
from pymc_bnn.model.classifier_likelihoods import Bernoulli, Categorical
from pymc_bnn.model.likelihood_protocol import Likelihood
from pymc_bnn.model.regression_likelihoods import (
    Gaussian,
    HeteroscedasticGaussian,
    NegativeBinomial,
    Poisson,
    RealTarget,
    StudentT,
)

# split out of this module: the protocol's helpers and the regressors' own names
__getattr__ = moved_names(__name__, {
    "OBSERVED": "pymc_bnn.model.likelihood_protocol",
    "array_namespace": "pymc_bnn.model.likelihood_protocol",
    "observe_rows": "pymc_bnn.model.likelihood_protocol",
    "OFFSET": "pymc_bnn.model.regression_likelihoods",
    "standardise_target": "pymc_bnn.model.regression_likelihoods",
})


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
    if isinstance(likelihood, RealTarget):
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
