"""The report of a saved model (`pymc-bnn report`) and the summary `pymc-bnn info` prints.

Both read the model file's JSON description; the report adds the ELBO trace and, given held-out
data with the target, scores computed by `pymc_bnn.posterior.metrics` and scikit-learn.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn._runtime.outputs import same_file
from pymc_bnn.reporting.html import Figure, Section, Table, figure_png, render_html


def _untagged(value):
    """A description value with the model file's type tags dropped, for display."""
    if isinstance(value, dict):
        for tag in ("__spec__", "__likelihood__", "__prior__", "__tuple__", "__ndarray__"):
            if tag in value:
                return _untagged(value[tag])
        return {k: _untagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    return value


def _options(record: dict) -> str:
    """"name (key=value, …)" for a likelihood or prior record, leaving out unset options.

    A classifier's label codes (`classes`) are left out: the "classes" row names the classes.
    """
    options = ", ".join(f"{k}={v}" for k, v in record.items()
                        if k not in ("name", "classes") and v is not None)
    if record.get("classes") is not None:
        options = ", ".join(filter(None, [f"{len(record['classes'])} classes", options]))
    return f"{record['name']} ({options})" if options else record["name"]


def groups_text(record: dict | None, column: str | None = None) -> str | None:
    """"partial pooling over 4 groups (column store; 30–42 rows each)", None without groups.

    Parameters
    ----------
    record : dict or None
        `Posterior.groups` (pooling, labels, counts).
    column : str, optional
        The data's group column, when known.

    Returns
    -------
    str or None
        The grouping in words.

    Examples
    --------
    >>> groups_text({"pooling": "partial", "labels": ["a", "b"], "counts": [30, 42]}, "store")
    'partial pooling over 2 groups (column store; 30–42 rows each)'
    """
    if not record:
        return None
    counts = record.get("counts") or []
    details = "; ".join(filter(None, [
        f"column {column}" if column else "",
        f"{min(counts):,}–{max(counts):,} rows each" if counts else ""]))
    return (f"{record['pooling']} pooling over {len(record.get('labels', []))} groups"
            + (f" ({details})" if details else ""))


def _shown(values, limit: int = 12) -> str:
    values = [str(v) for v in values]
    more = f", … ({len(values)} in all)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def summary_rows(description: dict, classes=None, convergence=None) -> list[tuple[str, str]]:
    """(label, value) rows saying what a model file holds, from its JSON description.

    Parameters
    ----------
    description : dict
        The model file's description (`pymc_bnn.io.read_description`).
    classes : sequence, optional
        The estimator's `classes_` (the description holds them only as a reference to an array
        in the file).
    convergence : Convergence, optional
        The fit's judgement (`pymc_bnn.posterior.convergence.judge_convergence`), for a
        "converged" row.

    Returns
    -------
    list of (str, str)

    Examples
    --------
    >>> from pymc_bnn.io import read_description, save
    >>> description = read_description(save(classifier, "moons.bnn.nc"))
    >>> rows = dict(summary_rows(description, classes=classifier.classes_))
    >>> rows["holds"], rows["network"], rows["classes"]
    ('BayesianMLPClassifier', '2 → 3 → 1 (tanh, no biases)', '0, 1')
    """
    from pymc_bnn.posterior.stacked_members import stacked_models_words, stacked_with

    post = _untagged(description["posterior"])
    estimator = _untagged(description.get("estimator") or {})
    state = estimator.get("state", {})
    notes = _untagged(description.get("notes") or {})
    spec = post["spec"]
    arrow = " → ".join(map(str, [spec["n_inputs"], *spec["hidden"], spec["n_outputs"]]))
    kind = spec["activation"] if spec["hidden"] else "no hidden layer: a generalised linear model"
    settings = post.get("settings", {})
    # a stacked fit keeps its linear model in the skip path: not a path the user asked for,
    # unless the estimator's network had one of its own (skip=True)
    own_skip = spec.get("skip") and (not settings.get("stacking")
                                     or _untagged(estimator.get("params") or {}).get("skip"))
    path = (", linear skip path" if own_skip else "") + (
        f", stacked with {stacked_models_words(stacked_with(settings['stacking']))}"
        if settings.get("stacking") else "")
    features = state.get("feature_names_in_") or post.get("feature_names", [])
    noise = _untagged(settings.get("noise_function") or {})
    likelihood = _options(post["likelihood"]) + (
        "" if not noise else ": the network's noise sd following its mean (the other members "
        "keep one noise sd)" if settings.get("stacking") else
        ": a Gaussian fit's noise sd following its mean")
    rows = [
        ("holds", estimator.get("class", "Posterior")),
        ("network", f"{arrow} ({kind}, {'with' if spec['bias'] else 'no'} biases"
                    f"{path})"),
        ("likelihood", likelihood),
        ("prior", _options(post["prior"])),
        ("inference", f"{post.get('method', '')}: "
                      + ", ".join(f"{k} {v}" for k, v in settings.items()
                                  if k not in ("random_seed", "stacking", "noise_function"))),
        ("seed", settings.get("random_seed", "")),
        ("features", _shown(features)),
    ]
    diagnostics = _untagged(post.get("diagnostics") or {})
    if diagnostics.get("temperature", 1.0) != 1.0:
        chosen = diagnostics.get("loo")
        rows.append(("temperature", f"{diagnostics['temperature']:g}" + (
            f" (chosen by leave-one-out: {chosen['elpd']:.2f} nats; PSIS Pareto k above 0.7 on "
            f"{chosen['high_pareto_k_rows']} rows)" if chosen else "")))
    if noise:  # a Gaussian fit whose noise sd was made to follow its mean
        rows.append(("noise", f"log s² = a + b·(predicted mean, standardised), b = "
                              f"{noise['slope']:.3g} (prior precision {noise['precision']:.3g} "
                              "by the evidence), scaled to the fit's average noise variance"))
    stacking = _untagged(settings.get("stacking") or {})
    if stacking:
        held = stacking.get("held_out_lpd", {})
        rows.append(("stacking", ", ".join(
            f"{name} {weight:.2f}" + (f" (held out {held[name]:.3f} nats/row)" if name in held
                                      else "")
            for name, weight in stacking["weights"].items())
            + f"; weights by {stacking.get('folds', '?')}-fold cross-validation"))
    if diagnostics.get("stacking_stopped"):
        rows.append(("stacking", f"stopped by Ctrl-C during {diagnostics['stacking_stopped']}: "
                                 "the network's own fit (whole) alone"))
    if classes is not None:
        rows.append(("classes", _shown(classes)))
    grouped = groups_text(post.get("groups"), notes.get("groups"))
    if grouped:
        rows.append(("groups", grouped))
    if convergence is not None:
        rows.append(("converged", "yes" if convergence.converged else
                     f"no: {len(convergence.problems)} problem(s): "
                     + "; ".join(p.what for p in convergence.problems)))
    if notes.get("target"):
        rows.append(("target", f"{notes['target']} (fitted on {notes.get('n_rows', '?')} rows of "
                               f"{notes.get('data', '?')})"))
    if post.get("interrupted"):
        rows.append(("interrupted", "yes: the stacking was stopped early" if diagnostics.get(
            "stacking_stopped") else "yes: the fit was stopped early"))
    versions = description.get("versions", {})
    rows += [
        ("created", description.get("created", "")),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
        ("format", f"{description['format']} v{description['format_version']}"),
    ]
    return rows


_LABELS = {"accuracy": "accuracy", "log_loss": "log loss (nats)", "brier": "Brier score",
           "ece": "expected calibration error (15 bins)", "rmse": "RMSE", "mae": "MAE",
           "gaussian_nll": "Gaussian NLL of the predictive mean and sd (nats)",
           "coverage": "share inside the 90% interval",
           "interval_width": "mean 90% interval width", "crps": "CRPS", "r2": "R²",
           "poisson_deviance": "mean Poisson deviance",
           "d2": "share of Poisson deviance explained (D²)",
           "nlpd": "negative log predictive density (nats per row)",
           "count_coverage": "share inside the 90% count interval",
           "count_interval_width": "mean width of the 90% count interval"}
# Posterior draws for the count scores' predictive density (its Monte Carlo error is well
# below the differences between models that matter).
_DENSITY_DRAWS = 500


def held_out_scores(model, X, y, groups=None) -> tuple[list[list], list[Figure], Table | None]:
    r"""(metric, value) rows, figures and an optional extra table scoring `model` on X, y.

    Classifiers: `pymc_bnn.posterior.metrics.classification_summary` and the confusion matrix
    (the reliability diagram is in the report's calibration section); regressors:
    `regression_summary` of the 90% predictive summary, the negative log density of the
    predictive mixture itself (`metrics.mixture_nll`: the Gaussian NLL only matches its mean and
    sd, which misjudges Student-t or heteroscedastic noise) and R², and observed against
    predicted with the interval. Count likelihoods (poisson, negative_binomial) are scored with
    the mean Poisson deviance and its D² (scikit-learn), the predictive density of the counts
    and their whole-number intervals instead of a Gaussian NLL and R².

    Parameters
    ----------
    model : BayesianMLPClassifier or BayesianMLPRegressor
        A fitted estimator.
    X, y : array-like
        Held-out rows and their targets.
    groups : sequence, optional
        Each row's group, for models fitted with groups.

    Returns
    -------
    rows : list of list
        [metric in words, value].
    figures : list of Figure
    table : Table or None
        The confusion matrix of a classifier.

    Examples
    --------
    >>> rows, figures, table = held_out_scores(classifier, tiny_data.X_test, tiny_data.y_test)
    >>> [metric for metric, value in rows]
    ['accuracy', 'log loss (nats)', 'Brier score', 'expected calibration error (15 bins)']
    >>> table.rows[0]
    ['true \\ predicted', '0', '1']
    """
    from sklearn import metrics as skm

    from pymc_bnn.posterior import metrics
    from pymc_bnn.reporting.predictive_checks import REPLICATIONS, is_count_model

    by_group = {} if groups is None else {"groups": groups}
    if hasattr(model, "classes_"):
        proba = model.predict_proba(X, **by_group)
        scores = metrics.classification_summary(y, proba, classes=model.classes_)
        predicted = model.classes_[proba.argmax(axis=1)]
        labels = [str(c) for c in model.classes_]
        confusion = skm.confusion_matrix(np.asarray(y).astype(str), predicted.astype(str),
                                         labels=labels)
        table = Table([["true \\ predicted", *labels],
                       *[[label, *map(int, row)]
                         for label, row in zip(labels, confusion, strict=False)]],
                      caption="Confusion matrix: rows are the true classes.")
        return [[_LABELS[k], v] for k, v in scores.items()], [], table
    y = np.asarray(y, dtype=np.float64)
    counts = is_count_model(model)
    summary = model.uncertainty(X, level=0.9, n_samples=REPLICATIONS if counts else 0,
                                **by_group)
    mean = summary["mean"].values
    scores = metrics.regression_summary(y, summary)
    shown: dict[str, float | str] = dict(scores)
    if counts:
        draws = model.predictive_draws(X, max_draws=_DENSITY_DRAWS, **by_group)
        shown = {"rmse": scores["rmse"], "mae": scores["mae"],
                 "poisson_deviance": float(skm.mean_poisson_deviance(y, mean)),
                 # D² compares with the deviance of the mean count: none when all are equal
                 "d2": (float(skm.d2_tweedie_score(y, mean, power=1)) if np.ptp(y) > 0
                        else f"n/a: every held-out count is {y[0]:g}"),
                 "nlpd": metrics.mixture_nll(y, draws),
                 "count_coverage": scores["coverage"],
                 "count_interval_width": scores["interval_width"], "crps": scores["crps"]}
    else:
        # the Gaussian NLL scores a Normal of the predictive mean and sd; the predictive itself
        # is a mixture over draws (of Student-t or heteroscedastic noise too): its own density
        draws = model.predictive_draws(X, max_draws=_DENSITY_DRAWS, **by_group)
        shown["nlpd"] = metrics.mixture_nll(y, draws)
        # R² compares with the variance of the target: none when every value is the same
        shown["r2"] = (float(skm.r2_score(y, mean)) if np.ptp(y) > 0
                       else f"n/a: every held-out value is {y[0]:g}")
    figure = _observed_vs_predicted(y, mean, summary["lower"].values, summary["upper"].values)
    return [[_LABELS[k], v] for k, v in shown.items()], [figure], None


def _observed_vs_predicted(y, mean, lower, upper) -> Figure:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    # lines from lower to upper, not error bars around the mean: a count interval need not
    # hold the mean ([0, 0] below a mean of 0.02), and a bar cannot be negative
    ax.vlines(y, lower, upper, color="C0", lw=0.6, alpha=0.6)
    ax.plot(y, mean, "o", color="C0", ms=3, alpha=0.6)
    low, high = float(min(y.min(), lower.min())), float(max(y.max(), upper.max()))
    ax.plot([low, high], [low, high], color="0.4", lw=1, ls="--")
    ax.set(xlabel="observed", ylabel="predicted", title="Held-out predictions")
    return Figure(figure_png(fig), "Predictive mean against the observed value; bars are the "
                  "central 90% predictive interval (noise and weight uncertainty). About 90% "
                  "of the bars should cross the dashed line; fewer means over-confidence.",
                  "Observed against predicted")


def fit_panel(posterior, convergence) -> Section:
    """The report's "How the fit went" section.

    The judgement of convergence as a table in words, each problem with its fix, the time per
    step and the ELBO trace.

    Parameters
    ----------
    posterior : Posterior
    convergence : Convergence
        Its judgement.

    Returns
    -------
    Section

    Examples
    --------
    >>> from pymc_bnn.posterior.convergence import judge_convergence
    >>> section = fit_panel(fitted, judge_convergence(fitted))
    >>> section.title, len(section.tables), len(section.figures)  # checks, timings; ELBO
    ('How the fit went', 2, 1)
    >>> section.paragraphs[0]  # a fixed 500 steps (tol=0) whose ELBO no longer rose
    'Converged: no problem found in the checks below.'
    """
    from pymc_bnn.reporting import fit_plots

    verdict = ("Converged: no problem found in the checks below." if convergence.converged
               else f"Not converged: {len(convergence.problems)} problem(s), each with its fix.")
    section = Section(
        "How the fit went", [verdict, *(f"Problem: {p.what}. Fix: {p.fix}."
                                        for p in convergence.problems)],
        tables=[Table([["check", "result"], ["converged", "yes" if convergence.converged
                                              else "no"], *map(list, convergence.checks)],
                      caption="What was checked, from what the fit recorded."),
                Table([["stage", "seconds"],
                       *[[k.removesuffix("_s"), float(v)] for k, v in posterior.timings.items()]],
                      caption="Seconds spent in each stage of the fit.")],
    )
    if posterior.elbo is not None and len(posterior.elbo):
        section.figures.append(Figure(
            figure_png(fit_plots.elbo_trace(posterior.elbo)),
            "The evidence lower bound per step (higher is better). A curve still climbing at "
            "the end means more steps would help.", "ELBO trace"))
    return section


def model_report(model, description: dict, held_out=None) -> str:
    """The HTML report of a fitted estimator.

    Parameters
    ----------
    model : BayesianMLPClassifier or BayesianMLPRegressor
        A fitted estimator.
    description : dict
        Its model file's description (`pymc_bnn.io.read_description`).
    held_out : tuple, optional
        (X, y, source name) or (X, y, source name, groups). With it the report adds held-out
        scores and the sections of `pymc_bnn.reporting.predictive_checks` (predictive check,
        calibration, uncertainty, the rows the model is least sure of) and of stability.

    Returns
    -------
    str
        One self-contained HTML page.

    Examples
    --------
    >>> from pymc_bnn.io import read_description, save
    >>> description = read_description(save(classifier, "moons.bnn.nc"))
    >>> page = model_report(classifier, description)
    >>> "<title>pymc-bnn model: BayesianMLPClassifier</title>" in page
    True
    """
    from pymc_bnn.posterior.convergence import judge_convergence
    from pymc_bnn.reporting.predictive_checks import data_sections

    posterior = model.posterior_
    convergence = judge_convergence(posterior)
    sections = [Section(
        "What was fitted",
        ["The model file's description: network, likelihood, prior and how it was fitted."],
        tables=[Table([["", ""], *[[k, str(v)] for k, v in summary_rows(
            description, classes=getattr(model, "classes_", None), convergence=convergence)]])],
    ), fit_panel(posterior, convergence)]
    if held_out is not None:
        X, y, source, *groups = held_out
        rows, figures, table = held_out_scores(model, X, y, *groups)
        # the training file as `pymc-bnn fit` resolved it (a path as typed is relative to
        # wherever the fit ran); a model saved from Python records none
        fitted_to = _untagged(description.get("notes") or {}).get("data_path")
        seen = fitted_to is not None and same_file(source, fitted_to)
        sections.append(Section(
            "Performance on the training rows" if seen else "Held-out performance",
            [f"Scores on {len(y):,} rows of {source}, " + (
                "the file the model was fitted to: these scores are optimistic (score rows "
                "held out from the fit for an honest measure)." if seen else
                "which the model did not see when fitted (as far as its file records).")],
            tables=[Table([["metric", "value"], *rows])] + ([table] if table else []),
            figures=figures,
        ))
        sections += data_sections(model, X, y, source, *groups)
    else:
        sections.append(Section("Checks on data", [
            "Give `pymc-bnn report` data with the target column (e.g. held-out rows) to add a "
            "posterior predictive check, calibration, the distribution of the predictive "
            "uncertainty and the rows the model is least sure of."]))
    from pymc_bnn.reporting.stability_report import report_section

    sections.append(report_section(model, held_out))
    notes = description.get("notes", {})
    title = f"pymc-bnn model: {type(model).__name__}"
    if notes.get("target"):
        title += f" of {notes['target']}"
    return render_html(title, sections, subtitle=f"created {description.get('created', '')}")
