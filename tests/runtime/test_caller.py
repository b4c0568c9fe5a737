"""Warnings name the line of the code that called pymc-bnn, however deep the call went.

A fixed stacklevel put a non-converged estimator fit's warning at `classifier.py` or
`sklearn/base.py` (scikit-learn's fit wrapper), and a GridSearchCV's at joblib's lines.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import BayesianMLPClassifier, BayesianMLPRegressor, build_model, fit
from pymc_bnn._runtime.caller import library_prefixes, warn_caller
from pymc_bnn.errors import ConvergenceWarning, UnseenCategoryWarning


def _said_here(caught, category):
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__} was said"
    return {w.filename for w in found} == {__file__}


def test_the_prefixes_hold_pymc_bnn_scikit_learn_and_joblib():
    from pathlib import Path

    import joblib
    import sklearn

    import pymc_bnn

    prefixes = library_prefixes()
    for package in (pymc_bnn, sklearn, joblib):
        assert str(Path(package.__file__).parent) in prefixes


def test_warn_caller_names_this_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_caller("said", RuntimeWarning)
    assert caught[0].category is RuntimeWarning and caught[0].filename == __file__


def test_fit_warns_at_its_caller(moons):
    bnn = build_model(moons.X_train, moons.y_train, hidden=(3,))
    with pytest.warns(ConvergenceWarning) as caught:
        fit(bnn, "laplace", steps=20, draws=20, progress=False)
    assert _said_here(caught, ConvergenceWarning)


def test_an_estimators_convergence_warning_names_the_users_line(moons):
    with pytest.warns(ConvergenceWarning) as caught:
        BayesianMLPClassifier((3,), steps=20, draws=20, random_state=0).fit(moons.X_train,
                                                                            moons.y_train)
    assert _said_here(caught, ConvergenceWarning)


@pytest.mark.slow  # four fits
def test_a_grid_searchs_warnings_name_the_users_line(moons):
    from sklearn.model_selection import GridSearchCV

    # the network alone: a stacked fit's warnings name the caller's line too (test_stacking),
    # at several fits' cost
    search = GridSearchCV(BayesianMLPRegressor((2,), steps=20, draws=20, stack_linear=False,
                                               random_state=0), {"draws": [20]}, cv=2)
    with pytest.warns(ConvergenceWarning) as caught:
        search.fit(moons.X_train, moons.y_train.astype(float))
    assert _said_here(caught, ConvergenceWarning)


def test_predict_and_fit_input_warnings_name_the_users_line(moons):
    X = pd.DataFrame({"x": moons.X_train[:, 0], "colour": np.where(moons.y_train, "red", "blue")})
    labels = np.where(moons.y_train[:60] == 1, "Yes", "yes ")
    with pytest.warns(UserWarning, match="differ only in spaces or case") as caught:
        model = BayesianMLPClassifier((2,), steps=50, draws=20, random_state=0).fit(
            X.iloc[:60], labels)
    assert _said_here([w for w in caught if "spaces or case" in str(w.message)], UserWarning)
    with pytest.warns(UnseenCategoryWarning) as caught:
        model.predict(X.iloc[:5].assign(colour="green"))
    assert _said_here(caught, UnseenCategoryWarning)
