"""Regression with honest error bars: noise that grows with x, and a gap with no data.

Shows: `BayesianMLPRegressor(likelihood="heteroscedastic")`, whose network has a second output
for the log noise sd, so the noise may differ from point to point. `estimator.uncertainty(X)`
splits the predictive sd into aleatoric (the noise the model expects in y) and epistemic (the
disagreement between plausible networks) parts and gives exact 90% intervals of the predictive
mixture; `pymc_bnn.posterior.metrics.interval_coverage` checks them on held-out points, and
`pymc_bnn.reporting.plots.regression_bands` draws mean ± 2 sd aleatoric inside mean ± 2 sd
total. The noise band widens with x; the total band also widens in the gap, where only the
weights are unsure. Writes the figure to `out`.

Run: uv run python examples/regression_uncertainty.py           (~15 s on 2 cores)
     uv run python examples/regression_uncertainty.py --quick   (a shorter fit)
"""

import sys
import warnings
from pathlib import Path

import numpy as np

from pymc_bnn import BayesianMLPRegressor, ConvergenceWarning
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"
GAP = (-0.5, 1.0)  # no training data here


def make_data(rng, n: int):
    """`n` points on [-3, 3] outside GAP; noise sd grows linearly from 0.1 to 1.0 across x."""
    x = rng.uniform(-3, 3, 4 * n)
    x = x[(x < GAP[0]) | (x > GAP[1])][:n]
    noise_sd = 0.1 + 0.15 * (x + 3)
    return x[:, None], np.sin(1.5 * x) + 0.3 * x + noise_sd * rng.standard_normal(n)


def main(quick: bool = False, out=OUT) -> dict:
    rng = np.random.default_rng(0)
    X_train, y_train = make_data(rng, 200)
    X_test, y_test = make_data(rng, 500)  # held out, from the same x-range as the training data

    # The default steps stop early once the ELBO settles (within 10,000 steps here).
    # advi: the noise head and the weights all get a posterior (the default engine, laplace,
    # keeps the hidden layers and so the noise head at their MAP)
    regressor = BayesianMLPRegressor(hidden_layer_sizes=(16,), likelihood="heteroscedastic",
                                     method="advi", steps=3_000 if quick else None,
                                     draws=300 if quick else 1_000,
                                     random_state=0)
    with warnings.catch_warnings():
        if quick:  # a 3,000-step fit has not quite settled; it warns so, as expected here
            warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(X_train, y_train)

    held_out = regressor.uncertainty(X_test, level=0.9)  # mean, sd, aleatoric_sd, lower, upper …
    coverage = metrics.interval_coverage(y_test, held_out["lower"].values, held_out["upper"].values)
    width = metrics.interval_width(held_out["lower"].values, held_out["upper"].values)

    x = np.linspace(-3, 3, 241)
    curve = regressor.uncertainty(x[:, None])
    epistemic = curve["epistemic_sd"].values
    in_gap = (x > GAP[0] + 0.2) & (x < GAP[1] - 0.2)
    near_data = (x < GAP[0] - 0.2) | (x > GAP[1] + 0.2)
    result = {"coverage_90": coverage, "interval_width": width,
              "rmse": metrics.rmse(y_test, held_out["mean"].values),
              "epistemic_sd_gap": float(epistemic[in_gap].mean()),
              "epistemic_sd_near_data": float(epistemic[near_data].mean()),
              "aleatoric_sd_left": float(curve["aleatoric_sd"].values[x < -2].mean()),
              "aleatoric_sd_right": float(curve["aleatoric_sd"].values[x > 2].mean())}

    print(f"{len(y_train)} training points, gap {GAP}, {len(y_test)} held-out points")
    print(f"held-out coverage of the 90% interval: {coverage:.3f} (mean width {width:.2f}); "
          f"RMSE {result['rmse']:.3f}")
    print(f"{'where':24s} {'aleatoric sd':>13s} {'epistemic sd':>13s}")
    for name, mask in (("x < -2 (little noise)", x < -2), ("x > 2 (much noise)", x > 2),
                       ("inside the gap", in_gap), ("near data (all)", near_data)):
        print(f"{name:24s} {curve['aleatoric_sd'].values[mask].mean():13.3f} "
              f"{epistemic[mask].mean():13.3f}")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ax = plots.regression_bands(x, curve["mean"].values, curve["aleatoric_sd"].values,
                                curve["sd"].values, X_train=X_train, y_train=y_train,
                                title="Heteroscedastic BNN: noise band inside the total band")
    ax.axvspan(*GAP, color="0.9", zorder=0, label="no training data")
    ax.legend(loc="upper left", frameon=False, fontsize=8)  # again, to list the gap
    result["figure"] = out / "regression_uncertainty_bands.png"
    plots.save(ax, result["figure"])
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
