"""What every benchmark's JSON records about the run itself: commit, date, machine and load."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent


def git(*args) -> str:
    """`git ARGS` in the checkout, its output stripped; "unknown" without git or a checkout."""
    try:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_facts() -> dict:
    """Facts about the run: commit, UTC date, machine, CPUs, and the load average now.

    The commit comes with whether tracked files differ from it; the load average is over 1, 5
    and 15 minutes.
    """
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, "
                       f"Python {platform.python_version()}",
            "nproc": os.cpu_count(), "load_average_start": list(os.getloadavg())}
