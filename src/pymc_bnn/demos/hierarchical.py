"""The hierarchical demo: grouped two moons fitted with partial, complete and no pooling, compared.

`run_hierarchical_demo` is what `pymc-bnn demo --hierarchical` calls. Each group is a two-moons
problem rotated by its own angle, with few training points; the report shows each group's
decision surface under the three poolings and a table of held-out accuracy per group, and
metrics.json holds the mean held-out accuracy of each pooling under `pooling_accuracy`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pymc_bnn._runtime.atomic_writes import write_bytes_atomic, write_text_atomic
from pymc_bnn.datasets import grid_2d, grouped_moons
from pymc_bnn.demos.support import Timer, final_elbo, versions
from pymc_bnn.inference import DEFAULT_METHOD, fit
from pymc_bnn.model.build import build_model
from pymc_bnn.model.priors import SEED_PRIOR
from pymc_bnn.posterior.classification_metrics import accuracy
from pymc_bnn.reporting import class_maps, fit_plots
from pymc_bnn.reporting.html import Cell, Figure, Section, Table, figure_png, render_html

# metrics.json key -> pooling passed to build_model, and how the report names it.
POOLINGS = {"hierarchical": "partial", "pooled": "complete", "unpooled": "none"}
TITLES = {"hierarchical": "partial pooling (hierarchical)", "pooled": "complete pooling",
          "unpooled": "no pooling"}


@dataclass(frozen=True)
class HierarchicalDemoSettings:
    """12 groups × 30 training points (100 held out each), angles ~ Normal(0°, 60°).

    The seed's Normal(0, 1) prior for every pooling: with 30 points a group, the fan-in scaled
    default prior leaves mean-field ADVI's unpooled networks at chance (measured 0.42 mean
    accuracy), which would make the no-pooling baseline a straw man.

    Parameters
    ----------
    method : str, default DEFAULT_METHOD
        The engine of every fit.
    seed : int, default 0
        Seeds the data and the fits.
    steps : int, default 30000
        Optimisation steps of the ADVI engines.
    draws : int, default 1000
        Posterior draws per fit.
    hidden : tuple of int, default (5, 5)
        Hidden layer widths.
    n_groups, n_train, n_test : int, default 12, 30 and 100
        Groups, and training and held-out points per group (see `grouped_moons`).
    angle_sd : float, default 60.0
        Sd of the groups' rotations, degrees.
    grid_size : int, default 60
        Points per axis of each group's probability map.

    Examples
    --------
    >>> settings = HierarchicalDemoSettings(n_groups=4, steps=2000)
    >>> settings.to_dict()["prior"]["name"]
    'normal'
    """

    method: str = DEFAULT_METHOD
    seed: int = 0
    steps: int = 30_000
    draws: int = 1000
    hidden: tuple[int, ...] = (5, 5)
    n_groups: int = 12
    n_train: int = 30
    n_test: int = 100
    angle_sd: float = 60.0
    grid_size: int = 60

    def to_dict(self) -> dict:
        """The settings as JSON-able values, for metrics.json."""
        return {"method": self.method, "seed": self.seed, "steps": self.steps,
                "draws": self.draws, "hidden": list(self.hidden), "n_groups": self.n_groups,
                "n_train": self.n_train, "n_test": self.n_test, "angle_sd": self.angle_sd,
                "grid_size": self.grid_size, "prior": SEED_PRIOR.to_dict()}


def fit_poolings(data, settings: HierarchicalDemoSettings, *, progress: bool = False,
                 status=None, **fit_options) -> dict:
    """`{"hierarchical" | "pooled" | "unpooled": Posterior}` fitted to `data.X_train` by group.

    Parameters
    ----------
    data : GroupedSplit
        From `grouped_moons`.
    settings : HierarchicalDemoSettings
        The engine, steps, draws, network and seed of every fit.
    progress : bool, default False
        Show each fit's progress bar.
    status : callable, optional
        `status(message)` is called before each fit.
    **fit_options
        More options for `fit` (e.g. `restarts=1` for the advi engine).

    Returns
    -------
    dict
        One `Posterior` per pooling: partial ("hierarchical"), complete ("pooled") and none
        ("unpooled").

    Examples
    --------
    Not run here (three fits, seconds each):

    >>> from pymc_bnn.datasets import grouped_moons
    >>> settings = HierarchicalDemoSettings(n_groups=3, steps=2000, draws=200)
    >>> data = grouped_moons(settings.n_groups, settings.n_train, settings.n_test)
    >>> posteriors = fit_poolings(data, settings)  # doctest: +SKIP
    >>> {key: per_group_accuracy(p, data).shape for key, p in posteriors.items()}  # doctest: +SKIP
    {'hierarchical': (3,), 'pooled': (3,), 'unpooled': (3,)}
    """
    say = status or (lambda message: None)
    options = {"steps": settings.steps} if "advi" in settings.method else {}
    options.update(fit_options)
    posteriors = {}
    for key, pooling in POOLINGS.items():
        say(f"Fitting {TITLES[key]} with {settings.method}")
        bnn = build_model(data.X_train, data.y_train, groups=data.groups_train, pooling=pooling,
                          hidden=settings.hidden, prior=SEED_PRIOR,
                          feature_names=data.feature_names)
        posteriors[key] = fit(bnn, settings.method, draws=settings.draws,
                              random_seed=settings.seed, progress=progress, **options)
    return posteriors


def per_group_accuracy(posterior, data) -> np.ndarray:
    """Accuracy on each group's held-out points, (n_groups,) in `data.group_labels` order.

    Parameters
    ----------
    posterior : Posterior
        A fit on `data.X_train` with groups (any pooling).
    data : GroupedSplit
        Its held-out points and their groups.

    Returns
    -------
    numpy.ndarray
        `(n_groups,)`, each in [0, 1].

    Examples
    --------
    `grouped_posterior` holds random draws (no fit) of a network over the three groups of
    `tiny_grouped`; `fit_poolings` makes real ones.

    >>> accuracies = per_group_accuracy(grouped_posterior, tiny_grouped)
    >>> accuracies.shape, bool(((0 <= accuracies) & (accuracies <= 1)).all())
    ((3,), True)
    """
    proba = posterior.predict(data.X_test, groups=data.groups_test)["mean"].values
    return np.array([accuracy(data.y_test[data.groups_test == g], proba[data.groups_test == g])
                     for g in data.group_labels])


def run_hierarchical_demo(out_dir: str | Path,
                          settings: HierarchicalDemoSettings = HierarchicalDemoSettings(), *,
                          posteriors: dict | None = None, progress: bool = True,
                          status=None) -> dict:
    """Fit the three poolings, write four PNGs, metrics.json and report.html into `out_dir`.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The folder to write into.
    settings : HierarchicalDemoSettings, default HierarchicalDemoSettings()
        The data, engine and network.
    posteriors : dict, optional
        Fits already made by `fit_poolings` with the same settings, to report on them without
        fitting again.
    progress : bool, default True
        Show each fit's progress bar.
    status : callable, optional
        `status(message)` is called before each step (the CLI shows it).

    Returns
    -------
    dict
        The metrics; `metrics["pooling_accuracy"]` holds the mean held-out accuracy of
        "hierarchical", "pooled" and "unpooled".

    Examples
    --------
    Not run here (three fits; the demo's own tests run it):

    >>> settings = HierarchicalDemoSettings(n_groups=4, steps=3000, draws=300)
    >>> metrics = run_hierarchical_demo("groups", settings)  # doctest: +SKIP
    >>> sorted(metrics["pooling_accuracy"])  # doctest: +SKIP
    ['hierarchical', 'pooled', 'unpooled']
    """
    say = status or (lambda message: None)
    out = Path(out_dir)
    timer = Timer()
    started = time.perf_counter()
    say("Preparing the grouped two-moons data")
    data = grouped_moons(settings.n_groups, settings.n_train, settings.n_test,
                         angle_sd=settings.angle_sd, data_seed=settings.seed)
    if posteriors is None:
        with timer("fit_s"):
            posteriors = fit_poolings(data, settings, progress=progress, status=status)
    say("Predicting the held-out points and the grids")
    with timer("predict_s"):
        per_group = {key: per_group_accuracy(p, data) for key, p in posteriors.items()}
        grid, xx, yy = grid_2d(n=settings.grid_size)
        surfaces = {key: _group_surfaces(p, data, grid, xx.shape)
                    for key, p in posteriors.items()}
    say("Drawing figures and writing the report")
    with timer("plots_s"):
        figures = _figures(data, per_group, surfaces, xx, yy)
        for name, (png, _, _) in figures.items():
            write_bytes_atomic(out / name, png)
    hierarchical = posteriors["hierarchical"]
    metrics = {
        "pooling_accuracy": {key: float(v.mean()) for key, v in per_group.items()},
        "accuracy_by_group": {key: dict(zip(data.group_labels, map(float, v), strict=False))
                              for key, v in per_group.items()},
        "group_sd": {name: float(hierarchical.idata["posterior"][name].mean())
                     for name in hierarchical.idata["posterior"].data_vars
                     if name.startswith("group_sd_")},
        "group_angles_deg": dict(zip(data.group_labels,
                                     np.rad2deg(data.angles).round(1).tolist(), strict=False)),
        "method": hierarchical.method,
        "seed": settings.seed,
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "interrupted": any(p.interrupted for p in posteriors.values()),
        "final_elbo": {key: final_elbo(p.elbo) for key, p in posteriors.items()},
        "settings": {**settings.to_dict(), **hierarchical.settings},
        "versions": versions(),
    }
    metrics["timings"] = {**timer, **{f"fit_{key}_s": p.timings.get("total_s", 0.0)
                                      for key, p in posteriors.items()}}
    page = render_html(
        "pymc-bnn: hierarchical BNN on grouped two moons",
        _sections(data, settings, metrics, per_group, figures),
        subtitle=f"method {hierarchical.method} · seed {settings.seed} · "
                 f"pymc-bnn {metrics['versions']['pymc_bnn']}",
    )
    write_text_atomic(out / "report.html", page)
    metrics["timings"]["total_s"] = time.perf_counter() - started
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def _group_surfaces(posterior, data, grid, shape, max_draws: int = 300) -> np.ndarray:
    """P(y = 1) over the grid for every group: (n_groups, *shape)."""
    labels = np.repeat(np.array(data.group_labels), grid.shape[0])
    points = np.tile(grid, (len(data.group_labels), 1))
    proba = posterior.predict(points, groups=labels, max_draws=max_draws)["mean"].values
    return proba.reshape(len(data.group_labels), *shape)


def _figures(data, per_group, surfaces, xx, yy) -> dict[str, tuple[bytes, str, str]]:
    """File name -> (png, title, caption)."""
    train = [(data.X_train[data.groups_train == g], data.y_train[data.groups_train == g])
             for g in data.group_labels]
    angles = np.rad2deg(data.angles)
    titles = {key: [f"{g} ({a:+.0f}°): {acc:.2f}" for g, a, acc in
                    zip(data.group_labels, angles, per_group[key], strict=False)]
              for key in per_group}
    figures = {}
    for k, key in enumerate(POOLINGS, start=1):
        fig = class_maps.group_surfaces(xx, yy, surfaces[key], data_by_group=train,
                                        titles=titles[key], suptitle=TITLES[key])
        figures[f"hierarchical_{k:02d}_{key}_surfaces.png"] = (
            figure_png(fig), f"Decision surfaces: {TITLES[key]}",
            f"P(y = 1) for each group under {TITLES[key]}, with the group's "
            f"{data.X_train.shape[0] // len(data.group_labels)} training points; each title gives "
            "the group, its rotation and its held-out accuracy."
            + {"hierarchical": " Each map follows its group's rotation, yet all share the "
                               "moons' shape learned from every group.",
               "pooled": " One network for all groups: every map is the same, a compromise "
                         "between the rotations.",
               "unpooled": " Each group alone: with so few points the boundaries are rough "
                           "and often miss the moons' shape."}[key],
        )
    ax = fit_plots.accuracy_by_group({TITLES[k]: v for k, v in per_group.items()},
                                     data.group_labels)
    figures["hierarchical_04_accuracy.png"] = (
        figure_png(ax), "Held-out accuracy per group",
        "Each group's held-out accuracy under the three poolings; the legend gives the means.",
    )
    return figures


def _sections(data, settings, metrics, per_group, figures) -> list[Section]:
    acc = metrics["pooling_accuracy"]
    sd = ", ".join(f"layer {name.removeprefix('group_sd_')}: {value:.3f}"
                   for name, value in metrics["group_sd"].items())
    fitted = Section("What was fitted", [
        f"Data: {data.description}.",
        f"Network: 2 → {' → '.join(map(str, settings.hidden))} → 1, tanh, no biases, "
        "Normal(0, 1) weights, Bernoulli likelihood; fitted three ways with "
        f"{metrics['method']}, {settings.draws:,} posterior draws each.",
        "Partial pooling (hierarchical): each group's weights are the population's plus a "
        "learned spread per layer times standard-normal deviations (non-centred), so groups "
        "borrow strength from each other as much as the data says they should. Complete "
        "pooling: one network for every group. No pooling: an independent network per group.",
        f"Learned spread of the group weights (posterior mean): {sd}. The first layer, which "
        "sees the rotated inputs, should vary most between groups.",
    ])
    rows: list[list[Cell]] = [["group", "angle (°)", "n train", *(TITLES[k] for k in per_group)]]
    for g, label in enumerate(data.group_labels):
        rows.append([label, f"{np.rad2deg(data.angles[g]):+.0f}",
                     int((data.groups_train == label).sum()),
                     *(float(per_group[k][g]) for k in per_group)])
    rows.append(["mean", "", "", *(acc[k] for k in per_group)])
    results = Section("How well", [
        "Held-out accuracy per group (each group's own test points). Mean over groups: "
        + ", ".join(f"{TITLES[k]} {acc[k]:.3f}" for k in per_group) + "."
    ], tables=[Table(rows, caption="Held-out accuracy per group and pooling.")])
    pictures = Section("Figures", figures=[Figure(png, caption, title)
                                           for png, title, caption in figures.values()])
    return [fitted, results, pictures]
