"""The fused float32 pass of `uncertainty()` against the float64 reference, per likelihood.

Posteriors whose draws are random but known (a 1 → 1 → outputs identity network with random
slopes and intercepts); the reference is the float64 path (`_float64_values`: per-draw values
in float64, SciPy/compiled float64 mixture quantiles). Tolerances are the dtype policy's:
float32 rounding, and for Normal mixture quantiles the pass's CDF tolerance (about 4e-5 sd).
"""

import numpy as np
import pytest
from test_predictive_summary import STANDARD, _linear_posterior

from pymc_bnn import (
    Bernoulli,
    Categorical,
    Gaussian,
    HeteroscedasticGaussian,
    NegativeBinomial,
    Poisson,
    StudentT,
)
from pymc_bnn.posterior.fused import summary_values
from pymc_bnn.posterior.uncertainty import _float64_values

N_DRAWS = 200
LEVELS = np.array([0.5, 0.9])


def _posterior(name: str, rng):
    slopes = rng.normal(1.0, 0.5, N_DRAWS)
    if name == "bernoulli":
        return _linear_posterior(Bernoulli(), slopes, rng.normal(0, 1, N_DRAWS),
                                 preprocessing={"classes": [0, 1]})
    if name == "categorical":
        return _linear_posterior(Categorical(), slopes, rng.normal(0, 1, (N_DRAWS, 3)),
                                 preprocessing={"classes": ["a", "b", "c"]}, n_outputs=3)
    if name == "heteroscedastic":
        return _linear_posterior(HeteroscedasticGaussian(), slopes,
                                 rng.normal(0, 0.5, (N_DRAWS, 2)),
                                 preprocessing={"y_mean": 3.0, "y_scale": 2.0}, n_outputs=2)
    counts = {"log_rate_offset": np.log(5.0)}
    return {
        "gaussian": lambda: _linear_posterior(
            Gaussian(), slopes, rng.normal(0, 1, N_DRAWS), preprocessing=STANDARD,
            extra={"sigma": np.exp(rng.normal(-1, 0.5, N_DRAWS))}),
        "student_t": lambda: _linear_posterior(
            StudentT(), slopes, rng.normal(0, 1, N_DRAWS), preprocessing=STANDARD,
            extra={"sigma": np.exp(rng.normal(-1, 0.5, N_DRAWS)),
                   "nu": rng.uniform(2.5, 10, N_DRAWS)}),
        "poisson": lambda: _linear_posterior(Poisson(), 0.3 * slopes,
                                             rng.normal(0, 0.3, N_DRAWS), preprocessing=counts),
        "negative_binomial": lambda: _linear_posterior(
            NegativeBinomial(), 0.3 * slopes, rng.normal(0, 0.3, N_DRAWS),
            preprocessing=counts, extra={"overdispersion": rng.uniform(0.1, 1, N_DRAWS)}),
    }[name]()


@pytest.mark.parametrize("name", ["bernoulli", "categorical", "gaussian", "heteroscedastic",
                                  "student_t", "poisson", "negative_binomial"])
def test_fused_pass_agrees_with_the_float64_reference(name, rng):
    posterior = _posterior(name, rng)
    X = np.linspace(-2, 2, 37)[:, None]
    fused = summary_values(posterior, X, LEVELS, None)
    reference = _float64_values(posterior, X, LEVELS, None, 0, 0, None)
    assert sorted(fused) == sorted(reference)
    if name in ("bernoulli", "categorical"):
        for key in ("probability", "probability_lower", "probability_upper",
                    "predictive_entropy", "expected_entropy", "mutual_information"):
            np.testing.assert_allclose(fused[key], reference[key], rtol=1e-5, atol=1e-6,
                                       err_msg=key)
        # the same votes (a vote flips only where two classes tie to float32 rounding: none
        # here), their share counted in float32
        np.testing.assert_allclose(fused["variation_ratio"], reference["variation_ratio"],
                                   atol=1e-6)
        return
    sd = reference["sd"]
    for key in ("mean", "sd", "aleatoric_sd", "epistemic_sd"):
        np.testing.assert_allclose(fused[key], reference[key], rtol=1e-5, atol=1e-6 * sd.max(),
                                   err_msg=key)
    for key in ("lower", "upper"):
        if name in ("poisson", "negative_binomial"):  # whole numbers: the same ones
            np.testing.assert_array_equal(fused[key], reference[key])
        else:
            assert np.max(np.abs(fused[key] - reference[key]) / sd) < 2e-4, key


def test_student_t_draws_without_a_finite_variance_stay_in_the_pass(rng, monkeypatch):
    """Draws with df in (1, 2]: the noise variance is infinite (as SciPy's), which is the
    answer, not a float32 overflow; the means and interval ends are the float64 path's."""
    from pymc_bnn.posterior import uncertainty

    posterior = _linear_posterior(
        StudentT(), rng.normal(1.0, 0.5, N_DRAWS), rng.normal(0, 1, N_DRAWS),
        preprocessing=STANDARD, extra={"sigma": np.exp(rng.normal(-1, 0.5, N_DRAWS)),
                                       "nu": rng.uniform(1.5, 10, N_DRAWS)})
    X = np.linspace(-2, 2, 37)[:, None]
    fused = summary_values(posterior, X, LEVELS, None)
    assert fused is not None
    reference = _float64_values(posterior, X, LEVELS, None, 0, 0, None)
    for key in ("aleatoric_sd", "sd"):
        assert np.all(np.isposinf(fused[key])) and np.all(np.isposinf(reference[key])), key
    width = reference["upper"][-1] - reference["lower"][-1]  # the 90% interval
    for key in ("mean", "epistemic_sd", "lower", "upper"):
        assert np.max(np.abs(fused[key] - reference[key]) / width) < 1e-4, key
    monkeypatch.setattr(uncertainty, "_float64_values", lambda *a, **k: pytest.fail("float64"))
    with pytest.warns(UserWarning, match="no finite variance in some draws .* the intervals "
                                         r"\(level=\) and the mean stay finite") as said:
        assert np.isposinf(posterior.uncertainty(X, level=0.9)["sd"].values).all()
    assert said[0].filename == __file__  # the caller's line


@pytest.mark.parametrize("name", ["categorical", "heteroscedastic"])
def test_uncertainty_reports_predicts_numbers_exactly(name, rng, monkeypatch):
    """One pass: the probabilities and means of uncertainty() are predict's, bit for bit."""
    from pymc_bnn.posterior import compiled

    monkeypatch.setattr(compiled, "JAX_CHUNK_FLOATS", N_DRAWS * 3 * 256)  # 256-row chunks
    posterior = _posterior(name, rng)
    X = rng.normal(size=(1500, 1))  # six chunks, spread over the devices
    summary = posterior.uncertainty(X, level=0.9)
    predicted = posterior.predict(X)
    key = "probability" if name == "categorical" else "mean"
    np.testing.assert_array_equal(summary[key].values, predicted["mean"].values)
    if name == "heteroscedastic":
        np.testing.assert_array_equal(summary["epistemic_sd"].values, predicted["std"].values)


@pytest.mark.parametrize("name", ["gaussian", "student_t"])
def test_mixture_quantiles_meet_the_cdf_condition(name, rng):
    """Far-apart draws (a bimodal mixture): each end's float64 mixture CDF is q.

    The pass stops once its float32 mixture CDF is within CDF_TOLERANCE of q; the Student-t
    table adds under 1e-7 (float32) and the rounding of the end itself pdf·|y|·6e-8, so the
    float64 CDF lies within CDF_TOLERANCE + 1e-6 of q. Student-t df run from 2.1 to 300 (nearly Normal), and
    the 99% ends lie in heavy tails.
    """
    from scipy import stats

    from pymc_bnn.posterior.fused import CDF_TOLERANCE

    likelihood, extra = Gaussian(), {"sigma": np.full(N_DRAWS, 0.3)}
    if name == "student_t":
        likelihood = StudentT()
        extra["nu"] = np.exp(rng.uniform(np.log(2.1), np.log(300), N_DRAWS))
    posterior = _linear_posterior(likelihood, np.where(rng.random(N_DRAWS) < 0.5, -4.0, 4.0),
                                  0.0, preprocessing=STANDARD, extra=extra)
    X = np.linspace(0.5, 2, 9)[:, None]
    levels = np.array([0.5, 0.9, 0.99])
    values = summary_values(posterior, X, levels, None)
    draws = posterior.predictive_draws(X)
    dist = (stats.norm(draws["mean"], draws["scale"]) if name == "gaussian"
            else stats.t(draws["df"], draws["mean"], draws["scale"]))
    for j, level in enumerate(levels):
        for key, q in (("lower", (1 - level) / 2), ("upper", (1 + level) / 2)):
            cdf = dist.cdf(values[key][j]).mean(axis=0)
            np.testing.assert_allclose(cdf, q, atol=CDF_TOLERANCE + 1e-6, err_msg=key)


def _last_layer_posterior(name: str, rng, n_chains=4, per_chain=50):
    """A 1 → 3 → outputs tanh network whose hidden layer is one draw per chain and whose
    output layer varies draw by draw: a last-layer Laplace ensemble's posterior."""
    import xarray as xr

    from pymc_bnn import NetworkSpec, NormalPrior, Posterior

    likelihood, n_outputs, preprocessing, extra = {
        "bernoulli": (Bernoulli(), 1, {"classes": [0, 1]}, {}),
        "categorical": (Categorical(), 3, {"classes": ["a", "b", "c"]}, {}),
        "gaussian": (Gaussian(), 1, STANDARD,
                     {"sigma": np.exp(rng.normal(-1, 0.3, (n_chains, per_chain)))}),
        "poisson": (Poisson(), 1, {"log_rate_offset": np.log(5.0)}, {}),
    }[name]
    spec = NetworkSpec(n_inputs=1, hidden=(3,), n_outputs=n_outputs, activation="tanh",
                       bias=True, skip=True)

    def per_draw(shape, scale=1.0):
        return scale * rng.normal(size=(n_chains, per_chain, *shape))

    def per_chain_only(shape):
        return np.repeat(rng.normal(size=(n_chains, 1, *shape)), per_chain, axis=1)

    dims = ("chain", "draw")
    variables = {
        "w_0": ((*dims, "feature", "hidden_0"), per_chain_only((1, 3))),
        "b_0": ((*dims, "hidden_0"), per_chain_only((3,))),
        "w_1": ((*dims, "hidden_0", "output"), per_draw((3, n_outputs))),
        "b_1": ((*dims, "output"), per_draw((n_outputs,), 0.3)),
        "w_skip": ((*dims, "feature", "output"), per_draw((1, n_outputs), 0.3)),
        **{k: (dims, v) for k, v in extra.items()},
    }
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})
    return Posterior(spec=spec, likelihood=likelihood, prior=NormalPrior(), feature_names=("x",),
                     idata=idata, preprocessing=preprocessing, likelihood_params=tuple(extra))


@pytest.mark.parametrize("name", ["bernoulli", "categorical", "gaussian", "poisson"])
def test_draws_sharing_their_hidden_layers_are_evaluated_once_per_block(name, rng):
    """A last-layer posterior goes through the shared-hidden layout (hidden layers once per
    chain) and gives the float64 draw-by-draw reference's numbers, in predict and uncertainty."""
    from pymc_bnn.posterior.compiled import arranged_draws, moments_of

    posterior = _last_layer_posterior(name, rng)
    weights, biases = posterior.parameter_draws()
    layout, arranged, _ = arranged_draws(posterior.spec, weights, biases)
    assert layout == "shared_hidden"
    assert arranged[0].shape == (4, 1, 3) and arranged[1].shape[:2] == (4, 50)
    X = np.linspace(-2, 2, 37)[:, None]
    predicted = posterior.predict(X)
    mean, std = moments_of(posterior.mean_draws(X))  # float64, draw by draw
    np.testing.assert_allclose(predicted["mean"].values, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predicted["std"].values, std, rtol=1e-4, atol=1e-6)
    fused = summary_values(posterior, X, LEVELS, None)
    reference = _float64_values(posterior, X, LEVELS, None, 0, 0, None)
    assert sorted(fused) == sorted(reference)
    for key, value in reference.items():
        if name == "poisson" and key in ("lower", "upper"):  # whole numbers: the same ones
            np.testing.assert_array_equal(fused[key], value)
        else:
            np.testing.assert_allclose(fused[key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_draws_whose_hidden_layers_vary_are_not_taken_for_blocks(rng):
    """Blocks of unequal lengths (a thinned posterior) or hidden layers that change within a
    block leave the ordinary layouts."""
    from pymc_bnn.posterior.draw_layout import shared_blocks

    posterior = _last_layer_posterior("bernoulli", rng, n_chains=3, per_chain=4)
    weights, biases = posterior.parameter_draws()
    assert shared_blocks(posterior.spec, weights, biases) == 3
    uneven = [w[1:] for w in weights], [b[1:] for b in biases]  # 3 + 4 + 4 draws
    assert shared_blocks(posterior.spec, *uneven) is None
    changed = [w.copy() for w in weights]
    changed[0][5] += 1e-9  # one draw's hidden layer moves
    assert shared_blocks(posterior.spec, changed, biases) is None


@pytest.mark.parametrize("name", ["bernoulli", "categorical"])
def test_a_small_mutual_information_keeps_its_relative_precision(name, rng):
    # Draws that nearly agree (a Laplace output layer on well-covered rows): the mutual
    # information is 1e-7 to 1e-4 nats. As the difference of two float32 sums of p log p it lost
    # up to 2e-3 of itself (absolute ~1e-8 nats), against the dtype policy's ~1e-6 relative;
    # the reference is computed here in float64 from the per-draw probabilities.
    slopes = rng.normal(1.0, 0.01, N_DRAWS)
    posterior = (_linear_posterior(Bernoulli(), slopes, rng.normal(0, 0.01, N_DRAWS),
                                   preprocessing={"classes": [0, 1]}) if name == "bernoulli"
                 else _linear_posterior(Categorical(), slopes,
                                        rng.normal(0, 0.01, (N_DRAWS, 3)),
                                        preprocessing={"classes": ["a", "b", "c"]},
                                        n_outputs=3))
    X = np.linspace(-3, 3, 41)[:, None]
    probs = np.asarray(posterior.predictive_draws(X)["probs"], dtype=np.float64)
    mean = probs.mean(axis=0)
    reference = (probs * (np.log(probs) - np.log(mean))).sum(axis=-1).mean(axis=0)
    assert 1e-8 < reference.min() and reference.max() < 1e-3
    fused = summary_values(posterior, X, None, None)
    np.testing.assert_allclose(fused["mutual_information"], reference, rtol=1e-5, atol=0)
