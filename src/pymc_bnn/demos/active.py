"""The active-learning demo: BALD vs entropy vs random on two moons, learning curves and a report.

`run_active_demo` is what `pymc-bnn active` calls. Each repeat draws a new train/test split and a
new random starting set of labels (both classes present), then runs every strategy from that same
start, so the strategies differ only in which points they ask for. Random picks a uniform sample
(plain top-k of random scores); BALD and entropy use the diverse batch rule.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pymc_bnn import defaults
from pymc_bnn._runtime.atomic_writes import write_bytes_atomic, write_text_atomic
from pymc_bnn.active.fitter import BNNFitter
from pymc_bnn.active.loop import oracle, run_active_learning
from pymc_bnn.datasets import two_moons
from pymc_bnn.errors import ConvergenceWarning
from pymc_bnn.model.priors import SEED_PRIOR
from pymc_bnn.reporting import class_scatter, fit_plots
from pymc_bnn.reporting.html import Cell, Figure, Section, Table, figure_png, render_html

# Engines that accept `init=` (a previous posterior) to warm-start each round's fit.
WARM_START_METHODS = ("advi", "fullrank_advi")


@dataclass(frozen=True)
class ActiveDemoSettings:
    """Settings of the active-learning demo: the seed's network and data, cold-started fits.

    Two moons (1000 points, noise 0.2, 70/30 split: a pool of 700, 300 held out), 10 starting
    labels, 10 more per round up to 100, five repeats, the seed's 2→5→5→1 tanh network with its
    Normal(0, 1) prior (the fan-in scaled default stays near-linear on 100 labels, so there is
    nothing for a strategy to win).

    Each fit: ADVI, 5000 steps at learning rate 0.01, best of 4 restarts, 100 draws, started
    cold: on 10–30 labels the mean-field posterior sits near the saddle of a bias-free tanh
    network, and a warm start from it begins there, so cold starts learn better here
    (docs/design.md). `warm_start=True` turns warm starts back on.

    Parameters
    ----------
    strategies : tuple of str, default ("bald", "entropy", "random")
        Acquisitions to compare (names in `pymc_bnn.active.acquisition.ACQUISITIONS`).
    repeats, initial, batch_size, budget : int
        Repeats (splits), starting labels, labels per round and total labels; defaults in
        `pymc_bnn.defaults`.
    hidden : tuple of int, default (5, 5)
        Hidden layer widths.
    method : str, optional
        The engine; default `DEFAULT_METHOD`.
    steps, learning_rate, draws, restarts
        Each fit's ADVI settings.
    warm_start : bool, default False
        Start each round from the previous round's posterior.
    seed : int, default 0
        Seeds repeat r with `seed + r`.

    Examples
    --------
    >>> settings = ActiveDemoSettings(repeats=1, budget=30)
    >>> fitter = settings.fitter()
    >>> fitter.pad_to, fitter.warm_start, fitter.options["restarts"]
    (30, False, 4)
    """

    strategies: tuple[str, ...] = ("bald", "entropy", "random")
    repeats: int = defaults.ACTIVE_REPEATS
    initial: int = defaults.ACTIVE_INITIAL
    batch_size: int = defaults.ACTIVE_BATCH_SIZE
    budget: int = defaults.ACTIVE_BUDGET
    hidden: tuple[int, ...] = (5, 5)
    method: str | None = None
    steps: int = defaults.ACTIVE_STEPS
    learning_rate: float = 0.01
    draws: int = defaults.ACTIVE_DRAWS
    restarts: int = 4
    warm_start: bool = False
    seed: int = 0

    def fitter(self) -> BNNFitter:
        """The `BNNFitter` these settings describe."""
        from pymc_bnn.inference import DEFAULT_METHOD

        method = self.method or DEFAULT_METHOD
        warm = self.warm_start and method in WARM_START_METHODS
        options = {"steps": self.steps, "learning_rate": self.learning_rate}
        if method in WARM_START_METHODS:  # ADVI: one restart count, one compiled loop
            options["restarts"] = self.restarts
        return BNNFitter(hidden=self.hidden, prior=SEED_PRIOR, method=method, draws=self.draws,
                         options=options, warm_start=warm, pad_to=self.budget)

    def to_dict(self) -> dict:
        """The settings as JSON-able values, for metrics.json."""
        from pymc_bnn.inference import DEFAULT_METHOD

        return {"strategies": list(self.strategies), "repeats": self.repeats,
                "initial": self.initial, "batch_size": self.batch_size, "budget": self.budget,
                "hidden": list(self.hidden), "method": self.method or DEFAULT_METHOD,
                "steps": self.steps, "learning_rate": self.learning_rate,
                "draws": self.draws, "restarts": self.restarts, "warm_start": self.warm_start,
                "prior": SEED_PRIOR.to_dict(),
                "seed": self.seed,
                "data": "two moons, 1000 points, noise 0.2, standardised, 70/30 split per repeat"}


@dataclass(frozen=True)
class Comparison:
    """Learning curves of each strategy: accuracies[name] is (n_repeats, n_rounds).

    Parameters
    ----------
    labels_used : numpy.ndarray
        `(n_rounds,)` labels each round's fit used.
    accuracies : dict
        Strategy → held-out accuracy `(n_repeats, n_rounds)`.
    runs : dict
        Strategy → one `ActiveLearningRun` per finished repeat.
    interrupted : bool
        Ctrl-C stopped the comparison; the repeats are those finished.
    seconds : float
        Wall time of the comparison.
    n_fits : int
        Fits run.
    n_not_converged : int, default 0
        Fits that stopped at the step limit before the ELBO settled.

    Examples
    --------
    >>> import numpy as np
    >>> comparison = Comparison(
    ...     labels_used=np.array([10, 20]), runs={}, interrupted=False, seconds=1.0, n_fits=4,
    ...     accuracies={"bald": np.array([[0.5, 1.0], [0.75, 1.0]]),
    ...                 "random": np.array([[0.5, 0.75], [0.5, 0.75]])})
    >>> comparison.auc
    {'bald': 0.8125, 'random': 0.625}
    >>> comparison.auc_per_repeat()["bald"]
    [0.75, 0.875]
    """

    labels_used: np.ndarray
    accuracies: dict[str, np.ndarray]
    runs: dict[str, list]  # name -> one ActiveLearningRun per finished repeat
    interrupted: bool
    seconds: float
    n_fits: int
    n_not_converged: int = 0  # fits that stopped at the step limit before the ELBO settled

    @property
    def auc(self) -> dict[str, float]:
        """Area under each mean learning curve: mean held-out accuracy over the rounds."""
        return {name: float(acc.mean()) for name, acc in self.accuracies.items()}

    def auc_per_repeat(self) -> dict[str, list[float]]:
        """Area under each repeat's learning curve, per strategy."""
        return {name: acc.mean(axis=1).tolist() for name, acc in self.accuracies.items()}


def compare_strategies(settings: ActiveDemoSettings = ActiveDemoSettings(), *,
                       on_round=None) -> Comparison:
    """Run every strategy on `settings.repeats` two-moons splits; Ctrl-C keeps finished repeats.

    Every strategy of a repeat starts from the same initial labels.

    Parameters
    ----------
    settings : ActiveDemoSettings, default ActiveDemoSettings()
        Strategies, repeats, budget and fits.
    on_round : callable, optional
        `on_round(strategy, repeat, ActiveRound)` is called after every round (the CLI's
        progress).

    Returns
    -------
    Comparison

    Examples
    --------
    Not run here (one fit per round, strategy and repeat; the demo's own tests run it):

    >>> settings = ActiveDemoSettings(strategies=("bald", "random"), repeats=1, budget=30)
    >>> comparison = compare_strategies(settings)  # doctest: +SKIP
    >>> comparison.labels_used  # doctest: +SKIP
    array([10, 20, 30])
    """
    with warnings.catch_warnings(record=True) as caught:
        # short fits on 10–100 labels often stop at the step limit: count, do not print 150 times
        warnings.simplefilter("always", ConvergenceWarning)
        comparison = _compare(settings, on_round)
    n_warned = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    for other in (w for w in caught if not issubclass(w.category, ConvergenceWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    return replace(comparison, n_not_converged=n_warned)


def _compare(settings: ActiveDemoSettings, on_round) -> Comparison:
    fitter = settings.fitter()
    runs: dict[str, list] = {name: [] for name in settings.strategies}
    interrupted = False
    started = time.perf_counter()
    n_fits = 0
    for repeat in range(settings.repeats):
        seed = settings.seed + repeat
        data = two_moons(split_seed=seed)
        initial = _initial_labels(data.y_train, settings.initial, seed)
        done = {}
        for name in settings.strategies:
            report = None if on_round is None else (
                lambda r, name=name, repeat=repeat: on_round(name, repeat, r))
            run = run_active_learning(
                data.X_train, oracle(data.y_train), initial=initial,
                batch_size=settings.batch_size, budget=settings.budget, acquisition=name,
                batch_rule="top" if name == "random" else "diverse", fit=fitter,
                X_test=data.X_test, y_test=data.y_test, random_seed=seed, progress=False,
                on_round=report)
            n_fits += len(run.rounds)
            if run.error is not None:
                raise run.error  # the oracle's labels are not lost: the demo fails as it is
            if run.interrupted:
                interrupted = True
                break
            done[name] = run
        if interrupted:
            break
        for name, run in done.items():
            runs[name].append(run)
    if not runs[settings.strategies[0]]:
        raise KeyboardInterrupt  # nothing finished: nothing to show
    labels_used = runs[settings.strategies[0]][0].labels_used
    accuracies = {name: np.array([run.accuracies for run in done_runs])
                  for name, done_runs in runs.items()}
    return Comparison(labels_used, accuracies, runs, interrupted,
                      time.perf_counter() - started, n_fits)


def _initial_labels(y, n_initial: int, seed: int) -> np.ndarray:
    """A random starting set of `n_initial` pool indices holding both classes."""
    rng = np.random.default_rng(seed)
    while True:
        chosen = rng.choice(len(y), size=n_initial, replace=False)
        if np.unique(y[chosen]).size > 1:
            return chosen


def run_active_demo(out_dir: str | Path, settings: ActiveDemoSettings = ActiveDemoSettings(), *,
                    on_round=None) -> dict:
    """Compare the strategies and write learning_curves.png, metrics.json and report.html.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The folder to write into.
    settings : ActiveDemoSettings, default ActiveDemoSettings()
        Strategies, repeats, budget and fits.
    on_round : callable, optional
        See `compare_strategies`.

    Returns
    -------
    dict
        The metrics: `auc.<strategy>` is the area under the mean learning curve (mean held-out
        accuracy over the rounds), `margin_over_random.<strategy>` its difference to random.

    Examples
    --------
    Not run here (see `compare_strategies`):

    >>> settings = ActiveDemoSettings(repeats=1, budget=30)
    >>> metrics = run_active_demo("active", settings)  # doctest: +SKIP
    >>> sorted(metrics["margin_over_random"])  # doctest: +SKIP
    ['bald', 'entropy']
    """
    from pymc_bnn.demos.support import versions

    out = Path(out_dir)
    comparison = compare_strategies(settings, on_round=on_round)
    started = time.perf_counter()
    auc = comparison.auc
    metrics = {
        "auc": auc,
        "margin_over_random": ({name: auc[name] - auc["random"] for name in auc if name != "random"}
                               if "random" in auc else {}),
        "auc_per_repeat": comparison.auc_per_repeat(),
        "labels_used": comparison.labels_used.tolist(),
        "mean_accuracy": {name: acc.mean(axis=0).tolist()
                          for name, acc in comparison.accuracies.items()},
        "sd_accuracy": {name: acc.std(axis=0).tolist()
                        for name, acc in comparison.accuracies.items()},
        "repeats_done": len(next(iter(comparison.runs.values()))),
        "interrupted": comparison.interrupted,
        "n_fits": comparison.n_fits,
        "n_fits_at_step_limit": comparison.n_not_converged,
        "settings": settings.to_dict(),
        "timings": {"compare_s": comparison.seconds,
                    "seconds_per_round": comparison.seconds / max(1, comparison.n_fits)},
        "versions": versions(),
    }
    figures = _figures(comparison, settings)
    write_bytes_atomic(out / "learning_curves.png", figures[0].png)
    page = render_html("pymc-bnn: active learning on two moons",
                       _sections(comparison, settings, metrics, figures),
                       subtitle=f"{metrics['settings']['method']} · seed {settings.seed} · "
                                f"pymc-bnn {metrics['versions']['pymc_bnn']}")
    write_text_atomic(out / "report.html", page)
    metrics["timings"]["report_s"] = time.perf_counter() - started
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def _figures(comparison: Comparison, settings: ActiveDemoSettings) -> list[Figure]:
    curves = figure_png(fit_plots.learning_curves(comparison.labels_used, comparison.accuracies,
                                                  title="Held-out accuracy vs labels used"))
    figures = [Figure(curves, "Mean held-out accuracy (300 test points) after each round, "
                              "against the number of labels the fit used; the band is ±1 sd over "
                              "repeats. A curve above random reaches the same accuracy with fewer "
                              "labels; the legend gives the area under each mean curve.",
                      "Learning curves")]
    data = two_moons(split_seed=settings.seed)
    for name, runs in comparison.runs.items():
        ax = class_scatter.labelled_points(
            data.X_train, data.y_train, runs[0].labelled,
            title=f"{name}: the {len(runs[0].labelled)} labelled points")
        figures.append(Figure(figure_png(ax),
                              f"Which pool points {name} labelled in the first repeat (grey: "
                              "the unlabelled pool). "
                              + ("A uniform sample: it spreads evenly, so few labels land on "
                                 "the boundary between the moons." if name == "random" else
                                 "Uncertainty-driven picks gather along the boundary between "
                                 "the moons and at the edges of the data, where draws disagree."),
                              f"Chosen by {name}"))
    return figures


def _sections(comparison, settings, metrics, figures) -> list[Section]:
    s = metrics["settings"]
    done = metrics["repeats_done"]
    what = Section("What was done", [
        f"Data: two moons, 1000 points with noise 0.2, split 700/300 into an unlabelled pool "
        f"and a held-out test set; a new split each repeat ({done} repeats).",
        f"Each strategy starts from the same {settings.initial} random labels (both classes), "
        f"fits the seed's {' → '.join(['2', *map(str, settings.hidden), '1'])} tanh BNN "
        f"({s['method']}, {settings.steps:,} steps, best of {settings.restarts} restarts, "
        f"{settings.draws} draws, "
        + ("warm-started from the previous round" if settings.fitter().warm_start
           else "each round from fresh prior draws")
        + f"), then asks for {settings.batch_size} more labels, until {settings.budget}.",
        "BALD asks where posterior draws disagree (mutual information between label and "
        "weights); entropy asks where the averaged prediction is closest to a coin flip; random "
        "asks for a uniform sample. BALD and entropy spread each batch with score-weighted "
        "k-means over their 10× best candidates, so a batch does not pile into one spot.",
    ] + (["Interrupted (Ctrl-C): only the finished repeats are shown."]
         if comparison.interrupted else []))
    rows: list[list[Cell]] = [
        ["strategy", "area under curve", "sd over repeats", "vs random",
         f"accuracy at {comparison.labels_used[0]}", f"accuracy at {comparison.labels_used[-1]}"]]
    for name, acc in comparison.accuracies.items():
        per_repeat = acc.mean(axis=1)
        rows.append([name, float(per_repeat.mean()), float(per_repeat.std()),
                     metrics["margin_over_random"].get(name, "—"),
                     float(acc[:, 0].mean()), float(acc[:, -1].mean())])
    results = Section(
        "How well",
        ["The area under a learning curve is the mean held-out accuracy over the rounds: higher "
         "means the strategy got to good accuracy with fewer labels."],
        tables=[Table(rows), Table([["step", "value"],
                                    ["fits", metrics["n_fits"]],
                                    ["fits stopped at the step limit",
                                     metrics["n_fits_at_step_limit"]],
                                    ["seconds in total", metrics["timings"]["compare_s"]],
                                    ["seconds per round (fit, score, label)",
                                     metrics["timings"]["seconds_per_round"]]],
                                   caption="Cost.")])
    return [what, results, Section("Figures", figures=figures)]
