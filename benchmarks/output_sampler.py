"""The `laplace` output layer's sampler: one jitted function per structure vs NumPyro's `MCMC.run`.

`pymc_bnn.inference.output_sampler.sample_output_layer` draws a classifier's output layer by
NUTS. Until f725817 it kept a `numpyro.infer.MCMC(NUTS(model), jit_model_args=True)` per model
structure and called `.run` on each fit's data: NumPyro's documented way to rerun a sampler on
new data of the same shapes. Since then it builds NumPyro's functional kernel
(`numpyro.infer.hmc.hmc`) into one jitted function (warm-up and draws in a `lax.scan`) per
structure. This script times both on the same targets, in one process, arms alternating:

- the target: a multinomial logistic regression's log posterior (Normal(0, 1) prior) in the
  whitened coordinates the engine uses (theta = mode + L u, L L' the inverse Hessian at the
  mode), on generated rows; sizes as the panel's output layers meet them (100 rows × 33
  features × 3 classes, as iris's network; 300 × 31 × 2, a binary one; 900 × 33 × 10, as
  digits' network; 900 × 65 × 10, as digits' GLM);
- per arm and size: the first call (compiles) and `--repeats` later calls on new data of the
  same shapes (a refit, a cross-validation fold), seconds each; 1,000 draws after 500 warm-up
  steps, as a full fit takes;
- quality: each call's mean acceptance and the bulk ESS per draw (ArviZ) of the first three
  coordinates of u, averaged: the two arms run the same kernel with the same settings, so
  these must agree up to Monte Carlo noise.

Writes results/output_sampler.json and results/output_sampler.md. Run it alone on an idle
machine:

    uv run python benchmarks/output_sampler.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _run_facts import machine_facts  # noqa: E402

SIZES = ((100, 33, 3), (300, 31, 2), (900, 33, 10), (900, 65, 10))
DRAWS, WARMUP = 1000, 500


def target(rows: int, features: int, classes: int, seed: int):
    """(log_density, args, mode, root): a whitened multinomial logistic posterior."""
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)) / np.sqrt(features)
    truth = rng.normal(size=(features, classes)) * 2.0
    y = np.argmax(x @ truth + rng.gumbel(size=(rows, classes)), axis=1)

    def log_density(theta, x, y):
        eta = x @ theta.reshape(x.shape[1], -1)
        picked = jnp.take_along_axis(eta, y[:, None], axis=1)[:, 0]
        return jnp.sum(picked - jax.scipy.special.logsumexp(eta, axis=1)) - 0.5 * theta @ theta

    args = (jnp.asarray(x), jnp.asarray(y))
    loss = jax.jit(lambda t: -log_density(t, *args))
    grad = jax.jit(jax.grad(lambda t: -log_density(t, *args)))
    found = minimize(lambda t: float(loss(t)), np.zeros(features * classes),
                     jac=lambda t: np.asarray(grad(t)), method="L-BFGS-B")
    hessian = np.asarray(jax.hessian(lambda t: -log_density(t, *args))(found.x))
    covariance = np.linalg.inv(hessian + 1e-8 * np.eye(len(found.x)))
    root = np.linalg.cholesky(0.5 * (covariance + covariance.T))
    return log_density, args, found.x, root


def mcmc_run_arm(cache: dict):
    """Until f725817: one `MCMC(..., jit_model_args=True)` per structure, `.run` per call."""
    def sample(log_density, args, mode, root, seed, key):
        import jax
        import numpyro
        import numpyro.distributions as dist
        from numpyro.infer import MCMC, NUTS

        size = len(mode)
        if key not in cache:
            jitted = jax.jit(log_density)

            def model(args, theta_map, root):
                u = numpyro.sample("u", dist.ImproperUniform(dist.constraints.real_vector, (),
                                                             (size,)))
                numpyro.factor("log_density", jitted(theta_map + root @ u, *args))
            cache[key] = MCMC(NUTS(model), num_warmup=WARMUP, num_samples=DRAWS,
                              progress_bar=False, jit_model_args=True)
        mcmc = cache[key]
        mcmc.run(jax.random.PRNGKey(seed), tuple(args), jax.numpy.asarray(mode),
                 jax.numpy.asarray(root), init_params={"u": jax.numpy.zeros(size)},
                 extra_fields=("accept_prob",))
        return (np.asarray(mcmc.get_samples()["u"]),
                float(np.mean(mcmc.get_extra_fields()["accept_prob"])))
    return sample


def engine_arm(log_density, args, mode, root, seed, key):
    """Now: `sample_output_layer` (u recovered from its theta)."""
    from pymc_bnn.inference.output_sampler import sample_output_layer

    out = sample_output_layer(log_density, args, mode, root, draws=DRAWS, seed=seed,
                              cache_key=("benchmark", *key), warmup=WARMUP)
    u = np.linalg.solve(root, (out.theta - mode).T).T
    return u, out.mean_accept


def ess_per_draw(u: np.ndarray) -> float:
    import arviz as az

    return float(np.mean([az.ess(u[None, :, j], method="bulk") for j in range(3)]) / len(u))


def run(repeats: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    arms = {"mcmc_run": mcmc_run_arm({}), "one_jitted_function": engine_arm}
    results = {}
    for rows, features, classes in SIZES:
        name = f"{rows}x{features}x{classes}"
        key = (rows, features, classes)
        record = {arm: {"first_s": None, "warm_s": [], "accept": [], "ess_per_draw": []}
                  for arm in arms}
        for call in range(repeats + 1):
            problem = target(rows, features, classes, seed=call)
            for arm, sample in arms.items():
                start = time.perf_counter()
                u, accept = sample(*problem, seed=call, key=key)
                seconds = time.perf_counter() - start
                if call == 0:
                    record[arm]["first_s"] = seconds
                else:
                    record[arm]["warm_s"].append(seconds)
                record[arm]["accept"].append(accept)
                record[arm]["ess_per_draw"].append(ess_per_draw(u))
        old = float(np.median(record["mcmc_run"]["warm_s"]))
        new = float(np.median(record["one_jitted_function"]["warm_s"]))
        record["warm_speedup"] = old / new
        results[name] = record
        print(f"{name}: warm median MCMC.run {old:.3f} s, one jitted function {new:.3f} s, "
              f"×{old / new:.1f}", flush=True)
    return results


def table(results: dict) -> str:
    lines = ["| output layer (rows × features × classes) | arm | first call s | warm s (median, "
             "range) | warm speed-up | mean acceptance | bulk ESS per draw |",
             "|---|---|---|---|---|---|---|"]
    for name, record in results.items():
        for arm in ("mcmc_run", "one_jitted_function"):
            r = record[arm]
            warm = np.asarray(r["warm_s"])
            lines.append(
                f"| {name.replace('x', ' × ')} | {arm.replace('_', ' ')} | {r['first_s']:.2f} | "
                f"{np.median(warm):.3f} ({warm.min():.3f}–{warm.max():.3f}) | "
                + (f"×{record['warm_speedup']:.1f}" if arm == "one_jitted_function" else "")
                + f" | {np.mean(r['accept']):.3f} | {np.mean(r['ess_per_draw']):.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm calls per arm and size")
    parser.add_argument("--note", default="", help="free text on the machine's load")
    args = parser.parse_args()
    facts = {**machine_facts(), "load": args.note, "repeats": args.repeats,
             "draws": DRAWS, "warmup": WARMUP}
    results = run(args.repeats)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "output_sampler.json").write_text(json.dumps({"run": facts, "sizes": results},
                                                        indent=1))
    (out / "output_sampler.md").write_text(
        f"Output-layer sampler: commit {facts['commit'][:10]}, {facts['date']}, "
        f"{facts['machine']}; load: {args.note or 'not stated'}; {args.repeats} warm calls "
        f"per arm and size, {DRAWS} draws after {WARMUP} warm-up steps.\n\n"
        + table(results) + "\n")


if __name__ == "__main__":
    main()
