"""The compiled mixture quantiles against plain SciPy references, row by row."""

import numpy as np
import pytest
from scipy import optimize, stats

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.posterior.mixture import mixture_quantiles

QS = np.array([0.001, 0.05, 0.5, 0.95])


def _continuous_reference(dist, n_obs: int) -> np.ndarray:
    """Each row's quantile by Brent's method on its own mixture CDF (a Python loop: small)."""
    out = np.empty((QS.size, n_obs))
    for i in range(n_obs):
        row = dist.dist(*(np.asarray(a)[:, i] for a in dist.args),
                        **{k: np.asarray(v)[:, i] for k, v in dist.kwds.items()})
        for j, q in enumerate(QS):
            out[j, i] = optimize.brentq(lambda x, row=row, q=q: row.cdf(x).mean() - q,
                                        -1e4, 1e4, xtol=1e-13, rtol=1e-14)
    return out


def _count_reference(dist, n_obs: int, qs=QS) -> np.ndarray:
    """Each row's smallest whole k with mixture CDF(k) ≥ q, by scanning k = 0, 1, …"""
    out = np.empty((qs.size, n_obs))
    for i in range(n_obs):
        kwds = {k: np.asarray(v)[:, i] for k, v in dist.kwds.items()}
        row = dist.dist(**kwds)
        ks = np.arange(int(row.ppf(qs.max()).max()) + 2)  # past every draw's, so the mixture's
        cdf = np.cumsum(row.pmf(ks[:, None]).mean(axis=1))
        out[:, i] = np.searchsorted(cdf, qs)  # first k with cdf[k] >= q
    return out


@pytest.fixture
def draws():
    rng = np.random.default_rng(7)
    n_draws, n_obs = 60, 9
    return {
        "mean": rng.normal(0, 2, (n_draws, n_obs)) + rng.normal(0, 20, n_obs),
        "scale": np.exp(rng.normal(0, 0.7, (n_draws, n_obs))),
        "df": np.broadcast_to(rng.uniform(1.5, 30, (n_draws, 1)), (n_draws, n_obs)),
        # counts from about 0.05 to 600: walks from 0, and from far above 0
        "rate": np.exp(rng.normal(0, 0.3, (n_draws, n_obs)) + np.linspace(-3, 6.3, n_obs)),
        "alpha": np.broadcast_to(rng.uniform(0.5, 20, (n_draws, 1)), (n_draws, n_obs)),
    }


def test_normal_and_student_t_quantiles_are_scipys_root_of_the_mixture_cdf(draws):
    normal = {"mean": draws["mean"], "scale": draws["scale"]}
    t = {**normal, "df": draws["df"]}
    for given, dist in ((normal, stats.norm(loc=normal["mean"], scale=normal["scale"])),
                        (t, stats.t(df=t["df"], loc=t["mean"], scale=t["scale"]))):
        fast = mixture_quantiles(given, QS)
        reference = _continuous_reference(dist, draws["mean"].shape[1])
        cdf = np.stack([dist.cdf(fast[j]).mean(axis=0) for j in range(QS.size)])
        np.testing.assert_allclose(cdf, np.broadcast_to(QS[:, None], cdf.shape), atol=1e-10)
        # the same point to the tolerance on F, 1e-10, over the mixture density there
        density = np.stack([dist.pdf(reference[j]).mean(axis=0) for j in range(QS.size)])
        assert (np.abs(fast - reference) <= 2e-10 / density + 1e-12).all()


@pytest.mark.parametrize("run", [2048, 4])
def test_count_quantiles_are_the_smallest_whole_k_reaching_q(draws, run, monkeypatch):
    """Rows walked in one run, and in runs of 4, 4 and 1 (each from its own start)."""
    from pymc_bnn.posterior import mixture

    monkeypatch.setattr(mixture, "_COUNT_COLUMNS", run)
    rate, alpha = draws["rate"], draws["alpha"]
    nearly_poisson = 200 * alpha  # the walk starts far above 0 on the large counts
    for given, dist in (({"mean": rate}, stats.poisson(mu=rate)),
                        ({"mean": rate, "alpha": alpha},
                         stats.nbinom(n=alpha, p=alpha / (alpha + rate))),
                        ({"mean": rate, "alpha": nearly_poisson},
                         stats.nbinom(n=nearly_poisson, p=nearly_poisson / (nearly_poisson + rate)))):
        np.testing.assert_array_equal(mixture_quantiles(given, QS),
                                      _count_reference(dist, rate.shape[1]))


def test_counts_far_apart_in_one_row_are_still_counted():
    """One draw's mass at the walk's start underflows (rate 2000 against 0.5): the walk
    carries it as a log and still finds the bimodal mixture's quantiles.

    Not at q = 0.5: the mixture's CDF is 0.5 to within rounding from k = 14 to about 1,800
    (the first draw's tail beyond 14 is 1e-17), so which k first reaches 0.5 is decided by
    rounding, and machines differ (14 or 1,649); 0.49 and 0.51 lie either side of it."""
    qs = np.array([0.001, 0.05, 0.49, 0.51, 0.95])
    rate = np.array([[0.5], [2000.0]])
    fast = mixture_quantiles({"mean": rate}, qs)[:, 0]
    np.testing.assert_array_equal(fast, _count_reference(stats.poisson(mu=rate), 1, qs)[:, 0])
    assert fast[0] == 0 and fast[2] <= 3 and 1800 < fast[3] < fast[4]


def test_huge_and_not_finite_counts_leave_the_walk():
    """Counts in the millions are bisected (a walk would take millions of steps); a row with an
    infinite rate gives NaN (which uncertainty() refuses) instead of walking for ever."""
    rate = np.array([[4.0, 2e9, np.inf], [6.0, 3e9, 1.0]])
    fast = mixture_quantiles({"mean": rate}, [0.05, 0.95])
    np.testing.assert_array_equal(fast[:, 0], _count_reference(stats.poisson(mu=rate[:, :1]),
                                                               1)[[1, 3], 0])
    assert 1.9e9 < fast[0, 1] < fast[1, 1] < 3.1e9 and np.isnan(fast[:, 2]).all()


def test_unknown_draws_are_refused():
    with pytest.raises(InvalidSettingError, match="no predictive distribution"):
        mixture_quantiles({"mean": np.zeros((2, 1)), "shape": np.ones((2, 1))}, 0.5)
