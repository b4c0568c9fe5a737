"""The report's sections on data with the target: predictive check, calibration, uncertainty.

Given a fitted estimator and rows with their observed target, `data_sections` builds four
`Section`s of `pymc-bnn report`: a posterior predictive check (classifiers: observed class
shares against shares in data sets replicated from the posterior; regression and counts: the
observed distribution against replicated values, with summary statistics), calibration
(reliability for classifiers, interval coverage by level for regressors), the distribution of
the predictive uncertainty split into aleatoric and epistemic, and the rows the model is least
sure of. Class names, never codes.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.reporting.html import Figure, Section, Table, figure_png

# Replicated data sets for the predictive check: the 5% and 95% quantiles of a share from 200
# replications move by about 0.01 between seeds on a few hundred rows.
REPLICATIONS = 200
# Rows listed in "Rows the model is least sure of".
LEAST_SURE_ROWS = 10
# Interval levels whose coverage a regressor's calibration shows.
COVERAGE_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

PPC_TITLE = "Posterior predictive check"
CALIBRATION_TITLE = "Calibration"
UNCERTAINTY_TITLE = "Predictive uncertainty on the data"
LEAST_SURE_TITLE = "Rows the model is least sure of"


def is_count_model(model) -> bool:
    """Whether `model` was fitted with a count likelihood (poisson or negative_binomial).

    Parameters
    ----------
    model : BayesianMLPClassifier or BayesianMLPRegressor
        A fitted estimator.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_count_model(classifier)
    False
    """
    from pymc_bnn.model.likelihoods import NegativeBinomial, Poisson

    return isinstance(model.posterior_.likelihood, Poisson | NegativeBinomial)


def data_sections(model, X, y, source: str, groups=None, *, random_seed: int = 0) -> list[Section]:
    """The predictive check, calibration, uncertainty and least-sure sections on X, y.

    Parameters
    ----------
    model : BayesianMLPClassifier or BayesianMLPRegressor
        A fitted estimator.
    X : array-like or DataFrame
        `(n_obs, n_features)` rows as the estimator takes them; a DataFrame's index labels the
        rows in the least-sure table.
    y : array-like
        `(n_obs,)` observed targets.
    source : str
        Where the rows come from, for the text.
    groups : sequence, optional
        Each row's group, for models fitted with groups.
    random_seed : int
        Seed of the replicated data sets.

    Returns
    -------
    list of Section
        In the order above.

    Examples
    --------
    >>> sections = data_sections(classifier, tiny_data.X_test, tiny_data.y_test, "test rows")
    >>> [section.title for section in sections]
    ['Posterior predictive check', 'Calibration', 'Predictive uncertainty on the data',
     'Rows the model is least sure of']
    """
    by_group = {} if groups is None else {"groups": list(groups)}
    rng = np.random.default_rng(random_seed)
    rows = np.asarray(X.index) if hasattr(X, "index") else np.arange(len(y))
    if hasattr(model, "classes_"):
        return _classifier_sections(model, X, np.asarray(y), source, by_group, rng, rows)
    return _regressor_sections(model, X, np.asarray(y, dtype=np.float64), source, by_group, rng,
                               rows)


# --------------------------------------------------------------------------- classifiers


def _classifier_sections(model, X, y, source, by_group, rng, rows) -> list[Section]:
    from pymc_bnn.posterior.classification_metrics import reliability_bins
    from pymc_bnn.reporting.calibration_plots import reliability_diagram
    from pymc_bnn.reporting.predictive_check_plots import class_frequency_check

    classes = model.classes_
    names = [str(c) for c in classes]
    summary = model.uncertainty(X, **by_group)
    proba = summary["probability"].values
    probs = model.predictive_draws(X, max_draws=REPLICATIONS, **by_group)["probs"]
    replicated = replicate_class_shares(probs, rng)
    observed = np.array([(y.astype(str) == name).mean() for name in names])
    low, high = np.quantile(replicated, [0.05, 0.95], axis=0)
    outside = [name for name, o, lo, hi in zip(names, observed, low, high, strict=True)
               if not lo <= o <= hi]
    ppc = Section(PPC_TITLE, [
        f"{replicated.shape[0]} data sets of {len(y):,} labels were replicated from the "
        f"posterior (one posterior draw each) at the inputs of {source} and compared with the "
        "observed labels. " + (
            "Every observed class share lies inside the central 90% of the replicated shares."
            if not outside else
            f"Observed shares outside the central 90% of the replicated ones: "
            f"{', '.join(outside)}; the model misjudges how common these classes are.")],
        tables=[Table([["class", "observed share", "mean predicted probability",
                        "replicated 5%", "replicated 95%"],
                       *[[name, float(o), float(p), float(lo), float(hi)] for name, o, p, lo, hi
                         in zip(names, observed, proba.mean(axis=0), low, high, strict=True)]],
                      caption="Shares of rows per class: observed, and in the replicated data.")],
        figures=[Figure(figure_png(class_frequency_check(names, observed, replicated)),
                        "Grey bars: observed shares; points and lines: median and central 90% "
                        "of the shares in the replicated data sets.", "Class shares")])
    bins = reliability_bins(y, proba, classes=classes)
    filled = bins.count > 0
    calibration = Section(CALIBRATION_TITLE, [
        "Among the rows whose predicted class has probability about p, a calibrated model is "
        f"right about a share p of the time. Expected calibration error: {bins.ece:.3f} "
        "(the row-weighted mean gap between confidence and accuracy)."],
        tables=[Table([["confidence bin", "rows", "mean confidence", "accuracy"],
                       *[[f"{lo:.2f}–{hi:.2f}", int(n), float(c), float(a)] for lo, hi, n, c, a
                         in zip(bins.edges[:-1][filled], bins.edges[1:][filled],
                                bins.count[filled], bins.confidence[filled],
                                bins.accuracy[filled], strict=True)]],
                      caption="Reliability per bin of the top-class probability.")],
        figures=[Figure(figure_png(reliability_diagram(y, proba, classes=classes)),
                        "Accuracy against the top-class predictive probability, per bin. Bars "
                        "below the diagonal mean the model is over-confident there.",
                        "Reliability diagram")])
    parts = {"total": summary["predictive_entropy"].values,
             "aleatoric": summary["expected_entropy"].values,
             "epistemic": summary["mutual_information"].values}
    uncertainty = _uncertainty_section(
        parts, "nats", f"Predictive entropy of each row of {source} (total uncertainty, nats), "
        "split into the expected entropy under each posterior draw (aleatoric: the classes "
        "overlap there) and the mutual information between label and weights (epistemic: the "
        "draws disagree; more data would reduce it). Total = aleatoric + epistemic.")
    order = np.argsort(-parts["total"], kind="stable")[:LEAST_SURE_ROWS]
    predicted = proba.argmax(axis=1)
    least = Section(LEAST_SURE_TITLE, [
        f"The {len(order)} rows of {source} with the largest predictive entropy."],
        tables=[Table([["row", "observed", "predicted", "probability of predicted",
                        "total (nats)", "aleatoric", "epistemic"],
                       *[[str(rows[i]), str(y[i]), names[predicted[i]],
                          float(proba[i, predicted[i]]), float(parts["total"][i]),
                          float(parts["aleatoric"][i]), float(parts["epistemic"][i])]
                         for i in order]],
                      caption="row: the row's label in the data (its index, from 0).")])
    return [ppc, calibration, uncertainty, least]


def replicate_class_shares(probs, rng) -> np.ndarray:
    """Class shares of data sets replicated from per-draw class probabilities.

    Parameters
    ----------
    probs : numpy.ndarray
        `(S, n_obs, n_classes)` class probabilities, one posterior draw per row of S.
    rng : numpy.random.Generator
        Source of the replicated labels.

    Returns
    -------
    numpy.ndarray
        `(S, n_classes)`: for each draw, the share of each class among `n_obs` labels drawn
        from that draw's probabilities.

    Examples
    --------
    >>> probs = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]])
    >>> replicate_class_shares(probs, np.random.default_rng(0))
    array([[0.25, 0.75]])
    """
    probs = np.asarray(probs, dtype=np.float64)
    n_draws, n_obs, n_classes = probs.shape
    uniform = rng.random((n_draws, n_obs, 1))
    labels = np.minimum((probs.cumsum(axis=-1) < uniform).sum(axis=-1), n_classes - 1)
    counts = np.stack([np.bincount(row, minlength=n_classes) for row in labels])
    return counts / n_obs


# --------------------------------------------------------------------------- regression, counts


def _regressor_sections(model, X, y, source, by_group, rng, rows) -> list[Section]:
    from pymc_bnn.posterior.regression_metrics import coverage_by_level
    from pymc_bnn.reporting.calibration_plots import coverage_curve
    from pymc_bnn.reporting.predictive_check_plots import replicated_distribution

    counts = is_count_model(model)
    summary = model.uncertainty(X, level=list(COVERAGE_LEVELS), **by_group)
    # one data set per posterior draw (not `uncertainty`'s samples, whose rows pick their draws
    # independently and so average the draws' common errors out of every data set's statistics)
    replicated = replicate_values(
        model.predictive_draws(X, max_draws=REPLICATIONS, **by_group), rng)
    statistics = replicated_statistics(y, replicated, counts=counts)
    ppc = Section(PPC_TITLE, [
        f"{replicated.shape[0]} data sets of {len(y):,} values were replicated from the "
        f"posterior predictive (one posterior draw each) at the inputs of {source}. A "
        "statistic of the observed data far in a tail of the replicated ones (share of "
        "replications at least as large near 0 or 1) is something the model does not "
        "reproduce."],
        tables=[Table([["statistic", "observed", "replicated median", "replicated 5%",
                        "replicated 95%", "share of replications ≥ observed"], *statistics])],
        figures=[Figure(figure_png(replicated_distribution(y, replicated, discrete=counts)),
                        "The observed target (black outline) over the values replicated from "
                        "the posterior predictive (blue).", "Observed and replicated values")])
    levels, observed = coverage_by_level(y, summary)
    kind = "count intervals (whole numbers)" if counts else "intervals"
    calibration = Section(CALIBRATION_TITLE, [
        f"Share of the observed values inside the central predictive {kind} of each level. "
        "Below the nominal level: intervals too narrow (over-confident); above: too wide."],
        tables=[Table([["nominal level", "observed coverage"],
                       *[[f"{lv:.0%}", float(ob)] for lv, ob in zip(levels, observed,
                                                                   strict=True)]])],
        figures=[Figure(figure_png(coverage_curve(levels, observed)),
                        "Observed against nominal coverage of the central predictive intervals.",
                        "Interval coverage")])
    parts = {"total": summary["sd"].values, "aleatoric": summary["aleatoric_sd"].values,
             "epistemic": summary["epistemic_sd"].values}
    uncertainty = _uncertainty_section(
        parts, "target units", f"Predictive sd of each row of {source} (total), split into the "
        "noise of the likelihood (aleatoric) and the spread of the mean over posterior draws "
        "(epistemic: more data would reduce it). Variances add: total² = aleatoric² + "
        "epistemic².", variance=True)
    order = np.argsort(-parts["total"], kind="stable")[:LEAST_SURE_ROWS]
    mean = summary["mean"].values
    lower, upper = summary["lower"].values[-1], summary["upper"].values[-1]
    least = Section(LEAST_SURE_TITLE, [
        f"The {len(order)} rows of {source} with the largest predictive sd."],
        tables=[Table([["row", "observed", "predicted mean", "90% lower", "90% upper",
                        "total sd", "aleatoric sd", "epistemic sd"],
                       *[[str(rows[i]), float(y[i]), float(mean[i]), float(lower[i]),
                          float(upper[i]), float(parts["total"][i]),
                          float(parts["aleatoric"][i]), float(parts["epistemic"][i])]
                         for i in order]],
                      caption="row: the row's label in the data (its index, from 0).")])
    return [ppc, calibration, uncertainty, least]


def replicate_values(draws: dict, rng, n_sets: int = REPLICATIONS) -> np.ndarray:
    """Data sets replicated from the posterior predictive, each from one posterior draw.

    Data set r takes posterior draw r mod S for every row and draws each row's value from the
    likelihood with that draw's parameters: y_rep ~ p(y | θ_s), θ_s ~ p(θ | data), as a posterior
    predictive check needs (Gelman et al., BDA3 §6.3). Statistics of a data set (its mean, sd,
    quantiles) then vary as much as the draws disagree, not only by the noise.

    Parameters
    ----------
    draws : dict of str to numpy.ndarray
        `Posterior.predictive_draws(X)` (or an estimator's) of a regression or count
        likelihood, each `(S, n_obs)`.
    rng : numpy.random.Generator
        Source of the replicated values.
    n_sets : int, default REPLICATIONS
        Data sets to replicate; the draws are reused in turn when there are fewer.

    Returns
    -------
    numpy.ndarray
        `(n_sets, n_obs)`, one replicated data set per row.

    Examples
    --------
    Two draws that put every row at -10 or at +10, with noise sd 1: each data set sits around
    one of them, never half and half.

    >>> draws = {"mean": np.array([[-10.0] * 50, [10.0] * 50]), "scale": np.ones((2, 50))}
    >>> sets = replicate_values(draws, np.random.default_rng(0), n_sets=4)
    >>> sets.shape, np.round(sets.mean(axis=1)).tolist()
    ((4, 50), [-10.0, 10.0, -10.0, 10.0])
    """
    from pymc_bnn.posterior.mixture_reference import noise_distribution

    draws = {k: np.asarray(v, dtype=np.float64) for k, v in draws.items()}
    n_draws, n_obs = draws["mean"].shape
    index = np.arange(int(n_sets)) % n_draws
    picked = {k: np.broadcast_to(v, (n_draws, n_obs))[index] for k, v in draws.items()}
    return np.asarray(noise_distribution(picked).rvs(random_state=rng), dtype=np.float64)


def replicated_statistics(y, replicated, *, counts: bool = False) -> list[list]:
    """Rows of (statistic, observed, replicated median, 5%, 95%, share of replications ≥ observed).

    Parameters
    ----------
    y : numpy.ndarray
        `(n_obs,)` observed values.
    replicated : numpy.ndarray
        `(S, n_obs)`, one replicated data set per row.
    counts : bool
        Add the share of zeros (count targets).

    Returns
    -------
    list of list
        One row per statistic: mean, sd, 5%, 50% and 95% quantiles (and share of zeros).

    Examples
    --------
    >>> rows = replicated_statistics(np.array([0.0, 1.0]), np.array([[0.0, 1.0], [0.0, 3.0]]))
    >>> rows[0]
    ['mean', 0.5, 1.0, 0.55, 1.45, 1.0]
    """
    statistics = {"mean": lambda v: v.mean(axis=-1), "sd": lambda v: v.std(axis=-1),
                  "5% quantile": lambda v: np.quantile(v, 0.05, axis=-1),
                  "median": lambda v: np.quantile(v, 0.5, axis=-1),
                  "95% quantile": lambda v: np.quantile(v, 0.95, axis=-1)}
    if counts:
        statistics["share of zeros"] = lambda v: (v == 0).mean(axis=-1)
    out = []
    for name, statistic in statistics.items():
        observed, replicas = float(statistic(y)), statistic(replicated)
        low, mid, high = np.quantile(replicas, [0.05, 0.5, 0.95])
        out.append([name, observed, float(mid), float(low), float(high),
                    float((replicas >= observed).mean())])
    return out


# --------------------------------------------------------------------------- shared


def _uncertainty_section(parts: dict, unit: str, text: str, *, variance: bool = False) -> Section:
    """Distribution of the total uncertainty and its parts: a table of quantiles and histograms."""
    from pymc_bnn.reporting.predictive_check_plots import uncertainty_split

    total, epistemic = parts["total"], parts["epistemic"]
    share = (float(np.mean(epistemic**2) / max(np.mean(total**2), 1e-300)) if variance
             else float(np.mean(epistemic) / max(np.mean(total), 1e-300)))
    what = "variance" if variance else "entropy"
    return Section(UNCERTAINTY_TITLE, [
        text, f"On average {share:.0%} of the predictive {what} is epistemic."],
        tables=[Table([["part", f"mean ({unit})", "median", "90% of rows below"],
                       *[[name, float(np.mean(v)), float(np.median(v)),
                          float(np.quantile(v, 0.9))] for name, v in parts.items()]])],
        figures=[Figure(figure_png(uncertainty_split(parts, unit=unit)),
                        "How many rows have each amount of uncertainty, total and by part.",
                        "Uncertainty per row")])
