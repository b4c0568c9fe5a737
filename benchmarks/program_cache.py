"""What the engines' compiled-program caches' size (`pymc_bnn._runtime.lru`) buys and costs.

Each engine keeps its compiled programs (MAP loops, log joints, samplers, models) in a
least-recently-used cache of `DEFAULT_MAX_ENTRIES` entries per kind. A session that fits
another kind of model between two fits of the same shape (a stacked fit beside the default in a
notebook, a benchmark panel) can push the first model's programs out, and its next fit compiles
again (from JAX's persistent cache where it has them: tracing and lowering are paid again, XLA's
compilation is not). This script runs one workload in fresh processes that differ only in the
cache size, interleaved and repeated:

- `default_warm_s`: the default `BayesianMLPRegressor` on diabetes (split 1 of the tabular
  panel), fitted after the same estimator's fit of split 0 (same shapes): a warm refit;
- `default_after_stacked_s`: the same fit again after one fit of
  `stack_linear=True, stack_heteroscedastic=True` on split 0 (three models, their folds);
- `max_rss_mb`: the process's peak resident memory at the end; `memory_maps`: its memory maps
  (the resource `lru.relieve_compiled_programs` watches).

The fits must be the same whatever the cache size: the held-out Gaussian NLL of the last
default fit is recorded per process.

Writes results/program_cache.json and results/program_cache.md. Run it alone on an idle
machine:

    uv run --group bench python benchmarks/program_cache.py [--repeats 2] [--sizes 8,32]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

WORKLOADS = ("default_warm_s", "default_after_stacked_s")


def child(size: int) -> dict:
    """One process's workload with every compiled-program cache holding `size` entries."""
    from pymc_bnn._runtime import lru

    lru.DEFAULT_MAX_ENTRIES = size
    lru.lru_get.__defaults__ = (size,)  # the default each cache's lookups take
    from pymc_bnn.inference import output_sampler

    output_sampler._MAX_SAMPLERS = size
    import _tabular_panel as panel
    import tabular

    from pymc_bnn import BayesianMLPRegressor

    warnings.simplefilter("ignore")
    X, y = tabular.DATASETS["diabetes"].load()
    first, second = (tabular.split("diabetes", X, y, seed) for seed in (0, 1))

    def timed_default() -> tuple[float, object]:
        start = time.perf_counter()
        model = BayesianMLPRegressor(random_state=1).fit(second[0], second[2])
        return time.perf_counter() - start, model

    BayesianMLPRegressor(random_state=0).fit(first[0], first[2])  # compiles the default's
    warm, _ = timed_default()
    BayesianMLPRegressor(stack_linear=True, stack_heteroscedastic=True, random_state=0).fit(
        first[0], first[2])
    after, model = timed_default()
    mean, sd = model.predict(second[1], return_std=True)
    counts = lru.memory_maps()
    return {"size": size, "default_warm_s": warm, "default_after_stacked_s": after,
            "gaussian_nll": panel.regression_scores(second[3], mean, sd)["gaussian_nll"],
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "memory_maps": counts[0] if counts else None}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sizes", default="8,32", help="cache sizes compared (comma-separated)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", default=str(HERE / "results"))
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    facts = machine_facts()
    runs = []
    for repeat in range(args.repeats):
        for size in sizes if repeat % 2 == 0 else sizes[::-1]:  # interleaved
            out = subprocess.run([sys.executable, __file__, "--child", str(size)],
                                 capture_output=True, text=True, check=True).stdout
            runs.append({"repeat": repeat, **json.loads(out.strip().splitlines()[-1])})
            print(runs[-1], file=sys.stderr, flush=True)
    facts["load_average_end"] = list(__import__("os").getloadavg())
    per_size = {size: {key: [r[key] for r in runs if r["size"] == size]
                       for key in (*WORKLOADS, "gaussian_nll", "max_rss_mb", "memory_maps")}
                for size in sizes}
    result = {"run": facts, "runs": runs,
              "median": {size: {k: float(np.median(v)) for k, v in m.items()
                                if None not in v} for size, m in per_size.items()}}
    out_dir = Path(args.out_dir)
    (out_dir / "program_cache.json").write_text(json.dumps(result, indent=1) + "\n")
    base = result["median"][sizes[0]]
    lines = [f"Program caches: commit {facts['commit'][:10]}, {facts['date']}, "
             f"{facts['machine']}; {args.repeats} processes per size, medians.", "",
             "| entries per cache | default warm fit s | same fit after a stacked fit s "
             "| ratio to the first size | held-out NLL | peak RSS MB | memory maps |",
             "|---|---|---|---|---|---|---|"]
    for size in sizes:
        m = result["median"][size]
        lines.append(f"| {size} | {m['default_warm_s']:.2f} | {m['default_after_stacked_s']:.2f}"
                     f" | ×{base['default_after_stacked_s'] / m['default_after_stacked_s']:.2f}"
                     f" | {m['gaussian_nll']:.4f} | {m['max_rss_mb']:.0f} | "
                     f"{m.get('memory_maps', float('nan')):.0f} |")
    (out_dir / "program_cache.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
