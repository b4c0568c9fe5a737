"""Pieces every `pymc-bnn` command shares: exit codes, argument types, common flags, the parser.

Imports only argparse and rich, so building the command line (and `--help`) stays fast.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# 74 is EX_IOERR of BSD's sysexits.h: an input/output error on some file
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_FILE_SYSTEM, EXIT_INTERRUPTED = 0, 1, 2, 74, 130
EXIT_PARTIAL = 3  # Ctrl-C stopped a fit and its state so far was saved, marked interrupted
EXIT_CODES_HELP = ("exit codes: 0 success, 1 a failed fit, 2 bad usage or input, 3 a fit "
                   "interrupted by Ctrl-C whose state so far was saved (marked interrupted), "
                   "74 a file-system error, 130 interrupted with nothing written")


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1 ("1_000" allowed), else a one-line usage error."""
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def widths(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated hidden layer widths ("32,32" -> (32, 32)), each ≥ 1."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 5,5 or 32,32, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"every hidden layer needs at least 1 unit, got {text!r}")
    return values


class Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line (what is wrong, where to look), exit code 2;
    subcommands inherit it."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def add_force(parser: argparse.ArgumentParser) -> None:
    """--force: replace an existing output that pymc-bnn did not write (never an input)."""
    parser.add_argument("--force", action="store_true",
                        help="replace an existing output that pymc-bnn did not write "
                             "(an output is never allowed to be one of the inputs)")


def add_debug(parser: argparse.ArgumentParser, default=False) -> None:
    """--debug: show the traceback of an error as well as its one line."""
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the full traceback of an error")


def add_common(parser: argparse.ArgumentParser) -> None:
    """--seed and --quiet, which every command that fits takes."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary")


def print_report_path(console: Console, path) -> None:
    """'Report: PATH' on one line whatever the terminal width, so it can be copied or clicked."""
    console.print(f"Report: [link]{path}[/]", soft_wrap=True, highlight=False)
