"""What padding the rows to a few sizes (`pymc_bnn.inference.jax_model.padded_rows`) buys and costs.

Before, every fit compiled its programs for its exact number of rows, so each new row count
paid XLA's compilation again. This script runs the same workloads in fresh processes that
differ only in `jax_model.PAD_ROWS` (True: padded, the default; False: exact rows, as before),
interleaved and repeated, each pair of processes with its own empty JAX cache folder:

- `learning_curve`: the default `BayesianMLPClassifier` on two moons (noise 0.2) at 100, 150,
  ..., 500 training rows, 9 fits, total seconds (a learning curve, or active learning's
  growing labelled set);
- `cross_val`: scikit-learn's `cross_val_score` of the default classifier on breast_cancer,
  5 folds (455 or 456 training rows), total seconds;
- `refit_569` and `refit_513`: one more default fit at a row count already fitted in the
  process (all 569 breast_cancer rows, padded to 768; its first 513, padded to 768, the most
  padding there is), seconds: the cost of the extra rows once everything is compiled.

Each mode runs twice per repeat: first with an empty cache folder ("first run": a new machine
or a new row count), then again with the folder the first run filled ("cached": a later
session, JAX's persistent cache). The fits must agree: the largest difference between the
two modes' predicted probabilities on the test rows is recorded, with each mode's held-out log
loss: the fits are the same up to rounding, which the MAP's Adam steps can amplify (the sums
over rows run in another order), so they agree as two fits from the same start do, not to the
digit.

Writes results/row_padding.json and results/row_padding.md. Run it alone on an idle machine:

    uv run python benchmarks/row_padding.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

WORKLOADS = ("learning_curve_s", "cross_val_s", "refit_569_s", "refit_513_s")
MODES = ("padded", "exact")
CURVE_SIZES = tuple(range(100, 501, 50))


def child(mode: str) -> None:
    """The workloads in this process, rows padded or exact; one JSON line on stdout."""
    from sklearn.datasets import load_breast_cancer, make_moons
    from sklearn.model_selection import cross_val_score

    from pymc_bnn import BayesianMLPClassifier
    from pymc_bnn.inference import jax_model

    jax_model.PAD_ROWS = mode == "padded"
    result: dict = {"mode": mode}
    X, y = make_moons(600, noise=0.2, random_state=0)
    X_test = X[500:]
    start = time.perf_counter()
    curve = []
    for n in CURVE_SIZES:
        model = BayesianMLPClassifier(random_state=0).fit(X[:n], y[:n])
        curve.append(model.predict_proba(X_test)[:, 1].tolist())
    result["learning_curve_s"] = time.perf_counter() - start
    result["learning_curve_proba"] = curve

    Xc, yc = load_breast_cancer(return_X_y=True)
    start = time.perf_counter()
    scores = cross_val_score(BayesianMLPClassifier(random_state=0), Xc, yc, cv=5,
                             scoring="neg_log_loss")
    result["cross_val_s"] = time.perf_counter() - start
    result["cross_val_log_loss"] = (-scores).tolist()

    for n in (569, 513):
        BayesianMLPClassifier(random_state=0).fit(Xc[:n], yc[:n])  # compiles, if it must
        start = time.perf_counter()
        BayesianMLPClassifier(random_state=1).fit(Xc[:n], yc[:n])
        result[f"refit_{n}_s"] = time.perf_counter() - start
    print(json.dumps(result))


def run_child(mode: str, cache: Path) -> dict:
    """`child(mode)` in a fresh process with JAX's cache in `cache`: its JSON, or its error."""
    environ = os.environ | {"PYMC_BNN_JAX_CACHE": str(cache)}
    run = subprocess.run([sys.executable, __file__, "--child", mode], capture_output=True,
                         text=True, env=environ)
    if run.returncode != 0:
        return {"mode": mode, "error": run.stderr.strip().splitlines()[-1][:300]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Per (cache state, mode) and workload: the median over the repeats and every run."""
    out: dict = {}
    for state in ("first_run", "cached"):
        for mode in MODES:
            good = [r for r in runs if r["cache"] == state and r["mode"] == mode
                    and "error" not in r]
            out[f"{state}/{mode}"] = {w: {"median": float(np.median([r[w] for r in good])),
                                          "runs": [r[w] for r in good]}
                                      for w in WORKLOADS} if good else {"error": True}
    return out


def agreement(runs: list[dict]) -> dict:
    """How the modes' fits compare (the fits are seeded: the first run of each suffices).

    The largest difference in a predicted probability, and per mode the mean held-out log loss
    of the learning curve's fits (on the 100 test rows) and of the 5 folds.
    """
    from sklearn.datasets import make_moons
    from sklearn.metrics import log_loss

    first = {m: next((r for r in runs if r["mode"] == m and "error" not in r), None)
             for m in MODES}
    if None in first.values():
        return {}
    y_test = make_moons(600, noise=0.2, random_state=0)[1][500:]
    out: dict = {"max_abs_difference_proba": float(np.max(np.abs(
        np.asarray(first["padded"]["learning_curve_proba"])
        - np.asarray(first["exact"]["learning_curve_proba"]))))}
    for mode, r in first.items():
        out[f"learning_curve_log_loss_{mode}"] = float(np.mean(
            [log_loss(y_test, p, labels=[0, 1]) for p in r["learning_curve_proba"]]))
        out[f"cross_val_log_loss_{mode}"] = float(np.mean(r["cross_val_log_loss"]))
    return out


def table(facts: dict, medians: dict, agree: dict) -> str:
    """The Markdown table of results/row_padding.md."""
    dirty = " (uncommitted changes)" if facts["dirty"] else ""
    lines = [f"Row padding: {facts['commit'][:10]}{dirty}, {facts['date']}, "
             f"{facts['machine']}, {facts['repeats']} interleaved repeats, "
             f"load at start {', '.join(f'{x:.2f}' for x in facts['load_average_start'])}.", "",
             "| workload | cache | padded (s) | exact rows (s) | ratio |", "|---|---|---|---|---|"]
    for w in WORKLOADS:
        for state in ("first_run", "cached"):
            a, b = medians[f"{state}/padded"], medians[f"{state}/exact"]
            if "error" in a or "error" in b:
                continue

            def cell(m, w=w):
                return (f"{m[w]['median']:.1f} "
                        f"({', '.join(f'{v:.1f}' for v in m[w]['runs'])})")
            ratio = b[w]["median"] / a[w]["median"]
            lines.append(f"| {w.removesuffix('_s')} | {state.replace('_', ' ')} | {cell(a)} | "
                         f"{cell(b)} | ×{ratio:.2f} |")
    lines += ["", "Median (each run); ratio: exact rows' seconds over padded, > 1 where padding "
              "is faster. \"first run\": an empty JAX cache folder; \"cached\": the folder the "
              "first run filled, in a new process."]
    if agree:
        lines += ["", "Held-out log loss, padded / exact rows: learning curve (mean over its 9 "
                  f"fits) {agree['learning_curve_log_loss_padded']:.4f} / "
                  f"{agree['learning_curve_log_loss_exact']:.4f}, cross-validation (mean of 5 "
                  f"folds) {agree['cross_val_log_loss_padded']:.4f} / "
                  f"{agree['cross_val_log_loss_exact']:.4f}; the largest difference in a "
                  f"predicted probability {agree['max_abs_difference_proba']:.3f} (rounding, "
                  "amplified by the MAP's optimiser)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Interleaved runs of both modes, each first with an empty cache and then cached."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    facts = machine_facts() | {"repeats": args.repeats}
    runs: list[dict] = []
    for repeat in range(args.repeats):
        for mode in MODES:
            with tempfile.TemporaryDirectory(prefix="row_padding_cache_") as cache:
                for state in ("first_run", "cached"):
                    runs.append(run_child(mode, Path(cache)) | {"cache": state,
                                                                "repeat": repeat})
                    shown = {k: v for k, v in runs[-1].items() if not k.endswith(
                        ("_proba", "_log_loss"))}
                    print(json.dumps(shown), flush=True)
    medians = summary(runs)
    agree = agreement([r for r in runs if r["cache"] == "first_run"])
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "row_padding.json").write_text(json.dumps(
        {**facts, "workloads": WORKLOADS, "curve_sizes": CURVE_SIZES, "summary": medians,
         "agreement": agree,
         "runs": [{k: v for k, v in r.items() if not k.endswith("_proba")} for r in runs]},
        indent=2))
    report = table(facts, medians, agree)
    (out / "row_padding.md").write_text(report)
    print(report)
    return None


if __name__ == "__main__":
    main()
