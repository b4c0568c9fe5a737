"""The seed workload, seed code vs pymc-bnn, in one process: speed and accuracy per engine.

Runs the seed analysis itself (`../shared/seed/seed_analysis.py`, imported, unchanged: pm.fit
with its defaults for 30,000 steps, 5,000 draws, prediction through
pm.sample_posterior_predictive on the test set and the 100×100 grid) and pymc-bnn's engines on
the same two-moons splits, then writes `benchmarks/results/seed_workload.json` and a Markdown
table (printed, and saved next to the JSON).

    uv run python benchmarks/seed_workload.py            # 5 seed-code seeds, 10 advi seeds
    uv run python benchmarks/seed_workload.py --quick    # 3 seeds each (a few minutes)

Times per engine: compile (the first fit's, with an empty JAX compilation cache), fit (the
optimisation or sampling itself), the whole fit call, and grid prediction warm and on its first
call (which compiles). NUTS runs 3 seeds (1 with --quick) and is compared with `pm.sample` on its
defaults (4 chains × 1,000 draws after 1,000 tuning
steps), both judged by the bulk ESS of the predictive probabilities of the test points per
second of compile + sampling (raw weights do not mix across chains: hidden units swap and flip).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_NUTS = {False: 3, True: 1}  # NUTS seeds: full run, --quick
# A fresh, empty JAX compilation cache: the first fit's compile is the cold one a new user sees
# (later runs of pymc-bnn on the same machine load it from ~/.cache/pymc-bnn/jax instead).
os.environ.setdefault("PYMC_BNN_JAX_CACHE", tempfile.mkdtemp(prefix="pymc-bnn-bench-jax-"))
SEED_SCRIPT = Path(os.environ.get("SEED_ANALYSIS",
                                  HERE.parent.parent / "shared" / "seed" / "seed_analysis.py"))


def load_seed_module():
    spec = importlib.util.spec_from_file_location("seed_analysis", SEED_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_seed_code(module, seed: int) -> dict:
    """The seed script's own `main` with the notebook's settings; returns its JSON result."""
    argv = ["seed_analysis.py", "--iterations", "30000", "--draws", "5000", "--seed", str(seed),
            "--grid"]
    out = io.StringIO()
    old_argv, sys.argv = sys.argv, argv
    try:
        with contextlib.redirect_stdout(out):
            module.main()
    finally:
        sys.argv = old_argv
    return json.loads(out.getvalue().strip().splitlines()[-1])


def run_engine(method: str, seed: int) -> dict:
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import grid_2d, two_moons
    from pymc_bnn.model.priors import SEED_PRIOR
    from pymc_bnn.posterior.metrics import classification_summary

    data = two_moons(split_seed=seed)
    bnn = build_model(data.X_train, data.y_train, prior=SEED_PRIOR)
    options = {"steps": 30_000} if "advi" in method else {"check_X": data.X_test}
    start = time.perf_counter()
    draws = 4000 if method == "nuts" else 5000  # NUTS: 4 chains x 1,000, as pm.sample
    posterior = fit(bnn, method, draws=draws, random_seed=seed, progress=False, **options)
    fit_total = time.perf_counter() - start
    scores = classification_summary(data.y_test, posterior.predict(data.X_test)["mean"].values)
    grid, _, _ = grid_2d(n=100)
    grid_times = []
    for _ in range(2):  # the first call compiles for the grid's chunk shape (first seed only)
        start = time.perf_counter()
        posterior.predict(grid)
        grid_times.append(time.perf_counter() - start)
    t = posterior.timings
    return {"seed": seed, "accuracy": scores["accuracy"], "log_loss": scores["log_loss"],
            "fit_total_s": fit_total, "compile_s": t.get("compile_s", 0.0),
            "fit_s": t.get("fit_s", t.get("sample_s", 0.0)), "timings": t,
            "predict_grid_first_s": grid_times[0], "predict_grid_s": grid_times[1],
            "chain_method": posterior.settings.get("chain_method"),
            "diagnostics": posterior.diagnostics}


def run_pm_sample(seed: int, cores: int | None = None) -> dict:
    """pm.sample with its defaults on the seed model; ESS of the test predictive probabilities.

    cores=None is PyMC's default, which here is 1 job (it halves os.cpu_count(), assuming
    hyperthreads), so its 2 chains run one after the other; cores=2 runs them side by side.
    """
    import arviz as az
    import pymc as pm

    from pymc_bnn.datasets import two_moons

    data = two_moons(split_seed=seed)
    rng = np.random.default_rng(seed)
    with pm.Model():
        X = pm.Data("X", data.X_train)
        w1 = pm.Normal("w_in_1", 0, 1, shape=(2, 5), initval=rng.standard_normal((2, 5)))
        w2 = pm.Normal("w_1_2", 0, 1, shape=(5, 5), initval=rng.standard_normal((5, 5)))
        w3 = pm.Normal("w_2_out", 0, 1, shape=(5,), initval=rng.standard_normal(5))
        eta = pm.math.dot(pm.math.tanh(pm.math.dot(pm.math.tanh(pm.math.dot(X, w1)), w2)), w3)
        pm.Bernoulli("out", logit_p=eta, observed=data.y_train)
        start = time.perf_counter()
        options = {} if cores is None else {"cores": cores}
        trace = pm.sample(random_seed=seed, progressbar=False, **options)
        total = time.perf_counter() - start
    post = trace["posterior"]
    w1, w2, w3 = (np.asarray(post[n].values) for n in ("w_in_1", "w_1_2", "w_2_out"))
    h = np.tanh(np.tanh(data.X_test @ w1) @ w2)
    p = 1 / (1 + np.exp(-np.einsum("cdnk,cdk->cdn", h, w3)))
    ess = np.asarray(az.ess(p, method="bulk"))
    diverging = np.asarray(trace["sample_stats"]["diverging"].values)
    y = data.y_test
    pbar = p.reshape(-1, len(y)).mean(axis=0)
    return {"seed": seed, "total_s": total, "ess_bulk_median": float(np.median(ess)),
            "ess_bulk_min": float(ess.min()), "divergences": int(diverging.sum()),
            "divergence_rate": float(diverging.mean()),
            "accuracy": float(np.mean((pbar > 0.5) == y)),
            "log_loss": float(-np.mean(y * np.log(pbar) + (1 - y) * np.log1p(-pbar)))}


def summarise(runs: list[dict], keys) -> dict:
    out = {}
    for key in keys:
        values = np.array([r[key] for r in runs], dtype=float)
        out[f"{key}_mean"] = float(values.mean())
        out[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds per engine")
    parser.add_argument("--out", default=str(HERE / "results" / "seed_workload.json"))
    parser.add_argument("--assemble-only", action="store_true",
                        help="rebuild the JSON and table from the raw runs of the last run")
    parser.add_argument("--only", choices=("advi", "fullrank_advi", "nuts"),
                        help="re-measure this engine only, keeping the other raw runs")
    args = parser.parse_args()
    raw_path = Path(args.out).with_name(Path(args.out).stem + "_raw.json")
    if args.assemble_only or args.only:
        raw = json.loads(raw_path.read_text())
        if args.only == "nuts":
            raw["nuts"] = [run_engine("nuts", s) for s in range(N_NUTS[raw["quick"]])]
        elif args.only:
            n = raw["seeds"][1 if args.only == "advi" else 2]
            raw[args.only] = [run_engine(args.only, s) for s in range(n)]
        if args.only:
            raw_path.write_text(json.dumps(raw, indent=1, default=float))
    else:
        raw = measure(args.quick, raw_path)
    result = assemble(raw)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=float) + "\n")
    table = markdown_table(result)
    Path(args.out).with_suffix(".md").write_text(table + "\n")
    print(table)


def measure(quick: bool, raw_path: Path) -> dict:
    """Run everything; the raw runs are saved after each stage (a crash keeps what was done)."""
    n_seed, n_advi, n_other = (3, 3, 3) if quick else (5, 10, 5)
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    raw = {"quick": quick, "seeds": [n_seed, n_advi, n_other]}

    def save():
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps(raw, indent=1, default=float))

    for method, n in (("advi", n_advi), ("fullrank_advi", n_other)):
        raw[method] = []
        for s in range(n):
            say(f"{method}, seed {s}")
            raw[method].append(run_engine(method, s))
        save()
    module = load_seed_module()
    raw["seed_code"] = []
    for s in range(n_seed):
        say(f"seed code, seed {s}")
        raw["seed_code"].append(run_seed_code(module, s))
        save()
    raw["nuts"] = []
    for s in range(N_NUTS[quick]):
        say(f"nuts, seed {s}")
        raw["nuts"].append(run_engine("nuts", s))
        save()
    say("pm.sample defaults, seed 0")
    raw["pm_sample"] = run_pm_sample(0)
    save()
    if not quick:  # an extra comparison; --quick keeps to what the ratios need
        say("pm.sample, 2 cores, seed 0")
        raw["pm_sample_2_cores"] = run_pm_sample(0, cores=2)
    raw["load_average_at_end"] = list(os.getloadavg())
    save()
    return raw


def assemble(raw: dict) -> dict:
    engines = {}
    for method in ("advi", "fullrank_advi"):
        runs = raw[method]
        engines[method] = {**summarise(runs, ["accuracy", "log_loss", "fit_total_s", "fit_s",
                                              "compile_s", "predict_grid_s",
                                              "predict_grid_first_s"]),
                           "compile_s_first": runs[0]["compile_s"],
                           "steps_per_s_mean": float(np.mean(
                               [r["diagnostics"]["steps_per_s"] for r in runs])),
                           "steps_run_mean": float(np.mean(
                               [r["diagnostics"]["steps_run"] for r in runs])),
                           "runs": runs}
    runs = raw["nuts"] if isinstance(raw["nuts"], list) else [raw["nuts"]]
    for r in runs:
        d = r["diagnostics"]
        r.update(divergence_rate=d["divergence_rate"],
                 ess_bulk_median=d["predictive_ess_bulk_median"],
                 ess_per_s=d["predictive_ess_bulk_median"] / r["fit_total_s"])
    engines["nuts"] = {**summarise(runs, ["accuracy", "log_loss", "fit_total_s",
                                          "divergence_rate", "ess_bulk_median", "ess_per_s"]),
                       "divergences": [r["diagnostics"]["divergences"] for r in runs],
                       "divergence_rate": float(np.mean([r["divergence_rate"] for r in runs])),
                       "ess_per_s": float(np.mean([r["ess_per_s"] for r in runs])),
                       "predictive_rhat_max": max(r["diagnostics"]["predictive_rhat_max"]
                                                  for r in runs),
                       "weight_rhat_max": max(r["diagnostics"]["weight_rhat_max"] for r in runs),
                       "mean_tree_depth": float(np.mean([r["diagnostics"]["mean_tree_depth"]
                                                         for r in runs])),
                       "chain_method": runs[0].get("chain_method"), "runs": runs}
    reference = dict(raw["pm_sample"])
    reference["ess_per_s"] = reference["ess_bulk_median"] / reference["total_s"]
    engines["pm_sample"] = reference
    if "pm_sample_2_cores" in raw:
        two = dict(raw["pm_sample_2_cores"])
        two["ess_per_s"] = two["ess_bulk_median"] / two["total_s"]
        engines["pm_sample_2_cores"] = two
    seed_runs = raw["seed_code"]
    seed = {**summarise(seed_runs, ["accuracy", "fit_s", "predict_grid_s", "predict_test_s"]),
            "runs": seed_runs}
    advi = engines["advi"]
    n_seed, n_advi, n_other = raw["seeds"]
    return {
        "settings": {"quick": raw["quick"], "seeds_seed_code": n_seed, "seeds_advi": n_advi,
                     "seeds_fullrank": n_other, "steps": 30_000, "draws": 5000,
                     "grid": "100 x 100", "nuts": "4 chains x 1000 draws after 1000 tuning",
                     "pm_sample": "defaults (4 chains x 1000 draws after 1000 tuning)",
                     "ess": "bulk ESS of the test-set predictive probabilities, median over "
                            "points, per second of compile + sampling (+ ADVI init for nuts)"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_at_end": raw.get("load_average_at_end")},
        "seed": seed,
        "engines": engines,
        "ratios": {
            # the optimisation itself; compile is reported apart (the definition)
            "advi_fit_speedup": seed["fit_s_mean"] / advi["fit_s_mean"],
            # everything the fit call did, the cold first compile included, per seed
            "advi_fit_total_speedup": seed["fit_s_mean"] / advi["fit_total_s_mean"],
            "grid_predict_speedup": seed["predict_grid_s_mean"] / advi["predict_grid_s_mean"],
            "grid_predict_first_call_speedup": (seed["predict_grid_s_mean"]
                                                / advi["predict_grid_first_s_mean"]),
            "nuts_ess_per_s_speedup": engines["nuts"]["ess_per_s"] / reference["ess_per_s"],
            "nuts_ess_per_s_speedup_vs_pm_sample_2_cores": (
                engines["nuts"]["ess_per_s"] / engines["pm_sample_2_cores"]["ess_per_s"]
                if "pm_sample_2_cores" in engines else None),
        },
        # "compile time ... kept below the fit time it saves": the cold first compile against
        # what one fit saves over the seed's pm.fit
        "advi_compile_below_saving": (advi["compile_s_first"]
                                      < seed["fit_s_mean"] - advi["fit_s_mean"]),
    }


def markdown_table(r: dict) -> str:
    s, e = r["seed"], r["engines"]
    f = lambda x, d=3: "—" if x is None else f"{x:.{d}f}"  # noqa: E731
    rows = [
        "| engine | seeds | compile s (first fit, cold) | fit s | fit call s (all) "
        "| grid predict s (warm / first) | accuracy | log loss |",
        "|---|---|---|---|---|---|---|---|",
        f"| seed code (pm.fit 30k, defaults) | {len(s['runs'])} | (in fit) | "
        f"{f(s['fit_s_mean'], 2)} ± {f(s['fit_s_sd'], 2)} | — | "
        f"{f(s['predict_grid_s_mean'], 2)} | {f(s['accuracy_mean'])} ± {f(s['accuracy_sd'])} "
        "| — |",
    ]
    for name in ("advi", "fullrank_advi"):
        a = e[name]
        rows.append(
            f"| {name} | {len(a['runs'])} | {f(a['compile_s_first'], 2)} | "
            f"{f(a['fit_s_mean'], 2)} ± {f(a['fit_s_sd'], 2)} | "
            f"{f(a['fit_total_s_mean'], 2)} ± {f(a['fit_total_s_sd'], 2)} | "
            f"{f(a['predict_grid_s_mean'], 3)} / {f(a['predict_grid_first_s_mean'], 3)} | "
            f"{f(a['accuracy_mean'])} ± {f(a['accuracy_sd'])} | "
            f"{f(a['log_loss_mean'])} ± {f(a['log_loss_sd'])} |")
    n, p = e["nuts"], e["pm_sample"]
    rows.append(f"| nuts (NumPyro, ADVI init, {n['chain_method']} chains) | {len(n['runs'])} "
                f"| {f(n['runs'][0]['compile_s'], 2)} | — | "
                f"{f(n['fit_total_s_mean'], 1)} ± {f(n['fit_total_s_sd'], 1)} | "
                f"{f(n['runs'][0]['predict_grid_s'], 3)} | {f(n['accuracy_mean'])} ± "
                f"{f(n['accuracy_sd'])} | {f(n['log_loss_mean'])} ± {f(n['log_loss_sd'])} |")
    rows.append(f"| pm.sample (defaults: 2 chains, 1 job here) | 1 | (in fit) | "
                f"{f(p['total_s'], 1)} | {f(p['total_s'], 1)} | — | {f(p['accuracy'])} | "
                f"{f(p['log_loss'])} |")
    two = e.get("pm_sample_2_cores")
    if two:
        rows.append(f"| pm.sample(cores=2) | 1 | (in fit) | {f(two['total_s'], 1)} | "
                    f"{f(two['total_s'], 1)} | — | {f(two['accuracy'])} | "
                    f"{f(two['log_loss'])} |")
    ratios = r["ratios"]
    rows += [
        "",
        f"NUTS: divergences {n['divergences']} per seed ({n['divergence_rate']:.2%} of "
        f"transitions), mean tree depth {n['mean_tree_depth']:.1f}, predictive bulk ESS "
        f"median {n['ess_bulk_median_mean']:.0f} (mean over seeds), "
        f"{n['ess_per_s']:.1f} ± {n['ess_per_s_sd']:.1f} ESS/s, max predictive R-hat "
        f"{n['predictive_rhat_max']:.3f} "
        f"(raw weights: {n['weight_rhat_max']:.2f}). pm.sample: {p['divergences']} divergences "
        f"({p['divergence_rate']:.2%}), ESS median {p['ess_bulk_median']:.0f} "
        f"(min {p['ess_bulk_min']:.0f}), {p['ess_per_s']:.1f} ESS/s."
        + (f" pm.sample(cores=2): {two['divergences']} divergences, ESS median "
           f"{two['ess_bulk_median']:.0f}, {two['ess_per_s']:.1f} ESS/s." if two else ""),
        "",
        f"Ratios: advi fit speed-up ×{ratios['advi_fit_speedup']:.1f} (whole fit call, cold "
        f"compile included: ×{ratios['advi_fit_total_speedup']:.1f}; the cold compile "
        f"{'is' if r['advi_compile_below_saving'] else 'is NOT'} below the fit time one fit "
        f"saves), grid prediction speed-up ×{ratios['grid_predict_speedup']:.1f} (first call, "
        f"compile included: ×{ratios['grid_predict_first_call_speedup']:.1f}), NUTS ESS/s vs "
        f"pm.sample ×{ratios['nuts_ess_per_s_speedup']:.2f}"
        + (f" (vs pm.sample(cores=2): "
           f"×{ratios['nuts_ess_per_s_speedup_vs_pm_sample_2_cores']:.2f})" if two else "")
        + ".",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    main()
