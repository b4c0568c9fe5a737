"""The console script end to end, run as a user would run it."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pymc_bnn.demos.seed import FIGURES


def _pymc_bnn(*args, cwd=None):
    exe = shutil.which("pymc-bnn") or str(Path(sys.executable).with_name("pymc-bnn"))
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.slow  # the seed demo: 30,000 ADVI steps and 5,000 draws
def test_demo_with_seed_settings_writes_everything(tmp_path):
    out = tmp_path / "demo"
    result = _pymc_bnn("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in FIGURES:
        assert (out / name).stat().st_size > 10_000, name
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "log_loss", "method", "seed", "settings", "timings"):
        assert key in metrics
    assert metrics["timings"]["fit_s"] > 0 and metrics["timings"]["predict_grid_s"] > 0
    assert metrics["accuracy"] >= 0.90
    assert metrics["settings"]["steps"] == 30_000 and metrics["settings"]["draws"] == 5000
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(FIGURES)
    # Calibrated probabilities, and epistemic uncertainty that grows away from the data.
    assert metrics["ece"] <= 0.05 and 0 < metrics["brier"] < 0.1
    u = metrics["uncertainty"]
    assert u["epistemic_far_mean"] > 2 * u["epistemic_train_mean"]
    assert u["aleatoric_train_mean"] > u["epistemic_train_mean"]
    assert "Uncertainty: noise or ignorance?" in page and "ECE" in page
    assert "accuracy" in page and "Uncertainty" in page
    assert "report.html" in result.stdout and "accuracy" in result.stdout


@pytest.mark.slow  # a short demo fit (about 6 s)
def test_a_short_demo_says_its_warning_in_one_line_and_reports_seconds_per_stage(tmp_path):
    """The demo handles no warning itself: advi's step limit came out in Python's format
    (`…/bin/pymc-bnn:10: ConvergenceWarning: … raise steps=` and a source line)."""
    result = _pymc_bnn("demo", "--steps", "50", "--draws", "50", "--out", str(tmp_path / "d"),
                       "--quiet")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), result.stderr
    assert "advi stopped at the maximum of 50 steps" in result.stderr
    assert "--steps" in result.stderr and "steps=" not in result.stderr.replace("--steps", "")
    assert "ConvergenceWarning" not in result.stderr and "pymc-bnn:" not in result.stderr
    # the timings table was captioned "Time per step." under a "step" column, read as seconds
    # per optimisation step; its rows are the demo's stages in seconds (the same short demo)
    page = (tmp_path / "d" / "report.html").read_text()
    assert "Time per step" not in page
    assert "Seconds spent in each stage of the demo" in page and ">stage<" in page
    for stage in ("data", "build", "inference", "compile", "predict_grid", "plots"):
        assert f">{stage}<" in page, stage


def test_help_lists_every_command():
    result = _pymc_bnn("--help")
    assert result.returncode == 0
    for command in ("demo", "fit", "predict", "report", "info", "active"):
        assert command in result.stdout
