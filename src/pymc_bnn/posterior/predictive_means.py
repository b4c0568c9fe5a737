"""The per-draw predictive mean every compiled pass reduces, and the preprocessing numbers it takes.

The passes take a fit's numbers as arguments (`preprocessing_parts`) and run location-scale
likelihoods on the standardised scale (`standardised_pass`); two class probabilities reduce to
P(class 1) (`predictive_mean`, `mean_of`).
"""

from __future__ import annotations

import json


def mean_of(draws: dict):
    """The predictive mean per draw from `predictive_params` output (see `mean_draws`).

    Two class probabilities give P(class 1); more give every class's.

    Parameters
    ----------
    draws : dict
        `predictive_params` output: "probs" `(S, n, K)` or "mean" `(S, n)`.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[[0.8, 0.2], [0.4, 0.6]]])  # one draw, two rows
    >>> mean_of({"probs": probs})
    array([[0.2, 0.6]])
    """
    if "probs" in draws:
        probs = draws["probs"]
        return probs[..., 1] if probs.shape[-1] == 2 else probs
    return draws["mean"]


def preprocessing_parts(preprocessing: dict) -> tuple[dict, str]:
    """(numbers, JSON of the rest) of a preprocessing record.

    The jitted passes take a fit's numbers (target mean and sd, count offset) as arguments and
    compile only per the rest (e.g. class labels), so refits on new data reuse the compiled
    prediction.

    Parameters
    ----------
    preprocessing : dict

    Returns
    -------
    numbers : dict
        The numeric entries, as floats.
    rest : str
        The others as sorted JSON.

    Examples
    --------
    >>> preprocessing_parts({"y_mean": 2.0, "y_scale": 0.5, "classes": [0, 1]})
    ({'y_mean': 2.0, 'y_scale': 0.5}, '{"classes": [0, 1]}')
    """
    numbers = {k: float(v) for k, v in preprocessing.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    rest = {k: v for k, v in preprocessing.items() if k not in numbers}
    return numbers, json.dumps(rest, sort_keys=True)


# Likelihoods whose predictive is the standardised one moved by y_mean and scaled by y_scale
# (`Gaussian`, `Heteroscedastic`, `StudentT`): the float32 passes run on the standardised scale
# and the move is made after, in float64 (`standardised_pass`).
LOCATION_SCALE = frozenset({"gaussian", "heteroscedastic", "student_t"})


def standardised_pass(likelihood, numbers: dict) -> tuple[dict, tuple[float, float] | None]:
    """The numbers for a float32 pass on the standardised scale, and the move back after it.

    A target far from zero against its spread (1e6 + noise of sd 1) would lose its spread in
    float32 sums of the user-unit means (an sd off by 26% at 1e6, every mean off by 448 at
    1e9); on the standardised scale nothing is lost, and `y_mean + y_scale * value` is done in
    float64.

    Parameters
    ----------
    likelihood : Likelihood
    numbers : dict
        The preprocessing record's numbers (`preprocessing_parts`).

    Returns
    -------
    numbers : dict
        With y_mean 0 and y_scale 1 where the likelihood is a location-scale one.
    move : (y_mean, y_scale) or None
        What to apply to means and interval ends (and `y_scale` to sds) after the pass; None:
        the numbers are unchanged.

    Examples
    --------
    >>> from pymc_bnn.model.likelihoods import Bernoulli, Gaussian
    >>> standardised_pass(Gaussian(), {"y_mean": 1e6, "y_scale": 2.0})
    ({'y_mean': 0.0, 'y_scale': 1.0}, (1000000.0, 2.0))
    >>> standardised_pass(Bernoulli(), {})
    ({}, None)
    """
    located = getattr(likelihood, "name", None) in LOCATION_SCALE
    if located and {"y_mean", "y_scale"} <= numbers.keys():
        return ({**numbers, "y_mean": 0.0, "y_scale": 1.0},
                (float(numbers["y_mean"]), float(numbers["y_scale"])))
    return numbers, None


def predictive_mean(likelihood, eta, preprocessing):
    """`predictive_mean` with `mean_of`'s rule: two class probabilities give P(class 1).

    Parameters
    ----------
    likelihood : Likelihood
        With a `predictive_mean` method.
    eta : array
        The pre-link output.
    preprocessing : dict

    Returns
    -------
    array

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_bnn.model.likelihoods import Bernoulli
    >>> predictive_mean(Bernoulli(), np.zeros((2, 3, 1)), {})  # logit 0: P(y = 1) = 1/2
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    values = likelihood.predictive_mean(eta, preprocessing)
    if likelihood.is_classifier and values.ndim == eta.ndim and values.shape[-1] == 2:
        return values[..., 1]
    return values
