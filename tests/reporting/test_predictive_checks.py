"""The report's posterior predictive check against references computed from the draws."""

import numpy as np
import xarray as xr
from scipy import stats

from pymc_bnn.model.likelihoods import Gaussian
from pymc_bnn.model.network import NetworkSpec
from pymc_bnn.model.priors import NormalPrior
from pymc_bnn.posterior.posterior import Posterior
from pymc_bnn.reporting.predictive_checks import PPC_TITLE, data_sections


def _shifted_posterior(intercepts, noise_sd):
    """Draw s predicts intercepts[s] at every row (identity network, zero slope), noise sd fixed."""
    n = intercepts.size
    spec = NetworkSpec(n_inputs=1, hidden=(1,), n_outputs=1, activation="identity", bias=True)
    variables = {
        "w_0": (("chain", "draw", "feature", "hidden_0"), np.zeros((1, n, 1, 1))),
        "b_0": (("chain", "draw", "hidden_0"), np.zeros((1, n, 1))),
        "w_1": (("chain", "draw", "hidden_0", "output"), np.ones((1, n, 1, 1))),
        "b_1": (("chain", "draw", "output"), intercepts.reshape(1, n, 1)),
        "sigma": (("chain", "draw"), np.full((1, n), noise_sd)),
    }
    return Posterior(spec=spec, likelihood=Gaussian(), prior=NormalPrior(), feature_names=("x",),
                     idata=xr.DataTree.from_dict({"posterior": xr.Dataset(variables)}),
                     preprocessing={"y_mean": 0.0, "y_scale": 1.0},
                     likelihood_params=("sigma",))


class _Estimator:
    """What `data_sections` reads of a fitted regressor, around a Posterior."""

    def __init__(self, posterior):
        self.posterior_ = posterior

    def uncertainty(self, X, **options):
        return self.posterior_.uncertainty(X, **options)

    def predictive_draws(self, X, **options):
        return self.posterior_.predictive_draws(X, **options)


def test_replicated_data_sets_share_one_posterior_draw_each():
    # The draws disagree on the level of every row at once (epistemic sd 1), the noise is small
    # (sd 0.1): a data set replicated from the posterior has its mean near one draw's level, so
    # the replicated means spread like the draws, 5% and 95% near ∓1.645. Rows whose draws are
    # picked independently of each other average that spread away (∓0.17 over 100 rows), and
    # the check would call almost any data set's mean implausible.
    intercepts = stats.norm.ppf((np.arange(400) + 0.5) / 400)  # N(0, 1) by its quantiles
    model = _Estimator(_shifted_posterior(intercepts, 0.1))
    X = np.linspace(-1, 1, 100)[:, None]
    y = np.full(100, 1.2)  # one plausible draw's data: mean 1.2, inside the central 90%
    ppc = next(s for s in data_sections(model, X, y, "test rows") if s.title == PPC_TITLE)
    rows = {row[0]: row for row in ppc.tables[0].rows[1:]}
    _, observed, median, low, high, share = rows["mean"]
    reference = np.quantile(intercepts, [0.05, 0.5, 0.95])  # + noise of sd 0.01 in the mean
    np.testing.assert_allclose([low, median, high], reference, atol=0.25)
    assert 0.05 < share < 0.2  # P(replicated mean ≥ 1.2) = 1 − Φ(1.2) ≈ 0.115
