"""`pymc-bnn predict MODEL DATA --out PRED`: a saved model's predictions for a table.

A CSV is read whole; Parquet DATA (a file or a folder of files) is read, predicted and written
batch by batch, so a table of any size fits in memory. The output holds the predictions with
their uncertainty (`pymc_bnn.cli.model_columns.prediction_table`) after DATA's columns the model
does not use, the fit's --id columns first; what coding the new rows takes (gaps filled,
categories not seen in training) is said once as a note (`pymc_bnn.cli.new_row_notes`).
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from pathlib import Path

from pymc_bnn._runtime.outputs import check_output, check_replaced_columns
from pymc_bnn.cli.args import EXIT_OK, add_csv_flags, add_force
from pymc_bnn.cli.command_steps import (
    add_quiet,
    load_model,
    note,
    note_unfinished_fit,
    read_data,
    status_printer,
)
from pymc_bnn.cli.copied_columns import read_batch_columns, read_text_columns
from pymc_bnn.cli.model_columns import model_features, prediction_table
from pymc_bnn.cli.new_row_notes import check_new_rows, count_batch_new_rows
from pymc_bnn.cli.table_files import check_csv_flags, is_parquet
from pymc_bnn.cli.tables import split_groups
from pymc_bnn.errors import InvalidInputError, UnseenCategoryWarning


def add_predict_command(sub) -> None:
    """Add `predict` to the `pymc-bnn` subparsers `sub`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What the main parser's `add_subparsers` returned. The command's handler is set as
        `args.handler`, called by `pymc_bnn.cli.app.main`.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="pymc-bnn")
    >>> add_predict_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["predict", "model.bnn.nc", "new.csv", "--out", "p.csv",
    ...                           "--level", "0.9"])
    >>> args.command, args.model, args.data, args.out, args.level, args.unseen_groups
    ('predict', 'model.bnn.nc', 'new.csv', 'p.csv', 0.9, 'population')
    """
    from pymc_bnn.model.group_labels import UNSEEN_GROUPS

    predict = sub.add_parser(
        "predict", help="predict a table with a saved model; writes predictions and uncertainty",
        description="Predict every row of DATA with MODEL and write a CSV (or Parquet, for an "
                    "--out ending in .parquet): the prediction (class probabilities, or a mean "
                    "and its sd), interval columns with --level, and "
                    "DATA's non-feature columns (e.g. an id) copied unchanged. Parquet DATA "
                    "(a file or folder) is read and written batch by batch: any size.",
    )
    predict.add_argument("model", metavar="MODEL", help="model file from `pymc-bnn fit`")
    predict.add_argument("data", metavar="DATA",
                         help="CSV or Parquet file (or folder of Parquet files) with the features")
    predict.add_argument("--out", required=True, metavar="PRED",
                         help="CSV file to write (.parquet: a Parquet file)")
    predict.add_argument("--level", type=_probability, default=None, metavar="P",
                         help="also write central P intervals, e.g. 0.9: lower and upper of a "
                              "regression, p_<label>_lower and _upper of each probability, with "
                              "the entropies of a classifier (default: none; they take every "
                              "draw, and a regression's are most of predict's work)")
    predict.add_argument("--unseen-groups", default="population", choices=UNSEEN_GROUPS,
                         help="models fitted with --groups: predict a group not seen in "
                              "training from the population, or refuse it (default: population)")
    add_csv_flags(predict)
    add_force(predict)
    add_quiet(predict)
    predict.set_defaults(handler=_cmd_predict)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability between 0 and 1, got {text!r}")
    return value


def _cmd_predict(args, console) -> int:
    from pymc_bnn._runtime.atomic_writes import write_text_atomic
    from pymc_bnn._runtime.interrupt import import_whole

    pd = import_whole("pandas")  # the first heavy import: Ctrl-C waits for its end (fit's note)

    check_output(args.out, "predictions", inputs={"MODEL": args.model, "DATA": args.data},
                 force=args.force)
    _refuse_other_formats(args.out)
    check_csv_flags(args.data, args.sep, args.encoding, args.decimal)
    say = status_printer(args, console)
    say(f"Loading {args.model}")
    model, description = load_model(args.model, saved_estimator=True)
    if is_parquet(args.data):
        return _predict_streamed(args, console, model, description, say)
    table = read_data(args, say)
    features, others = model_features(model, table, args.data)
    what = check_new_rows(model.encoding, table[features], str(args.data))
    if what is not None:  # on stderr even with --quiet: it changes what was predicted
        note(f"{args.data}: {what}")
    unseen: Counter[str] = Counter()
    groups = _predict_groups(model, description, table, args, unseen)
    _say_unseen_groups(model, unseen, say)
    others = _ids_first(others, description)
    if others:
        say(f"Copying column(s) the model does not use to the output: {', '.join(others)}")
    say(f"Predicting {table.shape[0]:,} rows")
    with warnings.catch_warnings():  # the note above said it in the command's words
        warnings.simplefilter("ignore", UnseenCategoryWarning)
        predictions = prediction_table(model, table[features], level=args.level, groups=groups)
    # the cells' text, not the parsed values: an id 007 stays 007, not 7
    kept = read_text_columns(args.data, table, others, sep=args.sep,
                             encoding=args.encoding).rename(
        columns=_copied_names(others, predictions.columns))
    out = pd.concat([kept.reset_index(drop=True), predictions], axis=1)
    check_replaced_columns(args.out, out.columns, force=args.force)
    if is_parquet(args.out):
        from pymc_bnn.data import write_batches

        write_batches([out], args.out, mark="predictions")
    else:
        write_text_atomic(args.out, out.to_csv(index=False))
    note_unfinished_fit(args.model, description)  # once the predictions it is about exist
    if not args.quiet:
        console.print(f"Predictions: {Path(args.out).resolve()} "
                      f"({len(out):,} rows; columns {', '.join(predictions.columns)})",
                      highlight=False)
    return EXIT_OK


def _refuse_other_formats(out) -> None:
    """Refuse an --out whose name promises what predict does not write: CSV or Parquet.

    Compressed (p.csv.gz: pandas, reading by the suffix, would find plain text), or another
    format's suffix (p.xlsx, p.json; p.tsv, which pymc-bnn reads as tab-separated).
    """
    from pymc_bnn.cli.csv_format import COMPRESSION_SUFFIXES, data_suffix
    from pymc_bnn.cli.table_files import OTHER_FORMATS
    from pymc_bnn.errors import OutputPathError

    name = Path(out).name
    compression = next((s for s in COMPRESSION_SUFFIXES if name.lower().endswith(s)), "")
    if compression:
        base = name[:-len(compression)]
        csv = base if base.lower().endswith(".csv") else f"{Path(base).stem}.csv"
        raise OutputPathError(
            f"--out {out} ends in {compression}, but predict writes its table uncompressed; "
            f"name it {csv} (and compress it afterwards), or {Path(base).stem}.parquet "
            "(compressed inside)")
    suffix = data_suffix(out)
    what = ("tab-separated text" if suffix == ".tsv"
            else OTHER_FORMATS[suffix][0] if suffix in OTHER_FORMATS else None)
    if what is not None:
        stem = Path(name).stem
        raise OutputPathError(f"--out {out} has the suffix of {what}, but predict writes CSV or "
                              f"Parquet; name it {stem}.csv or {stem}.parquet")


def _copied_names(others: list, predictions) -> dict:
    """Each copied column a prediction column's name takes ('prediction', 'p_yes') → its new name.

    "_input" is added, again until no other column of the output has the name.
    """
    taken = {*predictions, *others}
    names = {}
    for column in others:
        if column in set(predictions):
            name = f"{column}_input"
            while name in taken:
                name += "_input"
            names[column] = name
            taken.add(name)
    return names


def _ids_first(others: list, description: dict) -> list:
    """The copied columns with the fit's --id columns first (predict writes them first)."""
    ids = [c for c in description.get("notes", {}).get("id", []) if c in others]
    return [*ids, *(c for c in others if c not in ids)]


def _predict_streamed(args, console, model, description, say) -> int:
    """`pymc-bnn predict` on Parquet DATA, one batch of rows at a time.

    Each batch is read, predicted (as the in-memory path does, `prediction_table`) and appended
    to the output, so memory is bounded whatever DATA's size. Every batch's missing values and
    unseen categories are counted, and the total is said once at the end, in the words of a
    predict read whole.
    """
    import pandas as pd

    from pymc_bnn.data import ReadAhead, open_parquet, write_batches
    from pymc_bnn.data.parquet_files import read_parquet_batches, table_columns
    from pymc_bnn.new_rows import describe_new_row_counts

    dataset = open_parquet(args.data)
    features, others = model_features(model, table_columns(dataset.schema), args.data)
    others = _ids_first(others, description)
    group_column = description.get("notes", {}).get("groups")
    if others:
        say(f"Copying column(s) the model does not use to the output: {', '.join(others)}")
    n_rows = dataset.count_rows()
    if n_rows == 0:  # as a CSV without rows: nothing to predict, and no empty file written
        raise InvalidInputError(f"{args.data} has no rows; pass a table with data")
    say(f"Predicting {n_rows:,} rows batch by batch")

    counted = None  # every batch's missing values and unseen categories, added up
    unseen: Counter[str] = Counter()  # rows in groups not seen in training, said at the end

    def frames():
        nonlocal counted
        start = 0  # the batch's first row in DATA: a refusal names DATA's row, not the batch's
        checked = False  # whether an existing --out may be replaced by these columns
        # the next batch is read and converted by a background thread while this one predicts;
        # the copied columns are converted apart: whole numbers with gaps stay whole numbers,
        # and for a Parquet output every column keeps its Arrow type, even in a batch where it
        # holds no value (converted as pandas does it, such a column has no type there)
        copy = (_arrow_columns if is_parquet(args.out) else read_batch_columns)
        with ReadAhead((batch.to_pandas(), copy(batch, others))
                       for batch in read_parquet_batches(dataset)) as tables:
            for table, copied in tables:
                source = (str(args.data) if len(table) == n_rows else
                          f"{args.data} (rows {start:,} to {start + len(table) - 1:,})")
                counted = count_batch_new_rows(model.encoding, table[features], source, counted,
                                          first_row=start)
                start += len(table)
                groups = (_predict_groups(model, description, table, args, unseen)
                          if group_column is not None else None)
                with warnings.catch_warnings():  # noted once below, in the command's words
                    warnings.simplefilter("ignore", UnseenCategoryWarning)
                    predictions = prediction_table(model, table[features], level=args.level,
                                                   groups=groups)
                kept = copied.rename(columns=_copied_names(others, predictions.columns))
                frame = pd.concat([kept.reset_index(drop=True), predictions], axis=1)
                if not checked:  # the first batch's columns are the output's: before any write
                    check_replaced_columns(args.out, frame.columns, force=args.force)
                    checked = True
                yield frame

    rows = write_batches(frames(), args.out, total_rows=n_rows, progress=not args.quiet,
                         mark="predictions")
    _say_unseen_groups(model, unseen, say)
    what = None if counted is None else describe_new_row_counts(counted)
    if what is not None:  # on stderr even with --quiet: it changes what was predicted
        note(f"{args.data}: {what}")
    note_unfinished_fit(args.model, description)
    if not args.quiet:
        console.print(f"Predictions: {Path(args.out).resolve()} ({rows:,} rows)",
                      highlight=False)
    return EXIT_OK


def _arrow_columns(batch, columns):
    """`columns` of a record batch as pandas columns of their Arrow types (`pandas.ArrowDtype`)."""
    import pandas as pd

    return batch.select(list(columns)).to_pandas(types_mapper=pd.ArrowDtype)


def _predict_groups(model, description, table, args, unseen):
    """Each row's group label for a model fitted with --groups (None otherwise).

    The labels are checked against the fitted groups: unseen ones are refused with
    --unseen-groups raise, else their rows counted in `unseen` (label → rows), which
    `_say_unseen_groups` says once for the whole table.
    """
    from pymc_bnn.model.group_labels import locate_groups

    column = description.get("notes", {}).get("groups")
    if column is None:
        return None
    _, groups = split_groups(table, column, args.data)
    record = model.posterior_.groups
    codes, labels = locate_groups(record, groups, n_obs=len(groups),
                                  unseen_groups=args.unseen_groups)
    unseen.update(str(v) for v, c in zip(labels, codes, strict=False) if c < 0)
    return labels


def _say_unseen_groups(model, unseen, say) -> None:
    """Say how many rows were in groups not seen in training, once for the whole table.

    Said for partial pooling, which predicts them from the population.
    """
    if unseen and model.posterior_.groups["pooling"] == "partial":
        names = sorted(unseen)
        say(f"{sum(unseen.values())} row(s) in group(s) not seen in training "
            f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): predicted from the "
            "population")
