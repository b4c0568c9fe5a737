"""A network, a linear model, or both: stacking their predictive distributions.

Shows: on a real table whose mean is mostly linear (doctor visits in the RAND health
insurance experiment, shipped with statsmodels) the default network's mean is no better than a
ridge regression's (RMSE), but its noise sd follows its mean (a count varies more where it is
larger; the regressor's default `noise="auto"`), which a linear model's one noise sd cannot;
on curved classes (two moons) the network is far better than any linear model.
`stack_linear=True` fits both the network and its Bayesian GLM (the same prior and engine, no
hidden layer; each kept, fitted on every row, in `named_estimators_`) and keeps the *stacking*
mixture of their predictive distributions, with weights that maximise the log score of rows
held out by 5-fold cross-validation (Yao et al. 2018, "Using stacking to average Bayesian
predictive distributions"). The weights judge whole predictive distributions, not means, and
go where the held-out rows say, with no tuning: mostly to the network on the table (for its
noise), all of it on the moons (for its mean). Scored on held-out rows with
`pymc_bnn.posterior.metrics` (Gaussian NLL of the predictive mean and sd; log loss) against
scikit-learn's ridge / logistic regression. Writes a figure of the scores and weights to `out`.

Run: uv run python examples/stacking.py           (about half a minute)
     uv run python examples/stacking.py --quick   (700 people of the table, not 1,000)
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.datasets import randhie

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"


def _regression_scores(model, X_train, y_train, X_test, y_test) -> dict:
    """Held-out Gaussian NLL and RMSE; a point predictor gets its training residuals' sd."""
    if isinstance(model, BayesianMLPRegressor):
        mean, sd = model.predict(X_test, return_std=True)
    else:
        mean = model.predict(X_test)
        sd = np.full(len(y_test), np.sqrt(np.mean((y_train - model.predict(X_train)) ** 2)))
    return {"nll": metrics.gaussian_nll(y_test, mean, sd), "rmse": metrics.rmse(y_test, mean)}


def main(quick: bool = False, out=OUT) -> dict:
    # The table: 1,000 people's doctor visits in a year (a count, here a number) from their
    # insurance plan and health status (several 0/1 columns); `quick` takes 700 of them (the
    # network's fits are the longest part of the run; the scores tell the same story on 700).
    frame = randhie.load_pandas().data.sample(700 if quick else 1000, random_state=0)
    X, y = frame.drop(columns="mdvis").to_numpy(float), frame["mdvis"].to_numpy(float)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    table_rows = len(y_test)
    stacked = BayesianMLPRegressor(stack_linear=True, random_state=0).fit(X_train, y_train)
    # the two models the mixture is made of, each fitted alone on every row (no further fit)
    table = {
        "network": stacked.named_estimators_["network"],
        "linear (Bayesian GLM)": stacked.named_estimators_["linear"],
        "stacked": stacked,
        "ridge (scikit-learn)": make_pipeline(StandardScaler(), Ridge()).fit(X_train, y_train),
    }
    table_scores = {name: _regression_scores(model, X_train, y_train, X_test, y_test)
                    for name, model in table.items()}

    # Curved classes: two moons, 300 points.
    X, y = make_moons(300, noise=0.2, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    stacked = BayesianMLPClassifier(stack_linear=True, random_state=0).fit(X_train, y_train)
    moons = {
        "network": stacked.named_estimators_["network"],
        "linear (Bayesian GLM)": stacked.named_estimators_["linear"],
        "stacked": stacked,
        "logistic (scikit-learn)": make_pipeline(StandardScaler(), LogisticRegression()).fit(
            X_train, y_train),
    }
    moons_scores = {}
    for name, model in moons.items():
        proba = model.predict_proba(X_test)[:, 1]
        moons_scores[name] = {"log_loss": metrics.log_loss(y_test, proba),
                              "accuracy": metrics.accuracy(y_test, proba)}

    stacking = {"randhie": table["stacked"].posterior_.settings["stacking"],
                "moons": moons["stacked"].posterior_.settings["stacking"]}
    result = {"randhie": table_scores, "moons": moons_scores,
              "weights": {name: s["weights"] for name, s in stacking.items()},
              "held_out_lpd": {name: s["held_out_lpd"] for name, s in stacking.items()}}

    print(f"randhie doctor visits, {table_rows} held-out people: Gaussian NLL (nats), "
          "RMSE (visits)")
    for name, row in table_scores.items():
        print(f"  {name:24s} {row['nll']:7.3f} {row['rmse']:7.3f}")
    print("two moons, 90 held-out points: log loss, accuracy")
    for name, row in moons_scores.items():
        print(f"  {name:24s} {row['log_loss']:7.3f} {row['accuracy']:7.3f}")
    for name, weights in result["weights"].items():
        print(f"stacking weights on {name}: network {weights['network']:.2f}, "
              f"linear {weights['linear']:.2f} (5-fold cross-validation on the training rows)")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.4), layout="constrained")
    for ax, (title, scores, key, weights) in zip(axes, (
            ("randhie: held-out Gaussian NLL", table_scores, "nll", result["weights"]["randhie"]),
            ("two moons: held-out log loss", moons_scores, "log_loss", result["weights"]["moons"])),
            strict=True):
        title += (f" (lower is better)\nstacking weights: network {weights['network']:.2f}, "
                  f"linear {weights['linear']:.2f}")
        names = list(scores)
        values = [scores[name][key] for name in names]
        ax.barh(names, values, color=["C0", "C1", "C2", "0.6"])
        ax.invert_yaxis()
        ax.set_title(title)
        low, high = min(values), max(values)
        ax.set_xlim(low - 0.2 * (high - low) if key == "nll" else 0, high + 0.25 * (high - low))
        for i, value in enumerate(values):
            ax.text(value, i, f" {value:.3f}", va="center")
    result["figure"] = out / "stacking_scores.png"
    plots.save(fig, result["figure"])
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
