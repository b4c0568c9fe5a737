"""User tables in and out: reading a CSV or Parquet file, taking the target and group columns
from it, matching a saved model's feature columns, and the table of predictions with their
uncertainty. The CLI's `fit`, `predict` and `report` use these; errors name the column or file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pymc_bnn.errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | Path):
    """A CSV (any other suffix) or Parquet (.parquet, .pq) file as a DataFrame, or
    InvalidInputError saying why it cannot be read."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"no data file at {path}; check the path")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        table = pd.read_parquet(path) if parquet else pd.read_csv(path, sep=sep)
        # pandas renames a repeated CSV header (a, a.1): compare the header as written
        header = ([str(c) for c in table.columns] if parquet else
                  [str(c) for c in pd.read_csv(path, sep=sep, header=None, nrows=1,
                                               dtype=str).iloc[0].tolist()])
    except Exception as exc:  # parser, encoding and Arrow errors all mean "not a readable table"
        kind = "Parquet" if parquet else "CSV"
        raise InvalidInputError(
            f"cannot read {path} as {kind} ({type(exc).__name__}: {str(exc).splitlines()[0][:150]}); "
            "pass a CSV with a header row or a .parquet file"
        ) from None
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InvalidInputError(
            f"{path} repeats column name(s) {', '.join(repeated)}; give every column its own "
            "name (the CLI picks columns by name)"
        )
    if table.shape[0] == 0:
        raise InvalidInputError(f"{path} has no rows; pass a table with data")
    return table


def is_parquet(path) -> bool:
    """A Parquet file (by its suffix) or a folder (of Parquet files)."""
    path = Path(path)
    return path.suffix.lower() in PARQUET_SUFFIXES or path.is_dir()


def target_sample(path, target: str):
    """The distinct values of column `target` of a Parquet file or folder as a pandas Series
    (read one batch at a time, stopping past `MAX_CLASS_LABELS` values): enough for
    `choose_estimator` to tell labels from numbers without reading the column whole."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from pymc_bnn.data import open_parquet
    from pymc_bnn.data.sources import read_parquet_batches
    from pymc_bnn.defaults import MAX_CLASS_LABELS

    seen = None
    for batch in read_parquet_batches(open_parquet(path), [target]):
        values = pc.unique(batch.column(0))
        seen = values if seen is None else pc.unique(pa.concat_arrays([seen, values]))
        if len(seen) > MAX_CLASS_LABELS:
            break
    return seen.to_pandas() if seen is not None else None


def split_target(table, target: str, source):
    """(features DataFrame, target Series) or InvalidInputError naming the missing column."""
    if target not in table.columns:
        raise InvalidInputError(
            f"{source} has no column {target!r}; its columns are: "
            f"{', '.join(map(str, table.columns))}"
        )
    y = table[target]
    if y.isna().any():
        rows = np.flatnonzero(y.isna().to_numpy())
        raise InvalidInputError(
            f"the target column {target!r} is empty in {rows.size} row(s) (first: row {rows[0]}); "
            "drop those rows or fill them in"
        )
    return table.drop(columns=[target]), y


def choose_estimator(X, y, likelihood: str, *, categorical=(), ordinal=(), source="X"):
    """(estimator class, its likelihood parameter, `LikelihoodChoice`) for target `y`, the
    feature table `X` (None: a streamed table, judged by its target alone) and --likelihood.

    "auto" and "count" follow `pymc_bnn.model.likelihood_choice.choose_likelihood` (text or
    few whole-number labels: a classifier; whole numbers ≥ 0 near zero, or "count": Poisson, or
    negative binomial when a Poisson GLM on the encoded features is overdispersed; the rest:
    gaussian); any other name is used as asked.
    """
    from pymc_bnn.model.likelihood_choice import LikelihoodChoice, choose_likelihood
    from pymc_bnn.sklearn import (
        CLASSIFIER_LIKELIHOODS,
        BayesianMLPClassifier,
        BayesianMLPRegressor,
    )

    if likelihood not in ("auto", "count"):
        choice = LikelihoodChoice(likelihood in CLASSIFIER_LIKELIHOODS, likelihood,
                                  f"{likelihood}, as asked (--likelihood {likelihood})")
    else:
        choice = choose_likelihood(
            y, None if X is None else _encoded(X, categorical, ordinal, source),
            counts=likelihood == "count")
    return (BayesianMLPClassifier if choice.classifier else BayesianMLPRegressor,
            choice.likelihood, choice)


def _encoded(X, categorical, ordinal, source):
    """X encoded as the estimator will (missing values imputed), for the dispersion test;
    errors (dates, identifier-like text) name `source`."""
    from pymc_bnn.encoding import build_transformer, encode, learn_encoding

    encoding = learn_encoding(X, categorical=categorical, ordinal=ordinal, name=str(source))
    return encode(build_transformer(encoding), encoding, X)


def check_columns(table, source, **roles) -> None:
    """InvalidInputError naming the columns a role (--exclude, --id, …) gives that `table`
    lacks, and the columns it has."""
    for option, names in roles.items():
        unknown = [c for c in names if c not in table.columns]
        if unknown:
            raise InvalidInputError(
                f"--{option} names column(s) {source} does not have: {', '.join(unknown)}; its "
                f"columns are: {', '.join(map(str, table.columns))}")


def split_groups(X, column: str | None, source):
    """(X without the group column, its labels as a list) or (X, None) without --groups;
    InvalidInputError naming the column when it is missing."""
    if column is None:
        return X, None
    if column not in X.columns:
        raise InvalidInputError(
            f"{source} has no group column {column!r}; its columns are: "
            f"{', '.join(map(str, X.columns))}"
        )
    return X.drop(columns=[column]), X[column].tolist()


def model_features(model, table, source) -> tuple[list[str], list[str]]:
    """(the model's feature columns, DATA's other columns), or InvalidInputError naming the
    missing ones."""
    features = [str(c) for c in getattr(model, "feature_names_in_", [])]
    columns = [str(c) for c in (table.columns if hasattr(table, "columns") else table.names)]
    missing = [c for c in features if c not in columns]
    if missing:
        raise InvalidInputError(
            f"{source} lacks column(s) the model was fitted on: {', '.join(missing)}; "
            f"the model needs {', '.join(features)}"
        )
    return features, [c for c in columns if c not in features]


def prediction_table(model, X, level: float = 0.9, groups=None):
    """Predictions at X (DataFrame of the model's features) with uncertainty columns.

    From `estimator.uncertainty` (`pymc_bnn.posterior.uncertainty.predictive_summary`). Classifier:
    `prediction` (most probable label), `p_<label>` per class (predictive probability), then
    `predictive_entropy` (total), `expected_entropy` (aleatoric), `mutual_information`
    (epistemic), all nats, and `variation_ratio`. Regressor: `prediction` (predictive mean),
    `sd` (total predictive sd) = `aleatoric_sd` (noise) and `epistemic_sd` (weights) added as
    variances, and `lower`/`upper`, the central `level` predictive interval. `groups`: each
    row's group label, for models fitted with groups.
    """
    import pandas as pd

    summary = model.uncertainty(X, level=level, **({} if groups is None else {"groups": groups}))
    if "probability" in summary:
        columns = {"prediction": summary["predicted_class"].values}
        for k, label in enumerate(summary["class"].values):
            columns[f"p_{label}"] = summary["probability"].values[:, k]
        skip = {"predicted_class"}
    else:
        columns = {"prediction": summary["mean"].values}
        skip = {"mean"}
    for name, variable in summary.data_vars.items():
        if variable.dims == ("obs",) and name not in skip:
            columns[name] = variable.values
    return pd.DataFrame(columns)
