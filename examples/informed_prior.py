"""Thirty labelled rows and a network trained elsewhere: start the BNN from what it knows.

Shows: `InformedPrior.from_sklearn(mlp, spread=...)` centres every weight of a BNN on a fitted
scikit-learn `MLPClassifier`, and `build_model(X, y, prior=prior, **prior.architecture)` builds
the network those weights belong to. The MLP learned a source task from 2,000 rows; the new
task has the same inputs but its decision boundary has moved, and only 30 labelled rows. The
informed BNN keeps what still holds and lets the 30 rows move the rest; the same network under
the default prior has to learn everything from 30 rows. Scored on 1,000 held-out rows of the
new task (log loss, accuracy, ECE); writes the three reliability diagrams to `out`.

Run: uv run python examples/informed_prior.py           (~15 s on 2 cores)
     uv run python examples/informed_prior.py --quick   (shorter fits)
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPClassifier

from pymc_bnn import build_model, fit
from pymc_bnn.model.priors import InformedPrior
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"


def task(rng, n: int, shift: float):
    """`n` rows of 5 standard-normal inputs and 0/1 labels; `shift` tilts and moves the boundary."""
    X = rng.standard_normal((n, 5))
    logit = 3.0 * (X[:, 0] + (1.0 + shift) * X[:, 1] + np.sin(2.0 * X[:, 2]) + shift)
    return X, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


def main(quick: bool = False, out=OUT) -> dict:
    rng = np.random.default_rng(12)
    X_source, y_source = task(rng, 2000, shift=0.0)  # plenty of data, the old task
    X_small, y_small = task(rng, 30, shift=1.0)      # the new task: 30 labelled rows
    X_test, y_test = task(rng, 1000, shift=1.0)      # and its held-out rows

    mlp = MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", max_iter=1000,
                        random_state=0).fit(X_source, y_source)
    # spread scales the prior sd around the MLP's weights (1: the default prior's width,
    # 1/sqrt(fan_in)); 0.5 lets the 30 rows move them, but not far.
    informed = InformedPrior.from_sklearn(mlp, spread=0.5)
    settings = {"steps": 2_000 if quick else 5_000, "tol": 0, "draws": 200 if quick else 1_000,
                "random_seed": 0, "progress": False}

    proba = {"source MLP alone": mlp.predict_proba(X_test)[:, 1]}
    for name, prior in (("BNN, informed prior", informed), ("BNN, default prior", None)):
        # the same architecture (8 tanh units, biases) for both; only the prior differs
        bnn = build_model(X_small, y_small, likelihood="bernoulli", prior=prior,
                          **informed.architecture)
        proba[name] = fit(bnn, **settings).predict(X_test)["mean"].values
    # On 30 rows, mean-field ADVI under the default prior keeps little beyond the base rate:
    # its P(y = 1) stays within 0.69-0.72 on every held-out row (NUTS on that model, measured:
    # log loss 0.51). The informed prior gives the 30 rows a network to correct, not to invent.

    scores = {name: {"log_loss": metrics.log_loss(y_test, p),
                     "accuracy": metrics.accuracy(y_test, p),
                     "ece": metrics.expected_calibration_error(y_test, p)}
              for name, p in proba.items()}
    print(f"new task: {len(y_small)} training rows, {len(y_test)} held-out rows")
    print(f"{'model':22s} {'log loss':>9s} {'accuracy':>9s} {'ECE':>7s}")
    for name, row in scores.items():
        print(f"{name:22s} {row['log_loss']:9.3f} {row['accuracy']:9.3f} {row['ece']:7.3f}")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 5), layout="constrained")
    for ax, (name, p) in zip(axes, proba.items(), strict=True):
        plots.reliability_diagram(y_test, p, ax=ax, title=name)
    figure = out / "informed_prior_reliability.png"
    plots.save(fig, figure)
    return {"mlp": scores["source MLP alone"], "informed": scores["BNN, informed prior"],
            "default": scores["BNN, default prior"], "figure": figure}


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
