"""Predictive uncertainty from posterior draws: how much is noise in the data, how much ignorance.

For a classifier with class probabilities p_s = p(y | x, θ_s) for draws s = 1 … S:

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
from scipy.special import entr, kl_div

from pymc_bnn.errors import InvalidInputError


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
    if not np.all(np.isfinite(probs)):
        raise InvalidInputError("probs contains NaN/inf; check the posterior draws for divergence")
    # Rounding can push a probability a hair outside [0, 1]; entr(x<0) would be -inf.
    return np.clip(probs, 0.0, 1.0)


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Entropy over the last axis in nats, with 0·log 0 = 0 (scipy's `entr`)."""
    return entr(probs).sum(axis=-1)


def _mean_over_draws(probs: np.ndarray) -> np.ndarray:
    """Mean over axis 0, shifted so that it is exactly p_0 when every draw equals p_0."""
    return probs[0] + (probs - probs[0]).mean(axis=0)


def _mutual_information(probs: np.ndarray, mean: np.ndarray) -> np.ndarray:
    # kl_div(p, q) = p log(p/q) − p + q ≥ 0 elementwise; the −p + q terms sum to 0 over
    # classes. Rounding in the mean can leave the sum a few 1e-17 below 0; the truth is not.
    return np.maximum(kl_div(probs, mean).sum(axis=-1).mean(axis=0), 0.0)


def entropy_decomposition(probs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total, aleatoric, epistemic) uncertainty per observation, each (n,) in nats.

    probs: (S, n, K) class probabilities per posterior draw, or (S, n) P(y = 1) for binary.
    total = predictive entropy, aleatoric = expected entropy, epistemic = mutual information;
    total = aleatoric + epistemic up to rounding (~1e-15), and all lie in [0, log K].
    The mutual information is computed as the mean KL divergence of each draw from the mean,
    mean_s KL(p_s || mean p), whose terms are each ≥ 0: a small epistemic part next to a large
    entropy does not drown in the cancellation of total − aleatoric, and it is exactly 0 when
    every draw is the same network.
    """
    probs = _as_probs(probs)
    mean = _mean_over_draws(probs)
    return _entropy(mean), _entropy(probs).mean(axis=0), _mutual_information(probs, mean)


def predictive_entropy(probs) -> np.ndarray:
    """Total uncertainty H[mean over draws of p], (n,) nats. probs: (S, n, K) or (S, n)."""
    return _entropy(_mean_over_draws(_as_probs(probs)))


def expected_entropy(probs) -> np.ndarray:
    """Aleatoric uncertainty, mean over draws of H[p_s], (n,) nats. probs: (S, n, K) or (S, n)."""
    return _entropy(_as_probs(probs)).mean(axis=0)


def mutual_information(probs) -> np.ndarray:
    """Epistemic uncertainty I(y; θ | x) = predictive − expected entropy, (n,) nats, ≥ 0.

    probs: (S, n, K) or (S, n). Also known as the BALD score (Houlsby et al. 2011).
    """
    probs = _as_probs(probs)
    return _mutual_information(probs, _mean_over_draws(probs))


def variation_ratio(probs) -> np.ndarray:
    """1 − (share of draws whose most probable class is the modal one), (n,) in [0, 1 − 1/K].

    probs: (S, n, K) or (S, n). 0 means every draw picks the same class; it measures
    disagreement between draws' decisions, not the confidence of each (Freeman 1965; Gal 2016).
    Ties within a draw go to the lowest class index.
    """
    probs = _as_probs(probs)
    votes = probs.argmax(axis=-1)  # (S, n)
    n_classes = probs.shape[-1]
    counts = np.stack([(votes == k).sum(axis=0) for k in range(n_classes)], axis=-1)
    return 1.0 - counts.max(axis=-1) / probs.shape[0]


__all__ = ["entropy_decomposition", "expected_entropy", "mutual_information",
           "predictive_entropy", "variation_ratio"]
