"""One prediction path: every probability a user sees comes from `Posterior.predict`.

`predict_proba`, `Posterior.predict`, `uncertainty()` and the table `pymc-bnn predict` writes give
bit-identical probabilities, for a plain fit and for a hierarchical one (whose groups are draw
sets of the same compiled function, `Posterior.draw_sets`).
"""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import BayesianMLPClassifier, save
from pymc_bnn.cli import main
from pymc_bnn.posterior.uncertainty import as_class_probabilities

QUICK = dict(hidden_layer_sizes=(4,), method="advi", steps=300, draws=50,
             engine_options={"tol": 0, "restarts": 1}, random_state=0)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(160, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 + 0.3 * rng.normal(size=160) > 0.4, "yes", "no")
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        store=np.arange(160) % 4, label=y)


@pytest.mark.slow  # fits of several seconds
@pytest.mark.parametrize("grouped", [False, True], ids=["plain", "grouped"])
def test_every_face_gives_the_same_probabilities_bit_for_bit(table, tmp_path, grouped):
    train, new = table.iloc[:120], table.iloc[120:].drop(columns="label")
    features = ["a", "b", "c"]
    groups = {"groups": train["store"].tolist()} if grouped else {}
    new_groups = {"groups": new["store"].tolist()} if grouped else {}
    model = BayesianMLPClassifier(**QUICK).fit(train[features], train["label"], **groups)

    by_estimator = model.predict_proba(new[features], **new_groups)
    inputs = model.posterior_inputs(new[features])
    by_posterior = as_class_probabilities(
        model.posterior_.predict(inputs, **new_groups)["mean"].values)
    by_uncertainty = model.uncertainty(new[features], **new_groups)["probability"].values
    np.testing.assert_array_equal(by_posterior, by_estimator)
    np.testing.assert_array_equal(by_uncertainty, by_estimator)

    # as `pymc-bnn fit --groups store` records it, so `predict` reads each row's group
    save(model, tmp_path / "m.bnn.nc", notes={"groups": "store"} if grouped else None)
    new.to_csv(tmp_path / "new.csv", index=False)
    command = ["predict", str(tmp_path / "m.bnn.nc"), str(tmp_path / "new.csv"),
               "--out", str(tmp_path / "p.csv"), "--quiet"]
    assert main(command) == 0
    table_written = pd.read_csv(tmp_path / "p.csv")
    by_cli = table_written[[f"p_{label}" for label in model.classes_]].to_numpy()
    np.testing.assert_array_equal(by_cli, by_estimator)
    assert by_estimator.dtype == np.float64 and np.isfinite(by_estimator).all()
