"""Tabular panel: pymc-bnn's estimators with their defaults against untuned scikit-learn baselines.

Runs every (data set, split seed, model) of the panel in one process, appends each result to
`results/tabular_raw.json` as it finishes (a rerun skips what is there unless --force), then
writes the mean and standard error over splits, the issue-15 targets and the distance of each
fast engine to NUTS to `results/tabular.json`, a Markdown report `results/tabular.md` and one
figure per metric `results/tabular_<metric>.png`. A --quick run writes `tabular_quick*` instead.

    uv run --group bench python benchmarks/tabular.py --note "idle"   # full panel, 5 splits
    uv run python benchmarks/tabular.py --quick        # moons, breast_cancer, diabetes; 2 splits
    uv run python benchmarks/tabular.py --assemble-only                # rebuild from the raw file

A model whose construction or fit raises (e.g. an engine this checkout does not have) is
recorded as an error for that (data set, split) and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _tabular_panel as panel  # noqa: E402
from _run_facts import machine_facts  # noqa: E402

# pymc-bnn entries: (estimator class, split seed) -> estimator. Defaults only: one change of API
# (e.g. how the ensemble is asked for) is a one-line change here.
BNN_MODELS: dict[str, Callable] = {
    "default": lambda Est, seed: Est(random_state=seed),
    "advi": lambda Est, seed: Est(method="advi", random_state=seed),
    "laplace": lambda Est, seed: Est(method="laplace", random_state=seed),
    "laplace_ensemble": lambda Est, seed: Est(method="laplace", engine_options={"ensemble": True},
                                              random_state=seed),
    "nuts": lambda Est, seed: Est(method="nuts", random_state=seed),
    # the default network and its Bayesian GLM, stacked by 5-fold cross-validation
    "stacked": lambda Est, seed: Est(stack_linear=True, random_state=seed),
    # every model the task can stack: the GLM, and for a Gaussian regressor also the network
    # with a heteroscedastic likelihood (a classifier's is "stacked", whose records it takes)
    "stacked_all": lambda Est, seed: Est(
        stack_linear=True, random_state=seed,
        **({"stack_heteroscedastic": True} if "stack_heteroscedastic" in Est().get_params()
           else {})),
    # a Gaussian regressor's noise sd as a function of its mean, after the default fit (a
    # classifier's is the default's, whose records it takes)
    "noise_follows_mean": lambda Est, seed: Est(
        random_state=seed, **({"noise": "follows_mean"} if "noise" in Est().get_params()
                              else {})),
    # the MAP by L-BFGS (`map_optimizer="lbfgs"`) instead of the default's Adam
    "map_lbfgs": lambda Est, seed: Est(engine_options={"map_optimizer": "lbfgs"},
                                       random_state=seed),
    "laplace_skip": lambda Est, seed: Est(skip=True, random_state=seed),
    # the MAP's prior scale chosen on held-out rows (the regressors' default) for classifiers too
    "holdout": lambda Est, seed: Est(engine_options={"map_scale": "holdout"}, random_state=seed),
    "holdout_skip": lambda Est, seed: Est(skip=True, engine_options={"map_scale": "holdout"},
                                          random_state=seed),
    # the output layer's covariance scaled by the temperature with the best leave-one-out density
    "laplace_loo": lambda Est, seed: Est(engine_options={"temperature": "loo"},
                                         random_state=seed),
    "laplace_full": lambda Est, seed: Est(method="laplace", engine_options={"hessian": "full"},
                                          random_state=seed),
    # the output layer's Gaussian for every likelihood (the default before exact draws for
    # several classes)
    "laplace_gaussian": lambda Est, seed: Est(engine_options={"output_layer": "gaussian"},
                                              random_state=seed),
}


def _scaled(estimator):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), estimator)


def _scaled_target(regressor):
    """A regressor fitted to the standardised target: the MLP's defaults assume unit-scale y."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    return TransformedTargetRegressor(regressor, transformer=StandardScaler())


def _gp_regressor(seed, n_features):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel(1.0) * RBF(np.ones(n_features)) + WhiteKernel(0.1)
    return _scaled(GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed))


# Baselines: name -> (classifier(seed, n_features), regressor(seed, n_features), returns_std).
# Regressors that return no sd get the training residuals' RMS as their predictive sd.
def _baselines() -> dict:
    from sklearn import ensemble, gaussian_process, linear_model, neural_network

    nn = neural_network
    return {
        "mlp": (lambda s, d: _scaled(nn.MLPClassifier(random_state=s)),
                lambda s, d: _scaled(_scaled_target(nn.MLPRegressor(random_state=s))), False),
        "mlp_early_stopping": (
            lambda s, d: _scaled(nn.MLPClassifier(early_stopping=True, random_state=s)),
            lambda s, d: _scaled(_scaled_target(nn.MLPRegressor(early_stopping=True,
                                                                random_state=s))), False),
        "linear": (lambda s, d: _scaled(linear_model.LogisticRegression()),
                   lambda s, d: _scaled(linear_model.Ridge()), False),
        "hgb": (lambda s, d: ensemble.HistGradientBoostingClassifier(random_state=s),
                lambda s, d: ensemble.HistGradientBoostingRegressor(random_state=s), False),
        "gp": (lambda s, d: _scaled(gaussian_process.GaussianProcessClassifier(random_state=s)),
               _gp_regressor, True),
    }


BASELINE_NAMES = ("mlp", "mlp_early_stopping", "linear", "hgb", "gp")
ALIASES = {"logistic": "linear", "ridge": "linear"}
ALL_MODELS = tuple(BNN_MODELS) + BASELINE_NAMES
NUTS_MAX_ROWS = 500   # training rows: NUTS only below this (and predictions kept to compare)
GP_MAX_ROWS = 1000    # training rows: GPs are O(n³)
TEST_SIZE = 0.3
GAP = 1.0             # gap_1d: training points with |x| < GAP are dropped (test keeps them)
LARGE_ROWS = 10_000   # large_*: fitted on 10,000 rows, scored on 3,000 more


def _moons():
    from sklearn.datasets import make_moons

    return make_moons(300, noise=0.2, random_state=0)


def _seed_moons():
    """The project's two moons: the seed analysis' 1,000 points (`pymc_bnn.datasets.two_moons`).

    Unstandardised: the panel's models standardise what they need.
    """
    from pymc_bnn.datasets import two_moons_points

    return two_moons_points()


def _gap_1d():
    rng = np.random.default_rng(2024)
    x = rng.uniform(-4.0, 4.0, 300)
    return x[:, None], np.sin(1.5 * x) + 0.3 * x + rng.normal(0.0, 0.25, 300)


def _randhie():
    """RAND health insurance experiment (statsmodels): doctor visits (a count).

    The visits are predicted from insurance and health-status columns (several 0/1
    categories); 1,000 rows drawn once.
    """
    from statsmodels.datasets import randhie

    frame = randhie.load_pandas().data.sample(1000, random_state=0)
    return frame.drop(columns="mdvis").to_numpy(float), frame["mdvis"].to_numpy(float)


def _sklearn(name):
    def load():
        from sklearn import datasets

        return getattr(datasets, f"load_{name}")(return_X_y=True)
    return load


def _generated(kind):
    def load():
        from sklearn import datasets

        n = LARGE_ROWS + 3000
        if kind == "classification":
            return datasets.make_classification(n, 10, n_informative=5, random_state=0)
        return datasets.make_friedman1(n, n_features=10, noise=1.0, random_state=0)
    return load


@dataclass(frozen=True)
class Dataset:
    task: str
    load: Callable
    quick: bool = False   # in the --quick panel
    large: bool = False   # timing set: default model only, one fixed split, not in --quick


DATASETS = {
    "moons": Dataset("classification", _moons, quick=True),
    "seed_moons": Dataset("classification", _seed_moons),
    "breast_cancer": Dataset("classification", _sklearn("breast_cancer"), quick=True),
    "wine": Dataset("classification", _sklearn("wine")),
    "digits": Dataset("classification", _sklearn("digits")),
    "iris": Dataset("classification", _sklearn("iris")),
    "diabetes": Dataset("regression", _sklearn("diabetes"), quick=True),
    "gap_1d": Dataset("regression", _gap_1d),
    "randhie_visits": Dataset("regression", _randhie),
    "large_classification": Dataset("classification", _generated("classification"), large=True),
    "large_regression": Dataset("regression", _generated("regression"), large=True),
}


def split(name: str, X, y, seed: int):
    """70/30 split at `seed` (stratified for classes).

    gap_1d's training set loses |x| < GAP; large_* sets have one fixed split (the first 10,000
    rows train).
    """
    from sklearn.model_selection import train_test_split

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if DATASETS[name].large:
        return X[:LARGE_ROWS], X[LARGE_ROWS:], y[:LARGE_ROWS], y[LARGE_ROWS:]
    stratify = y if DATASETS[name].task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, random_state=seed,
                                              stratify=stratify)
    if name == "gap_1d":
        keep = np.abs(X_tr[:, 0]) >= GAP
        X_tr, y_tr = X_tr[keep], y_tr[keep]
    return X_tr, X_te, y_tr, y_te


def make_model(model: str, task: str, seed: int, n_features: int):
    """(estimator, family, returns_std) for one model name."""
    if model in BNN_MODELS:
        from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor

        Est = BayesianMLPClassifier if task == "classification" else BayesianMLPRegressor
        return BNN_MODELS[model](Est, seed), "pymc-bnn", True
    classifier, regressor, returns_std = _baselines()[model]
    factory = classifier if task == "classification" else regressor
    return factory(seed, n_features), "baseline", returns_std


def applies(model: str, dataset: str, n_train: int, quick: bool, nuts: bool) -> bool:
    if DATASETS[dataset].large:
        return model == panel.DEFAULT
    if model == panel.NUTS:
        return nuts and not quick and n_train <= NUTS_MAX_ROWS
    if model == "gp":
        return not quick and n_train <= GP_MAX_ROWS
    return True


def _same_as(model: str, task: str) -> str | None:
    """An earlier pymc-bnn entry that builds the very estimator `model` does, or None.

    Earlier: the default first, then the entries listed before `model`. If one does, its
    record is that entry's, not a second identical fit.
    """
    if model not in BNN_MODELS or model == panel.DEFAULT:
        return None
    earlier = [panel.DEFAULT, *(m for m in BNN_MODELS if m != panel.DEFAULT)]
    try:
        params = make_model(model, task, 0, 1)[0].get_params()
        return next((m for m in earlier[:earlier.index(model)]
                     if make_model(m, task, 0, 1)[0].get_params() == params), None)
    except Exception:  # noqa: BLE001 - an entry that cannot be built has no twin
        return None


def _error_text(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:500]


def run_one(dataset: str, seed: int, model: str, data, seen: set) -> dict:
    """Fit, predict and score one model on one split; a raised error becomes the record's."""
    X_tr, X_te, y_tr, y_te = data
    task = DATASETS[dataset].task
    record = {"dataset": dataset, "task": task, "split": seed, "model": model,
              "family": "pymc-bnn" if model in BNN_MODELS else "baseline",
              "n_train": len(y_tr), "n_test": len(y_te), "n_features": X_tr.shape[1],
              "metrics": None, "error": None, "warm": False}
    shape = (model, X_tr.shape, len(np.unique(y_tr)) if task == "classification" else 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # The default's first fit of a shape in this process compiles (JAX): the fit timed
            # for target (e) is a second, warm one; the first stays in fit_s_each.
            fits = 2 if model == panel.DEFAULT and shape not in seen else 1
            for _ in range(fits):
                estimator, _, returns_std = make_model(model, task, seed, X_tr.shape[1])
                start = time.perf_counter()
                estimator.fit(X_tr, y_tr)
                fit_s = time.perf_counter() - start
                record.setdefault("fit_s_each", []).append(fit_s)
            record["warm"] = shape in seen or fits == 2
            seen.add(shape)
            start = time.perf_counter()
            if task == "classification":
                proba = estimator.predict_proba(X_te)
                predict_s = time.perf_counter() - start
                metrics = panel.classification_scores(y_te, proba)
                prediction = {"proba": np.round(proba, 6).tolist()}
            else:
                if returns_std:
                    mean, sd = estimator.predict(X_te, return_std=True)
                    predict_s = time.perf_counter() - start
                else:
                    mean = estimator.predict(X_te)
                    predict_s = time.perf_counter() - start
                    sd = np.full(len(mean), panel.residual_sd(y_tr, estimator.predict(X_tr)))
                metrics = panel.regression_scores(y_te, mean, sd)
                if hasattr(estimator, "posterior_"):  # its own density, not a Normal's
                    from pymc_bnn.posterior.stacking import log_predictive_density

                    metrics["predictive_nll"] = -float(np.mean(log_predictive_density(
                        estimator.posterior_, estimator.posterior_inputs(X_te), y_te)))
                prediction = {"mean": np.round(mean, 6).tolist(), "sd": np.round(sd, 6).tolist()}
    except Exception as exc:  # recorded, the panel goes on
        record["error"] = _error_text(exc)
        return record
    record["metrics"] = {**metrics, "fit_s": fit_s, "predict_s": predict_s}
    if record["family"] == "pymc-bnn" and (len(y_tr) <= NUTS_MAX_ROWS
                                           or dataset == panel.TWO_MOONS):
        record["prediction"] = prediction
    posterior = getattr(estimator, "posterior_", None)
    if posterior is not None:
        record["engine_timings"] = dict(getattr(posterior, "timings", {}) or {})
    return record


def run_facts(args) -> dict:
    """What the JSON records about this run: commit, date, machine, settings, load."""
    return {**machine_facts(), "quick": args.quick, "load": args.note, "splits": args.splits,
            "datasets": args.datasets, "models": args.models, "nuts": not args.no_nuts}


def selection(args) -> tuple[list[str], list[str]]:
    """(data sets, models) of this run, validated against the panel."""
    if args.datasets:
        datasets = args.datasets.split(",")
    else:
        datasets = [n for n, d in DATASETS.items() if d.quick or not args.quick]
    models = [ALIASES.get(m, m) for m in args.models.split(",")] if args.models \
        else list(ALL_MODELS)
    for kind, names, known in (("data set", datasets, DATASETS), ("model", models, ALL_MODELS)):
        unknown = [n for n in names if n not in known]
        if unknown:
            sys.exit(f"unknown {kind} {', '.join(unknown)}; choose from {', '.join(known)}")
    return datasets, list(dict.fromkeys(models))


def measure(args, raw: dict, raw_path: Path, datasets, models) -> None:
    """Run every missing (data set, split, model), saving the raw file after each."""
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    done = set() if args.force else panel.done_keys(raw["records"])
    seen: set = set()
    commit = raw["runs"][-1]["commit"]
    for name in datasets:
        try:
            X, y = DATASETS[name].load()
        except Exception as exc:  # e.g. statsmodels not installed: say so, go on
            say(f"{name}: cannot load ({_error_text(exc)}); "
                "`uv run --group bench` installs statsmodels")
            continue
        for seed in range(1 if DATASETS[name].large else args.splits):
            data = split(name, X, y, seed)
            for model in models:
                key = (name, seed, model)
                if key in done or not applies(model, name, len(data[2]), args.quick,
                                              not args.no_nuts):
                    continue
                say(f"{name} split {seed}: {model} …")
                same = _same_as(model, DATASETS[name].task)
                earlier = next((r for r in raw["records"] if r.get("error") is None
                                and panel.record_key(r) == (name, seed, same)), None)
                if same and earlier is not None:   # e.g. "advi" while advi is the default
                    record = {**earlier, "model": model, "duplicate_of": same}
                else:
                    record = run_one(name, seed, model, data, seen)
                record["commit"] = commit
                scores = record["metrics"] or {}
                say(f"  {record['error'] or {k: round(v, 4) for k, v in scores.items()}}")
                panel.put_record(raw, record)
                panel.save_raw(raw_path, raw)
    raw["runs"][-1]["load_average_end"] = list(os.getloadavg())
    panel.save_raw(raw_path, raw)


def assemble(raw: dict, datasets, models, n_splits: int) -> dict:
    """The assembled result over the records this selection covers."""
    records = sorted((r for r in raw["records"] if r["dataset"] in datasets
                      and r["model"] in models and r["split"] < n_splits),
                     key=lambda r: (datasets.index(r["dataset"]), models.index(r["model"]),
                                    r["split"]))
    summary = panel.summarise(records)
    return {"run": raw["runs"][-1] if raw["runs"] else {},
            "commits_in_records": sorted({r.get("commit", "unknown") for r in records}),
            "settings": {"splits": n_splits, "test_size": TEST_SIZE, "datasets": datasets,
                         "models": models, "nuts_max_train_rows": NUTS_MAX_ROWS,
                         "gp_max_train_rows": GP_MAX_ROWS, "interval_level": panel.INTERVAL_LEVEL,
                         "targets": panel.TARGETS},
            "summary": summary, "targets": panel.evaluate_targets(records, summary),
            "nuts_distance": panel.nuts_distance(records)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 splits; moons, breast_cancer, diabetes; no NUTS, no GP")
    parser.add_argument("--splits", type=int, help="split seeds 0 … N−1 (default 5, quick 2)")
    parser.add_argument("--datasets", help="comma-separated names (default: the panel)")
    parser.add_argument("--models", help=f"comma-separated, from {', '.join(ALL_MODELS)}")
    parser.add_argument("--no-nuts", action="store_true", help="skip NUTS everywhere")
    parser.add_argument("--assemble-only", action="store_true",
                        help="rebuild JSON, Markdown and figures from the raw records")
    parser.add_argument("--force", action="store_true", help="rerun triples already recorded")
    parser.add_argument("--note", default="", help="free text on the machine's load")
    parser.add_argument("--threads", type=int,
                        help="cap BLAS and OpenMP threads (NumPy, scikit-learn; not JAX): 1 on a "
                             "loaded machine, where they spin against other processes")
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    args.splits = args.splits or (2 if args.quick else 5)
    datasets, models = selection(args)
    stem = "tabular_quick" if args.quick else "tabular"
    out_dir = Path(args.out_dir)
    raw_path = out_dir / f"{stem}_raw.json"
    raw = panel.load_raw(raw_path)
    if not args.assemble_only:
        import scipy.linalg  # noqa: F401 - load every BLAS and OpenMP before capping threads
        import sklearn.ensemble  # noqa: F401
        from threadpoolctl import threadpool_info, threadpool_limits

        raw["runs"].append(run_facts(args))
        with threadpool_limits(limits=args.threads):
            raw["runs"][-1]["threads"] = [f"{p['user_api']} {p['num_threads']}"
                                          for p in threadpool_info()]
            panel.save_raw(raw_path, raw)
            measure(args, raw, raw_path, datasets, models)
    result = assemble(raw, datasets, models, args.splits)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    report = panel.markdown(result)
    (out_dir / f"{stem}.md").write_text(report)
    panel.plot_metrics(result["summary"], out_dir, stem)
    print(report)


if __name__ == "__main__":
    main()
