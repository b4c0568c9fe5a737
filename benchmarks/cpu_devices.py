"""How many JAX CPU devices pymc-bnn should make: one per core, against at least 4.

XLA's CPU client runs every device's work on one pool of max(cores, devices) threads, and
those threads spin while they wait for work. Until this benchmark, pymc-bnn made
max(cores, 4) devices, so that 4 NUTS chains had a device each; on a 2-core machine that put 4
spinning threads on 2 cores. This script measures, in fresh processes that differ only in
PYMC_BNN_CPU_DEVICES, interleaved and repeated (this machine's speed drifts by ±15% over
minutes), the three workloads the choice touches:

- a streamed ADVI fit (one restart, one device): 10^6 rows in memory, 20 → 64 → 64 → 1,
  batches of 1,024, float32, 5,000 steps (benchmarks/scale.py's model), in steps/s;
- the default classifier (laplace, its restarts spread over the devices) on breast_cancer,
  the mean of 3 warm fits, in seconds;
- NUTS on the seed model (two moons, 2 → 5 → 5 → 1), 4 chains × 250 draws after 1,000 tuning
  steps, sampling seconds (with fewer devices than chains the chains share them:
  `pymc_bnn.inference.nuts.chain_devices`).

Writes results/cpu_devices.json and results/cpu_devices.md. Run it alone on an idle machine:

    uv run python benchmarks/cpu_devices.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

WORKLOADS = ("advi_streamed_steps_per_s", "laplace_breast_cancer_s", "nuts_moons_sample_s")
HIGHER_IS_BETTER = {"advi_streamed_steps_per_s": True, "laplace_breast_cancer_s": False,
                    "nuts_moons_sample_s": False}
STEPS = 5000


def child() -> None:
    """The three workloads in this process (its devices set by the parent), as one JSON line."""
    import scale
    from sklearn.datasets import load_breast_cancer

    from pymc_bnn import build_model, fit
    from pymc_bnn.data import batch_source, stream_statistics
    from pymc_bnn.datasets import two_moons
    from pymc_bnn.model.build import build_streaming_model
    from pymc_bnn.sklearn import BayesianMLPClassifier

    result = {}
    source = batch_source(scale.blocks(10**6, 1))
    stats = stream_statistics(source)
    scaled = source.map(lambda X, y: ((X - stats.x_mean) / stats.x_sd, y))
    bnn = build_streaming_model(scaled, batch_size=scale.BATCH, likelihood="gaussian",
                                hidden=scale.HIDDEN, bias=True, statistics=stats)
    options = {"restarts": 1, "tol": 0, "draws": 10, "progress": False, "dtype": "float32"}
    fit(bnn, "advi", steps=200, **options)  # compiled outside the timing
    posterior = fit(bnn, "advi", steps=STEPS, **options)
    result["advi_streamed_steps_per_s"] = STEPS / posterior.timings["fit_s"]

    X, y = load_breast_cancer(return_X_y=True)
    BayesianMLPClassifier(random_state=0).fit(X, y)  # compiled outside the timing
    start = time.perf_counter()
    for seed in range(3):
        BayesianMLPClassifier(random_state=seed).fit(X, y)
    result["laplace_breast_cancer_s"] = (time.perf_counter() - start) / 3

    moons = two_moons()
    seed_model = build_model(moons.X_train, moons.y_train, hidden=(5, 5))
    posterior = fit(seed_model, "nuts", draws=1000, random_seed=1, progress=False)
    result["nuts_moons_sample_s"] = posterior.timings["sample_s"]
    result["nuts_chain_method"] = posterior.settings["chain_method"]

    import jax

    result["cpu_devices"] = jax.device_count()
    print(json.dumps(result))


def run_child(devices: int) -> dict:
    """`child` in a fresh process with `devices` JAX CPU devices: its JSON, or its error."""
    environ = os.environ | {"PYMC_BNN_CPU_DEVICES": str(devices)}
    run = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True,
                         env=environ)
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1][:200]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def summary(runs: dict[int, list[dict]]) -> dict:
    """Per device count and workload: the median over the repeats, and every run's value."""
    out = {}
    for devices, done in runs.items():
        good = [r for r in done if "error" not in r]
        out[str(devices)] = {w: {"median": float(np.median([r[w] for r in good])),
                                 "runs": [r[w] for r in good]} for w in WORKLOADS} if good else {
            "error": done[0].get("error")}
    return out


def table(facts: dict, medians: dict, counts: list[int]) -> str:
    """The Markdown table of results/cpu_devices.md."""
    cores, old = counts
    lines = [f"CPU devices: {facts['commit'][:10]}, {facts['date']}, {facts['machine']}, "
             f"{facts['repeats']} interleaved repeats, load at start "
             f"{', '.join(f'{x:.2f}' for x in facts['load_average_start'])}.", "",
             "| workload | " + " | ".join(f"{d} devices" for d in counts) + " | ratio |",
             "|---|---|---|---|"]
    for w in WORKLOADS:
        if "error" in medians[str(cores)] or "error" in medians[str(old)]:
            break
        a, b = medians[str(cores)][w]["median"], medians[str(old)][w]["median"]
        ratio = a / b if HIGHER_IS_BETTER[w] else b / a

        def cell(d, w=w):
            values = medians[str(d)][w]["runs"]
            return (f"{medians[str(d)][w]['median']:,.3g} "
                    f"({', '.join(f'{v:,.3g}' for v in values)})")
        lines.append(f"| {w} | {cell(cores)} | {cell(old)} | ×{ratio:.2f} |")
    lines += ["", f"Median (each run); ratio: {cores} devices (one per core) against {old} "
              "(the old default), > 1 where one per core is faster."]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Interleaved runs of one device per core and of at least 4; the JSON and the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        return child()
    from pymc_bnn._runtime.jax_setup import usable_cores

    cores = usable_cores()  # what the library's default counts
    counts = [cores, max(cores, 4)]
    if counts[0] == counts[1]:
        print(f"{cores} cores: one device per core is already at least 4; nothing to compare")
        return None
    facts = machine_facts() | {"repeats": args.repeats}
    runs: dict[int, list[dict]] = {d: [] for d in counts}
    for repeat in range(args.repeats):
        for devices in counts:
            runs[devices].append(run_child(devices))
            print(json.dumps({"repeat": repeat, "devices": devices, **runs[devices][-1]}),
                  flush=True)
    medians = summary(runs)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "cpu_devices.json").write_text(json.dumps(
        {**facts, "device_counts": counts, "summary": medians, "runs": runs}, indent=2))
    report = table(facts, medians, counts)
    (out / "cpu_devices.md").write_text(report)
    print(report)
    return None


if __name__ == "__main__":
    main()
