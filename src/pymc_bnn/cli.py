"""The `pymc-bnn` command: each subcommand does one user job through the public API.

Exit codes: 0 success, 2 bad usage or bad input (one readable line, no traceback), 1 anything
else, 130 interrupted before anything could be kept.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from pymc_bnn.errors import InferenceError, PymcBnnError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {value}")
    return value


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 5,5 or 32,32, got {text!r}"
        ) from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"every hidden layer needs at least 1 unit, got {text!r}")
    return widths


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or summary")


def build_parser() -> argparse.ArgumentParser:
    from pymc_bnn import __version__
    from pymc_bnn.inference import DEFAULT_METHOD, ENGINES

    parser = argparse.ArgumentParser(
        prog="pymc-bnn",
        description="Bayesian neural networks on PyMC: fit, predict with uncertainty, report.",
    )
    parser.add_argument("--version", action="version", version=f"pymc-bnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the seed analysis (two moons) and write figures, metrics.json and report.html",
        description="Fit the seed's 2→5→5→1 tanh BNN to two moons and write five figures, "
                    "metrics.json and a self-contained report.html.",
    )
    demo.add_argument("--out", default=None,
                      help="output folder (default: ./pymc-bnn-demo, or "
                           "./pymc-bnn-hierarchical with --hierarchical)")
    demo.add_argument("--method", default=DEFAULT_METHOD, choices=sorted(ENGINES),
                      help=f"inference engine (default: {DEFAULT_METHOD})")
    demo.add_argument("--steps", type=_positive_int, default=30_000,
                      help="optimisation steps for VI methods (default: 30000)")
    demo.add_argument("--draws", type=_positive_int, default=5000,
                      help="posterior draws (default: 5000)")
    demo.add_argument("--hidden", type=_widths, default=(5, 5),
                      help="hidden layer widths, comma-separated (default: 5,5)")
    demo.add_argument("--hierarchical", action="store_true",
                      help="grouped two moons: compare partial, complete and no pooling")
    demo.add_argument("--methods", default=None, metavar="M1,M2,...",
                      help="compare inference engines side by side, e.g. advi,fullrank_advi,nuts")
    _add_common(demo)
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _cmd_demo(args, console: Console) -> int:
    from pymc_bnn.demo import DemoSettings, run_demo

    if args.hierarchical:
        return _cmd_demo_hierarchical(args, console)
    if args.methods:
        return _cmd_demo_methods(args, console)
    args.out = args.out or "pymc-bnn-demo"
    settings = DemoSettings(method=args.method, seed=args.seed, steps=args.steps,
                            draws=args.draws, hidden=args.hidden)
    status = None if args.quiet else (lambda message: console.print(f"[dim]•[/] {message}"))
    metrics = run_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        t = metrics["timings"]
        console.print(
            f"[bold]accuracy[/] {metrics['accuracy']:.3f}   [bold]log loss[/] "
            f"{metrics['log_loss']:.3f}   [bold]fit[/] {t.get('fit_s', 0):.1f} s   "
            f"[bold]total[/] {t['total_s']:.1f} s"
        )
        if metrics.get("interrupted"):
            console.print("[yellow]The fit was interrupted; results use the state reached so far.[/]")
        console.print(f"Report: [link]{_report_path(args.out)}[/]")
    return EXIT_OK


def _cmd_demo_hierarchical(args, console: Console) -> int:
    from pymc_bnn.demo_hierarchical import HierarchicalDemoSettings, run_hierarchical_demo

    args.out = args.out or "pymc-bnn-hierarchical"
    settings = HierarchicalDemoSettings(method=args.method, seed=args.seed, steps=args.steps,
                                        draws=args.draws, hidden=args.hidden)
    status = None if args.quiet else (lambda message: console.print(f"[dim]•[/] {message}"))
    metrics = run_hierarchical_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        accuracy = metrics["pooling_accuracy"]
        console.print("[bold]mean held-out accuracy[/]   " + "   ".join(
            f"{key} {value:.3f}" for key, value in accuracy.items()))
        console.print(f"Report: [link]{_report_path(args.out)}[/]")
    return EXIT_OK


def _cmd_demo_methods(args, console: Console) -> int:
    from pymc_bnn.demo_methods import MethodsDemoSettings, parse_methods, run_methods_demo

    args.out = args.out or "pymc-bnn-methods"
    settings = MethodsDemoSettings(methods=parse_methods(args.methods), seed=args.seed,
                                   steps=args.steps, draws=args.draws, hidden=args.hidden)
    status = None if args.quiet else (lambda message: console.print(f"[dim]•[/] {message}"))
    metrics = run_methods_demo(args.out, settings, progress=not args.quiet, status=status)
    if not args.quiet:
        for method, r in metrics["methods"].items():
            console.print(f"[bold]{method:>14}[/]  accuracy {r['accuracy']:.3f}   log loss "
                          f"{r['log_loss']:.3f}   {r['total_s']:.1f} s")
        console.print(f"Report: [link]{_report_path(args.out)}[/]")
    return EXIT_OK


def _report_path(out: str) -> str:
    from pathlib import Path

    return str((Path(out) / "report.html").resolve())


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(stderr=False)
    errors = Console(stderr=True)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args, console)
    except KeyboardInterrupt:
        errors.print("[red]interrupted[/]: nothing was kept")
        return EXIT_INTERRUPTED
    except InferenceError as exc:
        errors.print(f"[red]error[/]: {exc}", highlight=False)
        return EXIT_FAILURE
    except PymcBnnError as exc:
        errors.print(f"[red]error[/]: {exc}", highlight=False)
        return EXIT_USAGE
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        errors.print(f"[red]error[/]: {exc.strerror}: {exc.filename}", highlight=False)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
