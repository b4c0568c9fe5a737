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
# The reader of the command's output left (`pymc-bnn info m.bnn.nc | head -1`): 128 + SIGPIPE,
# what a shell reports for a writer the signal ended (`git log | head` gives the same).
EXIT_READER_GONE = 141
EXIT_CODES_HELP = ("exit codes: 0 success, 1 a failed fit, 2 bad usage or input, 3 a fit "
                   "interrupted by Ctrl-C whose state so far was saved (marked interrupted), "
                   "74 a file-system error, 130 interrupted with nothing written, 141 the "
                   "output's reader closed the pipe")


def job_count(text: str) -> int:
    """An argparse type: fits at a time, joblib's way (≥ 1; -1 one per core, -2 all but one).

    Examples
    --------
    >>> job_count("4"), job_count("-1"), job_count("-2")
    (4, -1, -2)
    >>> job_count("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number ≥ 1, or a negative one (-1: one per core, ...
    """
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "expected a number ≥ 1, or a negative one (-1: one per core, -2: all but one), got 0")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1 ("1_000" allowed), else a one-line usage error.

    Parameters
    ----------
    text : str
        The flag's value as typed.

    Returns
    -------
    int
        The number, at least 1.

    Raises
    ------
    argparse.ArgumentTypeError
        For text that is not a whole number, or a number below 1; argparse shows the message
        after the flag's name.

    Examples
    --------
    >>> positive_int("1_000")
    1000
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number ≥ 1, got 0
    >>> positive_int("2.5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a whole number, got '2.5'
    """
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value



def seed(text: str) -> int:
    """An argparse type: a random seed, a whole number from 0 to 2**32 - 1 (NumPy's range).

    Examples
    --------
    >>> seed("7")
    7
    >>> seed("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a whole number from 0 to 4294967295, got '-1'
    """
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 to {2**32 - 1}, got {text!r}")
    return value

def draws_precision(text: str) -> int | None:
    """An argparse type: "exact" (None) or the bits 1 to 23 of `pymc_bnn.io.precision`.

    Parameters
    ----------
    text : str
        The flag's value as typed.

    Returns
    -------
    int or None
        None for "exact", else the number of bits.

    Raises
    ------
    argparse.ArgumentTypeError
        For anything else.

    Examples
    --------
    >>> draws_precision("exact"), draws_precision("8")
    (None, 8)
    >>> draws_precision("30")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected 'exact' or a whole number of bits from 1 to 23, got '30'
    """
    if text.strip().lower() == "exact":
        return None
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if not 1 <= value <= 23:  # pymc_bnn.io.precision.MAX_BITS (not imported: --help stays fast)
        raise argparse.ArgumentTypeError(
            f"expected 'exact' or a whole number of bits from 1 to 23, got {text!r}")
    return value


def widths(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated hidden layer widths ("32,32" -> (32, 32)), each ≥ 1.

    "none" (any case) is no hidden layer, (): a Bayesian generalised linear model.

    Parameters
    ----------
    text : str
        The flag's value as typed; empty parts ("32,") are left out.

    Returns
    -------
    tuple of int
        One width per hidden layer.

    Raises
    ------
    argparse.ArgumentTypeError
        For a part that is not a whole number, no widths at all, or a width below 1.

    Examples
    --------
    >>> widths("32,32")
    (32, 32)
    >>> widths("8")
    (8,)
    >>> widths("none")
    ()
    >>> widths("32,0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: every hidden layer needs at least 1 unit, got '32,0'
    """
    if text.strip().lower() == "none":
        return ()
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 5,5 or 32,32 (or none), got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"every hidden layer needs at least 1 unit, got {text!r}")
    return values


def separator(text: str) -> str:
    r"""An argparse type for --sep: one character; "\t" (as typed) or "tab" for a tab.

    Parameters
    ----------
    text : str
        The flag's value as typed.

    Returns
    -------
    str
        The separator, one character.

    Raises
    ------
    argparse.ArgumentTypeError
        For anything but one character, or a double quote or line break (which CSV keeps for
        quoting and rows).

    Examples
    --------
    >>> separator(";"), separator("|"), separator("\\t"), separator("TAB")
    (';', '|', '\t', '\t')
    >>> separator(";;")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected one character, such as ';', '|', ',' or tab (\t or tab), got ';;'
    """  # noqa: E501
    sep = "\t" if text.strip().lower() in ("\\t", "tab") else text
    if len(sep) != 1 or sep in "\"\r\n":
        raise argparse.ArgumentTypeError(
            f"expected one character, such as ';', '|', ',' or tab (\\t or tab), got {text!r}")
    return sep


def text_encoding(text: str) -> str:
    """An argparse type for --encoding: the name of a Python text codec (utf-8, cp1252 …).

    Parameters
    ----------
    text : str
        The flag's value as typed.

    Returns
    -------
    str
        `text`, a codec Python knows (pandas reads the file with it).

    Raises
    ------
    argparse.ArgumentTypeError
        For a name Python has no text codec for (an unknown name, or a codec such as base64
        that does not turn bytes into text).

    Examples
    --------
    >>> text_encoding("cp1252"), text_encoding("latin-1")
    ('cp1252', 'latin-1')
    >>> text_encoding("nope")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown text encoding 'nope'; name a Python codec such as utf-8, cp1252 or latin-1
    """  # noqa: E501
    try:
        "".encode(text)  # LookupError: no such codec, or one that is not a text encoding
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown text encoding {text!r}; name a Python codec such as utf-8, cp1252 or "
            "latin-1") from None
    return text


def decimal_mark(text: str) -> str:
    """An argparse type for --decimal: "." or ",".

    Examples
    --------
    >>> decimal_mark(","), decimal_mark(".")
    (',', '.')
    >>> decimal_mark(";")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected '.' or ',', got ';'
    """
    if text.strip() not in (".", ","):
        raise argparse.ArgumentTypeError(f"expected '.' or ',', got {text!r}")
    return text.strip()


def add_csv_flags(parser: argparse.ArgumentParser) -> None:
    """Add --sep, --encoding and --decimal: how to read a CSV DATA (refused for Parquet).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of a command that reads DATA; `args.sep`, `args.encoding` and
        `args.decimal` default to None (found from the file, UTF-8 and a point:
        `pymc_bnn.cli.csv_format`).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_csv_flags(parser)
    >>> parser.parse_args(["--sep", ";", "--encoding", "cp1252", "--decimal", ","])
    Namespace(sep=';', encoding='cp1252', decimal=',')
    >>> parser.parse_args([])
    Namespace(sep=None, encoding=None, decimal=None)
    """
    parser.add_argument("--sep", type=separator, default=None, metavar="CHAR",
                        help="the separator of a CSV DATA, one character: ';', '|', ',', tab "
                             "(\\t or tab) … (default: a tab for .tsv, also compressed as "
                             ".tsv.gz; else ';', tab or '|' when the header line has that one "
                             "and no comma; else a comma)")
    parser.add_argument("--encoding", type=text_encoding, default=None, metavar="CODEC",
                        help="the text encoding of a CSV DATA, a Python codec such as cp1252 "
                             "(Excel on Windows) or latin-1 (default: utf-8, with or without "
                             "a byte-order mark)")
    parser.add_argument("--decimal", type=decimal_mark, default=None, metavar="MARK",
                        help="the decimal mark of a CSV DATA's numbers: '.' or ',' (Excel's "
                             "where it separates by ';') (default: '.'; a column of numbers "
                             "with decimal commas is refused, naming this flag)")


class Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line (what is wrong, where to look), exit code 2.

    Subparsers made by its `add_subparsers` are of this class too, so every `pymc-bnn`
    subcommand words its usage errors the same way. The line goes to stderr without argparse's
    usage block.

    Examples
    --------
    >>> import contextlib, io
    >>> parser = Parser(prog="pymc-bnn")
    >>> _ = parser.add_argument("--draws", type=positive_int)
    >>> parser.parse_args(["--draws", "200"])
    Namespace(draws=200)
    >>> said = io.StringIO()
    >>> with contextlib.redirect_stderr(said):
    ...     try:
    ...         parser.parse_args(["--draws", "0"])
    ...     except SystemExit as exit:
    ...         print("exit code", exit.code)
    exit code 2
    >>> print(said.getvalue(), end="")
    pymc-bnn: error: argument --draws: expected a number ≥ 1, got 0; see pymc-bnn --help
    """

    def error(self, message: str):
        """Write `message` as one line and exit with the usage code (2)."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def add_force(parser: argparse.ArgumentParser) -> None:
    """Add --force: replace an existing output that pymc-bnn did not write (never an input).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser; `args.force` is False unless the flag is given.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_force(parser)
    >>> parser.parse_args(["--force"])
    Namespace(force=True)
    """
    parser.add_argument("--force", action="store_true",
                        help="replace an existing output that pymc-bnn did not write "
                             "(an output is never allowed to be one of the inputs)")


def add_debug(parser: argparse.ArgumentParser, default=False) -> None:
    """Add --debug: show the traceback of an error as well as its one line.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser to add the flag to.
    default : bool or argparse.SUPPRESS, default False
        `args.debug` when the flag is absent. The main parser uses False and each subcommand
        `argparse.SUPPRESS`, so `pymc-bnn --debug fit ...` and `pymc-bnn fit --debug ...` both
        work: an absent flag on the subcommand leaves the main parser's value alone.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_debug(parser)
    >>> parser.parse_args([]), parser.parse_args(["--debug"])
    (Namespace(debug=False), Namespace(debug=True))
    >>> quiet = argparse.ArgumentParser()
    >>> add_debug(quiet, default=argparse.SUPPRESS)
    >>> quiet.parse_args([])
    Namespace()
    """
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the full traceback of an error")


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add --seed and --quiet, which every command that fits takes.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser; `args.seed` defaults to 0, `args.quiet` to False.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_common(parser)
    >>> parser.parse_args(["--seed", "7"])
    Namespace(seed=7, quiet=False)
    """
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary")


def print_report_path(console: Console, path) -> None:
    """Print 'Report: PATH' on one line whatever the terminal width, to copy or click.

    Parameters
    ----------
    console : rich.console.Console
        Where to print; on a terminal that supports it, PATH is a link.
    path : str or pathlib.Path
        The report's path, usually absolute.

    Examples
    --------
    >>> from rich.console import Console
    >>> narrow = Console(width=20, force_terminal=False)
    >>> print_report_path(narrow, "/home/me/pymc-bnn-demo/report.html")
    Report: /home/me/pymc-bnn-demo/report.html
    """
    console.print(f"Report: [link]{path}[/]", soft_wrap=True, highlight=False)
