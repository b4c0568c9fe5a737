"""The documentation site builds from the checkout with warnings as errors, its API reference
covers every public name and module, and every example runs in the gallery during the build.

Measured: a clean build (every gallery notebook executed) takes about 2 minutes on a busy
2-core machine, most of it the five examples' quick fits.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "pymc_bnn"

pytestmark = pytest.mark.slow  # runs every gallery example


def _public_modules() -> list[str]:
    """Every module of the package a user may import: no `_private` part, no `__main__`, no
    `conftest` (the doctests' fixtures)."""
    names = []
    for path in SRC.rglob("*.py"):
        if path.name == "conftest.py":
            continue
        parts = ("pymc_bnn", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return sorted(names)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("sphinx", reason="the docs group is not installed (uv sync --group docs)")
    pytest.importorskip("myst_nb", reason="the docs group is not installed (uv sync --group docs)")
    # MyST-NB keeps its notebook outputs beside the output folder, so build into a subfolder.
    out = tmp_path_factory.mktemp("docs_build") / "html"
    # A fresh build: the gallery's notebooks execute (their cache lives in the build folder).
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(ROOT / "docs"), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYMC_BNN_DOCS_EXECUTE": "cache"},
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return out


def test_every_public_name_in_the_api_reference(site):
    import pymc_bnn

    for name in pymc_bnn.__all__:
        page = site / "api" / "generated" / f"pymc_bnn.{name}.html"
        assert page.exists(), name
        assert f'id="pymc_bnn.{name}"' in page.read_text(encoding="utf-8"), name


def test_every_public_module_in_the_api_reference(site):
    modules = _public_modules()
    assert "pymc_bnn.inference.laplace" in modules and "pymc_bnn.cli.__main__" not in modules
    for name in modules:
        importlib.import_module(name)  # a module the reference lists must import
        page = site / "api" / "generated" / f"{name}.html"
        assert page.exists(), f"{name} is missing from docs/api/index.rst"
        assert f'id="module-{name}"' in page.read_text(encoding="utf-8"), name


def test_every_example_runs_in_the_gallery(site):
    for script in sorted((ROOT / "examples").glob("*.py")):
        page = site / "gallery" / f"{script.stem}.html"
        assert page.exists(), f"examples/{script.stem}.py has no page in docs/gallery/"
        html = page.read_text(encoding="utf-8")
        assert "<img" in html, f"{script.stem}: no figure in the executed page"
        assert "Traceback" not in html, script.stem
