"""A classifier's predictive uncertainty from its draws of class probabilities, in nats.

For class probabilities p_s = p(y | x, θ_s) over draws s = 1 … S:

- predictive entropy (total)     H[mean_s p_s]
- expected entropy (aleatoric)   mean_s H[p_s]        noise the model believes is in the data
- mutual information (epistemic) total − aleatoric    disagreement between plausible networks

all in nats, per observation. The mutual information is I(y; θ | x) ≥ 0 (entropy is concave);
it is 0 when every draw is the same network, and it is what BALD-style active learning
acquires on. Probabilities always come from the network output (`Posterior.predictive_draws`),
never from thresholded 0/1 draws, which would mix both kinds of uncertainty into one.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from pymc_bnn.errors import InvalidInputError, InvalidSettingError
from pymc_bnn.validation import whole_number


def _as_probs(probs) -> np.ndarray:
    """Class probabilities as float64 (S, n, K), clipped into [0, 1].

    A 2-D array (S, n) is read as P(y = 1) of a binary classifier and expanded to K = 2.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2:
        probs = np.stack([1.0 - probs, probs], axis=-1)
    if probs.ndim != 3:
        raise InvalidInputError(
            f"probs must be (draws, obs, classes) or (draws, obs) for P(y = 1), got shape "
            f"{probs.shape}; pass Posterior.predictive_draws(X)['probs']"
        )
    low, high = probs.min(), probs.max()  # NaN propagates through both
    if not (np.isfinite(low) and np.isfinite(high)):
        raise InvalidInputError("probs contains NaN/inf; check the posterior draws for divergence")
    check_class_sums(probs, "probs")
    # Rounding can push a probability a hair outside [0, 1], where its log is undefined.
    return np.clip(probs, 0.0, 1.0) if low < 0.0 or high > 1.0 else probs


# How far a draw's class probabilities may sum from 1: float32 draws are off by ~1e-7.
_SUM_TOLERANCE = 1e-4


def check_class_sums(probs: np.ndarray, name: str = "probs") -> None:
    """Refuse class probabilities (..., K) that do not sum to 1 over the last axis.

    Entropies and the mutual information are defined for distributions over the classes only;
    a single column (P(y = 1) as `(draws, obs, 1)`) or unnormalised scores give numbers with
    no meaning (a "total" above its bound log K), so they are refused, not summarised.

    Parameters
    ----------
    probs : numpy.ndarray
        `(..., n_classes)` finite probabilities.
    name : str, default "probs"
        The argument's name, for the message.

    Raises
    ------
    InvalidInputError
        When some row's sum is further than 1e-4 from 1.

    Examples
    --------
    >>> import numpy as np
    >>> check_class_sums(np.array([[[0.25, 0.75]]]))
    >>> check_class_sums(np.array([[[0.3]]]))
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: probs must sum to 1 over the classes (last axis) ...
    """
    sums = _sum_classes(probs)
    worst = float(np.max(np.abs(sums - 1.0))) if sums.size else 0.0
    if worst > _SUM_TOLERANCE:
        raise InvalidInputError(
            f"{name} must sum to 1 over the classes (last axis) for every draw and point, but "
            f"a sum is {float(sums.flat[np.argmax(np.abs(sums - 1.0))]):.4g}; pass class "
            "probabilities (a softmax, not logits or per-class sigmoids), with the classes "
            "last, and a binary classifier's P(y = 1) as (draws, obs), not (draws, obs, 1)"
        )


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy over the last axis in nats, with 0·log 0 = 0 (scipy's `entr`)."""
    return entr(probs).sum(axis=-1)


def _p_log_q(probs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Σ_k p_k log q_k over the last axis, with 0·log 0 = 0 (q_k = 0 only where p_k = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0·log 0 is NaN here, set to 0 next
        terms = probs * np.log(q)
    return _sum_classes(np.where(probs > 0.0, terms, 0.0))


def _sum_classes(values: np.ndarray) -> np.ndarray:
    """Sum over the (short) class axis, class by class.

    Faster than a NumPy reduction over a length-2 last axis, and always in the same order.
    """
    total = values[..., 0].copy()
    for k in range(1, values.shape[-1]):
        total += values[..., k]
    return total


def _mean_over_draws(probs: np.ndarray) -> np.ndarray:
    """Mean over axis 0, shifted so that it is exactly p_0 when every draw equals p_0."""
    return probs[0] + (probs - probs[0]).mean(axis=0)


def _decomposition(probs: np.ndarray, mean: np.ndarray):
    """(total, aleatoric, epistemic) from clipped probs (S, n, K) and their mean (n, K)."""
    p_log_p = _p_log_q(probs, probs)  # (S, n): minus each draw's entropy
    # KL(p_s || mean) = Σ p log p − Σ p log mean, per draw. Both sums are formed the same way,
    # so a draw equal to the mean gives exactly 0; rounding elsewhere stays ~1e-16 and the
    # mean over draws cannot go below 0 except by that rounding, which is clipped.
    kl_per_draw = p_log_p - _p_log_q(probs, mean)
    epistemic = np.maximum(kl_per_draw.mean(axis=0), 0.0)
    return _entropy(mean), -p_log_p.mean(axis=0), epistemic


def entropy_decomposition(probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total, aleatoric and epistemic uncertainty per observation, in nats.

    total = predictive entropy, aleatoric = expected entropy, epistemic = mutual information;
    total = aleatoric + epistemic up to rounding (~1e-15), and all lie in [0, log K].
    The mutual information is computed as the mean KL divergence of each draw from the mean,
    mean_s KL(p_s || mean p), not as total − aleatoric: it is exactly 0 when every draw is the
    same network, and never negative.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    total, aleatoric, epistemic : numpy.ndarray
        `(n_obs,)` each, nats.

    Raises
    ------
    InvalidInputError
        On another shape, NaN/inf probabilities, or classes that do not sum to 1.

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> total, aleatoric, epistemic = entropy_decomposition(probs)
    >>> total.round(4), aleatoric.round(4), epistemic.round(4)
    (array([0.6931, 0.6931]), array([0.3251, 0.6931]), array([0.3681, 0.    ]))
    """
    probs = _as_probs(probs)
    return _decomposition(probs, _mean_over_draws(probs))


def predictive_entropy(probs) -> np.ndarray:
    """Total uncertainty H[mean over draws of p] per observation, in nats.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, log K].

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> predictive_entropy(probs).round(4)
    array([0.6931, 0.6931])
    """
    return _entropy(_mean_over_draws(_as_probs(probs)))


def expected_entropy(probs) -> np.ndarray:
    """Aleatoric uncertainty: the mean over draws of H[p_s] per observation, in nats.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, log K].

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> expected_entropy(probs).round(4)
    array([0.3251, 0.6931])
    """
    probs = _as_probs(probs)
    return -_p_log_q(probs, probs).mean(axis=0)


def mutual_information(probs) -> np.ndarray:
    """Epistemic uncertainty I(y; θ | x) = predictive − expected entropy, in nats, ≥ 0.

    Also known as the BALD score (Houlsby et al. 2011).

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`; 0 where every draw is the same network.

    Examples
    --------
    Two draws that disagree on one observation and agree (at 0.5) on another:

    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.5], [0.1, 0.5]])   # (n_draws=2, n_obs=2), P(y = 1)
    >>> mutual_information(probs).round(4)
    array([0.3681, 0.    ])
    """
    return entropy_decomposition(probs)[2]


def member_decomposition(probs, n_members: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split an ensemble's predictive entropy by member: total, expected and disagreement.

    With p_m the predictive of member m (the mean over its draws) and p the equally weighted
    mixture of the members: total = H[p] (the same as `predictive_entropy` over every draw),
    expected = mean_m H[p_m] (what each member is unsure of on its own) and disagreement =
    total − expected = I(y; member | x) ≥ 0 (the members' disagreement, in nats).

    Parameters
    ----------
    probs : array-like
        `(n_draws, n_obs, n_classes)` or `(n_draws, n_obs)` draws ordered member by member
        (n_draws = n_members × draws per member, as an ensemble posterior's chains are stacked).
    n_members : int
        Number of members, e.g. the chains of an ensemble posterior.

    Returns
    -------
    total, expected, disagreement : numpy.ndarray
        `(n_obs,)` each, nats.

    Raises
    ------
    InvalidSettingError
        When `n_members` is not a whole number ≥ 1, or the draws do not split into
        `n_members` equal members.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9], [0.9], [0.1], [0.1]])   # two members, two draws each
    >>> total, expected, disagreement = member_decomposition(probs, n_members=2)
    >>> round(float(total[0]), 4), round(float(expected[0]), 4), round(float(disagreement[0]), 4)
    (0.6931, 0.3251, 0.3681)
    """
    probs = _as_probs(probs)
    n_members = whole_number(n_members, "n_members", minimum=1)
    if probs.shape[0] % n_members:
        raise InvalidSettingError(
            f"{probs.shape[0]} draws do not split into {n_members} equal members; pass the "
            "number of chains of an ensemble posterior")
    per_member = probs.reshape(n_members, -1, *probs.shape[1:]).mean(axis=1)  # (M, n, K)
    return _decomposition(per_member, _mean_over_draws(per_member))


def variation_ratio(probs) -> np.ndarray:
    """1 − (share of draws whose most probable class is the modal one), per observation.

    0 means every draw picks the same class; it measures disagreement between draws' decisions,
    not the confidence of each (Freeman 1965; Gal 2016). Ties within a draw go to the lowest
    class index.

    Parameters
    ----------
    probs : array-like
        Class probabilities per posterior draw `(n_draws, n_obs, n_classes)`, or P(y = 1)
        `(n_draws, n_obs)` of a binary classifier: `Posterior.predictive_draws(X)["probs"]`.

    Returns
    -------
    numpy.ndarray
        `(n_obs,)`, in [0, 1 − 1/K].

    Examples
    --------
    >>> import numpy as np
    >>> variation_ratio(np.array([[0.9, 0.8], [0.2, 0.7], [0.6, 0.9]]))  # 3 draws, 2 obs
    array([0.333..., 0.       ])
    """
    return _variation_ratio(_as_probs(probs))


def _variation_ratio(probs: np.ndarray) -> np.ndarray:
    """`variation_ratio` of probabilities `_as_probs` has checked (S, n, K)."""
    votes = probs.argmax(axis=-1)  # (S, n)
    n_classes = probs.shape[-1]
    counts = np.stack([(votes == k).sum(axis=0) for k in range(n_classes)], axis=-1)
    return 1.0 - counts.max(axis=-1) / probs.shape[0]


def summarise_class_draws(probs: np.ndarray, levels: np.ndarray | None) -> dict:
    """Entropies, variation ratio and (unless `levels` is None) intervals of one chunk's draws.

    The probabilities themselves are `Posterior.predict`'s, filled in by the caller; the mean
    over draws is formed once here, for the entropies.

    Parameters
    ----------
    probs : array-like
        `(n_draws, n_obs, n_classes)` or `(n_draws, n_obs)` for P(y = 1).
    levels : numpy.ndarray or None
        `(L,)` central interval probabilities, or None for no intervals.

    Returns
    -------
    dict of str to numpy.ndarray
        "predictive_entropy", "expected_entropy", "mutual_information", "variation_ratio",
        each `(n_obs,)`; with levels "probability_lower" and "probability_upper",
        `(L, n_obs, n_classes)`.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.2, 0.9], [0.4, 0.7]])  # 2 draws of P(y = 1) at 2 points
    >>> out = summarise_class_draws(probs, np.array([0.5]))
    >>> out["probability_upper"].shape, out["variation_ratio"].tolist()
    ((1, 2, 2), [0.0, 0.0])
    """
    probs = _as_probs(probs)
    total, aleatoric, epistemic = _decomposition(probs, _mean_over_draws(probs))
    out = {"predictive_entropy": total, "expected_entropy": aleatoric,
           "mutual_information": epistemic, "variation_ratio": _variation_ratio(probs)}
    if levels is None:
        return out
    tails = np.concatenate([(1 - levels) / 2, (1 + levels) / 2])
    if probs.shape[-1] == 2:  # P(class 0) = 1 − P(class 1): sort one class, not two
        ends = np.quantile(probs[..., 1], tails, axis=0)  # (2L, n)
        n_levels = len(levels)
        flipped = 1.0 - np.concatenate([ends[n_levels:], ends[:n_levels]])
        bounds = np.stack([flipped, ends], axis=-1)
    else:
        bounds = np.quantile(probs, tails, axis=0)  # (2L, n, K)
    return {"probability_lower": bounds[: len(levels)],
            "probability_upper": bounds[len(levels):], **out}
