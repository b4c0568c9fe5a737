"""The seed analysis end to end: two moons → BNN → inference → predictions → figures, metrics, report.

`run_demo` is what `pymc-bnn demo` calls; it uses only the public API, so it doubles as a worked
example of it.
"""

from __future__ import annotations

import json
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pymc_bnn import plots
from pymc_bnn.datasets import grid_2d, two_moons
from pymc_bnn.inference import DEFAULT_METHOD, fit
from pymc_bnn.io import write_text_atomic
from pymc_bnn.metrics import classification_summary
from pymc_bnn.model import build_model
from pymc_bnn.priors import SEED_PRIOR
from pymc_bnn.report import Figure, Section, Table, figure_png, render_html

FIGURES = (
    "01_training_data.png",
    "02_elbo.png",
    "03_test_predictions.png",
    "04_probability_map.png",
    "05_uncertainty_map.png",
)


@dataclass(frozen=True)
class DemoSettings:
    """The seed's settings: 2→5→5→1 tanh, Normal(0, 1), 30,000 ADVI steps, 5,000 draws."""

    method: str = DEFAULT_METHOD
    seed: int = 0
    steps: int = 30_000
    draws: int = 5000
    hidden: tuple[int, ...] = (5, 5)
    grid_size: int = 100

    def to_dict(self) -> dict:
        return {"method": self.method, "seed": self.seed, "steps": self.steps, "draws": self.draws,
                "hidden": list(self.hidden), "grid_size": self.grid_size,
                "data": "two moons, 1000 points, noise 0.2, standardised, 70/30 split"}


class _Timer(dict):
    @contextmanager
    def __call__(self, key):
        start = time.perf_counter()
        yield
        self[key] = time.perf_counter() - start


def run_demo(out_dir: str | Path, settings: DemoSettings = DemoSettings(), *,
             progress: bool = True, status=None) -> dict:
    """Run the analysis and write five PNGs, metrics.json and report.html into `out_dir`.

    `status(message)` is called before each step (the CLI shows it). Returns the metrics dict.
    """
    say = status or (lambda message: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timer = _Timer()
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

    say("Drawing figures and writing the report")
    with timer("plots_s"):
        figures = _figures(data, posterior, test, on_grid, xx, yy)
        for name, (png, _, _) in zip(FIGURES, figures):
            (out / name).write_bytes(png)

    metrics = {
        **scores,
        "method": posterior.method,
        "seed": settings.seed,
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "interrupted": posterior.interrupted,
        "final_elbo": _final_elbo(posterior.elbo),
        "settings": {**settings.to_dict(), **posterior.settings},
        "timings": dict(timer),
        "versions": _versions(),
    }
    with timer("report_s"):
        page = render_html(
            "pymc-bnn: Bayesian neural network on two moons",
            _sections(data, settings, posterior, metrics, figures),
            subtitle=f"method {posterior.method} · seed {settings.seed} · "
                     f"pymc-bnn {metrics['versions']['pymc_bnn']}",
        )
        write_text_atomic(out / "report.html", page)
    metrics["timings"] = {**timer, "total_s": time.perf_counter() - started}
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def _final_elbo(elbo) -> float | None:
    if elbo is None or len(elbo) == 0:
        return None
    tail = np.asarray(elbo)[-max(1, len(elbo) // 100):]
    return float(np.mean(tail))


def _versions() -> dict:
    import arviz
    import pymc

    from pymc_bnn import __version__

    return {"pymc_bnn": __version__, "pymc": pymc.__version__, "arviz": arviz.__version__,
            "python": platform.python_version()}


def _figures(data, posterior, test, on_grid, xx, yy) -> list[tuple[bytes, str, str]]:
    """(png, title, caption) for the seed's five figures, in FIGURES order."""
    shape = xx.shape
    figures = [
        (figure_png(plots.scatter_classes(data.X_train, data.y_train)), "Training data",
         f"The {len(data.y_train)} training points of the two moons, coloured by class. "
         "The classes interleave, so no straight line separates them."),
    ]
    if posterior.elbo is not None:
        figures.append((figure_png(plots.elbo_trace(posterior.elbo)), "ELBO trace",
                        "The evidence lower bound per optimisation step (higher is better). "
                        "It should rise quickly and then level off; a curve still climbing at "
                        "the end means more steps would help."))
    else:
        figures.append((figure_png(_no_elbo_axes()), "ELBO trace",
                        "This method does not optimise an ELBO (it samples), so there is no trace."))
    figures += [
        (figure_png(plots.predicted_labels(data.X_test, data.y_test, test["mean"].values)),
         "Predicted labels on the test set",
         "Each test point coloured by the class with predictive probability above 0.5; "
         "ringed points are misclassified. Errors concentrate where the moons overlap."),
        (figure_png(plots.probability_map(xx, yy, on_grid["mean"].values.reshape(shape),
                                          X=data.X_train, y=data.y_train)),
         "Posterior predictive mean probability",
         "P(y = 1) averaged over the posterior draws, on a 100×100 grid over [-3, 3]². "
         "The white band is the decision boundary, which bends between the moons."),
        (figure_png(plots.uncertainty_map(xx, yy, on_grid["std"].values.reshape(shape),
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


def _sections(data, settings, posterior, metrics, figures) -> list[Section]:
    t = metrics["timings"]
    fitted = Section(
        "What was fitted",
        [
            f"Data: {data.description} ({metrics['n_train']} training, {metrics['n_test']} test points).",
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
         "given to the true class (nats, lower is better)."],
        tables=[Table([["metric", "value"], ["accuracy", metrics["accuracy"]],
                       ["log loss", metrics["log_loss"]]]),
                Table([["step", "seconds"], *[[k.removesuffix("_s"), v] for k, v in t.items()]],
                      caption="Time per step.")],
    )
    pictures = Section("Figures", figures=[Figure(png, cap, title) for png, title, cap in figures])
    return [fitted, results, pictures]


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
