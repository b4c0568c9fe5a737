"""`pymc-bnn stability MODEL DATA`: how stable a saved network is, as an HTML page and figures.

A thin face over `pymc_bnn.posterior.stability.stability` and
`pymc_bnn.reporting.stability_report`.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from pymc_bnn.cli.args import add_csv_flags, add_force, seed

DEFAULT_OUT = "pymc-bnn-stability"
FIGURES = ("input_relevance", "unit_stability", "aligned_weight_intervals", "cka_matrix")


def add_stability_command(sub) -> None:
    """Add `stability` to the `pymc-bnn` subparsers `sub`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What the main parser's `add_subparsers` returned.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pymc-bnn")
    >>> add_stability_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["stability", "model.bnn.nc", "held_out.csv"])
    >>> args.command, args.model, args.data, args.out, args.draws
    ('stability', 'model.bnn.nc', 'held_out.csv', 'pymc-bnn-stability', 500)
    """
    parser = sub.add_parser(
        "stability", help="how stable a saved network is: aligned weights, units, inputs, CKA",
        description="Align the hidden units of MODEL's posterior draws, then measure on DATA "
                    "(ideally held out; with the target column the loss of removing each unit "
                    "too): weight summaries and R-hat, per-unit stability, input relevance "
                    "with intervals and CKA between draws. Writes stability.html and the "
                    "figures as PNG to --out (a new folder, or one holding only pymc-bnn's "
                    "outputs, unless --force).",
    )
    parser.add_argument("model", metavar="MODEL", help="model file from `pymc-bnn fit`")
    parser.add_argument("data", metavar="DATA", help="CSV or Parquet file with the features")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output folder (default: ./{DEFAULT_OUT})")
    parser.add_argument("--draws", type=int, default=500,
                        help="posterior draws used, thinned within chains (default: 500)")
    parser.add_argument("--seed", type=seed, default=0,
                        help="seed of the row subsample for activity and CKA (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress or summary")
    add_csv_flags(parser)
    add_force(parser)
    parser.set_defaults(handler=_cmd_stability)


def model_table_inputs(model, description: dict, path, *, sep: str | None = None,
                       encoding: str | None = None, decimal: str | None = None):
    """The inputs `pymc-bnn stability` measures a model on, from the table at `path`.

    Parameters
    ----------
    model : estimator or Posterior
        The loaded model. An estimator fitted on a DataFrame picks its feature columns by name;
        one fitted on an array, or a bare Posterior (no column names), takes every column but
        the target and the group column, in order.
    description : dict
        The model file's description (`pymc_bnn.io.read_description`); its "notes" name the
        target column and the group column, if any.
    path : str or pathlib.Path
        A CSV or Parquet file.
    sep, encoding, decimal : str, optional
        How to read a CSV file (`--sep`, `--encoding`, `--decimal`;
        `pymc_bnn.cli.table_files.read_table`).

    Returns
    -------
    tuple
        (X, the DataFrame of the model's features; y, the target as an array when the table
        has the target column, else None; the source's name for the report). A group column
        is dropped: the population network is measured.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.DataFrame({"x0": [0.1, -0.3], "x1": [1.2, 0.4], "x2": [0.0, -1.1],
    ...               "label": ["yes", "no"]}).to_csv("held_out.csv", index=False)
    >>> X, y, source = model_table_inputs(fitted_classifier, {"notes": {"target": "label"}},
    ...                                   "held_out.csv")
    >>> list(X.columns), list(y), source
    (['x0', 'x1', 'x2'], ['yes', 'no'], 'held_out.csv')
    >>> model_table_inputs(fitted_classifier, {}, "held_out.csv")[1] is None  # no target known
    True
    """
    from pymc_bnn.cli.model_columns import model_features
    from pymc_bnn.cli.table_files import read_table

    table = read_table(path, sep=sep, encoding=encoding, decimal=decimal)
    notes = description.get("notes", {})
    target, group_column = notes.get("target"), notes.get("groups")
    y = table[target].to_numpy() if target is not None and target in table.columns else None
    if hasattr(model, "feature_names_in_"):
        features, _ = model_features(model, table, path)
        return table[features], y, str(path)
    features = [c for c in table.columns if c not in (target, group_column)]
    return table[features], y, str(path)


def _cmd_stability(args, console) -> int:
    from pymc_bnn._runtime.interrupt import import_whole
    from pymc_bnn._runtime.outputs import check_output_folder
    from pymc_bnn.cli.new_row_notes import note_new_rows
    from pymc_bnn.cli.report_command import HEAVY_IMPORTS
    from pymc_bnn.cli.table_files import check_csv_flags

    check_csv_flags(args.data, args.sep, args.encoding, args.decimal)
    # before any work: a folder of the user's files is refused, as the demos refuse it
    out = check_output_folder(args.out, inputs={"MODEL": args.model, "DATA": args.data},
                              force=args.force)

    for heavy in HEAVY_IMPORTS:  # Ctrl-C waits for their end (fit_command._cmd_fit's note)
        import_whole(heavy)
    from pymc_bnn.cli.args import EXIT_OK, print_report_path
    from pymc_bnn.errors import InvalidSettingError, UnseenCategoryWarning
    from pymc_bnn.io import load, read_description, write_bytes_atomic, write_text_atomic
    from pymc_bnn.posterior.stability import stability
    from pymc_bnn.reporting import stability_plots as plots
    from pymc_bnn.reporting.html import figure_png, render_html
    from pymc_bnn.reporting.stability_report import (
        SECTION_TITLE,
        stability_section,
        stacking_note,
    )

    if args.draws < 1:
        raise InvalidSettingError(f"--draws must be at least 1, got {args.draws}")
    say = (lambda message: None) if args.quiet else (
        lambda message: console.print(f"[dim]•[/] {message}", highlight=False))
    say(f"Loading {args.model}")
    model, description = load(args.model), read_description(args.model)
    say(f"Reading {args.data}")
    X, y, source = model_table_inputs(model, description, args.data, sep=args.sep,
                                      encoding=args.encoding, decimal=args.decimal)
    note_new_rows(model, X, source)
    say(f"Aligning draws and measuring on {len(X):,} rows")
    with warnings.catch_warnings():  # the note above said it in the command's words
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        result = stability(model, X, y, max_draws=args.draws, random_seed=args.seed)
    for name in FIGURES:
        drawn = getattr(plots, name)(result)
        write_bytes_atomic(out / f"{name}.png", figure_png(drawn[0] if name == "cka_matrix"
                                                           else drawn))
    page = render_html(f"pymc-bnn: {SECTION_TITLE.lower().rstrip('?')} ({Path(args.model).name})",
                       [stability_section(result, source=source)],
                       subtitle=f"model {args.model}, data {args.data}")
    report = write_text_atomic(out / "stability.html", page)
    if not args.quiet:
        attrs = result.attrs
        inputs = result["inputs"].to_dataset()
        top = inputs["feature"].values[inputs["rank"].values.argmin()]
        rhat = (f"{attrs['rhat_max']:.3f} aligned, {attrs['rhat_max_unaligned']:.3f} raw"
                if math.isfinite(attrs["rhat_max"]) else "n/a (one chain)")
        console.print(f"[bold]most relevant input[/] {top}   [bold]mean CKA[/] "
                      f"{attrs['cka_mean']:.2f}   [bold]weight R-hat[/] {rhat}",
                      highlight=False)
        if attrs.get("stacked_draws"):
            console.print(stacking_note(attrs), highlight=False)
        if attrs["note"]:
            console.print(f"[yellow]{attrs['note']}[/]", highlight=False)
        print_report_path(console, report.resolve())
    return EXIT_OK
