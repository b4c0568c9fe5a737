"""CLI speed (issue 20): how fast `pymc-bnn` answers and how large its model files are, warm.

Targets: `pymc-bnn --version` and `pymc-bnn info` under 1 s; `pymc-bnn predict` of 100 rows with
a saved model under 3 s end to end; `uncertainty()` on 10,000 rows with intervals under 2 s for
every likelihood; a model file for a (32, 32) network with 1,000 draws under 5 MB, and a grouped
one with 11 groups under 20 MB.

Commands are timed as whole processes (wall clock around `subprocess.run`, CPU from
`resource.getrusage` of the children), after warm-up runs: warm means the operating system's
file cache and pymc-bnn's compilation caches are filled, as for a user's second command.
`predict` is compared, in the same run, with the same job done by a scikit-learn pipeline saved
with joblib (`python -c`: load, read the CSV, predict_proba, write the CSV), and `--version` /
`info` with the bare interpreter's start (`python -c pass`). `uncertainty()` is timed in this
process after one call that compiles, with `predict` (mean and sd alone) beside it.

    uv run python benchmarks/cli_speed.py --note "idle"   # the full run: 7 runs per command
    uv run python benchmarks/cli_speed.py --quick          # 3 runs, short fits: checks it runs

Each stage says on stderr what it is doing.

Writes results/cli_speed.json and results/cli_speed.md (results/cli_speed_quick.* with
--quick, not committed). The inputs (tables, fits, row counts) are built by `make_inputs`, which
tests/acceptance/test_benchmark_cli_speed.py checks without timing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pymc_bnn.datasets import penguins_like

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

HIDDEN, DRAWS, GROUPS, PREDICT_ROWS, UNCERTAINTY_ROWS = (32, 32), 1000, 11, 100, 10_000
LIMITS = {"version_s": 1.0, "info_s": 1.0, "predict_100_s": 3.0, "uncertainty_10k_s": 2.0,
          "model_file_mb": 5.0, "grouped_model_file_mb": 20.0}
CLASSIFIER_LIKELIHOODS = ("bernoulli", "categorical")
REGRESSOR_LIKELIHOODS = ("gaussian", "heteroscedastic", "student_t", "poisson",
                         "negative_binomial")
# The sklearn baseline's whole job, as a user would run it: load, read, predict, write.
SKLEARN_PREDICT = ("import joblib, pandas as pd; model = joblib.load({model!r}); "
                   "rows = pd.read_csv({rows!r}); "
                   "pd.DataFrame(model.predict_proba(rows), columns=model.classes_)"
                   ".to_csv({out!r}, index=False)")


# ----------------------------------------------------------------------------- inputs


def firms(n_groups: int, years: int, seed: int) -> pd.DataFrame:
    """A panel like statsmodels' grunfeld (the issue's grouped table).

    Investment of `n_groups` firms over `years` years from firm value and capital, each firm
    its own level.
    """
    rng = np.random.default_rng(seed)
    firm = np.repeat([f"firm{i}" for i in range(n_groups)], years)
    level = np.repeat(rng.normal(0, 1, n_groups), years)
    value, capital = rng.lognormal(6, 1, firm.size), rng.lognormal(5, 1, firm.size)
    invest = 0.1 * value + 0.3 * capital + 50 * level + rng.normal(0, 20, firm.size)
    return pd.DataFrame({"firm": firm, "year": np.tile(np.arange(years), n_groups),
                         "value": value, "capital": capital, "invest": invest})


def likelihood_data(likelihood: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, 4), y) whose target suits `likelihood`."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    f = np.sin(X[:, 0]) + 0.5 * X[:, 1] - 0.3 * X[:, 2] * X[:, 3]
    y = {"bernoulli": lambda: (f + 0.3 * rng.normal(size=n) > 0).astype(int),
         "categorical": lambda: np.digitize(f + 0.3 * rng.normal(size=n), [-0.5, 0.5]),
         "gaussian": lambda: f + 0.2 * rng.normal(size=n),
         "heteroscedastic": lambda: f + 0.1 * np.exp(X[:, 0]) * rng.normal(size=n),
         "student_t": lambda: f + 0.2 * rng.standard_t(3, size=n),
         "poisson": lambda: rng.poisson(np.exp(0.5 * f + 1)),
         "negative_binomial": lambda: rng.poisson(np.exp(0.5 * f + 1) * rng.gamma(2, 0.5, n)),
         }[likelihood]()
    return X, y


def fit_commands(folder: Path, quick: bool) -> dict[str, list[str]]:
    """Model name -> `pymc-bnn fit` arguments of the three models the benchmark builds.

    The (32, 32) models with 1,000 draws (the default engine, laplace, and advi, whose draws are
    all random) and the grouped one.
    """
    steps = ["--steps", "300"] if quick else []
    common = ["--hidden", ",".join(map(str, HIDDEN)), "--draws", str(DRAWS), "--quiet", "--force"]
    return {
        "model": ["fit", str(folder / "penguins.csv"), "--target", "species", "--id", "tag",
                  "--out", str(folder / "model.bnn.nc"), *common, *steps],
        "advi_model": ["fit", str(folder / "penguins.csv"), "--target", "species", "--id", "tag",
                       "--method", "advi", "--out", str(folder / "advi.bnn.nc"), *common,
                       *steps],
        "grouped_model": ["fit", str(folder / "firms.csv"), "--target", "invest", "--groups",
                          "firm", "--exclude", "year", "--out", str(folder / "grouped.bnn.nc"),
                          *common, *steps],
    }


def make_tables(folder: Path) -> dict[str, Path]:
    """Write the tables the commands read; name -> path."""
    paths = {"train": folder / "penguins.csv", "rows": folder / "rows100.csv",
             "firms": folder / "firms.csv"}
    penguins_like(300, seed=1, missing=0.02).to_csv(paths["train"], index=False)
    penguins_like(PREDICT_ROWS, seed=2, missing=0.02).drop(columns="species").to_csv(
        paths["rows"], index=False)
    firms(GROUPS, years=20, seed=3).to_csv(paths["firms"], index=False)
    return paths


def make_inputs(folder: Path, quick: bool) -> dict:
    """Tables, the three `pymc-bnn fit` models and the scikit-learn pipeline.

    The models are checked (widths, draws, groups). Returns what was built, with each fit's
    seconds.
    """
    import joblib
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from pymc_bnn.io import read_description

    paths = make_tables(folder)
    built = {"tables": {name: str(path) for name, path in paths.items()}, "fit_s": {}}
    for name, argv in fit_commands(folder, quick).items():
        say(f"pymc-bnn fit: {name}")
        start = time.perf_counter()
        done = subprocess.run([pymc_bnn_command(), *argv], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pymc-bnn {' '.join(argv)} failed: {done.stderr[-2000:]}")
        built["fit_s"][name] = time.perf_counter() - start
        out = Path(argv[argv.index("--out") + 1])
        check_model(read_description(out), groups=GROUPS if "--groups" in argv else None)
        built[name] = str(out)
    train = pd.read_csv(paths["train"])
    numeric = ["bill_length_mm", "flipper_length_mm", "body_mass_g"]
    text = ["island", "sex"]
    pipeline = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), numeric),
            (make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                           OneHotEncoder(handle_unknown="ignore")), text)),
        MLPClassifier(HIDDEN, max_iter=2000, random_state=0))
    pipeline.fit(train[numeric + text], train["species"])
    joblib.dump(pipeline, folder / "sklearn.joblib")
    built["sklearn_model"] = str(folder / "sklearn.joblib")
    return built


def check_model(description: dict, groups: int | None) -> None:
    """Refuse a model file that is not what a target is about.

    A target's model is (32, 32), with 1,000 draws and `groups` groups (or none).
    """
    spec = description["posterior"]["spec"]["__spec__"]
    settings = description["posterior"]["settings"]
    found_groups = description["posterior"]["groups"]
    n_groups = None if found_groups is None else len(found_groups["labels"])
    if tuple(spec["hidden"]) != HIDDEN or settings["draws"] != DRAWS or n_groups != groups:
        raise RuntimeError(f"the benchmark built the wrong model: hidden {spec['hidden']}, "
                           f"draws {settings['draws']}, groups {n_groups}")


# ----------------------------------------------------------------------------- timing


def pymc_bnn_command() -> str:
    return str(Path(sys.executable).with_name("pymc-bnn"))


def time_command(argv: list[str], runs: int, warmup: int) -> dict:
    """Wall and CPU seconds of `argv` as a whole process: min, median, max over `runs`.

    The `runs` come after `warmup` runs; raises if the command fails.
    """
    walls, cpus = [], []
    for i in range(warmup + runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
        if i >= warmup:
            walls.append(wall)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "cpu_median_s": statistics.median(cpus), "runs": runs}


def time_call(call, repeats: int) -> dict:
    """Seconds of `call()`: the first call (which compiles) and the median of `repeats` more."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"first_s": first, "median_s": statistics.median(times), "min_s": min(times),
            "max_s": max(times), "repeats": repeats}


def say(message: str) -> None:
    """One line of progress on stderr."""
    print(f"cli_speed: {message}", file=sys.stderr, flush=True)


def time_commands(built: dict, folder: Path, runs: int, warmup: int) -> dict:
    exe, python = pymc_bnn_command(), sys.executable
    predict = [exe, "predict", built["model"], built["tables"]["rows"], "--out",
               str(folder / "pred.csv"), "--force", "--quiet"]
    baseline = [python, "-c", SKLEARN_PREDICT.format(
        model=built["sklearn_model"], rows=built["tables"]["rows"],
        out=str(folder / "sklearn_pred.csv"))]
    commands = {"version": [exe, "--version"], "info": [exe, "info", built["model"]],
                "predict_100": predict, "sklearn_predict_100": baseline,
                "python_start": [python, "-c", "pass"]}
    timed = {}
    for name, argv in commands.items():
        say(f"timing {name}: {warmup} warm-up + {runs} runs")
        timed[name] = time_command(argv, runs, warmup=warmup)
    rows = len(pd.read_csv(folder / "pred.csv"))
    if rows != PREDICT_ROWS:
        raise RuntimeError(f"predict wrote {rows} rows, not {PREDICT_ROWS}")
    return timed


def time_uncertainty(quick: bool, repeats: int) -> dict:
    """Per likelihood: uncertainty() with 90% intervals on 10,000 rows, and predict, warm."""
    from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor

    timed = {}
    for likelihood in (*CLASSIFIER_LIKELIHOODS, *REGRESSOR_LIKELIHOODS):
        say(f"fitting and timing uncertainty() for {likelihood}")
        X, y = likelihood_data(likelihood, 400, seed=0)
        X_new, _ = likelihood_data(likelihood, UNCERTAINTY_ROWS, seed=1)
        estimator = (BayesianMLPClassifier if likelihood in CLASSIFIER_LIKELIHOODS
                     else BayesianMLPRegressor)
        model = estimator(HIDDEN, likelihood=likelihood, draws=DRAWS, random_state=0,
                          steps=300 if quick else None).fit(X, y)
        summary = model.uncertainty(X_new, level=0.9)
        bounds = ("probability_lower" if likelihood in CLASSIFIER_LIKELIHOODS else "lower")
        if summary.sizes["obs"] != UNCERTAINTY_ROWS or bounds not in summary:
            raise RuntimeError(f"{likelihood}: uncertainty() gave no intervals on every row")
        predict = (model.predict_proba if likelihood in CLASSIFIER_LIKELIHOODS
                   else lambda rows, m=model: m.predict(rows, return_std=True))
        timed[likelihood] = {
            "method": model.posterior_.method, "draws": model.posterior_.n_draws,
            "uncertainty": time_call(lambda m=model, X=X_new: m.uncertainty(X, level=0.9),
                                     repeats),
            "predict": time_call(lambda p=predict, X=X_new: p(X), repeats)}
    return timed


# ----------------------------------------------------------------------------- the run


def run_facts(args) -> dict:
    """Commit, date, machine and its load, and whether the machine was idle.

    Idle means a 1-minute load average below a quarter of the CPUs when the run started.
    """
    facts = machine_facts()
    return {**facts, "quick": args.quick, "note": args.note,
            "idle": facts["load_average_start"][0] < 0.25 * (facts["nproc"] or 1)}


def targets(commands: dict, uncertainty: dict, sizes: dict) -> list[dict]:
    """One row per target: measured, limit, met, and the alternative's figure where one exists."""
    floor = commands["python_start"]["median_s"]
    rows = [
        {"target": "pymc-bnn --version", "key": "version_s",
         "measured": commands["version"]["median_s"], "alternative": "python -c pass",
         "alternative_value": floor},
        {"target": "pymc-bnn info MODEL", "key": "info_s", "measured": commands["info"]["median_s"],
         "alternative": "python -c pass", "alternative_value": floor},
        {"target": f"pymc-bnn predict, {PREDICT_ROWS} rows, end to end", "key": "predict_100_s",
         "measured": commands["predict_100"]["median_s"],
         "alternative": "scikit-learn pipeline (joblib) load + predict_proba + CSV",
         "alternative_value": commands["sklearn_predict_100"]["median_s"]},
    ]
    for likelihood, timed in uncertainty.items():
        rows.append({"target": f"uncertainty(), {UNCERTAINTY_ROWS:,} rows, 90% intervals: "
                               f"{likelihood} ({timed['method']})", "key": "uncertainty_10k_s",
                     "measured": timed["uncertainty"]["median_s"],
                     "alternative": "predict (mean and sd alone)",
                     "alternative_value": timed["predict"]["median_s"]})
    rows += [
        {"target": f"model file, {HIDDEN} network, {DRAWS:,} draws (laplace)",
         "key": "model_file_mb", "measured": sizes["model"]},
        {"target": f"model file, {HIDDEN} network, {DRAWS:,} draws (advi)",
         "key": "model_file_mb", "measured": sizes["advi_model"]},
        {"target": f"grouped model file, {GROUPS} groups, {DRAWS:,} draws (advi)",
         "key": "grouped_model_file_mb", "measured": sizes["grouped_model"]},
    ]
    for row in rows:
        row["limit"] = LIMITS[row["key"]]
        row["met"] = bool(row["measured"] < row["limit"])
        if row.get("alternative_value"):
            row["ratio"] = row["measured"] / row["alternative_value"]
    return rows


def markdown(result: dict) -> str:
    facts = result["run"]
    lines = [f"# CLI speed{' (--quick)' if facts['quick'] else ''}", "",
             f"{facts['date']}, commit {facts['commit'][:7]}{' (dirty)' if facts['dirty'] else ''}"
             f", {facts['machine']}; load average at the start "
             f"{', '.join(f'{v:.2f}' for v in facts['load_average_start'])} "
             f"({'idle' if facts['idle'] else 'busy'})"
             f"{'; ' + facts['note'] if facts['note'] else ''}.",
             "", "| target | measured | limit | met | alternative (same run) | ratio |",
             "|---|---|---|---|---|---|"]
    for row in result["targets"]:
        unit = " MB" if row["key"].endswith("_mb") else " s"
        alternative = (f"{row['alternative']}: {row['alternative_value']:.3g} s"
                       if row.get("alternative") else "—")
        ratio = f"×{row['ratio']:.2f}" if "ratio" in row else "—"
        lines.append(f"| {row['target']} | {row['measured']:.3g}{unit} | < {row['limit']:g}{unit}"
                     f" | {'yes' if row['met'] else '**no**'} | {alternative} | {ratio} |")
    fits = ", ".join(f"{name} {s:.1f} s" for name, s in result["inputs"]["fit_s"].items())
    lines += ["", f"Times are medians of {result['settings']['runs']} runs after "
              f"{result['settings'].get('warmup', 2)} warm-up run(s) "
              f"(commands) or of {result['settings']['repeats']} calls after one that compiles "
              f"(uncertainty). Fits (not targets): {fits}.", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 runs per command after 1 warm-up, 1 timed call of "
                             "uncertainty(), 300-step fits: checks that it runs")
    parser.add_argument("--note", default="", help="free text on the machine's load")
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    runs, warmup, repeats = (3, 1, 1) if args.quick else (7, 2, 5)
    facts = run_facts(args)
    with tempfile.TemporaryDirectory(prefix="pymc-bnn-cli-speed-") as tmp:
        folder = Path(tmp)
        built = make_inputs(folder, args.quick)
        sizes = {name: Path(built[name]).stat().st_size / 1e6
                 for name in ("model", "advi_model", "grouped_model")}
        commands = time_commands(built, folder, runs, warmup)
        uncertainty = time_uncertainty(args.quick, repeats)
    facts["load_average_end"] = list(os.getloadavg())
    result = {"run": facts, "settings": {"runs": runs, "warmup": warmup, "repeats": repeats,
                                         "hidden": HIDDEN,
                                         "draws": DRAWS, "groups": GROUPS,
                                         "predict_rows": PREDICT_ROWS,
                                         "uncertainty_rows": UNCERTAINTY_ROWS, "limits": LIMITS},
              "inputs": {"fit_s": built["fit_s"]}, "commands": commands,
              "uncertainty": uncertainty, "model_file_mb": sizes,
              "targets": targets(commands, uncertainty, sizes)}
    stem = "cli_speed_quick" if args.quick else "cli_speed"
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    report = markdown(result)
    (out_dir / f"{stem}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
