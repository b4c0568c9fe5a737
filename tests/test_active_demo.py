"""Active learning pays off on two moons (issue 8's headline), and `pymc-bnn active` reports it."""

import json

import numpy as np
import pytest

from pymc_bnn.active import BNNFitter
from pymc_bnn.cli import main
from pymc_bnn.demo_active import ActiveDemoSettings, run_active_demo
from pymc_bnn.errors import InvalidSettingError


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("active")
    return out, run_active_demo(out, ActiveDemoSettings())  # 5 repeats, 10 → 100 labels by 10


def test_bald_and_entropy_beat_random_labelling(demo):
    _, metrics = demo
    auc = metrics["auc"]
    assert metrics["labels_used"] == list(range(10, 101, 10))
    assert metrics["repeats_done"] == 5 and metrics["n_fits"] == 150
    # area under the mean learning curve = mean held-out accuracy over the 10 rounds
    assert auc["random"] == pytest.approx(np.mean(metrics["mean_accuracy"]["random"]))
    assert auc["bald"] - auc["random"] > 0.0  # measured: MARGIN_BALD
    assert auc["entropy"] - auc["random"] > 0.0  # measured: MARGIN_ENTROPY


def test_demo_writes_report_and_metrics(demo):
    out, metrics = demo
    on_disk = json.loads((out / "metrics.json").read_text())
    assert set(on_disk["auc"]) == {"bald", "entropy", "random"}
    assert on_disk["auc"] == metrics["auc"]
    assert (out / "learning_curves.png").stat().st_size > 10_000
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # curves + the points each strategy chose
    assert "Learning curves" in page and "area under curve" in page


def test_padding_leaves_the_posterior_unchanged(small_moons):
    X, y = small_moons.X_train[:30], small_moons.y_train[:30]
    fitter = BNNFitter(method="advi", draws=50, options={"steps": 300, "restarts": 1})
    plain = fitter(X, y, random_seed=2)
    padded = BNNFitter(method="advi", draws=50, options={"steps": 300, "restarts": 1},
                       pad_to=100)(X, y, random_seed=2)
    for a, b in zip(plain.parameter_draws()[0], padded.parameter_draws()[0]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # the 70 zero rows add 70 · log(1/2) to the log likelihood, and nothing else
    np.testing.assert_allclose(padded.elbo - plain.elbo, 70 * np.log(0.5), rtol=1e-9)
    with pytest.raises(InvalidSettingError, match="without biases"):
        BNNFitter(bias=True, pad_to=100)


def test_cli_active_runs_and_rejects_bad_usage(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["active", "--out", str(out), "--repeats", "1", "--budget", "20",
                 "--steps", "200", "--draws", "20"])
    assert code == 0
    shown = capsys.readouterr().out
    assert "bald" in shown and "vs random" in shown and "report.html" in shown
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["auc"]) == {"bald", "entropy", "random"}
    assert metrics["labels_used"] == [10, 20]
    assert main(["active", "--initial", "20", "--budget", "10", "--out", str(out)]) == 2
    assert "raise --budget" in capsys.readouterr().err
