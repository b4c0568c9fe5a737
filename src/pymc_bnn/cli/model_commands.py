"""The CLI on a user's own data: `fit`, `predict`, `report` and `info` under one parser.

`add_model_commands` adds the four commands; each command's parser and steps live in a module of
its own (`pymc_bnn.cli.fit_command`, `pymc_bnn.cli.predict_command`,
`pymc_bnn.cli.report_command`), and `info`, which reads only a model file's description, is
here. Each command is a thin face over the public API: a table is read with pandas, the
estimators (`pymc_bnn.sklearn`) fit, `pymc_bnn.io` saves and loads, `pymc_bnn.reporting.html`
renders. The steps the commands share are `pymc_bnn.cli.command_steps`, their notes about new
rows `pymc_bnn.cli.new_row_notes`.
"""

from __future__ import annotations

import json

from pymc_bnn._runtime.moved import moved_names
from pymc_bnn.cli.args import EXIT_OK
from pymc_bnn.cli.fit_command import add_fit_command
from pymc_bnn.cli.new_row_notes import note_new_rows  # noqa: F401 (re-exported: report took it)
from pymc_bnn.cli.predict_command import add_predict_command
from pymc_bnn.cli.report_command import HEAVY_IMPORTS, add_report_command  # noqa: F401
from pymc_bnn.cli.words import cli_words


def add_model_commands(sub) -> None:
    """Add fit, predict, report and info to the `pymc-bnn` subparsers `sub`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What the main parser's `add_subparsers` returned. Each command's handler is set as
        `args.handler`, called by `pymc_bnn.cli.app.main`.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pymc-bnn")
    >>> sub = parser.add_subparsers(dest="command")
    >>> add_model_commands(sub)
    >>> sorted(sub.choices)
    ['fit', 'info', 'predict', 'report']
    >>> args = parser.parse_args(["fit", "penguins.csv", "--target", "species",
    ...                           "--out", "model.bnn.nc", "--hidden", "16,16", "--tune", "500"])
    >>> args.target, args.hidden, args.method, args.likelihood, args.tune
    ('species', (16, 16), 'auto', 'auto', 500)
    >>> print(parser.parse_args(["predict", "model.bnn.nc", "new.csv", "--out", "p.csv"]).level)
    None
    >>> parser.parse_args(["predict", "model.bnn.nc", "new.csv", "--out", "p.csv",
    ...                    "--level", "0.8"]).level
    0.8
    """
    add_fit_command(sub)
    add_predict_command(sub)
    add_report_command(sub)

    info = sub.add_parser("info", help="show what a model file holds",
                          description="Print what MODEL holds: network, likelihood, prior, "
                                      "inference settings, features, classes, versions.")
    info.add_argument("model", metavar="MODEL", help="model file")
    info.add_argument("--json", action="store_true", help="print the file's JSON description")
    info.set_defaults(handler=_cmd_info)


def _cmd_info(args, console) -> int:
    # only the description and its small arrays: no xarray, no estimator, no draws (fast)
    from types import SimpleNamespace

    from rich.table import Table

    from pymc_bnn.io.model_file_reader import read_summary

    description, record = read_summary(args.model)
    if args.json:
        print(json.dumps(description, indent=2))
        return EXIT_OK
    from pymc_bnn.posterior.convergence import judge_convergence
    from pymc_bnn.reporting.model_report import summary_rows

    classes = record.pop("classes")  # an array in the file, not the JSON
    judgement = judge_convergence(SimpleNamespace(**record))
    table = Table(title=str(args.model), show_header=False)
    for key, value in summary_rows(description, classes=classes, convergence=judgement):
        table.add_row(key, str(value))
    console.print(table)
    for problem in judgement.problems:
        console.print(f"[yellow]warning[/]: {cli_words(str(problem))}", highlight=False)
    return EXIT_OK


# predict's path moved to predict_command (and its notes about new rows to new_row_notes), fit's
# to fit_command, report's to report_command: the names they took still import from here, with
# a DeprecationWarning, for one release
__getattr__ = moved_names(__name__, {
    **dict.fromkeys(("_probability", "_cmd_predict", "_ids_first", "_predict_streamed",
                     "_predict_groups"), "pymc_bnn.cli.predict_command"),
    "_check_new_rows": ("pymc_bnn.cli.new_row_notes", "check_new_rows"),
    "_count_new_rows": ("pymc_bnn.cli.new_row_notes", "count_batch_new_rows"),
    **dict.fromkeys(("_refuse_role_clashes", "_name_columns", "_show_warnings", "_cmd_fit",
                     "_ending", "_absolute", "_refuse_unnamed_columns", "_fit_streamed",
                     "_fit_summary", "_show_convergence"), "pymc_bnn.cli.fit_command"),
    **dict.fromkeys(("_cmd_report", "_scored_target", "_drop_unseen_labels"),
                    "pymc_bnn.cli.report_command"),
})
