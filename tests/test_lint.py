"""ruff on the whole project, mypy on src/ and the import layers, so the one test command
enforces them.

Rules in pyproject.toml.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_in_the_project():
    """The package, the tests, the benchmarks, the examples and the docs' scripts (the rules for
    each in pyproject.toml's per-file-ignores)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    done = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_imports_point_down_the_layers():
    """import-linter's layers contract (pyproject.toml): faces → ... → model → runtime."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.slow  # a cold mypy run takes about a minute on 2 cores
def test_mypy_finds_nothing_in_src():
    """mypy with the settings in pyproject.toml ([tool.mypy]: python 3.12, files = src)."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    done = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
