"""Hidden representations of posterior draws and how alike they are (linear CKA).

CKA compares what two networks compute on the same rows, not their weights, so it needs no
alignment of hidden units; `pymc_bnn.posterior.stability` reports it per layer.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def linear_cka(representations: np.ndarray) -> np.ndarray:
    """Linear CKA between every pair of representations: (m, m) in [0, 1].

    Columns are centred over rows; CKA(A, B) = ‖AᵀB‖²_F / (‖AᵀA‖_F ‖BᵀB‖_F) (Kornblith et al.
    2019), which is unchanged by permuting or flipping units, so no alignment is needed.

    Parameters
    ----------
    representations : array-like
        `(m, n_obs, width)`, one `(n_obs, width)` matrix per draw (or fit).

    Returns
    -------
    numpy.ndarray
        `(m, m)`; NaN for a representation with no variance.

    Examples
    --------
    The same units permuted and flipped are the same representation; unrelated ones are not:

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(100, 3))
    >>> cka = linear_cka(np.stack([a, -a[:, [2, 0, 1]], rng.normal(size=(100, 3))]))
    >>> cka.shape, round(float(cka[0, 1]), 6), bool(cka[0, 2] < 0.1)
    ((3, 3), 1.0, True)
    """
    reps = np.asarray(representations, dtype=np.float64)
    reps = reps - reps.mean(axis=1, keepdims=True)
    m, n, width = reps.shape
    if width * width <= n:  # features: (m, m, width, width) cross-covariances
        cross = np.einsum("anh,bnk->abhk", reps, reps)
        hsic = (cross ** 2).sum(axis=(2, 3))
    else:  # Gram matrices: (m, n, n)
        gram = (reps @ np.swapaxes(reps, 1, 2)).reshape(m, -1)
        hsic = gram @ gram.T
    norms = np.sqrt(np.diag(hsic))
    with np.errstate(invalid="ignore", divide="ignore"):
        return hsic / np.outer(norms, norms)


def cka_between_draws(hidden, cka_draws: int, level: float) -> xr.Dataset:
    """CKA matrices over `cka_draws` evenly spaced draws per hidden layer, and their summaries.

    Per layer (and over all layers: `cka_all_*`) the mean over pairs of distinct draws and the
    central `level` range of those pairs.

    Parameters
    ----------
    hidden : list of numpy.ndarray
        Per hidden layer, the activations `(S, n_obs, width)` of every draw.
    cka_draws : int
        Draws compared pairwise.
    level : float
        Probability of the central range.

    Returns
    -------
    xarray.Dataset
        `cka` (layer, draw_a, draw_b), `cka_mean`, `cka_lower`, `cka_upper` per layer and
        `cka_all_*` over every layer.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> hidden = [rng.normal(size=(20, 50, 3))]  # 20 draws, 50 rows, 3 units
    >>> summary = cka_between_draws(hidden, cka_draws=5, level=0.9)
    >>> summary["cka"].shape, summary["layer"].values.tolist()
    ((1, 5, 5), ['hidden_0'])
    """
    n_draws = hidden[0].shape[0]
    picked = np.unique(np.linspace(0, n_draws - 1, min(cka_draws, n_draws)).round().astype(int))
    matrices = np.stack([linear_cka(h[picked]) for h in hidden])
    upper = np.triu_indices(len(picked), k=1)
    pairs = matrices[:, upper[0], upper[1]]  # (layer, pairs)
    tail = (1 - level) / 2

    def summary(values):
        values = values[np.isfinite(values)]
        if not len(values):
            return [np.nan] * 3
        return [float(values.mean()), *map(float, np.quantile(values, [tail, 1 - tail]))]

    per_layer = np.array([summary(p) for p in pairs]).reshape(len(hidden), 3)
    overall = summary(pairs.ravel())
    return xr.Dataset(
        {"cka": (("layer", "draw_a", "draw_b"), matrices),
         "cka_mean": ("layer", per_layer[:, 0]), "cka_lower": ("layer", per_layer[:, 1]),
         "cka_upper": ("layer", per_layer[:, 2]), "cka_all_mean": overall[0],
         "cka_all_lower": overall[1], "cka_all_upper": overall[2]},
        coords={"layer": [f"hidden_{i}" for i in range(len(hidden))], "draw_a": picked,
                "draw_b": picked})
