"""ADVI's optimiser: optax's Adam against the hand-written Adam it replaced, in one process.

Both run in the same driver (`pymc_bnn.inference.vi_loop.Loop`, its `optimiser` slot), on the
same compiled model, family, data and random keys, so the update rule is the only difference.
The hand-written Adam below is the update `vi_loop.py` held before the switch (main at commit
23072ed), written as an optax `GradientTransformation` so it fits the slot.

    uv run python benchmarks/advi_optimizer.py          # 7 timing repeats, 5 seeds of fit quality
    uv run python benchmarks/advi_optimizer.py --quick  # 3 repeats, 2 seeds (a few minutes)

Speed: steps/s of the compiled loop alone (`Outcome.fit_s`, compile excluded: each arm is
compiled once before timing), a fixed number of steps (tol=0), the arms alternating within each
repeat so a change in the machine's load hits both. Workloads: the seed's network (two moons,
2→5→5→1 tanh, no biases, Normal(0, 1) weights) with 1 restart, with the 4-restart race, and
full-rank; and a (32, 32) network with biases under the library's default prior. The ratio is
the median over repeats of optax's steps/s divided by the hand-written one's in the same repeat.

Fit quality: the whole `fit(bnn, "advi", steps=30_000)` of the seed workload (restarts race,
convergence test) with each optimiser, per seed: accuracy, log loss, steps to convergence and
the final ELBO (mean of the last 1,000 steps).

Writes `results/advi_optimizer.json` and `results/advi_optimizer.md` (a --quick run:
`results/advi_optimizer_quick.*`, not committed).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
B1, B2, EPS = 0.9, 0.999, 1e-8


class HandAdamState(NamedTuple):
    m: object
    v: object
    t: object


def hand_written_adam(learning_rate):
    """The Adam update `vi_loop.py` computed itself before optax.

    One scalar step size per step (learning_rate · sqrt(1 − b2^t) / (1 − b1^t)) and eps added
    to sqrt(v) before bias correction.
    """
    import jax
    import jax.numpy as jnp
    import optax

    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return HandAdamState(m=zeros, v=zeros, t=jnp.zeros(()))

    def update(gradient, state, params=None):
        del params
        t = state.t + 1.0
        m = jax.tree_util.tree_map(lambda m, g: B1 * m + (1 - B1) * g, state.m, gradient)
        v = jax.tree_util.tree_map(lambda v, g: B2 * v + (1 - B2) * g * g, state.v, gradient)
        step = learning_rate * jnp.sqrt(1 - B2**t) / (1 - B1**t)
        updates = jax.tree_util.tree_map(lambda m, v: -step * m / (jnp.sqrt(v) + EPS), m, v)
        return updates, HandAdamState(m=m, v=v, t=t)

    return optax.GradientTransformation(init, update)


def optimisers():
    from pymc_bnn.inference.vi_optimiser import adam

    return {"hand_written": hand_written_adam, "optax": adam}


WORKLOADS = {
    # name: (hidden, bias, seed prior, family, restarts)
    "seed 2→5→5→1, 1 restart": ((5, 5), False, True, "meanfield", 1),
    "seed 2→5→5→1, 4-restart race": ((5, 5), False, True, "meanfield", 4),
    "seed 2→5→5→1, full-rank": ((5, 5), False, True, "fullrank", 1),
    "(32, 32) with biases, 1 restart": ((32, 32), True, False, "meanfield", 1),
}


def timed_loops(workload: str, steps: int, repeats: int) -> dict:
    """steps/s of each optimiser on `workload`, `repeats` alternating runs of `steps` steps."""
    import jax

    from pymc_bnn import build_model
    from pymc_bnn.datasets import two_moons
    from pymc_bnn.inference.jax_model import compile_model, data_arguments
    from pymc_bnn.inference.vi import DEFAULT_LEARNING_RATE, ADVISettings
    from pymc_bnn.inference.vi_family import get_family
    from pymc_bnn.inference.vi_loop import Loop
    from pymc_bnn.model.priors import SEED_PRIOR

    hidden, bias, seed_prior, family, restarts = WORKLOADS[workload]
    data = two_moons(split_seed=0)
    bnn = build_model(data.X_train, data.y_train, hidden=hidden, bias=bias,
                      prior=SEED_PRIOR if seed_prior else None)
    compiled = compile_model(bnn.model)
    arguments = data_arguments(compiled, bnn.model)
    settings = ADVISettings(steps=steps, tol=0, learning_rate=DEFAULT_LEARNING_RATE[family])
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 0.5, size=(restarts, compiled.size))
    sd = np.full_like(mu, settings.init_sd)
    loops = {name: Loop(compiled, get_family(family), settings, restarts, optimiser=make)
             for name, make in optimisers().items()}
    speeds: dict[str, list[float]] = {name: [] for name in loops}
    elbos: dict[str, list[float]] = {name: [] for name in loops}
    compile_s = {}
    for name, loop in loops.items():  # compile each once, untimed
        warm = loop.optimise(loop.init_state(mu, sd, jax.random.PRNGKey(0)), arguments,
                             progress=False)
        compile_s[name] = warm.compile_s
    for r in range(repeats):
        order = list(loops) if r % 2 == 0 else list(loops)[::-1]
        for name in order:
            loop = loops[name]
            outcome = loop.optimise(loop.init_state(mu, sd, jax.random.PRNGKey(r)), arguments,
                                    progress=False)
            speeds[name].append(outcome.steps_run / outcome.fit_s)
            elbos[name].append(float(np.max(outcome.final_elbos)))
    ratios = np.array(speeds["optax"]) / np.array(speeds["hand_written"])
    return {"workload": workload, "parameters": int(compiled.size), "steps": steps,
            "restarts": restarts, "family": family, "compile_s": compile_s,
            "steps_per_s": speeds, "final_elbo": elbos,
            "steps_per_s_median": {k: float(np.median(v)) for k, v in speeds.items()},
            "ratio_median": float(np.median(ratios)),
            "ratio_range": [float(ratios.min()), float(ratios.max())]}


def fit_quality(seed: int) -> dict:
    """The seed workload's whole advi fit with each optimiser (same seed, same data)."""
    from pymc_bnn import build_model, fit
    from pymc_bnn.datasets import two_moons
    from pymc_bnn.inference import vi_loop
    from pymc_bnn.model.priors import SEED_PRIOR
    from pymc_bnn.posterior.metrics import classification_summary

    data = two_moons(split_seed=seed)
    out = {"seed": seed}
    for name, make in optimisers().items():
        bnn = build_model(data.X_train, data.y_train, prior=SEED_PRIOR)
        with mock.patch.object(vi_loop, "Loop", functools.partial(vi_loop.Loop, optimiser=make)):
            posterior = fit(bnn, "advi", steps=30_000, draws=5000, random_seed=seed,
                            progress=False)
        scores = classification_summary(data.y_test,
                                        posterior.predict(data.X_test)["mean"].values)
        d = posterior.diagnostics
        out[name] = {"accuracy": scores["accuracy"], "log_loss": scores["log_loss"],
                     "steps_run": d["steps_run"], "converged": d["converged"],
                     "final_elbo": float(np.mean(posterior.elbo[-1000:])),
                     "fit_s": posterior.timings["fit_s"], "steps_per_s": d["steps_per_s"]}
    return out


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def markdown(result: dict) -> str:
    f = result["facts"]
    rows = [f"ADVI optimiser: optax's Adam vs the hand-written Adam "
            f"({'--quick, ' if f['quick'] else ''}"
            f"{f['date']}, commit {f['commit'][:7]}, {f['machine']}, load average "
            f"{f['load_average_start'][0]:.1f} at start, {f['load_average_end'][0]:.1f} at end)",
            "",
            "| workload | parameters | steps × repeats | hand-written steps/s | optax steps/s "
            "| optax / hand-written (median, range) |",
            "|---|---|---|---|---|---|"]
    for t in result["speed"]:
        s = t["steps_per_s_median"]
        rows.append(f"| {t['workload']} | {t['parameters']} | {t['steps']} × "
                    f"{len(t['steps_per_s']['optax'])} | {s['hand_written']:,.0f} | "
                    f"{s['optax']:,.0f} | {t['ratio_median']:.3f} ({t['ratio_range'][0]:.3f}–"
                    f"{t['ratio_range'][1]:.3f}) |")
    rows += ["", "Fit quality, seed workload (`fit(bnn, \"advi\", steps=30_000)`), per seed:", "",
             "| seed | optimiser | accuracy | log loss | steps | final ELBO | fit s |",
             "|---|---|---|---|---|---|---|"]
    for q in result["quality"]:
        for name in ("hand_written", "optax"):
            r = q[name]
            rows.append(f"| {q['seed']} | {name} | {r['accuracy']:.3f} | {r['log_loss']:.4f} | "
                        f"{r['steps_run']:,} | {r['final_elbo']:.2f} | {r['fit_s']:.2f} |")
    rows += ["", f"Overall speed ratio (median over workloads): "
                 f"{result['ratio_median_over_workloads']:.3f}"]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats, 2 seeds")
    args = parser.parse_args()
    repeats, seeds, steps = (3, 2, 2000) if args.quick else (7, 5, 5000)
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    facts = {"commit": _commit(),
             "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
             "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
             "quick": args.quick, "load_average_start": list(os.getloadavg())}
    speed = []
    for workload in WORKLOADS:
        say(f"timing: {workload}")
        speed.append(timed_loops(workload, steps, repeats))
    quality = []
    for seed in range(seeds):
        say(f"fit quality: seed {seed}")
        quality.append(fit_quality(seed))
    facts["load_average_end"] = list(os.getloadavg())
    result = {"facts": facts, "speed": speed, "quality": quality,
              "ratio_median_over_workloads": float(np.median([t["ratio_median"]
                                                              for t in speed]))}
    stem = "advi_optimizer_quick" if args.quick else "advi_optimizer"
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (out / f"{stem}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
