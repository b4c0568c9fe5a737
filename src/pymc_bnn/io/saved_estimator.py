"""A fitted estimator as its model file holds it, for predicting without scikit-learn.

`pymc-bnn predict` answers a few rows in about the time it takes to start: importing
scikit-learn (and the part of SciPy it pulls in) would cost more than the prediction itself.
So the CLI reads an estimator file as a `SavedEstimator` (`decode_with_description(path,
saved_estimator=True)`): the posterior, the estimator's parameters and learned attributes, and
the outputs `pymc_bnn.cli.model_columns.prediction_table` asks for, computed as the estimators
compute them (the table encoding by `pymc_bnn.encoding.apply_encoding`, equal to the
estimators' scikit-learn `ColumnTransformer`; the same posterior passes). The attribute names are
the estimators' (`feature_names_in_`, `classes_`, `posterior_` …), so code written for a fitted
estimator's outputs takes either.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pymc_bnn.encoding import TableEncoding, apply_encoding, as_frame
from pymc_bnn.feature_checks import check_features
from pymc_bnn.model.group_labels import split_group_column
from pymc_bnn.posterior.posterior import Posterior
from pymc_bnn.posterior.uncertainty import (
    as_class_probabilities,
    predictive_summary,
    with_class_labels,
)


@dataclass(frozen=True, eq=False)
class SavedEstimator:
    """A fitted `BayesianMLPClassifier` or `BayesianMLPRegressor` read from a model file.

    Predicts as the estimator does (same encoding, scaling and posterior passes: the same
    numbers) but is not one: it cannot be refitted, and it imports no scikit-learn. Load the
    estimator itself with `pymc_bnn.load`.

    Attributes
    ----------
    class_name : str
        The estimator's class ("BayesianMLPClassifier" or "BayesianMLPRegressor").
    params : dict
        Its constructor parameters, as saved.
    state : dict
        Its learned attributes (`feature_names_in_`, `x_mean_`, `x_scale_`, `classes_`,
        `table_encoding_` …), as saved.
    posterior : Posterior
        The fitted posterior (`posterior_`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pymc_bnn import save
    >>> from pymc_bnn.io.model_file_reader import decode_with_description
    >>> path = save(fitted_classifier, pathlib.Path(tempfile.mkdtemp()) / "m.bnn.nc")
    >>> saved, _ = decode_with_description(path, saved_estimator=True)
    >>> saved.class_name, saved.classes_.tolist()
    ('BayesianMLPClassifier', ['no', 'yes'])
    >>> X = [[0.0, 1.0, 2.0]]
    >>> bool(np.array_equal(saved.predict_proba(X), fitted_classifier.predict_proba(X)))
    True
    """

    class_name: str
    params: dict
    state: dict
    posterior: Posterior

    @property
    def posterior_(self) -> Posterior:
        """The fitted posterior (the estimators' name for it)."""
        return self.posterior

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The input columns the estimator was fitted on, in order.

        AttributeError when it was fitted on an array without names, as on the estimators.
        """
        if "feature_names_in_" not in self.state:
            raise AttributeError(f"this {self.class_name} was fitted without column names")
        return np.asarray(self.state["feature_names_in_"], dtype=object)

    @property
    def table_encoding_(self) -> dict | None:
        """The table encoding as saved (`TableEncoding.to_dict`); None in files from before it."""
        return self.state.get("table_encoding_")

    @cached_property
    def encoding(self) -> TableEncoding | None:
        """`table_encoding_` read once (it is checked and rebuilt from JSON), for every batch."""
        saved = self.table_encoding_
        return None if saved is None else TableEncoding.from_dict(saved)

    @property
    def classes_(self) -> np.ndarray:
        """The class labels; AttributeError for a regressor, as on the estimators."""
        if "classes_" not in self.state:
            raise AttributeError(f"a {self.class_name} has no classes_")
        return np.asarray(self.state["classes_"])

    def posterior_inputs(self, X) -> np.ndarray:
        """X encoded and standardised as the estimator's `posterior_inputs`.

        X is a DataFrame with the fitted columns, or an array with them in order; returns
        float64 `(n_obs, posterior.spec.n_inputs)`.
        """
        encoding = self.encoding
        if encoding is None:  # a file from before the table encoding: numbers only
            values = check_features(X, n_features=len(self.state["x_mean_"]))
        else:
            values = apply_encoding(encoding, as_frame(X, encoding))
        return (values - self.state["x_mean_"]) / self.state["x_scale_"]

    def predict_proba(self, X, groups=None, unseen_groups="population") -> np.ndarray:
        """Posterior predictive class probabilities `(n_obs, n_classes)`, as the classifier's."""
        X, groups = split_group_column(X, groups)
        mean = self.posterior.predict(self.posterior_inputs(X), groups=groups,
                                      unseen_groups=unseen_groups)["mean"]
        return as_class_probabilities(mean.values)

    def uncertainty(self, X, *, level=0.9, **options):
        """`predictive_summary` at X, as the estimators' `uncertainty` (class labels included)."""
        if "groups" in options:
            X, options["groups"] = split_group_column(X, options["groups"])
        summary = predictive_summary(self.posterior, self.posterior_inputs(X), level=level,
                                     **options)
        return with_class_labels(summary, self.classes_) if "classes_" in self.state else summary


__all__ = ["SavedEstimator"]
