"""The report screenshots in the docs: a real `pymc-bnn report`, photographed by headless Chromium.

Builds a table like palmerpenguins (text columns and gaps included; nothing is downloaded), fits
it with `pymc-bnn fit` and its defaults, writes `pymc-bnn report` on held-out rows and saves
three views of that page as PNGs in docs/_static/: its first screen, and two groups of its
sections (a copy of the page whose other sections a line of JavaScript hides; nothing else is
changed). Seeded, so a rerun on the same versions draws the same page (but its dates and
timings).

    uv run python docs/_scripts/report_screenshot.py            # needs chromium on the PATH
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pymc_bnn.datasets import penguins_like

STATIC = Path(__file__).resolve().parents[1] / "_static"
WIDTH = 1100
# file name -> (height of the window in CSS pixels, the sections shown; None: the page as it is)
SHOTS = {
    "report_top.png": (1400, None),
    "report_checks.png": (2050, ("Posterior predictive check", "Calibration")),
    "report_uncertainty.png": (1640, ("Predictive uncertainty on the data",
                                      "Rows the model is least sure of")),
}
SHOW_ONLY = """<script>
const shown = new Set({titles});
for (const section of document.querySelectorAll("section")) {{
  if (!shown.has(section.querySelector("h2").textContent)) section.style.display = "none";
}}
</script>"""


def main() -> None:
    """Fit, report and photograph (see the module's docstring)."""
    from pymc_bnn.cli import main as pymc_bnn

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("no chromium on the PATH: install it to photograph the report")
    with tempfile.TemporaryDirectory(prefix="pymc-bnn-report-") as tmp:
        folder = Path(tmp)
        os.chdir(folder)  # relative paths: the page names penguins.csv, not a temporary folder
        # palmerpenguins has 344 rows; the tag column is an identifier, not a feature
        table = penguins_like(344, seed=0, missing=0.03).drop(columns="tag")
        table[:250].to_csv("penguins.csv", index=False)
        table[250:].to_csv("held_out.csv", index=False)
        for argv in (["fit", "penguins.csv", "--target", "species", "--out", "penguins.bnn.nc",
                      "--seed", "0", "--quiet"],
                     ["report", "penguins.bnn.nc", "held_out.csv", "--quiet"]):
            if pymc_bnn(argv) != 0:
                sys.exit(f"pymc-bnn {' '.join(argv)} failed")
        page = (folder / "penguins.bnn.html").read_text()
        STATIC.mkdir(exist_ok=True)
        for name, (height, titles) in SHOTS.items():
            view = folder / f"view_{name}.html"
            view.write_text(page if titles is None else page.replace(
                "</body>", SHOW_ONLY.format(titles=json.dumps(titles)) + "</body>"))
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", f"--screenshot={STATIC / name}",
                            f"--window-size={WIDTH},{height}", view.as_uri()],
                           capture_output=True, timeout=180, check=True)
            print(f"wrote {STATIC / name}")


if __name__ == "__main__":
    main()
