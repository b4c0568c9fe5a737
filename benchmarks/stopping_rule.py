"""ADVI's stopping rule: steps taken and held-out quality, minibatch, streamed and full-batch fits.

Small pieces of the scale benchmark (`scale.py`'s data, model and held-out scores: 20,000 fresh
rows, Gaussian NLL) and two in-memory minibatch fits, each with the default `tol` and `window`
and at most `--steps` steps (30,000, the default), one fit per configuration and seed:

- stream900_b128: 900 rows streamed from memory, 128 a step, 20 → 32 → 32 → 1, float32;
- stream20k_b1024, stream100k_b1024: 20,000 and 100,000 rows, 1,024 a step, 20 → 64 → 64 → 1,
  float32 (scale.py's fit with the default tol instead of tol=0);
- mb_reg5k_b128: 5,000 of the same rows in memory, `minibatch_size=128`, 20 → 32 → 32 → 1;
- mb_moons2k_b100: two moons (2,000 points, noise 0.3, 70/30 split), `minibatch_size=100`,
  2 → 16 → 16 → 1; held-out log loss and accuracy.

and full-batch fits (every row at every step, the estimators' and `fit`'s default):

- fb_sine300: y = sin(x) + N(0, 0.115²), x ~ U(−3, 3), 300 rows, `BayesianMLPRegressor((8,),
  method="advi")`: an ELBO near +17 nats, whose relative change the one-sample noise of the
  ELBO keeps over `tol`; held-out (1,000 rows) Gaussian NLL and RMSE;
- fb_seed_moons: the seed workload (`seed_workload.py`'s ADVI fit: two moons, the seed's
  2 → 5 → 5 → 1 network and Normal(0, 1) prior, 30,000 steps at most); held-out log loss;
- fb_breast_cancer, fb_diabetes: `BayesianMLPClassifier(method="advi")` and
  `BayesianMLPRegressor(method="advi")`, their defaults otherwise, on a 70/30 split (seed 0);
  held-out log loss or Gaussian NLL.

Prints one JSON line per fit: steps run, the rule that stopped it (`stopped_by`), the last two
window means, the ELBO trend and its standard error, and the held-out scores. Steps and scores,
not timings: it can run on a shared machine. `--out FILE` also writes them, as a JSON list.

    uv run python benchmarks/stopping_rule.py [--seed 0] [--steps 30000] [--out F] [CONFIG ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402


def streamed(n, batch, hidden, steps, seed):
    from pymc_bnn import fit
    from pymc_bnn.data import batch_source, stream_statistics
    from pymc_bnn.model.build import build_streaming_model

    source = batch_source(scale.blocks(n, 1))
    stats = stream_statistics(source)
    scaled = source.map(lambda X, y: ((X - stats.x_mean) / stats.x_sd, y))
    bnn = build_streaming_model(scaled, batch_size=batch, likelihood="gaussian", hidden=hidden,
                                bias=True, statistics=stats)
    posterior = fit(bnn, "advi", steps=steps, restarts=1, draws=200, progress=False,
                    dtype="float32", random_seed=seed)
    return posterior, _gaussian_scores(posterior, stats.x_mean, stats.x_sd)


def minibatch_regression(n, batch, steps, seed):
    from pymc_bnn import build_model, fit

    X, y = scale.make_rows(n, 1)
    x_mean, x_sd = X.mean(axis=0), X.std(axis=0)
    bnn = build_model((X - x_mean) / x_sd, y, likelihood="gaussian", hidden=(32, 32), bias=True)
    posterior = fit(bnn, "advi", steps=steps, minibatch_size=batch, draws=200, progress=False,
                    random_seed=seed)
    return posterior, _gaussian_scores(posterior, x_mean, x_sd)


def minibatch_moons(n, batch, steps, seed):
    from sklearn.metrics import accuracy_score, log_loss

    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import two_moons

    data = two_moons(n_samples=n, noise=0.3)
    bnn = build_model(data.X_train, data.y_train, hidden=(16, 16))
    posterior = fit(bnn, "advi", steps=steps, minibatch_size=batch, draws=200, progress=False,
                    random_seed=seed)
    p = posterior.mean_draws(data.X_test).mean(axis=0)
    y = np.asarray(data.y_test)
    return posterior, {"log_loss": float(log_loss(y, p, labels=[0, 1])),
                       "accuracy": float(accuracy_score(y, p > 0.5))}


def full_batch_sine(n, noise, steps, seed):
    from pymc_bnn import BayesianMLPRegressor

    def rows(count, rng_seed):
        rng = np.random.default_rng(rng_seed)
        x = rng.uniform(-3.0, 3.0, (count, 1))
        return x, np.sin(x[:, 0]) + rng.normal(0.0, noise, count)

    X, y = rows(n, 0)
    model = BayesianMLPRegressor((8,), method="advi", steps=steps, random_state=seed).fit(X, y)
    X_test, y_test = rows(1000, 1)
    return model.posterior_, _estimator_gaussian_scores(model, X_test, y_test)


def full_batch_seed_moons(steps, seed):
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import two_moons
    from pymc_bnn.model.priors import SEED_PRIOR

    data = two_moons(split_seed=seed)
    bnn = build_model(data.X_train, data.y_train, prior=SEED_PRIOR)
    posterior = fit(bnn, "advi", steps=steps, draws=2000, random_seed=seed, progress=False)
    p = posterior.mean_draws(data.X_test).mean(axis=0)
    return posterior, _log_loss_scores(np.asarray(data.y_test), p)


def full_batch_table(name, steps, seed):
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.model_selection import train_test_split

    from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor

    load, Est = {"breast_cancer": (load_breast_cancer, BayesianMLPClassifier),
                 "diabetes": (load_diabetes, BayesianMLPRegressor)}[name]
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    model = Est(method="advi", steps=steps, random_state=seed)
    model.fit(X_train, y_train)
    if name == "diabetes":
        return model.posterior_, _estimator_gaussian_scores(model, X_test, y_test)
    return model.posterior_, _log_loss_scores(y_test, model.predict_proba(X_test)[:, 1])


def _log_loss_scores(y, p) -> dict:
    from sklearn.metrics import accuracy_score, log_loss

    return {"log_loss": float(log_loss(y, p, labels=[0, 1])),
            "accuracy": float(accuracy_score(y, p > 0.5))}


def _estimator_gaussian_scores(model, X, y) -> dict:
    mean, sd = model.predict(X, return_std=True)
    return scale.scores(y, mean, sd)


def _gaussian_scores(posterior, x_mean, x_sd) -> dict:
    X, y = scale.make_rows(scale.HELD_OUT, 99)
    draws = posterior.predictive_draws((X - x_mean) / x_sd)
    mean = draws["mean"].mean(axis=0)
    sd = np.sqrt((draws["scale"] ** 2).mean(axis=0) + draws["mean"].var(axis=0))
    return scale.scores(y, mean, sd)


CONFIGS = {
    "stream900_b128": lambda steps, seed: streamed(900, 128, (32, 32), steps, seed),
    "stream20k_b1024": lambda steps, seed: streamed(20_000, 1024, (64, 64), steps, seed),
    "stream100k_b1024": lambda steps, seed: streamed(100_000, 1024, (64, 64), steps, seed),
    "mb_reg5k_b128": lambda steps, seed: minibatch_regression(5000, 128, steps, seed),
    "mb_moons2k_b100": lambda steps, seed: minibatch_moons(2000, 100, steps, seed),
    "fb_sine300": lambda steps, seed: full_batch_sine(300, 0.115, steps, seed),
    "fb_seed_moons": full_batch_seed_moons,
    "fb_breast_cancer": lambda steps, seed: full_batch_table("breast_cancer", steps, seed),
    "fb_diabetes": lambda steps, seed: full_batch_table("diabetes", steps, seed),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", help=f"of {', '.join(CONFIGS)} (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--out", type=Path, help="also write the lines here, as a JSON list")
    args = parser.parse_args()
    unknown = sorted(set(args.configs) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown configurations {unknown}; choose from {', '.join(CONFIGS)}")
    lines = []
    for name in args.configs or list(CONFIGS):
        posterior, quality = CONFIGS[name](args.steps, args.seed)
        d = posterior.diagnostics
        lines.append({"config": name, "seed": args.seed, "steps_run": d["steps_run"],
                      "converged": d["converged"], "relative_change": d["relative_change"],
                      **{k: d.get(k) for k in ("stopped_by", "window_means", "elbo_trend")},
                      **quality})
        print(json.dumps(lines[-1]), flush=True)
        if args.out is not None:
            args.out.write_text(json.dumps(lines, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
