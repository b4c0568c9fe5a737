"""The `pymc-bnn` command: `app` (the entry point and `demo`), `args` (argument types shared by
commands), `model_commands` (`fit`, `predict`, `info`, `report`), `stability_command`
(`stability`), `tables` (reading tables and writing predictions).

This module is what the console script imports, so it imports nothing itself: a Ctrl-C pressed
while the command is still loading is caught by `main` (one line, exit 130) instead of becoming a
traceback from inside an import.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

_EXIT_INTERRUPTED = 130  # pymc_bnn.cli.args.EXIT_INTERRUPTED, not imported: see above


def main(argv: Sequence[str] | None = None) -> int:
    """Run `pymc-bnn` with `argv` (default: the process's arguments); returns the exit code."""
    try:
        from pymc_bnn.cli.app import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was kept\n")
        return _EXIT_INTERRUPTED
    return run(argv)


def build_parser():
    """The `pymc-bnn` argument parser (every subcommand), as `pymc-bnn --help` builds it."""
    from pymc_bnn.cli.app import build_parser as build

    return build()
