"""A Bayesian MLP on a tabular data set with its defaults, and what its uncertainty is good for.

Shows: `BayesianMLPClassifier()` as it comes (no grid search: the default engine, `laplace`,
fits the network's MAP and then chooses the output layer's prior scale by its marginal
likelihood, the evidence, on the training rows alone; on these 398 rows of two classes the
default also stacks it with its Bayesian GLM, weighted by 5-fold cross-validation), scored
against scikit-learn's `MLPClassifier` with `pymc_bnn.posterior.metrics` (accuracy, log loss,
expected calibration error), then a decision made with the uncertainty: abstain on the 10%
of held-out patients the model is least sure about (highest predictive entropy) and measure
the accuracy on the rest (selective classification). Writes a reliability diagram of both
models to `out`.

The estimator is a scikit-learn estimator like any other: `GridSearchCV`, `cross_val_score`
and pipelines take it (tests/estimators/test_estimators.py); it does not need them to fit well.

Run: uv run python examples/tabular_classifier.py           (seconds)
     uv run python examples/tabular_classifier.py --quick   (the same: the defaults are quick)
"""

import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pymc_bnn import BayesianMLPClassifier
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"


def main(quick: bool = False, out=OUT) -> dict:
    X, y = load_breast_cancer(return_X_y=True)  # 569 tumours, 30 features, 0 = malignant
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)

    # The defaults, with a seed: the estimator standardises the inputs itself, and its
    # default engine chooses the prior's scale from the training rows (`quick` changes
    # nothing: the default fit takes seconds).
    bnn = BayesianMLPClassifier(random_state=0).fit(X_train, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        mlp = make_pipeline(StandardScaler(), MLPClassifier(max_iter=1000, random_state=0))
        mlp.fit(X_train, y_train)

    scores = {}
    for name, model in (("BNN", bnn), ("MLP", mlp)):
        proba = model.predict_proba(X_test)[:, 1]  # P(benign); the metrics take P(y = 1)
        scores[name] = {"accuracy": metrics.accuracy(y_test, proba),
                        "log_loss": metrics.log_loss(y_test, proba),
                        "ece": metrics.expected_calibration_error(y_test, proba)}

    # Selective classification: send the most uncertain 10% to a human, decide the rest.
    # Predictive entropy (nats) is the total uncertainty: label noise plus disagreeing weights.
    summary = bnn.uncertainty(X_test)
    entropy = summary["predictive_entropy"].values
    predicted = summary["predicted_class"].values
    kept = np.argsort(entropy)[: int(round(0.9 * len(y_test)))]
    correct = predicted == y_test
        # the network's output-layer prior sd the evidence chose (weights Normal(0, sd /
    # sqrt(fan-in))); a stacked fit's diagnostics are its network's
    prior_scale = bnn.posterior_.diagnostics["prior_scale"]
    result = {"prior_scale": prior_scale, "bnn": scores["BNN"], "mlp": scores["MLP"],
              "accuracy_all": float(correct.mean()),
              "accuracy_most_confident_90": float(correct[kept].mean()),
              "errors_all": int((~correct).sum()), "errors_kept": int((~correct[kept]).sum())}

    print(f"breast_cancer, {len(y_test)} held-out rows; output layer's prior sd chosen by "
          f"the evidence: {prior_scale:.3g}")
    print(f"{'model':6s} {'accuracy':>9s} {'log loss':>9s} {'ECE':>7s}")
    for name, row in scores.items():
        print(f"{name:6s} {row['accuracy']:9.3f} {row['log_loss']:9.3f} {row['ece']:7.3f}")
    print(f"BNN accuracy on all rows {result['accuracy_all']:.3f} "
          f"({result['errors_all']} errors); on the 90% with the lowest predictive entropy "
          f"{result['accuracy_most_confident_90']:.3f} ({result['errors_kept']} errors)")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 5.0), layout="constrained")
    for ax, (name, model) in zip(axes, (("BNN", bnn), ("MLP", mlp)), strict=True):
        plots.reliability_diagram(y_test, model.predict_proba(X_test)[:, 1], ax=ax,
                                  title=f"{name}: reliability on held-out rows")
    result["figure"] = out / "tabular_classifier_reliability.png"
    plots.save(fig, result["figure"])
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
