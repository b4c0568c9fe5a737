"""The `pymc-bnn` command line.

Modules: `app` (the entry point, `demo` and `active`), `args` (argument types and flags shared by
commands), `engine_flags` (`fit`'s flags for the engines' options), `model_commands` (`fit`,
`predict`, `report` and `info` under one parser; `info`), `fit_command` (`fit`),
`predict_command` (`predict`, Parquet batch by batch), `report_command` (`report`),
`command_steps` (the steps `fit`, `predict` and `report` share: status lines, loading the model
and DATA),
`new_row_notes` (what coding new rows will do, said as a note), `stability_command` (`stability`),
`table_files` (reading CSV and Parquet tables), `copied_columns` (the columns `predict` copies
as written), `csv_format` (a CSV's separator, encoding and
compression), `tables` (a table's target, group and weight columns, the estimator the target
calls for), `model_columns` (a saved model's feature columns in DATA, and the predictions table),
`words` (the library's messages in the command line's words).

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
    """Run `pymc-bnn` with `argv` (default: the process's arguments); returns the exit code.

    The same as `pymc_bnn.cli.app.main`, but a Ctrl-C while that module is still being
    imported is one line and exit code 130 too.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after `pymc-bnn`; default: `sys.argv[1:]`.

    Returns
    -------
    int
        The exit code: 0 success, 1 a failed fit, 2 bad usage or input, 3 a fit interrupted
        and saved, 74 a file-system error, 130 interrupted with nothing written.

    Examples
    --------
    A fitted estimator saved as `pymc-bnn fit` would, then `pymc-bnn report` on it:

    >>> _ = fitted_classifier.save("model.bnn.nc")
    >>> main(["report", "model.bnn.nc", "--quiet"])
    0
    >>> import os
    >>> os.path.getsize("model.bnn.html") > 0
    True
    """
    previous = sys.unraisablehook
    sys.unraisablehook = _ignoring_interrupts(previous)
    try:
        try:
            from pymc_bnn.cli.app import main as run
        except (KeyboardInterrupt, ImportError) as exc:
            # a press inside a compiled extension's initialisation comes out as
            # "ImportError: initialization failed" raised from it
            from pymc_bnn._runtime.interrupt import caused_by_ctrl_c  # standard library only

            if not caused_by_ctrl_c(exc):
                raise
            sys.stderr.write("interrupted: nothing was kept\n")
            return _EXIT_INTERRUPTED
        return run(argv)
    finally:
        # The console script's process ends next: a press now lands in an exit handler (JAX
        # registers some), where it can stop nothing and Python would print it as "Exception
        # ignored in atexit callback ... KeyboardInterrupt"; the command is done, so it is
        # dropped. A call with arguments (a test, a script) gets its own hook back.
        sys.unraisablehook = _dropping_interrupts(previous) if argv is None else previous


def _dropping_interrupts(previous):
    """`sys.unraisablehook` that drops a Ctrl-C (the process is ending); the rest to `previous`.

    Examples
    --------
    >>> seen = []
    >>> hook = _dropping_interrupts(seen.append)
    >>> class Unraisable:
    ...     exc_type = KeyboardInterrupt
    >>> hook(Unraisable()); seen
    []
    >>> Unraisable.exc_type = ValueError
    >>> hook(Unraisable()); len(seen)
    1
    """
    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            return
        previous(unraisable)

    return hook


def _ignoring_interrupts(previous):
    """`sys.unraisablehook` that passes on a Ctrl-C landing where Python cannot raise it.

    A press that arrives while a finaliser or a garbage-collection callback runs (JAX has one)
    cannot interrupt anything there; Python would print it as "Exception ignored in ...:
    Traceback" and go on as if it had not been pressed. The hook prints nothing and presses
    again for the user: a short-lived thread simulates SIGINT, whose handler then runs in the
    main thread once the callback has returned (raising it inside the hook would be swallowed
    the same way; `threading.Thread.start` would wait, inside the hook, for the thread). Anything
    else goes to `previous`.
    """
    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            import _thread

            _thread.start_new_thread(_press_again, ())
            return
        previous(unraisable)

    return hook


def _press_again(delay: float = 0.05) -> None:
    """Simulate SIGINT for the main thread after `delay` seconds (from a thread of its own).

    The delay lets the main thread leave the unraisable hook and the callback it interrupted
    first; a press that still lands inside one comes back through the hook and is sent again.
    """
    import _thread
    import time

    time.sleep(delay)
    _thread.interrupt_main()


def build_parser():
    """The `pymc-bnn` argument parser (every subcommand), as `pymc-bnn --help` builds it.

    Returns
    -------
    argparse.ArgumentParser
        See `pymc_bnn.cli.app.build_parser`.

    Examples
    --------
    >>> args = build_parser().parse_args(["predict", "model.bnn.nc", "new.csv",
    ...                                   "--out", "predictions.csv", "--level", "0.8"])
    >>> args.command, args.model, args.data, args.out, args.level
    ('predict', 'model.bnn.nc', 'new.csv', 'predictions.csv', 0.8)
    """
    from pymc_bnn.cli.app import build_parser as build

    return build()
