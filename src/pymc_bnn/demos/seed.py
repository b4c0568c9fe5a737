"""The seed analysis end to end: two moons → BNN → inference → predictions → figures, report.

`run_demo` is what `pymc-bnn demo` calls; it uses only the public API, so it doubles as a worked
example of it.
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
from pymc_bnn.demos.support import Timer, final_elbo, versions
from pymc_bnn.inference import DEFAULT_METHOD, fit
from pymc_bnn.model.build import build_model
from pymc_bnn.model.priors import SEED_PRIOR
from pymc_bnn.posterior.metrics import classification_summary
from pymc_bnn.reporting import calibration_plots, class_maps, class_scatter, fit_plots
from pymc_bnn.reporting.html import Figure, Section, Table, figure_png, render_html

FIGURES = (
    "01_training_data.png",
    "02_elbo.png",
    "03_test_predictions.png",
    "04_probability_map.png",
    "05_uncertainty_map.png",
    "06_uncertainty_decomposition.png",
    "07_reliability.png",
)
# The uncertainty maps evaluate every draw at 10,000 grid points in float64; 1,000 evenly
# thinned draws keep that to seconds, with Monte Carlo error far below the maps' colour steps.
GRID_UNCERTAINTY_DRAWS = 1000
# "Far from the data": grid points more than this (standardised units) from any training point.
FAR_FROM_DATA = 1.5


@dataclass(frozen=True)
class DemoSettings:
    """The seed's settings: 2→5→5→1 tanh, Normal(0, 1), 30,000 ADVI steps, 5,000 draws.

    Parameters
    ----------
    method : str, default DEFAULT_METHOD
        The engine, a key of `pymc_bnn.inference.ENGINES`.
    seed : int, default 0
        Seeds the train/test split and the fit.
    steps : int, default 30000
        Optimisation steps of the ADVI engines (other engines ignore it).
    draws : int, default 5000
        Posterior draws.
    hidden : tuple of int, default (5, 5)
        Hidden layer widths.
    grid_size : int, default 100
        Points per axis of the probability and uncertainty maps.

    Examples
    --------
    >>> settings = DemoSettings(steps=2000, draws=500)
    >>> settings.to_dict()["steps"], settings.to_dict()["hidden"]
    (2000, [5, 5])
    """

    method: str = DEFAULT_METHOD
    seed: int = 0
    steps: int = 30_000
    draws: int = 5000
    hidden: tuple[int, ...] = (5, 5)
    grid_size: int = 100

    def to_dict(self) -> dict:
        """The settings as JSON-able values, for metrics.json."""
        return {"method": self.method, "seed": self.seed, "steps": self.steps, "draws": self.draws,
                "hidden": list(self.hidden), "grid_size": self.grid_size,
                "data": "two moons, 1000 points, noise 0.2, standardised, 70/30 split"}


def run_demo(out_dir: str | Path, settings: DemoSettings = DemoSettings(), *,
             progress: bool = True, status=None) -> dict:
    """Run the analysis and write the PNGs in FIGURES, metrics.json and report.html into `out_dir`.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The folder to write into (created if missing; the CLI checks it first with
        `check_output_folder`).
    settings : DemoSettings, default DemoSettings()
        The seed's settings unless changed.
    progress : bool, default True
        Show the fit's progress bar.
    status : callable, optional
        `status(message)` is called before each step (the CLI shows it).

    Returns
    -------
    dict
        The metrics, as written to metrics.json: test scores (accuracy, log loss, Brier, ECE),
        uncertainty numbers, settings, timings and versions.

    Examples
    --------
    The full analysis takes a minute; a shorter run (not run here: it fits, about 15 s; the
    demo's own tests run it):

    >>> settings = DemoSettings(steps=2000, draws=500, grid_size=40)
    >>> metrics = run_demo("demo", settings, progress=False)  # doctest: +SKIP
    >>> sorted(path.name for path in Path("demo").iterdir())[:2]  # doctest: +SKIP
    ['01_training_data.png', '02_elbo.png']
    >>> len(FIGURES)
    7
    """
    say = status or (lambda message: None)
    out = Path(out_dir)
    timer = Timer()
    started = time.perf_counter()

    say("Preparing the two-moons data")
    with timer("data_s"):
        data = two_moons(split_seed=settings.seed)
    with timer("build_s"):
        bnn = build_model(data.X_train, data.y_train, hidden=settings.hidden,
                          prior=SEED_PRIOR, feature_names=data.feature_names)
    say(f"Fitting with {settings.method} ({settings.steps:,} steps)")
    options = {"steps": settings.steps} if "advi" in settings.method else {}
    with timer("inference_s"):
        posterior = fit(bnn, settings.method, draws=settings.draws, random_seed=settings.seed,
                        progress=progress, **options)
    timer.update({k: v for k, v in posterior.timings.items() if k != "total_s"})

    say("Predicting the test set and the grid")
    with timer("predict_test_s"):
        test = posterior.predict(data.X_test)
    grid, xx, yy = grid_2d(n=settings.grid_size)
    with timer("predict_grid_s"):
        on_grid = posterior.predict(grid)
    scores = classification_summary(data.y_test, test["mean"].values)

    say("Splitting the uncertainty into noise and ignorance")
    with timer("uncertainty_s"):
        grid_summary = posterior.uncertainty(grid, max_draws=GRID_UNCERTAINTY_DRAWS)
        uncertainty = _uncertainty_numbers(data, posterior, grid, grid_summary)

    say("Drawing figures and writing the report")
    with timer("plots_s"):
        figures = _figures(data, posterior, test, on_grid, xx, yy)
        uncertainty_figures = _uncertainty_figures(data, test, grid_summary, xx, yy, uncertainty)
        for name, (png, _, _) in zip(FIGURES, figures + uncertainty_figures, strict=False):
            write_bytes_atomic(out / name, png)

    metrics: dict[str, Any] = {
        **scores,
        "method": posterior.method,
        "seed": settings.seed,
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "interrupted": posterior.interrupted,
        "final_elbo": final_elbo(posterior.elbo),
        "uncertainty": uncertainty,
        "settings": {**settings.to_dict(), **posterior.settings},
        "timings": dict(timer),
        "versions": versions(),
    }
    with timer("report_s"):
        page = render_html(
            "pymc-bnn: Bayesian neural network on two moons",
            _sections(data, settings, posterior, metrics, figures, uncertainty_figures),
            subtitle=f"method {posterior.method} · seed {settings.seed} · "
                     f"pymc-bnn {metrics['versions']['pymc_bnn']}",
        )
        write_text_atomic(out / "report.html", page)
    metrics["timings"] = {**timer, "total_s": time.perf_counter() - started}
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def _figures(data, posterior, test, on_grid, xx, yy) -> list[tuple[bytes, str, str]]:
    """(png, title, caption) for the seed's five figures, in FIGURES order (01–05)."""
    shape = xx.shape
    figures = [
        (figure_png(class_scatter.scatter_classes(data.X_train, data.y_train)), "Training data",
         f"The {len(data.y_train)} training points of the two moons, coloured by class. "
         "The classes interleave, so no straight line separates them."),
    ]
    if posterior.elbo is not None:
        figures.append((figure_png(fit_plots.elbo_trace(posterior.elbo)), "ELBO trace",
                        "The evidence lower bound per optimisation step (higher is better). "
                        "It should rise quickly and then level off; a curve still climbing at "
                        "the end means more steps would help."))
    else:
        figures.append((figure_png(_no_elbo_axes()), "ELBO trace",
                        "This method does not optimise an ELBO (it samples), so there is no "
                        "trace."))
    figures += [
        (figure_png(class_scatter.predicted_labels(data.X_test, data.y_test, test["mean"].values)),
         "Predicted labels on the test set",
         "Each test point coloured by the class with predictive probability above 0.5; "
         "ringed points are misclassified. Errors concentrate where the moons overlap."),
        (figure_png(class_maps.probability_map(xx, yy, on_grid["mean"].values.reshape(shape),
                                               X=data.X_train, y=data.y_train)),
         "Posterior predictive mean probability",
         "P(y = 1) averaged over the posterior draws, on a 100×100 grid over [-3, 3]². "
         "The white band is the decision boundary, which bends between the moons."),
        (figure_png(class_maps.uncertainty_map(xx, yy, on_grid["std"].values.reshape(shape),
                                               X=data.X_train, y=data.y_train)),
         "Uncertainty",
         "Standard deviation of P(y = 1) across posterior draws: how much plausible networks "
         "disagree. It is largest along the decision boundary and in regions without data, "
         "where the weights are least constrained."),
    ]
    return figures


def _no_elbo_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    ax.text(0.5, 0.5, "no ELBO: sampling method", ha="center", va="center")
    ax.set_axis_off()
    return ax


def _sections(data, settings, posterior, metrics, figures, uncertainty_figures) -> list[Section]:
    t = metrics["timings"]
    fitted = Section(
        "What was fitted",
        [
            f"Data: {data.description} ({metrics['n_train']} training, "
            f"{metrics['n_test']} test points).",
            f"Network: {posterior.spec.n_inputs} → "
            + " → ".join(map(str, posterior.spec.hidden))
            + f" → {posterior.spec.n_outputs}, {posterior.spec.activation} activations, "
            + ("with" if posterior.spec.bias else "no") + " biases; "
            "every weight has a Normal(0, 1) prior; Bernoulli likelihood with a logit link.",
            f"Inference: {_method_text(posterior)}; {posterior.n_draws:,} posterior draws. "
            "Predictions average the network's probability P(y = 1) over the draws.",
        ]
        + (["The fit was interrupted (Ctrl-C): these results use the state reached so far."]
           if posterior.interrupted else []),
    )
    results = Section(
        "How well",
        ["Scores on the held-out test set; log loss is the mean negative log probability "
         "given to the true class (nats, lower is better); Brier is the mean squared error of "
         "P(y = 1); ECE is the expected calibration error over 15 equal-width bins of the "
         "top-class confidence (0 = perfectly calibrated)."],
        tables=[Table([["metric", "value"], ["accuracy", metrics["accuracy"]],
                       ["log loss", metrics["log_loss"]], ["Brier", metrics["brier"]],
                       ["ECE", metrics["ece"]]]),
                Table([["stage", "seconds"], *[[k.removesuffix("_s"), v] for k, v in t.items()]],
                      caption="Seconds spent in each stage of the demo; the engine's own "
                              "(compile, fit, sample, …) are parts of inference.")],
    )
    pictures = Section("Figures", figures=[Figure(png, cap, title) for png, title, cap in figures])
    return [fitted, results, pictures, _uncertainty_section(metrics, uncertainty_figures)]


def _method_text(posterior) -> str:
    s = posterior.settings
    if posterior.method == "pymc_advi":
        return (f"mean-field ADVI through PyMC's pm.fit, {s.get('steps', 0):,} steps of "
                f"{s.get('optimizer', 'adam')} (learning rate {s.get('learning_rate')})")
    if posterior.method in ("advi", "fullrank_advi"):
        d = posterior.diagnostics
        kind = "mean-field" if posterior.method == "advi" else "full-rank"
        stop = ("converged" if d.get("converged") else "stopped at the maximum") + \
            f" after {d.get('steps_run', 0):,} steps"
        return (f"{kind} ADVI compiled with JAX, Adam (learning rate {s.get('learning_rate')}), "
                f"{s.get('restarts')} restart(s) keeping the best ELBO, {stop}")
    return posterior.method


def _uncertainty_numbers(data, posterior, grid, grid_summary) -> dict:
    """Mean epistemic uncertainty (nats) at the training points, far from them, at the corners."""
    from scipy.spatial import cKDTree

    epistemic = grid_summary["mutual_information"].values
    distance, _ = cKDTree(data.X_train).query(grid)
    at_training = posterior.uncertainty(data.X_train, max_draws=GRID_UNCERTAINTY_DRAWS)
    corners = np.flatnonzero((np.abs(grid) == np.abs(grid).max(axis=0)).all(axis=1))
    return {
        "epistemic_train_mean": float(at_training["mutual_information"].mean()),
        "epistemic_far_mean": float(epistemic[distance > FAR_FROM_DATA].mean()),
        "epistemic_corners": [float(v) for v in epistemic[corners]],
        "aleatoric_train_mean": float(at_training["expected_entropy"].mean()),
        "far_from_data": FAR_FROM_DATA,
        "draws": int(grid_summary.attrs["n_draws"]),
    }


def _uncertainty_figures(data, test, grid_summary, xx, yy, numbers) -> list[tuple[bytes, str, str]]:
    """(png, title, caption) of the decomposition maps and the reliability diagram."""
    maps = {k: grid_summary[k].values.reshape(xx.shape)
            for k in ("predictive_entropy", "expected_entropy", "mutual_information")}
    corners = ", ".join(f"{v:.3f}" for v in numbers["epistemic_corners"])
    return [
        (figure_png(class_maps.uncertainty_maps(xx, yy, maps["predictive_entropy"],
                                                maps["expected_entropy"],
                                                maps["mutual_information"],
                                                X=data.X_train, y=data.y_train)),
         "Total, aleatoric and epistemic uncertainty",
         "Left: entropy of the averaged prediction (total). Middle: the average entropy of each "
         "network's own prediction (aleatoric): every plausible network is unsure there, so it "
         "sits on the class boundary, where the moons overlap and more data would not help. "
         "Right: their difference, the mutual information between label and weights "
         "(epistemic): plausible networks disagree there, most of all away from the data "
         f"where the boundary runs on into empty space. Mean epistemic uncertainty at the training "
         f"points {numbers['epistemic_train_mean']:.4f} nats; at grid points more than "
         f"{numbers['far_from_data']} from any training point "
         f"{numbers['epistemic_far_mean']:.4f} nats; at the four corners (±3, ±3) {corners} "
         "(a corner deep on one class's side can stay certain: every network's tanh units "
         "saturate the same way there, and mean-field VI understates disagreement). "
         f"{numbers['draws']:,} posterior draws."),
        (figure_png(calibration_plots.reliability_diagram(data.y_test, test["mean"].values)),
         "Reliability diagram (test set)",
         "Test points binned by the probability given to the predicted class (15 equal-width "
         "bins; numbers are points per bin); bars show how often that prediction was right. "
         "Bars on the diagonal mean the stated probabilities can be taken at face value; "
         "below it, the model is overconfident. The ECE is the gap averaged over points."),
    ]


def _uncertainty_section(metrics, uncertainty_figures) -> Section:
    u = metrics["uncertainty"]
    return Section(
        "Uncertainty: noise or ignorance?",
        ["The predictive entropy of each point splits into two parts (nats): the aleatoric "
         "part, noise the model believes is in the labels themselves, and the epistemic part, "
         "the disagreement between plausible networks that more data would remove. Active "
         "learning asks for labels where the epistemic part is high.",
         f"Mean over the training points: aleatoric {u['aleatoric_train_mean']:.4f}, "
         f"epistemic {u['epistemic_train_mean']:.4f}; epistemic far from the data "
         f"{u['epistemic_far_mean']:.4f}. Test-set calibration: ECE {metrics['ece']:.3f}, "
         f"Brier {metrics['brier']:.4f}."],
        figures=[Figure(png, cap, title) for png, title, cap in uncertainty_figures],
    )
