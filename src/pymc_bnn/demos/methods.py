"""The inference engines side by side on the seed analysis: `pymc-bnn demo --methods ...`.

Each engine fits the same two-moons split with the seed's network and prior; the report puts
their test scores, costs and probability/uncertainty maps next to each other, so a reader sees
what a mean-field approximation gives up against NUTS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pymc_bnn._runtime.atomic_writes import write_bytes_atomic, write_text_atomic
from pymc_bnn.datasets import grid_2d, two_moons
from pymc_bnn.demos.seed import FAR_FROM_DATA
from pymc_bnn.demos.support import versions
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference import ENGINES, fit
from pymc_bnn.model.build import build_model
from pymc_bnn.model.priors import SEED_PRIOR
from pymc_bnn.posterior.classification_metrics import classification_summary
from pymc_bnn.reporting import class_maps
from pymc_bnn.reporting.html import Figure, Section, Table, figure_png, render_html

DEFAULT_METHODS = ("advi", "fullrank_advi", "nuts")


@dataclass(frozen=True)
class MethodsDemoSettings:
    """Engines to compare and the seed's settings (steps apply to the VI engines).

    Parameters
    ----------
    methods : tuple of str, default ("advi", "fullrank_advi", "nuts")
        The engines, keys of `pymc_bnn.inference.ENGINES`.
    seed : int, default 0
        Seeds the split and every fit.
    steps : int, default 30000
        Optimisation steps of the ADVI engines.
    draws : int, default 5000
        Posterior draws per engine.
    hidden : tuple of int, default (5, 5)
        Hidden layer widths.
    grid_size : int, default 100
        Points per axis of the maps.

    Examples
    --------
    >>> settings = MethodsDemoSettings(methods=parse_methods("advi,laplace"))
    >>> settings.to_dict()["methods"]
    ['advi', 'laplace']
    """

    methods: tuple[str, ...] = DEFAULT_METHODS
    seed: int = 0
    steps: int = 30_000
    draws: int = 5000
    hidden: tuple[int, ...] = (5, 5)
    grid_size: int = 100

    def to_dict(self) -> dict:
        """The settings as JSON-able values, for metrics.json."""
        return {"methods": list(self.methods), "seed": self.seed, "steps": self.steps,
                "draws": self.draws, "hidden": list(self.hidden), "grid_size": self.grid_size}


def parse_methods(text: str) -> tuple[str, ...]:
    """`"advi,nuts"` -> `("advi", "nuts")`: the engines named in a comma-separated list.

    Parameters
    ----------
    text : str
        Engine names separated by commas; spaces and repeats are dropped.

    Returns
    -------
    tuple of str

    Raises
    ------
    InvalidSettingError
        An unknown engine, or no engine at all.

    Examples
    --------
    >>> parse_methods("advi, nuts,advi")
    ('advi', 'nuts')
    >>> parse_methods("advi,hmc")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: unknown method(s) 'hmc' in --methods; ...
    """
    methods = tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    unknown = [m for m in methods if m not in ENGINES]
    if not methods or unknown:
        raise InvalidSettingError(
            f"unknown method(s) {', '.join(unknown) or text!r} in --methods; use a "
            f"comma-separated list of {', '.join(ENGINES)}")
    return methods


def run_methods_demo(out_dir: str | Path, settings: MethodsDemoSettings = MethodsDemoSettings(),
                     *, progress: bool = True, status=None) -> dict:
    """Fit every engine in `settings.methods`; write comparison.png, metrics.json, report.html.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The folder to write into.
    settings : MethodsDemoSettings, default MethodsDemoSettings()
        The engines and the seed's settings.
    progress : bool, default True
        Show each fit's progress bar.
    status : callable, optional
        `status(message)` is called before each step (the CLI shows it).

    Returns
    -------
    dict
        The metrics, as written to metrics.json: per engine its test scores, compile and total
        seconds, mean sd of P(y = 1) (over the grid, and far from the data) and diagnostics.

    Examples
    --------
    Not run here (each engine fits, seconds to minutes; the demo's own tests run it):

    >>> settings = MethodsDemoSettings(methods=("advi", "laplace"), steps=2000, draws=500)
    >>> metrics = run_methods_demo("engines", settings)  # doctest: +SKIP
    >>> sorted(metrics["methods"])  # doctest: +SKIP
    ['advi', 'laplace']
    """
    from scipy.spatial import cKDTree

    say = status or (lambda message: None)
    out = Path(out_dir)
    data = two_moons(split_seed=settings.seed)
    bnn = build_model(data.X_train, data.y_train, hidden=settings.hidden, prior=SEED_PRIOR,
                      feature_names=data.feature_names)
    grid, xx, yy = grid_2d(n=settings.grid_size)
    far = cKDTree(data.X_train).query(grid)[0] > FAR_FROM_DATA
    results, maps = {}, {}
    for method in settings.methods:
        say(f"Fitting with {method}")
        options: dict[str, Any] = {"steps": settings.steps} if "advi" in method else {}
        if method == "nuts":
            options = {"check_X": data.X_test}
        start = time.perf_counter()
        posterior = fit(bnn, method, draws=settings.draws, random_seed=settings.seed,
                        progress=progress, **options)
        fit_total = time.perf_counter() - start
        test = posterior.predict(data.X_test)["mean"].values
        on_grid = posterior.predict(grid)
        sd = on_grid["std"].values
        maps[method] = (on_grid["mean"].values.reshape(xx.shape), sd.reshape(xx.shape))
        results[method] = {
            **classification_summary(data.y_test, test),
            "compile_s": float(posterior.timings.get("compile_s", 0.0)),
            "total_s": fit_total,
            "sd_p_mean": float(sd.mean()),
            "sd_p_far_from_data": float(sd[far].mean()),
            "diagnostics": posterior.diagnostics,
        }
    say("Drawing the comparison and writing the report")
    png = figure_png(_comparison_figure(maps, xx, yy, data))
    write_bytes_atomic(out / "comparison.png", png)
    metrics = {"methods": results, "settings": settings.to_dict(), "versions": versions()}
    page = render_html("pymc-bnn: inference engines compared on two moons",
                       _sections(results, png, data),
                       subtitle=f"seed {settings.seed} · "
                                f"pymc-bnn {metrics['versions']['pymc_bnn']}")
    write_text_atomic(out / "report.html", page)
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2, default=float) + "\n")
    return metrics


def _comparison_figure(maps, xx, yy, data):
    import matplotlib.pyplot as plt

    n = len(maps)
    fig, axes = plt.subplots(2, n, figsize=(4.6 * n, 7.6), layout="constrained", squeeze=False)
    vmax = max(float(sd.max()) for _, sd in maps.values())
    for col, (method, (proba, sd)) in enumerate(maps.items()):
        class_maps.probability_map(xx, yy, proba, X=data.X_train, y=data.y_train, ax=axes[0, col],
                                   title=f"{method}: mean P(y = 1)")
        class_maps.uncertainty_map(xx, yy, sd, X=data.X_train, y=data.y_train, ax=axes[1, col],
                                   title=f"{method}: sd of P(y = 1)", vmin=0.0, vmax=vmax,
                                   levels=np.linspace(0.0, vmax, 25))
    return fig


def _sections(results, png, data) -> list[Section]:
    rows = [["method", "accuracy", "log loss", "compile s", "total s", "mean sd of p",
             f"sd of p beyond {FAR_FROM_DATA} of data", "convergence"]]
    for method, r in results.items():
        rows.append([method, r["accuracy"], r["log_loss"], r["compile_s"], r["total_s"],
                     r["sd_p_mean"], r["sd_p_far_from_data"], _convergence_text(r["diagnostics"])])
    widest = max(results, key=lambda m: results[m]["sd_p_far_from_data"])
    narrowest = min(results, key=lambda m: results[m]["sd_p_far_from_data"])
    text = (
        "Every engine fits the same model (2→5→5→1 tanh network, Normal(0, 1) weights, "
        f"Bernoulli likelihood) to the same {len(data.y_train)} training points; scores are on "
        f"the {len(data.y_test)} held-out points. Times include compiling. NUTS convergence is "
        "judged on the predictive probabilities of the test points: hidden units can swap and "
        "flip signs, so raw weights never mix across chains even when predictions do.")
    caption = (
        "Top: predictive mean probability; bottom: sd of P(y = 1) over the posterior draws, on "
        "one colour scale. Mean-field ADVI treats every weight as independent and, fitting "
        "KL(q‖p), settles in one mode with too little spread, so it is confident where no data "
        "constrains it; full-rank ADVI adds the correlations within that mode; NUTS explores "
        "the posterior itself. Here the largest uncertainty away from the data comes from "
        f"{widest} and the smallest from {narrowest} (table).")
    return [Section("Engines compared", [text], tables=[Table(rows)]),
            Section("Probability and uncertainty maps",
                    figures=[Figure(png, caption, "Engines side by side")])]


def _convergence_text(diagnostics: dict) -> str:
    if "divergences" in diagnostics:
        rhat = diagnostics.get("predictive_rhat_max")
        return (f"{diagnostics['divergences']} divergences ({diagnostics['divergence_rate']:.1%}); "
                + (f"predictive R-hat ≤ {rhat:.3f}, bulk ESS ≥ "
                   f"{diagnostics['predictive_ess_bulk_min']:.0f}" if rhat else ""))
    if "converged" in diagnostics:
        state = "converged" if diagnostics["converged"] else "not converged"
        return f"{state} after {diagnostics['steps_run']:,} steps"
    return ""
