"""`pymc-bnn report MODEL [DATA]`: a self-contained HTML report of a saved model.

The page itself is `pymc_bnn.reporting.model_report`; this module is the command's parser and
the steps before it: the model loaded, and DATA, when given, made scorable. Its target column
is the one `pymc-bnn fit` recorded (or --target); rows with an empty target are left out with a
note, class labels are matched to the fitted classes by value (1.0 is class 1) and rows of
labels the classifier never saw are skipped with a warning, since they have no probability.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from pymc_bnn._runtime.outputs import check_output
from pymc_bnn.cli.args import EXIT_OK, add_csv_flags, add_force, print_report_path
from pymc_bnn.cli.command_steps import add_quiet, load_model, note, status_printer
from pymc_bnn.cli.model_columns import model_features
from pymc_bnn.cli.new_row_notes import note_new_rows
from pymc_bnn.cli.table_files import check_csv_flags, csv_flags_given, read_table
from pymc_bnn.cli.tables import split_groups, split_target
from pymc_bnn.errors import InvalidInputError, UnseenCategoryWarning
from pymc_bnn.validation import python_value

# What report and stability load before their work: the estimator's modules (scikit-learn,
# pandas, PyMC) and matplotlib, imported whole (see fit_command._cmd_fit).
HEAVY_IMPORTS = ("pymc_bnn.sklearn", "matplotlib.pyplot")


def add_report_command(sub) -> None:
    """Add `report` to the `pymc-bnn` subparsers `sub`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What the main parser's `add_subparsers` returned. The command's handler is set as
        `args.handler`, called by `pymc_bnn.cli.app.main`.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pymc-bnn")
    >>> add_report_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["report", "model.bnn.nc", "test.csv", "--target", "species"])
    >>> args.command, args.model, args.data, args.target, args.out
    ('report', 'model.bnn.nc', 'test.csv', 'species', None)
    """
    report = sub.add_parser(
        "report", help="write an HTML report of a model (held-out scores if DATA has the target)",
        description="Write a self-contained HTML report of MODEL: what was fitted, how the fit "
                    "went, and, given DATA with the target column, held-out scores.",
    )
    report.add_argument("model", metavar="MODEL", help="model file")
    report.add_argument("data", metavar="DATA", nargs="?", help="optional held-out data")
    report.add_argument("--target", default=None, metavar="COLUMN",
                        help="the column of DATA to score (default: the target `pymc-bnn fit` "
                             "recorded; a model saved from Python records none)")
    report.add_argument("--out", default=None,
                        help="HTML file to write (default: MODEL with .html)")
    add_csv_flags(report)
    add_force(report)
    add_quiet(report)
    report.set_defaults(handler=_cmd_report)


def _cmd_report(args, console) -> int:
    from pymc_bnn._runtime.atomic_writes import write_text_atomic
    from pymc_bnn._runtime.interrupt import import_whole
    from pymc_bnn.reporting.model_report import model_report

    out = Path(args.out) if args.out else Path(args.model).with_suffix(".html")
    check_output(out, "report", inputs={"MODEL": args.model, "DATA": args.data},
                 force=args.force, label=None if args.out else "the default report path")
    for heavy in HEAVY_IMPORTS:  # Ctrl-C waits for their end (fit_command._cmd_fit's note)
        import_whole(heavy)
    say = status_printer(args, console)
    say(f"Loading {args.model}")
    model, description = load_model(args.model)
    held_out = None
    if args.target is not None and args.data is None:
        raise InvalidInputError("--target names the column of DATA to score, but no DATA was "
                                "given; pass DATA, or leave out --target")
    given = csv_flags_given(args.sep, args.encoding, args.decimal)
    if given and args.data is None:
        raise InvalidInputError(f"{given} {'say' if ' ' in given else 'says'} how to read "
                                f"DATA, but no DATA was given; pass DATA, or leave out {given}")
    if args.data is not None:
        check_csv_flags(args.data, args.sep, args.encoding, args.decimal)
    if args.data is not None:
        say(f"Scoring {args.data}")
        target = args.target or description.get("notes", {}).get("target")
        if args.target is not None and args.target in set(
                map(str, getattr(model, "feature_names_in_", ()))):
            raise InvalidInputError(
                f"--target {args.target!r} is one of the model's features, not what it "
                "predicts; name the column it predicts")
        if target is None:
            raise InvalidInputError(
                f"{args.model} records no target column (it was saved from Python, not by "
                "`pymc-bnn fit`), so DATA's column to score is unknown; name it with --target "
                "COLUMN, or leave DATA out")
        table = read_table(args.data, sep=args.sep, encoding=args.encoding,
                           decimal=args.decimal)
        if target not in table.columns:
            raise InvalidInputError(
                f"{args.data} has no target column {target!r}, so there is nothing to score; "
                "pass data that includes it" + ("" if args.target else
                                                 ", name another with --target COLUMN")
                + ", or leave DATA out"
            )
        unlabelled = table[target].isna()
        if unlabelled.all():
            raise InvalidInputError(f"{args.data}'s target column {target!r} is empty in every "
                                    "row, so there is nothing to score; pass labelled rows, or "
                                    "leave DATA out")
        if unlabelled.any():  # rows without a label cannot be scored: the others are
            note(f"{args.data}: {int(unlabelled.sum())} row(s) with an empty {target!r} were "
                  "left out of the scores")
            table = table[~unlabelled]
        X, y = split_target(table, target, args.data)
        features, _ = model_features(model, X, args.data)
        _, groups = split_groups(X, description.get("notes", {}).get("groups"), args.data)
        y = _scored_target(model, y, args.data)
        X, y, groups, name = _drop_unseen_labels(model, X[features], y, groups, args.data)
        note_new_rows(model, X, str(args.data))
        held_out = (X, y.to_numpy(), name, groups)
    with warnings.catch_warnings():  # noted once above, in the command's words
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        page = model_report(model, description, held_out)
    write_text_atomic(out, page)
    if not args.quiet:
        print_report_path(console, out.resolve())
    return EXIT_OK


def _scored_target(model, y, data):
    """The held-out target `y` (a Series) as the model scores it, or a clear refusal.

    Class labels are matched to the fitted classes by value, so 1.0 (an integer column that
    a tool wrote as floats) is class 1. A regressor's target must be finite numbers, a count
    model's whole numbers ≥ 0: the fit refuses anything else, and so does the scoring.
    """
    import pandas as pd

    from pymc_bnn.encoding import category_text

    classes = getattr(model, "classes_", None)
    if classes is not None:
        by_text = {category_text(c): c for c in classes}
        return pd.Series([by_text.get(category_text(v), v) for v in y], index=y.index,
                         dtype=object, name=y.name)
    numbers = pd.to_numeric(y, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    likelihood = model.posterior_.likelihood
    what = "finite numbers"
    if not bad.any() and getattr(likelihood, "name", "") in ("poisson", "negative_binomial"):
        bad = (numbers.to_numpy() < 0) | (numbers.to_numpy() != np.round(numbers.to_numpy()))
        what = "counts (0, 1, 2, ...)"
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"{data}: the target column {y.name!r} must hold {what} for the "
            f"{likelihood.name} model to be scored, but {int(bad.sum())} row(s) do not "
            f"(first: {python_value(y.iloc[first])!r} in row {first}); fix or drop those rows")
    return numbers



def _drop_unseen_labels(model, X, y, groups, data):
    """(X, y, groups, name for the report) without the rows of labels the classifier never saw.

    The classifier gives those labels no probability, so they cannot be scored. Says how many
    rows it skipped and why, and refuses a table where no row is left.
    """
    classes = getattr(model, "classes_", None)
    if classes is None:
        return X, y, groups, str(data)
    seen = y.isin(list(classes)).to_numpy()
    if seen.all():
        return X, y, groups, str(data)
    unseen = sorted({str(label) for label in y[~seen]})
    shown = ", ".join(repr(label) for label in unseen[:5]) + (" …" if len(unseen) > 5 else "")
    if not seen.any():
        raise InvalidInputError(
            f"no row of {data} has a label the model was fitted on ({shown} are new; it knows "
            f"{', '.join(map(repr, map(str, classes)))}), so there is nothing to score; pass rows "
            "with known labels, or fit again on data that has these classes")
    why = (f"skipped {int((~seen).sum())} of {len(y)} rows whose label the model has not seen "
           f"({shown}): it gives those classes no probability")
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(
        f"[yellow]warning[/]: {data}: {why}; scored the other {int(seen.sum())}", highlight=False)
    kept_groups = (None if groups is None
                   else [g for g, keep in zip(groups, seen, strict=True) if keep])
    return X[seen], y[seen], kept_groups, f"{data} ({why})"
