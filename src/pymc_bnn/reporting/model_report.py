"""The report of a saved model (`pymc-bnn report`) and the summary `pymc-bnn info` prints.

Both read the model file's JSON description; the report adds the ELBO trace and, given held-out
data with the target, scores computed by `pymc_bnn.posterior.metrics` and scikit-learn.
"""

from __future__ import annotations

import numpy as np

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
    """"name (key=value, …)" for a likelihood or prior record, leaving out unset options."""
    options = ", ".join(f"{k}={v}" for k, v in record.items() if k != "name" and v is not None)
    return f"{record['name']} ({options})" if options else record["name"]


def _shown(values, limit: int = 12) -> str:
    values = [str(v) for v in values]
    more = f", … ({len(values)} in all)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more


def summary_rows(description: dict, classes=None) -> list[tuple[str, str]]:
    """(label, value) rows saying what a model file holds, from its JSON description.

    classes: the estimator's `classes_` (the description holds them only as a reference to
    an array in the file).
    """
    post = _untagged(description["posterior"])
    estimator = _untagged(description.get("estimator") or {})
    state = estimator.get("state", {})
    notes = _untagged(description.get("notes") or {})
    spec = post["spec"]
    arrow = " → ".join(map(str, [spec["n_inputs"], *spec["hidden"], spec["n_outputs"]]))
    settings = post.get("settings", {})
    features = state.get("feature_names_in_") or post.get("feature_names", [])
    rows = [
        ("holds", estimator.get("class", "Posterior")),
        ("network", f"{arrow} ({spec['activation']}, {'with' if spec['bias'] else 'no'} biases"
                    f"{', linear skip path' if spec.get('skip') else ''})"),
        ("likelihood", _options(post["likelihood"])),
        ("prior", _options(post["prior"])),
        ("inference", f"{post.get('method', '')}: "
                      + ", ".join(f"{k} {v}" for k, v in settings.items() if k != "random_seed")),
        ("seed", settings.get("random_seed", "")),
        ("features", _shown(features)),
    ]
    diagnostics = _untagged(post.get("diagnostics") or {})
    if diagnostics.get("temperature", 1.0) != 1.0:
        chosen = diagnostics.get("loo")
        rows.append(("temperature", f"{diagnostics['temperature']:g}" + (
            f" (chosen by leave-one-out: {chosen['elpd']:.2f} nats; PSIS Pareto k above 0.7 on "
            f"{chosen['high_pareto_k_rows']} rows)" if chosen else "")))
    if classes is not None:
        rows.append(("classes", _shown(classes)))
    if notes.get("target"):
        rows.append(("target", f"{notes['target']} (fitted on {notes.get('n_rows', '?')} rows of "
                               f"{notes.get('data', '?')})"))
    if post.get("interrupted"):
        rows.append(("interrupted", "yes: the fit was stopped early"))
    versions = description.get("versions", {})
    rows += [
        ("created", description.get("created", "")),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
        ("format", f"{description['format']} v{description['format_version']}"),
    ]
    return rows


_LABELS = {"accuracy": "accuracy", "log_loss": "log loss (nats)", "brier": "Brier score",
           "ece": "expected calibration error (15 bins)", "rmse": "RMSE", "mae": "MAE",
           "gaussian_nll": "Gaussian NLL (nats)", "coverage": "share inside the 90% interval",
           "interval_width": "mean 90% interval width", "crps": "CRPS", "r2": "R²"}


def held_out_scores(model, X, y, groups=None) -> tuple[list[list], list[Figure], Table | None]:
    """(metric, value) rows, figures and an optional extra table scoring `model` on X, y.

    `groups`: each row's group, for models fitted with groups.

    Classifiers: `pymc_bnn.posterior.metrics.classification_summary`, a reliability diagram and the
    confusion matrix; regressors: `regression_summary` of the 90% predictive summary plus R²,
    and observed against predicted with the interval.
    """
    from sklearn import metrics as skm

    from pymc_bnn.posterior import metrics
    from pymc_bnn.reporting import plots

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
        reliability = Figure(
            figure_png(plots.reliability_diagram(y, proba, classes=model.classes_)),
            "Accuracy against the top-class predictive probability, per bin. Bars below the "
            "diagonal mean the model is over-confident there.", "Reliability diagram")
        return [[_LABELS[k], v] for k, v in scores.items()], [reliability], table
    y = np.asarray(y, dtype=np.float64)
    summary = model.uncertainty(X, level=0.9, **by_group)
    scores = {**metrics.regression_summary(y, summary),
              "r2": float(skm.r2_score(y, summary["mean"].values))}
    figure = _observed_vs_predicted(y, summary["mean"].values, summary["lower"].values,
                                    summary["upper"].values)
    return [[_LABELS[k], v] for k, v in scores.items()], [figure], None


def _observed_vs_predicted(y, mean, lower, upper) -> Figure:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    ax.errorbar(y, mean, yerr=[mean - lower, upper - mean], fmt="o", ms=3, alpha=0.6,
                elinewidth=0.6)
    low, high = float(min(y.min(), lower.min())), float(max(y.max(), upper.max()))
    ax.plot([low, high], [low, high], color="0.4", lw=1, ls="--")
    ax.set(xlabel="observed", ylabel="predicted", title="Held-out predictions")
    return Figure(figure_png(fig), "Predictive mean against the observed value; bars are the "
                  "central 90% predictive interval (noise and weight uncertainty). About 90% "
                  "of the bars should cross the dashed line; fewer means over-confidence.",
                  "Observed against predicted")


def model_report(model, description: dict, held_out=None) -> str:
    """The HTML report of a fitted estimator.

    held_out: (X, y, source name) or (X, y, source name, groups) or None.
    """
    from pymc_bnn.reporting import plots

    posterior = model.posterior_
    sections = [Section(
        "What was fitted",
        ["The model file's description: network, likelihood, prior and how it was fitted."],
        tables=[Table([["", ""], *[[k, str(v)] for k, v in summary_rows(
            description, classes=getattr(model, "classes_", None))]])],
    )]
    fit_section = Section(
        "How the fit went",
        tables=[Table([["step", "seconds"],
                       *[[k.removesuffix("_s"), float(v)] for k, v in posterior.timings.items()]],
                      caption="Time per step of the fit.")],
    )
    if posterior.elbo is not None and len(posterior.elbo):
        fit_section.figures.append(Figure(
            figure_png(plots.elbo_trace(posterior.elbo)),
            "The evidence lower bound per step (higher is better). A curve still climbing at "
            "the end means more steps would help.", "ELBO trace"))
    if posterior.diagnostics:
        fit_section.paragraphs.append(f"Diagnostics: {posterior.diagnostics}")
    sections.append(fit_section)
    if held_out is not None:
        X, y, source, *groups = held_out
        rows, figures, table = held_out_scores(model, X, y, *groups)
        sections.append(Section(
            "Held-out performance",
            [f"Scores on {len(y):,} rows of {source}, which the model did not see when fitted."],
            tables=[Table([["metric", "value"], *rows])] + ([table] if table else []),
            figures=figures,
        ))
    from pymc_bnn.reporting.stability_report import report_section

    sections.append(report_section(model, held_out))
    notes = description.get("notes", {})
    title = f"pymc-bnn model: {type(model).__name__}"
    if notes.get("target"):
        title += f" of {notes['target']}"
    return render_html(title, sections, subtitle=f"created {description.get('created', '')}")
