"""The likelihood a statistician would pick for a target column, with the reason in words.

`pymc-bnn fit --likelihood auto` (and `count`) calls `choose_likelihood`; the choice and its
reason are printed and kept in the model file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymc_bnn.defaults import MAX_CLASS_LABELS as MAX_LABELS
from pymc_bnn.errors import InvalidInputError
from pymc_bnn.label_checks import numbers_as_text, numbers_but_a_few

# MAX_LABELS (10): whole numbers with at most this many distinct values are class labels
# (species codes 0/1/2, ratings 1..5); more are a quantity. Counts with so few values
# (children per family, 0..6) are ambiguous: name them as counts (`counts=True`,
# `--likelihood count`).
# Negative binomial rather than Poisson when the Pearson dispersion of a Poisson fit is above
# this and the chi-square test rejects dispersion 1 at `DISPERSION_LEVEL`. At 1.5 a Poisson's
# predictive sd is 1.5**0.5 ≈ 1.22 times too small and its 90% intervals cover about 0.8; a
# significance test alone would flag a harmless 1.05 on large tables.
DISPERSION_THRESHOLD = 1.5
DISPERSION_LEVEL = 0.01


@dataclass(frozen=True)
class LikelihoodChoice:
    """A chosen likelihood and why, in one sentence.

    Parameters
    ----------
    classifier : bool
        Class labels: then `likelihood` is "auto" (bernoulli for two classes, categorical for
        more).
    likelihood : str
        "auto" or a regression likelihood name.
    reason : str
        The reason, printed by the CLI and kept in the model file.

    Examples
    --------
    >>> choice = choose_likelihood([2.5, 3.1, -0.4])
    >>> choice.to_dict()["likelihood"], choice.reason
    ('gaussian', 'not whole numbers: a real-valued target, gaussian')
    """

    classifier: bool
    likelihood: str
    reason: str

    def to_dict(self) -> dict:
        """The choice as plain data (a model file's notes hold it)."""
        return {"classifier": self.classifier, "likelihood": self.likelihood,
                "reason": self.reason}


@dataclass(frozen=True)
class Dispersion:
    """Pearson dispersion of a Poisson fit, its p-value, and what was fitted.

    Parameters
    ----------
    dispersion : float
        The chi-square statistic / degrees of freedom (1 for Poisson data).
    p_value : float
        One-sided, of dispersion 1.
    fitted : str
        The Poisson model, in words.

    Examples
    --------
    >>> Dispersion(dispersion=0.84, p_value=0.95, fitted="a constant-mean Poisson").fitted
    'a constant-mean Poisson'
    """

    dispersion: float
    p_value: float
    fitted: str


def _refuse_numbers_with_typos(values) -> None:
    """Refuse text labels that are numbers, or numbers but for a few values (a typo, "n/a").

    Read as text, the column would make a classifier with a class per distinct number (a
    price column with one "n/a": hundreds of classes, minutes of fitting). Numbers in at least
    90% of the rows and more distinct numbers than `MAX_LABELS` is such a column; the message
    names the values that are not numbers (`label_checks.numbers_but_a_few`).
    """
    import pandas as pd

    as_text = numbers_as_text(values, max_labels=MAX_LABELS)
    if as_text is not None:  # every label a number stored as text: a class per number
        raise InvalidInputError(
            f"the target holds numbers stored as text ({as_text[0]} distinct, e.g. "
            f"{', '.join(repr(v) for v in as_text[1])}): as text it would "
            "make a classifier with a class per number; store them as numbers, choose a "
            "likelihood for numbers (--likelihood gaussian), or ask for classes (--likelihood "
            "categorical)")
    found = numbers_but_a_few(values, max_labels=MAX_LABELS)
    if found is None:
        return
    odd, n_odd, first = found
    distinct = int(pd.to_numeric(values, errors="coerce").nunique())
    raise InvalidInputError(
        f"the target holds numbers ({distinct} distinct) except in {n_odd} row(s) "
        f"({', '.join(repr(v) for v in odd[:5])}{' …' if len(odd) > 5 else ''}; first: row "
        f"{first}); as text it would make a classifier with a class per number: fix or "
        "drop those rows, or ask for classes (--likelihood categorical)")

def choose_likelihood(y, X=None, *, counts: bool = False) -> LikelihoodChoice:
    """The likelihood for target `y` (n_obs,), with the reason.

    The rule, in order:

    1. text, boolean or pandas categorical values: class labels (a classifier);
    2. `counts=True`: a count likelihood (step 5); the values must be whole numbers ≥ 0;
    3. whole numbers with at most `MAX_LABELS` (10) distinct values: class labels;
    4. whole numbers ≥ 0 whose mean is less than 2 sd above zero, so a Gaussian would put more
       than 2.3% of its mass on impossible negative values: counts (step 5); other numbers
       (fractions, negative whole numbers, whole numbers far from zero such as years or
       prices): gaussian;
    5. counts: Poisson, or negative binomial when overdispersed, judged by the Pearson
       chi-square test of a Poisson GLM on the features `X` (n_obs, n_features; encoded, any
       scale) or, without `X`, of a constant mean: negative binomial when the dispersion
       (chi-square / degrees of freedom) is above `DISPERSION_THRESHOLD` (1.5) and the test
       rejects dispersion 1 at level `DISPERSION_LEVEL` (0.01). The GLM is linear, so a mean
       the network will bend shows up as some extra dispersion; negative binomial contains
       the Poisson as a limit, so erring that way costs little.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` the target.
    X : array-like, optional
        `(n_obs, n_features)` encoded features, for the count test.
    counts : bool, default False
        The target is counts (`--likelihood count`).

    Returns
    -------
    LikelihoodChoice

    Raises
    ------
    InvalidInputError
        `counts=True` for values that are not whole numbers ≥ 0.

    Examples
    --------
    >>> choose_likelihood(["yes", "no", "yes"]).classifier
    True
    >>> choose_likelihood([1, 2, 3], counts=True).likelihood
    'poisson'
    >>> import numpy as np
    >>> spread = np.random.default_rng(0).negative_binomial(1, 0.25, size=200)
    >>> choose_likelihood(spread, counts=True).likelihood
    'negative_binomial'
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    values = pd.Series(np.asarray(y) if not hasattr(y, "dtype") else y)
    if not is_numeric_dtype(values) and not is_bool_dtype(values):
        _refuse_numbers_with_typos(values)
    if not is_numeric_dtype(values) or is_bool_dtype(values):
        kind = "true/false" if is_bool_dtype(values) else "text"
        return LikelihoodChoice(True, "auto", f"{kind} labels ({values.nunique()} distinct "
                                              "values): a classifier")
    numbers = values.to_numpy(dtype=np.float64)
    whole = bool(np.all(np.mod(numbers, 1) == 0))
    distinct = int(values.nunique())
    span = f"{_number(numbers.min())}..{_number(numbers.max())}"
    if counts:
        if not (whole and numbers.min() >= 0):
            raise InvalidInputError(
                f"a count target needs whole numbers ≥ 0, but the target runs {span} and is "
                f"{'whole' if whole else 'not whole'}; choose another likelihood (gaussian)")
        return _count_choice(numbers, X, f"named as counts ({distinct} values, {span})")
    if whole and distinct <= MAX_LABELS:
        return LikelihoodChoice(True, "auto", f"{distinct} distinct whole numbers ({span}): "
                                              "class labels, a classifier (--likelihood count "
                                              "if they are counts)")
    mean, sd = numbers.mean(), numbers.std()
    below = _normal_below_zero(mean, sd)
    if whole and numbers.min() >= 0 and mean - 2 * sd < 0:
        return _count_choice(numbers, X, f"whole numbers {span} with {distinct} distinct values, "
                                         f"where a Gaussian would put {below:.0%} of its mass "
                                         "below zero: counts")
    why = ("not whole numbers" if not whole else "whole numbers with negative values"
           if numbers.min() < 0 else f"whole numbers {span} far from zero (a Gaussian puts "
                                     f"{below:.1%} below zero)")
    return LikelihoodChoice(False, "gaussian", f"{why}: a real-valued target, gaussian")


def _count_choice(y, X, why: str) -> LikelihoodChoice:
    test = dispersion_test(y, X)
    overdispersed = test.dispersion > DISPERSION_THRESHOLD and test.p_value < DISPERSION_LEVEL
    p_text = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
    verdict = ("overdispersed, negative_binomial" if overdispersed
               else "no marked overdispersion, poisson")
    return LikelihoodChoice(
        False, "negative_binomial" if overdispersed else "poisson",
        f"{why}; Pearson dispersion {test.dispersion:.2f} of {test.fitted} (chi-square test of "
        f"dispersion 1: {p_text}): {verdict}")


def dispersion_test(y, X=None) -> Dispersion:
    """The Pearson chi-square dispersion test of a Poisson model for counts `y` (n_obs,).

    With features `X` the Poisson model is scikit-learn's `PoissonRegressor` (log link,
    standardised inputs, a tiny ridge penalty so that one-hot columns that add up to 1 do not
    break it); without, a constant mean. Statistic sum((y - mu)^2 / mu) on n_obs - n_params
    degrees of freedom.

    Parameters
    ----------
    y : array-like
        `(n_obs,)` counts.
    X : array-like, optional
        `(n_obs, n_features)`; used when it has between 1 and n_obs - 2 columns.

    Returns
    -------
    Dispersion

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> round(dispersion_test(rng.poisson(3.0, size=200)).dispersion, 2)
    0.84
    >>> test = dispersion_test(rng.negative_binomial(1, 0.25, size=200))
    >>> test.dispersion > 1.5, test.p_value < 0.01
    (True, True)
    """
    from scipy.stats import chi2

    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if X is not None and np.ndim(X) == 2 and 0 < np.shape(X)[1] < n - 1:
        from sklearn.linear_model import PoissonRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        glm = make_pipeline(StandardScaler(), PoissonRegressor(alpha=1e-4, max_iter=1000))
        mu = glm.fit(X, y).predict(X)
        df, fitted = n - np.shape(X)[1] - 1, f"a Poisson GLM on {np.shape(X)[1]} feature(s)"
    else:
        mu, df, fitted = np.full(n, y.mean()), max(n - 1, 1), "a constant-mean Poisson"
    statistic = float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-12)))
    return Dispersion(statistic / df, float(chi2.sf(statistic, df)), fitted)


def _normal_below_zero(mean: float, sd: float) -> float:
    from scipy.stats import norm

    return float(norm.cdf(-mean / sd)) if sd > 0 else 0.0


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
