"""Model files written by earlier pymc-bnn versions still load and predict as they did.

`files/*_v1.bnn.nc` were written at commit 23072ed (before `ModelRecord`): a grouped regression
`Posterior` (partial pooling, biases, named features) and a three-class
`BayesianMLPClassifier` with string labels, each fitted for 200 ADVI steps with 6 draws;
`expected_v1.npz` holds the inputs and the predictions that code made from them.
"""

from pathlib import Path

import numpy as np
import pytest

from pymc_bnn import BayesianMLPClassifier, Posterior, load
from pymc_bnn.model.likelihoods import Categorical, Gaussian

FILES = Path(__file__).parent / "files"


@pytest.fixture(scope="module")
def expected():
    return np.load(FILES / "expected_v1.npz")


def test_grouped_posterior_written_before_the_model_record_loads(expected):
    posterior = load(FILES / "grouped_posterior_v1.bnn.nc")
    assert isinstance(posterior, Posterior)
    assert posterior.feature_names == ("height", "width")
    assert posterior.spec.hidden == (3,) and posterior.spec.bias
    assert isinstance(posterior.likelihood, Gaussian)
    assert posterior.likelihood_params == ("sigma",)
    assert posterior.groups["pooling"] == "partial"
    assert set(posterior.preprocessing) >= {"y_mean", "y_scale"}
    assert posterior.method == "advi" and posterior.n_draws == 6
    mean = posterior.predict(expected["X"], groups=expected["groups"])["mean"].values
    np.testing.assert_allclose(mean, expected["posterior_mean"], rtol=1e-6, atol=1e-7)  # float32 path


def test_classifier_written_before_the_model_record_loads(expected):
    classifier = load(FILES / "classifier_v1.bnn.nc")
    assert isinstance(classifier, BayesianMLPClassifier)
    assert list(classifier.classes_) == ["high", "low", "mid"]
    assert isinstance(classifier.posterior_.likelihood, Categorical)
    np.testing.assert_allclose(classifier.predict_proba(expected["X"]),
                               expected["classifier_proba"], rtol=1e-6, atol=1e-7)  # float32 path


@pytest.mark.parametrize("name", ["grouped_posterior_v1.bnn.nc", "classifier_v1.bnn.nc"])
def test_read_summary_gives_what_load_gives_without_the_draws(name):
    """`pymc-bnn info` reads the description group only; its numbers are load's."""
    from pymc_bnn.io import read_description
    from pymc_bnn.io.model_file_reader import read_summary

    loaded = load(FILES / name)
    posterior = getattr(loaded, "posterior_", loaded)
    description, record = read_summary(FILES / name)
    assert description == read_description(FILES / name)
    assert record["method"] == posterior.method and record["settings"] == posterior.settings
    assert record["diagnostics"] == posterior.diagnostics
    assert record["interrupted"] == posterior.interrupted
    np.testing.assert_array_equal(record["elbo"], posterior.elbo)
    classes = getattr(loaded, "classes_", None)
    assert (record["classes"] is None) == (classes is None)
    if classes is not None:
        assert list(record["classes"]) == list(classes)


def test_info_shows_a_posterior_file(capsys):
    """A file holding a Posterior (no estimator) is shown too, with its groups."""
    from pymc_bnn.cli import main

    assert main(["info", str(FILES / "grouped_posterior_v1.bnn.nc")]) == 0
    shown = capsys.readouterr().out
    assert "Posterior" in shown and "partial pooling over 3 groups" in shown
