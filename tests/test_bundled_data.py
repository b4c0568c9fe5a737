"""The model family on scikit-learn's bundled data sets (nothing downloaded), against MLPs.

breast_cancer (binary), wine and digits (multiclass), diabetes (regression): each is split 70/30
(stratified for classifiers), its features standardised on the training part, and fitted twice:
by pymc-bnn through the public API (`build_model` + `fit`, default engine) and by scikit-learn's
MLPClassifier / MLPRegressor with its default architecture (100 relu units). Both are scored
with `pymc_bnn.metrics`. The BNN must match the MLP's accuracy / RMSE closely and have the better
held-out log loss / NLL on at least 3 of the 4.

The MLP gives a point prediction, so its regression NLL uses a Gaussian whose sd is the
residual sd of its own training fit (the usual plug-in); its classification log loss uses its
predicted probabilities as they are. Like the BNN, the MLPRegressor fits the standardised target.

Prior. Under mean-field ADVI a network keeps few of its hidden units (over-pruning): on
breast_cancer 15 of 16 units have incoming weights at the prior, but with one learned scale per
layer (`NormalPrior(sigma=2, learn_scale="layer")`) their outgoing weights keep a spread set by
the one active unit's large weight, so each dead unit adds random noise to the logit and the
averaged predictions are underconfident. A regularised horseshoe on every layer's rows
(`HorseshoePrior(layers="all")`: one local scale per input feature and per hidden unit) lets a
dead unit's outgoing weights shrink to zero, so it switches off cleanly. The ELBO prefers it on
all four data sets and both split seeds (by 10 to 125 nats), and it lowers the classifier log
losses; it is the one setting used for all four below.

Measured (this file's settings, advi, 10-23 s per fit; seed 0 / seed 1 of the split), BNN/MLP.
Accuracy: breast_cancer 0.959/0.953, 0.959/0.965; wine 0.981/1.000, 0.981/0.981;
digits 0.961/0.976, 0.946/0.974. RMSE: diabetes 56.3/73.1, 55.5/65.0.
Held-out log loss: breast_cancer 0.109/0.108, 0.095/0.112; wine 0.074/0.021, 0.099/0.064;
digits 0.127/0.112, 0.156/0.069. NLL: diabetes 5.45/19.4, 5.43/12.1.
The per-layer-scale Normal gave breast_cancer 0.121, 0.100; wine 0.120, 0.150; digits 0.140,
0.156; diabetes 5.44, 5.44. So the BNN matches the MLP's accuracy, wins on regression, and with
the horseshoe is a hair behind on breast_cancer at split seed 0 (0.109 vs 0.108) and ahead at
seed 1, but it loses wine and digits on both seeds: 2 of 4 at best, so the issue's "better on
3 of 4" stays an expected failure below.

It is not (only) inference. NUTS (split seed 0) on the per-layer-scale Normal model: breast_cancer
0.104 (a win, but 73 s of sampling against 3 s of ADVI), wine 0.075, digits 0.117 (2 chains of
200 draws after 400 tuning steps: 261 s, tree depth 8): even the exact posterior of this 16-unit
network loses wine and digits to the MLP's sharp fits on these splits. Also tried, with no
classifier win: PCA-rotated inputs (the same model, mean-field in a decorrelated basis: digits
0.131), full-rank ADVI (breast_cancer 0.127, 20x slower), one learned scale per unit row with a
half-normal (digits 0.139), relu/softplus (digits 0.139/0.135), 32 units with the horseshoe
(digits 0.128), 64 relu units (0.160), a wider horseshoe slab (slab_scale=4, 20k steps:
breast_cancer 0.127, digits 0.121); the spread between fit seeds of one setting is as large
(digits with the horseshoe: 0.118 to 0.141), and the best ELBO is not the best log loss.
Earlier: larger fixed prior scales, ARD, 4-seed ensembles of mean-field fits and 30k steps.
Later (fit seeds 0/1/2): a heavier-tailed slab (slab_df=0.5, which lets the output logits grow):
breast_cancer 0.106/0.109/0.110, digits 0.118/0.131/0.120, wine 0.062 (seed 0) — within the
spread between fit seeds, so no robust win; KL warm-up (prior and entropy scaled up over the
first 3,000 steps) with 64 units: digits 0.119, wine 0.071, at a lower ELBO.

All numbers come from one 2-core machine; the fixture (4 fits and 4 MLPs) takes ~75 s there.
"""

import warnings

import numpy as np
import pytest

from pymc_bnn import build_model, fit, metrics
from pymc_bnn.priors import HorseshoePrior, NormalPrior

# (loader name, likelihood): the BNN for each data set
DATASETS = {
    "breast_cancer": "bernoulli",
    "wine": "categorical",
    "digits": "categorical",
    "diabetes": "gaussian",
}
# One BNN setting for all four: 16 tanh units with biases and a regularised horseshoe on the
# rows of every layer (see the module docstring; the fan-in scaled default Normal(0,
# 1/sqrt(fan_in)) is too tight for confident classifiers: digits log loss 0.34).
BNN_SETTINGS = {"hidden": (16,), "activation": "tanh", "bias": True,
                "prior": HorseshoePrior(layers="all")}
FIT = {"steps": 10_000, "draws": 400, "random_seed": 0, "progress": False}


def _split(name):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    is_classifier = DATASETS[name] != "gaussian"
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if is_classifier else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _mlp_scores(name, X_train, X_test, y_train, y_test) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if DATASETS[name] != "gaussian":
            mlp = MLPClassifier(max_iter=1000, random_state=0).fit(X_train, y_train)
            proba = mlp.predict_proba(X_test)
            return {"accuracy": metrics.accuracy(y_test, proba, classes=mlp.classes_),
                    "log_loss": metrics.log_loss(y_test, proba, classes=mlp.classes_)}
        # the MLP, like the BNN, fits the standardised target
        mean, sd = y_train.mean(), y_train.std()
        mlp = MLPRegressor(max_iter=2000, random_state=0).fit(X_train, (y_train - mean) / sd)
    predicted = mean + sd * mlp.predict(X_test)
    residual_sd = np.std(y_train - (mean + sd * mlp.predict(X_train)))
    return {"rmse": metrics.rmse(y_test, predicted),
            "nll": metrics.gaussian_nll(y_test, predicted, residual_sd)}


def _bnn_scores(name, X_train, X_test, y_train, y_test, **settings) -> dict:
    """Held-out scores and the final ELBO (mean of the last 1,000 steps, nats) of one fit."""
    bnn = build_model(X_train, y_train, likelihood=DATASETS[name], **(BNN_SETTINGS | settings))
    posterior = fit(bnn, **FIT)
    elbo = float(np.mean(posterior.elbo[-1000:]))
    if DATASETS[name] != "gaussian":
        proba = posterior.predict(X_test)["mean"].values
        classes = posterior.preprocessing["classes"]
        return {"accuracy": metrics.accuracy(y_test, proba, classes=classes),
                "log_loss": metrics.log_loss(y_test, proba, classes=classes), "elbo": elbo}
    draws = posterior.predictive_draws(X_test)
    return {"rmse": metrics.rmse(y_test, draws["mean"].mean(axis=0)),
            "nll": metrics.mixture_nll(y_test, draws), "elbo": elbo}


@pytest.fixture(scope="module")
def scores():
    """{data set: {"bnn": {...}, "mlp": {...}}}, printed as a table (see with `pytest -s`)."""
    table = {}
    for name in DATASETS:
        split = _split(name)
        table[name] = {"bnn": _bnn_scores(name, *split), "mlp": _mlp_scores(name, *split)}
    for name, row in table.items():
        print(f"\n{name:14s} BNN {row['bnn']}  MLP {row['mlp']}")
    return table


@pytest.mark.parametrize("name", list(DATASETS))
def test_bnn_accuracy_and_rmse_match_the_mlp(scores, name):
    bnn, mlp = scores[name]["bnn"], scores[name]["mlp"]
    if "accuracy" in bnn:
        assert bnn["accuracy"] >= mlp["accuracy"] - 0.03, (bnn, mlp)
    else:
        assert bnn["rmse"] <= 1.1 * mlp["rmse"], (bnn, mlp)


def _loss(scores_of_one_fit) -> float:
    return scores_of_one_fit.get("log_loss", scores_of_one_fit.get("nll"))


def test_bnn_regression_nll_beats_the_mlp(scores):
    """diabetes: the BNN's predictive mixture beats the MLP's plug-in Gaussian by a wide margin
    (measured 5.43 vs 19.4 nats: the 100-unit MLP overfits its 309 training rows)."""
    assert _loss(scores["diabetes"]["bnn"]) < _loss(scores["diabetes"]["mlp"]) - 0.1


def test_bnn_classifier_log_loss_stays_close_to_the_mlp(scores):
    """Measured gaps (BNN − MLP): breast_cancer +0.001, wine +0.053, digits +0.015 nats (the
    layer-scale Normal: +0.012, +0.085 to +0.099, +0.028; the fan-in scaled default prior would
    be far off: wine 0.31, digits 0.34)."""
    for name in ("breast_cancer", "wine", "digits"):
        assert _loss(scores[name]["bnn"]) < _loss(scores[name]["mlp"]) + 0.07, scores[name]


def test_horseshoe_on_every_layer_beats_one_learned_scale_per_layer_under_advi(scores):
    """wine: the layer-scale Normal's dead units add noise to the averaged predictions (module
    docstring); the horseshoe on every layer's rows switches them off. Measured (split seed 0):
    log loss 0.074 vs 0.120, ELBO -68 vs -88 nats (split seed 1: 0.099 vs 0.150)."""
    layer_scale = _bnn_scores("wine", *_split("wine"),
                              prior=NormalPrior(sigma=2.0, learn_scale="layer"))
    horseshoe = scores["wine"]["bnn"]
    assert horseshoe["log_loss"] < layer_scale["log_loss"] - 0.02, (horseshoe, layer_scale)
    assert horseshoe["elbo"] > layer_scale["elbo"] + 5.0, (horseshoe, layer_scale)


@pytest.mark.xfail(strict=True, reason=(
    "the BNN wins diabetes and is level on breast_cancer but loses wine and digits, where even "
    "NUTS on this 16-unit model (0.075, 0.117) loses to the MLP's sharp fits (0.021, 0.112); "
    "see the module docstring. An XPASS here means the model or engine got better: turn this "
    "into a plain test"))
def test_bnn_has_the_better_held_out_log_loss_on_at_least_three_of_four(scores):
    wins = {name: _loss(row["bnn"]) < _loss(row["mlp"]) for name, row in scores.items()}
    assert sum(wins.values()) >= 3, scores
