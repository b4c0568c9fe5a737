"""Each draw's standardised Student-t CDF as a table of cubic pieces, for compiled float32 code.

A Student-t likelihood has one df per draw, so each draw's standardised CDF F_df(z) is the same
function on every row: it is tabulated once on the host in float64 (SciPy), and the fused pass
of `uncertainty()` evaluates the predictive mixture's CDF from the table (a gather and a cubic)
instead of an incomplete beta function per draw, row and step.

The table holds a smooth factor, not F itself. With P(z) = (1 + z²/df)^(−df/2) (the t density's
shape up to the power), ``F_df(−|z|) = P(z)·H(v)``, where H is analytic in
``v = |z| / sqrt(κ + z²)`` ∈ [0, 1), κ = min(df, 1), up to and including v = 1 (z = ±∞): F's
power-law tail lies in P, computed in closed form. H is stored at `GRID_INTERVALS` + 1 even
steps in v with its slope, and read by cubic Hermite interpolation (cubic in each step,
matching H and H' at both ends). κ = df would make H vary on a scale of 1/sqrt(df) in v for
large df (the Normal limit); κ ≤ 1 keeps it on a scale of about 1 for every df.
"""

from __future__ import annotations

import numpy as np

# Even steps of v in [0, 1]: 64 keep the float64 interpolation error of F below 5e-8 for df from
# 0.3 to 1e4 (checked on 4·10^5 points per df; 32 steps: 2e-6 at large df), far below the float32
# CDF tolerance of the fused pass. The table is (draws × 64 × 4) floats: 1 MB for 1,000 draws.
GRID_INTERVALS = 64
# log P below which P·H is 0 in float32 (exp(−104) < the smallest float32); H's value there is
# never seen, so its limit at v = 1 stands in where SciPy's functions underflow.
_LOG_UNSEEN = -110.0


def student_t_table(df, tails) -> dict:
    """Per-draw tables of the standardised t CDF and each draw's own quantiles, float64.

    Parameters
    ----------
    df : array-like
        `(n_draws,)` degrees of freedom, positive.
    tails : array-like
        `(n_tails,)` probabilities in (0, 1): each draw's standard quantile at them starts the
        mixture quantile solve.

    Returns
    -------
    dict of str to numpy.ndarray
        "cubic" `(n_draws, GRID_INTERVALS, 4)`: H on each step of v as c0 + c1·t + c2·t² + c3·t³,
        t ∈ [0, 1] across the step; "df", "kappa", "density_at_0" (the t density at z = 0)
        `(n_draws,)`; "standard" `(n_tails, n_draws)`: the t quantiles.

    Examples
    --------
    >>> table = student_t_table([3.0, 30.0], [0.05, 0.95])
    >>> table["cubic"].shape, table["standard"].round(3)
    ((2, 64, 4), array([[-2.353, -1.697],
           [ 2.353,  1.697]]))
    """
    from scipy import special

    df = np.asarray(df, dtype=np.float64)
    kappa = np.minimum(df, 1.0)
    v = np.linspace(0.0, 1.0, GRID_INTERVALS + 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        z = np.sqrt(kappa[:, None]) * v / np.sqrt(1.0 - v * v)  # (S, G + 1), inf at v = 1
        d = df[:, None]
        log_shape = -d / 2 * np.log1p(z * z / d)  # log P
        inverse_beta = 1.0 / special.beta(df / 2, 0.5)[:, None]
        limit = inverse_beta / d  # H at v = 1
        # F(−z)/P where P is a normal float; else the hypergeometric form of the same H
        # (F(−z) = ½ I_x(df/2, ½), x = df/(df + z²)), which keeps its accuracy as x → 0
        w = z / np.sqrt(d + z * z)
        ratio = special.stdtr(d, -z) * np.exp(-log_shape)
        series = w * limit * special.hyp2f1((d + 1) / 2, 1.0, d / 2 + 1, d / (d + z * z))
        h = np.where(log_shape > -600, ratio, series)
        # dH/dv by the chain rule through w: dH/dw = (df·w·H − 1/B)/(1 − w²)
        slope = ((d * w * h - inverse_beta) / (1 - w * w) * d / (d + z * z) ** 1.5
                 * np.sqrt(kappa[:, None]) / (1 - v * v) ** 1.5)
    unseen = (log_shape < _LOG_UNSEEN) | ~np.isfinite(h) | ~np.isfinite(slope)
    h, slope = np.where(unseen, limit, h), np.where(unseen, 0.0, slope)
    # v = 1: H's limit and its slope there (H = sqrt(1 − x)·F(x)/(df·B) with F = 2F1(…; x)
    # analytic at x = 0, and dx/dv = −2·df/κ at v = 1)
    h[:, -1] = limit[:, 0]
    slope[:, -1] = (limit * ((d + 1) / (d + 2) - 0.5) * (-2 * d / kappa[:, None]))[:, 0]
    step = 1.0 / GRID_INTERVALS
    h0, h1 = h[:, :-1], h[:, 1:]
    s0, s1 = step * slope[:, :-1], step * slope[:, 1:]
    cubic = np.stack([h0, s0, 3 * (h1 - h0) - 2 * s0 - s1, 2 * (h0 - h1) + s0 + s1], axis=-1)
    standard = special.stdtrit(df[None], np.asarray(tails, dtype=np.float64)[:, None])
    density_at_0 = np.exp(special.gammaln((df + 1) / 2) - special.gammaln(df / 2)
                          - 0.5 * np.log(df * np.pi))
    return {"cubic": cubic, "df": df, "kappa": kappa, "density_at_0": density_at_0,
            "standard": standard}


def student_t_cdf_pdf(xp, table: dict, z):
    """Each draw's standardised t CDF and density at z `(..., n_draws, n)`, from `table`.

    `xp` is the array namespace (`jax.numpy` in the fused pass, or numpy); the table's arrays
    are `student_t_table`'s (in the caller's dtype). The density is the closed form.

    Examples
    --------
    >>> from scipy import special
    >>> table = student_t_table([2.5, 40.0], [0.05])
    >>> z = np.array([[-30.0, -1.0, 0.3, 4.0]] * 2)  # (draws, n)
    >>> cdf, pdf = student_t_cdf_pdf(np, table, z)
    >>> bool(np.abs(cdf - special.stdtr([[2.5], [40.0]], z)).max() < 1e-7)
    True
    """
    df = table["df"][:, None]
    kappa = table["kappa"][:, None]
    n_draws, n_steps = table["cubic"].shape[:2]
    squared = z * z
    ratio = squared / df
    log1p = xp.log1p(ratio)
    shape = xp.exp(-0.5 * df * log1p)  # P
    v = 1.0 / xp.sqrt(1.0 + kappa / squared)  # 0 at z = 0, 1 at |z| = inf
    g = v * n_steps
    i = xp.clip(xp.floor(g), 0, n_steps - 1)
    t = g - i
    row = xp.arange(n_draws)[:, None] * n_steps + i.astype(xp.int32)
    c = xp.take(table["cubic"].reshape(n_draws * n_steps, 4), row, axis=0)  # (..., S, n, 4)
    h = c[..., 0] + t * (c[..., 1] + t * (c[..., 2] + t * c[..., 3]))
    tail = shape * h
    cdf = xp.where(z < 0, tail, 1.0 - tail)
    pdf = table["density_at_0"][:, None] * shape / xp.sqrt(1.0 + ratio)
    return cdf, pdf


__all__ = ["student_t_cdf_pdf", "student_t_table"]
