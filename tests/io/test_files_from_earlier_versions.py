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
