"""`pymc-bnn demo --methods`: engines side by side in one report."""

import json

import pytest

from pymc_bnn.cli.app import EXIT_USAGE, main
from pymc_bnn.demos.methods import MethodsDemoSettings, run_methods_demo


@pytest.mark.slow  # fits every engine, NUTS included
def test_methods_demo_reports_every_engine(tmp_path):
    settings = MethodsDemoSettings(methods=("advi", "fullrank_advi"), steps=1500, draws=200,
                                   grid_size=40)
    metrics = run_methods_demo(tmp_path, settings, progress=False)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert list(saved["methods"]) == ["advi", "fullrank_advi"]
    for result in saved["methods"].values():
        assert 0.8 < result["accuracy"] <= 1 and result["log_loss"] > 0
        assert result["sd_p_far_from_data"] >= 0 and result["total_s"] > 0
    page = (tmp_path / "report.html").read_text()
    assert "fullrank_advi" in page and "mean-field" in page.lower()
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    assert metrics["methods"]["advi"]["accuracy"] == saved["methods"]["advi"]["accuracy"]


def test_unknown_method_is_a_usage_error(tmp_path, capsys):
    code = main(["demo", "--methods", "advi,magic", "--out", str(tmp_path), "--quiet"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "magic" in err and "fullrank_advi" in err and "Traceback" not in err
