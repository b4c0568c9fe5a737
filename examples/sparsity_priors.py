"""Which inputs matter? Sparsity priors switch off the features a network does not need.

Shows: `build_model` + `fit` with two priors from `pymc_bnn.model.priors` on generated data where
only 2 of 10 features carry signal. `HorseshoePrior` gives each input one local shrinkage scale
(`w_0_lambda`), `ARDPrior` one relevance scale (`ard_scale`); both are ordinary posterior
variables in `posterior.idata["posterior"]` with dims ("chain", "draw", "feature"). The noise
features' scales shrink towards zero, and with them their rows of first-layer weights. Writes a
bar chart of the per-feature scales to `out`.

Run: uv run python examples/sparsity_priors.py           (~15 s on 2 cores)
     uv run python examples/sparsity_priors.py --quick   (shorter fits)
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from pymc_bnn import build_model, fit
from pymc_bnn.model.priors import ARDPrior, HorseshoePrior
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"
N_INFORMATIVE = 2


def make_data(n: int = 300, n_noise: int = 8, seed: int = 7):
    """The target `y` depends on x0 (non-linearly) and x1 (linearly); x2 … x9 are pure noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_INFORMATIVE + n_noise))  # already on one scale, as ARD needs
    y = np.sin(1.5 * X[:, 0]) + 0.8 * X[:, 1] + 0.2 * rng.standard_normal(n)
    return X, y


def main(quick: bool = False, out=OUT) -> dict:
    X, y = make_data()
    feature_names = [f"x{j}" for j in range(X.shape[1])]
    # tol=0: run every step; 3,000 are enough for the scales to settle on this small problem.
    settings = {"steps": 3_000 if quick else 10_000, "tol": 0, "draws": 200 if quick else 1_000,
                "random_seed": 0, "progress": False}

    result = {}
    for prior, variable in ((HorseshoePrior(), "w_0_lambda"), (ARDPrior(), "ard_scale")):
        bnn = build_model(X, y, likelihood="gaussian", hidden=(8,), bias=True, prior=prior,
                          feature_names=feature_names)
        posterior = fit(bnn, **settings)
        # The half-Cauchy and half-Normal scales are skewed: their posterior median is the
        # typical value.
        scale = posterior.idata["posterior"][variable].median(("chain", "draw")).values
        # What the network actually does with each input: the root-mean-square of its row of
        # first-layer weights over draws and hidden units.
        w_0 = posterior.idata["posterior"]["w_0"].values  # (chain, draw, feature, hidden_0)
        weight_rms = np.sqrt((w_0**2).mean(axis=(0, 1, 3)))
        result[prior.name] = {"variable": variable, "scale": scale, "weight_rms": weight_rms}

    print(f"{len(y)} rows; y = sin(1.5 x0) + 0.8 x1 + noise; x2 … x9 are noise")
    print(f"{'feature':8s} {'horseshoe w_0_lambda':>21s} {'ARD ard_scale':>14s} "
          f"{'horseshoe |w_0|':>16s} {'ARD |w_0|':>10s}")
    hs, ard = result["horseshoe"], result["ard"]
    for j, name in enumerate(feature_names):
        print(f"{name:8s} {hs['scale'][j]:21.3f} {ard['scale'][j]:14.3f} "
              f"{hs['weight_rms'][j]:16.3f} {ard['weight_rms'][j]:10.3f}")
    for name, row in result.items():
        row["noise_over_informative"] = float(row["weight_rms"][N_INFORMATIVE:].max()
                                              / row["weight_rms"][:N_INFORMATIVE].min())
        print(f"{name}: largest noise row / smallest informative row of w_0 = "
              f"{row['noise_over_informative']:.3f}")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    colors = ["C3"] * N_INFORMATIVE + ["0.6"] * (X.shape[1] - N_INFORMATIVE)
    for ax, (name, row) in zip(axes, result.items(), strict=True):
        ax.bar(feature_names, row["scale"], color=colors)
        ax.set_yscale("log")  # the horseshoe's escaped scales are 100x the shrunk ones
        ax.set(title=f"{name}: posterior median of {row['variable']}", ylabel="scale",
               xlabel="feature (red: informative)")
    result["figure"] = out / "sparsity_priors_scales.png"
    plots.save(fig, result["figure"])
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
