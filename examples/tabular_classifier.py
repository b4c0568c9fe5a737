"""A Bayesian MLP on a tabular data set, tuned like any scikit-learn model, and what its
uncertainty is good for.

Shows: `BayesianMLPClassifier` inside `GridSearchCV` (the prior scale chosen by cross-validated
log loss, as in tests/acceptance/test_bundled_data.py), scored against scikit-learn's `MLPClassifier` with
`pymc_bnn.posterior.metrics` (accuracy, log loss, expected calibration error), then a decision made with
the uncertainty: abstain on the 10% of held-out patients the model is least sure about
(highest predictive entropy) and measure the accuracy on the rest (selective classification).
Writes a reliability diagram of both models to `out`.

Run: uv run python examples/tabular_classifier.py           (~1 min on 2 cores)
     uv run python examples/tabular_classifier.py --quick   (a smaller grid, shorter fits)
"""

import sys
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pymc_bnn import BayesianMLPClassifier, ConvergenceWarning, NormalPrior
from pymc_bnn.posterior import metrics
from pymc_bnn.reporting import plots

OUT = Path(__file__).parent / "output"


def main(quick: bool = False, out=OUT) -> dict:
    X, y = load_breast_cancer(return_X_y=True)  # 569 tumours, 30 features, 0 = malignant
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y)

    # 16 tanh units plus a linear skip path. The estimator standardises the inputs itself, on
    # each cross-validation fold's own rows (tests/acceptance/test_bundled_data.py standardises once, so
    # its numbers differ a little). The prior's scale sets how confident the logits may
    # become, and the ELBO cannot pick it (it prefers small scales that do worse on new
    # data), so cross-validation does.
    bnn = BayesianMLPClassifier(hidden_layer_sizes=(16,), skip=True, method="advi",
                                steps=4_000 if quick else 10_000, draws=200 if quick else 400,
                                random_state=0)
    sigmas = (8, 16) if quick else (4, 8, 16, 32)
    search = GridSearchCV(bnn, {"prior": [NormalPrior(sigma=s) for s in sigmas]},
                          scoring="neg_log_loss", cv=2 if quick else 3)
    with warnings.catch_warnings():
        # Some fits are still creeping up when they reach `steps` (more in quick mode); run
        # to convergence they score the same (tests/acceptance/test_bundled_data.py), so the warning is
        # noise here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        bnn = search.fit(X_train, y_train).best_estimator_
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
    result = {"sigma": bnn.prior.sigma, "bnn": scores["BNN"], "mlp": scores["MLP"],
              "accuracy_all": float(correct.mean()),
              "accuracy_most_confident_90": float(correct[kept].mean()),
              "errors_all": int((~correct).sum()), "errors_kept": int((~correct[kept]).sum())}

    print(f"breast_cancer, {len(y_test)} held-out rows; "
          f"prior sigma chosen by CV: {result['sigma']:g}")
    print(f"{'model':6s} {'accuracy':>9s} {'log loss':>9s} {'ECE':>7s}")
    for name, row in scores.items():
        print(f"{name:6s} {row['accuracy']:9.3f} {row['log_loss']:9.3f} {row['ece']:7.3f}")
    print(f"BNN accuracy on all rows {result['accuracy_all']:.3f} "
          f"({result['errors_all']} errors); on the 90% with the lowest predictive entropy "
          f"{result['accuracy_most_confident_90']:.3f} ({result['errors_kept']} errors)")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 5.0), layout="constrained")
    for ax, (name, model) in zip(axes, (("BNN", bnn), ("MLP", mlp))):
        plots.reliability_diagram(y_test, model.predict_proba(X_test)[:, 1], ax=ax,
                                  title=f"{name}: reliability on held-out rows")
    result["figure"] = out / "tabular_classifier_reliability.png"
    plots.save(fig, result["figure"])
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
