"""The `pymc-bnn` command: each subcommand does one user job through the public API.

Exit codes: 0 success, 1 a failed fit or anything else, 2 bad usage, bad input or an unsafe
output path (one readable line, no traceback), 74 the operating system refused a file
operation (read-only folder, full disk, permission denied: one line naming the path and the
fix), 3 a fit interrupted by Ctrl-C whose state so far was saved (the file is complete and marked
interrupted), 130 interrupted before anything could be kept. `--debug` shows the traceback as
well.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pymc_bnn._runtime.interrupt import caused_by_ctrl_c
from pymc_bnn.cli.args import (
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    EXIT_FILE_SYSTEM,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_READER_GONE,
    EXIT_USAGE,
    Parser,
    add_common,
    add_debug,
    add_force,
    positive_int,
    print_report_path,
    widths,
)
from pymc_bnn.errors import InferenceError, PymcBnnError

if TYPE_CHECKING:
    from rich.console import Console

def build_parser() -> argparse.ArgumentParser:
    """The `pymc-bnn` argument parser, every subcommand included.

    Each subcommand's parser sets `args.handler`, the function `main` calls with the parsed
    arguments. Building it imports the engines' option declarations (for `fit`'s engine
    flags), not the engines.

    Returns
    -------
    argparse.ArgumentParser
        A `pymc_bnn.cli.args.Parser`: usage errors are one line and exit code 2.

    Examples
    --------
    >>> parser = build_parser()
    >>> args = parser.parse_args(["demo", "--hidden", "8,8", "--draws", "1_000"])
    >>> args.command, args.hidden, args.draws, args.out, args.debug
    ('demo', (8, 8), 1000, None, False)
    >>> args = parser.parse_args(["stability", "model.bnn.nc", "held_out.csv", "--debug"])
    >>> args.command, args.handler.__name__, args.debug
    ('stability', '_cmd_stability', True)
    """
    from pymc_bnn import __version__
    from pymc_bnn.defaults import DEFAULT_METHOD, ENGINE_NAMES

    parser = Parser(
        prog="pymc-bnn",
        description="Bayesian neural networks on PyMC: fit, predict with uncertainty, report.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"pymc-bnn {__version__}")
    add_debug(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the seed analysis (two moons) and write figures, metrics.json and report.html",
        description="Fit the seed's 2→5→5→1 tanh BNN to two moons and write the seed's five "
                    "figures plus the uncertainty decomposition and reliability diagram, "
                    "metrics.json and a self-contained report.html.",
    )
    demo.add_argument("--out", default=None,
                      help="output folder (default: ./pymc-bnn-demo, or "
                           "./pymc-bnn-hierarchical with --hierarchical)")
    demo.add_argument("--method", default=DEFAULT_METHOD, choices=sorted(ENGINE_NAMES),
                      help=f"inference engine (default: {DEFAULT_METHOD})")
    demo.add_argument("--steps", type=positive_int, default=30_000,
                      help="optimisation steps for VI methods (default: 30000)")
    demo.add_argument("--draws", type=positive_int, default=5000,
                      help="posterior draws (default: 5000)")
    demo.add_argument("--hidden", type=widths, default=(5, 5),
                      help="hidden layer widths, comma-separated (default: 5,5)")
    demo.add_argument("--hierarchical", action="store_true",
                      help="grouped two moons: compare partial, complete and no pooling")
    demo.add_argument("--methods", default=None, metavar="M1,M2,...",
                      help="compare inference engines side by side, e.g. advi,fullrank_advi,nuts")
    add_force(demo)
    add_common(demo)
    demo.set_defaults(handler=_cmd_demo)
    _add_active(sub)

    from pymc_bnn.cli.model_commands import add_model_commands

    add_model_commands(sub)
    from pymc_bnn.cli.stability_command import add_stability_command

    add_stability_command(sub)
    for command in sub.choices.values():  # `pymc-bnn fit --debug ...` too; SUPPRESS keeps the
        add_debug(command, default=argparse.SUPPRESS)  # main parser's value when absent
    from pymc_bnn.cli.words import learn_flags

    learn_flags(parser)  # messages shown from here on name these flags
    return parser


def _add_active(sub) -> None:
    from pymc_bnn import defaults

    active = sub.add_parser(
        "active",
        help="active learning on two moons: learning curves of BALD, entropy and random",
        description="Start from a few labels, let each strategy ask for a batch more per round, "
                    "and write learning curves (held-out accuracy vs labels used), metrics.json "
                    "(area under each curve under auc.<strategy>) and report.html.",
    )
    active.add_argument("--out", default="pymc-bnn-active",
                        help="output folder (default: ./pymc-bnn-active)")
    active.add_argument("--repeats", type=positive_int, default=defaults.ACTIVE_REPEATS,
                        help="repeats with new splits and starting labels "
                             f"(default: {defaults.ACTIVE_REPEATS})")
    active.add_argument("--initial", type=positive_int, default=defaults.ACTIVE_INITIAL,
                        help=f"labels to start from (default: {defaults.ACTIVE_INITIAL})")
    active.add_argument("--batch", type=positive_int, default=defaults.ACTIVE_BATCH_SIZE,
                        help=f"labels asked for per round (default: {defaults.ACTIVE_BATCH_SIZE})")
    active.add_argument("--budget", type=positive_int, default=defaults.ACTIVE_BUDGET,
                        help=f"labels at the end (default: {defaults.ACTIVE_BUDGET})")
    active.add_argument("--steps", type=positive_int, default=defaults.ACTIVE_STEPS,
                        help=f"optimisation steps per fit (default: {defaults.ACTIVE_STEPS})")
    active.add_argument("--draws", type=positive_int, default=defaults.ACTIVE_DRAWS,
                        help=f"posterior draws per fit (default: {defaults.ACTIVE_DRAWS})")
    add_force(active)
    add_common(active)
    active.set_defaults(handler=_cmd_active)


def _cmd_active(args, console: Console) -> int:
    from pymc_bnn._runtime.outputs import check_output_folder
    from pymc_bnn.demos.active import ActiveDemoSettings, run_active_demo
    from pymc_bnn.errors import InvalidSettingError

    check_output_folder(args.out, force=args.force)
    if args.initial >= args.budget:
        raise InvalidSettingError(f"--initial {args.initial} must be below --budget "
                                  f"{args.budget}; raise --budget")
    settings = ActiveDemoSettings(repeats=args.repeats, initial=args.initial,
                                  batch_size=args.batch, budget=args.budget, steps=args.steps,
                                  draws=args.draws, seed=args.seed)
    if args.quiet:
        metrics = run_active_demo(args.out, settings)
    else:
        from pymc_bnn._runtime.progress import progress_bar

        per_run = 1 + -(-(args.budget - args.initial) // args.batch)
        total = per_run * args.repeats * len(settings.strategies)
        with progress_bar(True, "active learning", total, "fits", console=console,
                          transient=True) as bar:

            def on_round(strategy, repeat, record):
                bar(advance=1, title=(
                    f"repeat {repeat + 1}/{args.repeats} · {strategy:<8} · "
                    f"{record.n_labelled:>4} labels · accuracy {record.accuracy:.3f}"))

            metrics = run_active_demo(args.out, settings, on_round=on_round)
        for name, auc in metrics["auc"].items():
            margin = metrics["margin_over_random"].get(name)
            console.print(f"[bold]{name:<8}[/] area under the learning curve {auc:.3f}"
                          + ("" if margin is None else f"   ({margin:+.3f} vs random)"))
        if metrics["interrupted"]:
            console.print(f"[yellow]Interrupted: {metrics['repeats_done']} finished repeats "
                          "shown.[/]")
        print_report_path(console, _report_path(args.out))
    return EXIT_OK


def _cmd_demo(args, console: Console) -> int:
    from pymc_bnn._runtime.outputs import check_output_folder
    from pymc_bnn.demos.seed import DemoSettings, run_demo

    args.out = args.out or ("pymc-bnn-hierarchical" if args.hierarchical
                            else "pymc-bnn-methods" if args.methods else "pymc-bnn-demo")
    check_output_folder(args.out, force=args.force)
    if args.hierarchical:
        return _cmd_demo_hierarchical(args, console)
    if args.methods:
        return _cmd_demo_methods(args, console)
    settings = DemoSettings(method=args.method, seed=args.seed, steps=args.steps,
                            draws=args.draws, hidden=args.hidden)
    status = _status_printer(args, console)
    metrics = run_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        t = metrics["timings"]
        console.print(
            f"[bold]accuracy[/] {metrics['accuracy']:.3f}   [bold]log loss[/] "
            f"{metrics['log_loss']:.3f}   [bold]fit[/] {t.get('fit_s', 0):.1f} s   "
            f"[bold]total[/] {t['total_s']:.1f} s"
        )
        if metrics.get("interrupted"):
            console.print("[yellow]The fit was interrupted; results use the state reached so "
                          "far.[/]")
        print_report_path(console, _report_path(args.out))
    return EXIT_OK


def _cmd_demo_hierarchical(args, console: Console) -> int:
    from pymc_bnn.demos.hierarchical import HierarchicalDemoSettings, run_hierarchical_demo

    settings = HierarchicalDemoSettings(method=args.method, seed=args.seed, steps=args.steps,
                                        draws=args.draws, hidden=args.hidden)
    status = _status_printer(args, console)
    metrics = run_hierarchical_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        accuracy = metrics["pooling_accuracy"]
        console.print("[bold]mean held-out accuracy[/]   " + "   ".join(
            f"{key} {value:.3f}" for key, value in accuracy.items()))
        print_report_path(console, _report_path(args.out))
    return EXIT_OK


def _cmd_demo_methods(args, console: Console) -> int:
    from pymc_bnn.demos.methods import MethodsDemoSettings, parse_methods, run_methods_demo

    settings = MethodsDemoSettings(methods=parse_methods(args.methods), seed=args.seed,
                                   steps=args.steps, draws=args.draws, hidden=args.hidden)
    status = _status_printer(args, console)
    metrics = run_methods_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        for method, r in metrics["methods"].items():
            console.print(f"[bold]{method:>14}[/]  accuracy {r['accuracy']:.3f}   log loss "
                          f"{r['log_loss']:.3f}   {r['total_s']:.1f} s")
        print_report_path(console, _report_path(args.out))
    return EXIT_OK


def _status_printer(args, console: Console):
    """What the demos call before each step: a dim bullet line, or nothing with --quiet."""
    return None if args.quiet else (lambda message: console.print(f"[dim]•[/] {message}"))


def _report_path(out: str) -> str:
    from pathlib import Path

    return str((Path(out) / "report.html").resolve())


def main(argv: Sequence[str] | None = None) -> int:
    """Run `pymc-bnn` with `argv` and return its exit code; what the console script runs.

    Every error a command raises becomes one line on stderr and an exit code (see the module's
    docstring); `--debug` prints the traceback as well. An error that is not pymc-bnn's (a bug)
    is raised as it is.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after `pymc-bnn`; default: the process's (`sys.argv[1:]`).

    Returns
    -------
    int
        0 success, 1 a failed fit, 2 bad usage or input, 3 a fit interrupted by Ctrl-C and
        saved, 74 a file-system error, 130 interrupted with nothing written, 141 the reader
        of the output closed its pipe (e.g. `| head`; nothing is said).

    Examples
    --------
    >>> import contextlib, io
    >>> said = io.StringIO()
    >>> with contextlib.redirect_stderr(said):
    ...     code = main(["fit", "missing.csv", "--target", "species", "--out", "model.bnn.nc",
    ...                  "--quiet"])
    >>> code
    2
    >>> print(said.getvalue(), end="")  # what a user sees: one line, no traceback
    error: no data file at missing.csv; check the path
    >>> with contextlib.redirect_stderr(io.StringIO()):
    ...     main([])  # no command: the usage and a hint on stderr
    2
    """
    if argv is None:  # the process is the command's own (console script, python -m)
        _without_dask()
    try:  # imports (rich, then the engines for the parser): Ctrl-C here is one line too
        from pymc_bnn._runtime.jax_setup import configure_devices

        configure_devices()  # a process of its own: every command's JAX gets one device per core
        from rich.console import Console

        class ReaderAware(Console):
            """rich's Console, but a closed pipe is raised (rich's own exits with 1)."""

            def on_broken_pipe(self) -> None:  # `main` then ends with `_reader_gone`
                self.quiet = True
                raise BrokenPipeError(errno.EPIPE, "the output's reader closed the pipe")

        console = ReaderAware(stderr=False)
        errors = Console(stderr=True, soft_wrap=True)  # one line per error, whatever the width
        parser = build_parser()
        args = parser.parse_args(argv)
    except BrokenPipeError:  # --help into a pipe whose reader left
        return _reader_gone()
    except (KeyboardInterrupt, ImportError) as exc:  # a press inside an extension's import
        if not caused_by_ctrl_c(exc):                # is an ImportError raised from it
            raise
        with _ctrl_c_ignored():
            sys.stderr.write("interrupted: nothing was kept\n")
        return EXIT_INTERRUPTED
    handler: Callable | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_usage(sys.stderr)
        errors.print("[red]error[/]: no command given; run `pymc-bnn demo` to try it, or "
                     "`pymc-bnn --help` for the commands", highlight=False)
        return EXIT_USAGE
    try:
        with warnings.catch_warnings():  # Python's own format again once the command ends
            if not args.debug:
                warnings.showwarning = _warning_line(errors)
            code = handler(args, console)
        sys.stdout.flush()  # a reader that left shows here, not in Python's flush at exit
        return code
    except BaseException as exc:  # noqa: BLE001 - every error becomes one line and an exit code
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            return _reader_gone()
        with _ctrl_c_ignored():  # ending already: a second press must not turn it into a traceback
            code, message = _outcome(exc)
            if code is None:
                raise
            if args.debug:
                import traceback

                traceback.print_exception(exc)
            errors.print(message, highlight=False)
        return code


def _warning_line(errors):
    """`warnings.showwarning` for a command: each warning one line on stderr, in its words.

    Python's own format names the file and line that warned (`…/bin/pymc-bnn:10:
    ConvergenceWarning: … raise steps=`) and repeats a source line; a command's user wants
    the message, its options as flags (`--steps`). `--debug` keeps Python's format.
    """
    from pymc_bnn.cli.words import cli_words

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        errors.print(f"[yellow]warning[/]: {cli_words(str(message))}", highlight=False)

    return show


def _reader_gone() -> int:
    """`EXIT_READER_GONE`, quietly, after the reader of stdout closed its pipe (`| head`).

    What is left unwritten has no reader; stdout is pointed at the null device so that the
    interpreter's own flush at exit does not fail a second time (as "Exception ignored …
    BrokenPipeError" and exit code 120). A stdout without a file descriptor (a test's capture)
    is left as it is.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return EXIT_READER_GONE
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)
    return EXIT_READER_GONE


def _without_dask() -> None:
    """Make Dask unimportable in this process, unless something imported it already.

    No command uses Dask (it is the optional backend of a user's own `joblib.parallel_backend`
    in Python), but with Dask installed xarray imports `dask.array` the first time it wraps any
    array, to ask whether it is a Dask array: a large share of `pymc-bnn predict`'s start-up.
    A `None` entry in `sys.modules` makes `import dask` fail, and xarray then treats Dask as
    not installed. Only the command's own process does this (`main` with no `argv`): a Python
    session that calls `main([...])` keeps its Dask.

    Examples
    --------
    >>> import subprocess, sys
    >>> code = ("from pymc_bnn.cli.app import _without_dask; _without_dask(); "
    ...         "import xarray, numpy, sys; xarray.DataArray(numpy.zeros(2)); "
    ...         "print(sys.modules.get('dask.array'))")
    >>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    'None'
    """
    sys.modules.setdefault("dask", None)  # type: ignore[arg-type]


@contextmanager
def _ctrl_c_ignored():
    """Ctrl-C is ignored within the block (while the command says how it ended).

    Afterwards it is handled as before (an in-process caller, e.g. a test, gets its handler
    back).
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _outcome(exc: BaseException) -> tuple[int | None, str]:
    """(exit code, one-line message) for an error a command raised; (None, "") re-raises it."""
    from pymc_bnn.errors import FileSystemError

    if caused_by_ctrl_c(exc):  # a press, or an extension's import it made fail
        return EXIT_INTERRUPTED, "[red]interrupted[/]: nothing was kept"
    from pymc_bnn.cli.words import cli_words

    if isinstance(exc, InferenceError):
        return EXIT_FAILURE, f"[red]error[/]: {cli_words(str(exc))}"
    if isinstance(exc, OSError) and not isinstance(exc, FileSystemError):
        # a file read or written outside pymc-bnn's helpers: the same one line
        from pymc_bnn._runtime.atomic_writes import file_system_error

        where = exc.filename if exc.filename is not None else "a file"
        exc = file_system_error(exc, where, action="use")
    if isinstance(exc, FileSystemError):  # a wrong path is the user's to fix: usage
        wrong_path = exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.EEXIST)
        return (EXIT_USAGE if wrong_path else EXIT_FILE_SYSTEM), f"[red]error[/]: {exc}"
    if isinstance(exc, PymcBnnError):  # the library's words for Python, in the CLI's flags
        return EXIT_USAGE, f"[red]error[/]: {cli_words(str(exc))}"
    return None, ""
