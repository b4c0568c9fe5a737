"""A fitted model against a user's table: the feature columns it reads, the predictions it writes.

For the CLI's `predict`, `report` and `stability`: matching a saved model's feature columns with
DATA's (an error names the columns DATA lacks, and a header that differs only in case or spaces),
and the table of predictions with their uncertainty, one row per row of DATA.
"""

from __future__ import annotations

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.validation import shown as shown_values


def model_features(model, table, source) -> tuple[list[str], list[str]]:
    """Match a saved model's feature columns with the columns of DATA.

    Parameters
    ----------
    model : estimator
        A fitted estimator; its `feature_names_in_` are the columns needed. An estimator
        fitted on an array has none: its table encoding names the columns "x0", "x1" … (as
        the estimator names an array's), and DATA must have those.
    table : pandas.DataFrame or list of str
        DATA, or the columns of a Parquet file (`pymc_bnn.data.parquet_files.table_columns`).
    source : str or pathlib.Path
        What the message calls DATA (its path).

    Returns
    -------
    tuple of (list of str, list of str)
        The model's feature columns in the model's order, and DATA's other columns (copied to
        the predictions by `pymc-bnn predict`).

    Raises
    ------
    InvalidInputError
        Naming the columns DATA lacks (and a column of DATA that differs from one only in case
        or spaces), and every column the model needs.

    Examples
    --------
    Any object with `feature_names_in_` stands in for a fitted estimator here:

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(feature_names_in_=["bill_mm", "mass_g"])
    >>> rows = pd.DataFrame({"id": [7], "mass_g": [3750], "bill_mm": [39.1]})
    >>> model_features(model, rows, "new.csv")
    (['bill_mm', 'mass_g'], ['id'])
    >>> model_features(model, rows[["id", "mass_g"]], "new.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: new.csv lacks 1 column the model was fitted on: bill_mm; ...
    """
    named = hasattr(model, "feature_names_in_")
    encoding = getattr(model, "table_encoding_", None) or {}
    features = [str(c) for c in (model.feature_names_in_ if named
                                 else encoding.get("columns", []))]
    columns = [str(c) for c in (table.columns if hasattr(table, "columns") else table)]
    missing = [c for c in features if c not in columns]
    if missing:
        unnamed = ("" if named else f" (it was fitted on an array: its columns are called "
                   f"{features[0]} … {features[-1]} here; name DATA's columns so)")
        # a header that differs only in case or spaces ('Age', 'age '): the user sees it there
        alike = {m: next((c for c in columns if c not in features
                          and c.strip().casefold() == m.strip().casefold()), None)
                 for m in missing}
        lacks = shown_values([m if alike[m] is None else f"{m} (it has {alike[m]!r}, the same "
                              f"but for case or spaces: rename it {m!r})" for m in missing],
                             _NAMES_SHOWN, count=True)
        needs = (f"the model needs {', '.join(features)}" if len(features) <= _NAMES_SHOWN
                 else f"the model needs {len(features)} columns (pymc-bnn info MODEL lists "
                      "them)")
        count = f"{len(missing)} {'column' if len(missing) == 1 else 'columns'}"
        raise InvalidInputError(
            f"{source} lacks {count} the model was fitted on: {lacks}; {needs}{unnamed}")
    return features, [c for c in columns if c not in features]


# Column names listed in a message at most: a wide table's whole header is not read on a terminal.
_NAMES_SHOWN = 12


def prediction_table(model, X, level: float | None = None, groups=None):
    """Predictions at X (DataFrame of the model's features), with interval columns on request.

    Classifier: `prediction` (most probable label) and `p_<label>` per class (predictive
    probability), the estimator's `predict_proba` (one compiled pass). With `level`, from
    `estimator.uncertainty` (`pymc_bnn.posterior.uncertainty.predictive_summary`) also
    `p_<label>_lower`/`_upper` (the central `level` interval of each probability over draws),
    `predictive_entropy` (total), `expected_entropy` (aleatoric), `mutual_information`
    (epistemic), all nats, and `variation_ratio`. Regressor: `prediction` (predictive mean),
    `sd` (total predictive sd) = `aleatoric_sd` (noise) and `epistemic_sd` (weights) added as
    variances, and with `level` `lower`/`upper`, the central `level` predictive interval (the
    quantiles of the predictive mixture, most of the work, hence on request). The columns
    computed either way hold the same numbers.

    Parameters
    ----------
    model : BayesianMLPClassifier, BayesianMLPRegressor or SavedEstimator
        A fitted estimator, or one read from its file without scikit-learn
        (`pymc_bnn.io.saved_estimator`).
    X : pandas.DataFrame or array-like
        The rows to predict, the model's features only.
    level : float, optional
        Probability of the interval columns; None (default): no intervals (and for a
        classifier no entropies, which need every draw).
    groups : sequence, optional
        Each row's group label, for models fitted with groups.

    Returns
    -------
    pandas.DataFrame
        One row per row of `X`, with the columns above.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(4, 3))
    >>> list(prediction_table(fitted_classifier, X).columns)
    ['prediction', 'p_no', 'p_yes']
    >>> table = prediction_table(fitted_classifier, X, level=0.9)
    >>> table.shape
    (4, 11)
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['prediction', 'p_no', 'p_yes', 'p_no_lower', 'p_yes_lower', 'p_no_upper', 'p_yes_upper',
     'predictive_entropy', 'expected_entropy', 'mutual_information', 'variation_ratio']
    >>> list(prediction_table(fitted_regressor, X).columns)
    ['prediction', 'sd', 'aleatoric_sd', 'epistemic_sd']
    >>> list(prediction_table(fitted_regressor, X, level=0.8).columns)
    ['prediction', 'sd', 'aleatoric_sd', 'epistemic_sd', 'lower', 'upper']
    """
    import pandas as pd

    options = {} if groups is None else {"groups": groups}
    classifier = hasattr(model, "classes_")
    if classifier and level is None:  # `predict_proba` alone: no per-draw pass
        probability = model.predict_proba(X, **options)
        columns = {"prediction": model.classes_[probability.argmax(axis=1)]}
        for k, label in enumerate(model.classes_):
            columns[f"p_{label}"] = probability[:, k]
        return pd.DataFrame(columns)
    summary = model.uncertainty(X, level=level, **options)
    if classifier:
        columns = {"prediction": summary["predicted_class"].values}
        labels = summary["class"].values
        for name, suffix in (("probability", ""), ("probability_lower", "_lower"),
                             ("probability_upper", "_upper")):
            for k, label in enumerate(labels if name in summary else ()):
                columns[f"p_{label}{suffix}"] = summary[name].values[:, k]
        skip = {"predicted_class"}
    else:
        columns = {"prediction": summary["mean"].values}
        skip = {"mean"}
    for name, variable in summary.data_vars.items():
        if variable.dims == ("obs",) and name not in skip:
            columns[name] = variable.values
    return pd.DataFrame(columns)
