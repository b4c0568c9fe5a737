"""Steps that `fit`, `predict` and `report` share.

Their `--quiet` flag and status lines (`say`), a note on stderr, a model file loaded for the
CLI (an estimator's file, not a bare Posterior), and DATA read with the CSV flags.
"""

from __future__ import annotations

from pathlib import Path

from pymc_bnn.cli.table_files import is_parquet, read_table
from pymc_bnn.cli.words import cli_words


def _add_quiet(parser) -> None:
    """--quiet alone: predicting and reporting draw no random numbers, so they take no --seed."""
    parser.add_argument("--quiet", action="store_true", help="no progress or summary")


def _status(args, console):
    return (lambda message: None) if args.quiet else (
        lambda message: console.print(f"[dim]•[/] {message}", highlight=False))


def _note(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[cyan]note[/]: {cli_words(message)}",
                                               highlight=False)


def _load_model(path, *, saved_estimator: bool = False):
    """(the estimator, or with `saved_estimator` a `SavedEstimator`, the file's description).

    `predict` takes the SavedEstimator: the same predictions without importing scikit-learn.
    """
    from pymc_bnn.errors import ModelFileError
    from pymc_bnn.io.model_file import decode_with_description

    model, description = decode_with_description(path, saved_estimator=saved_estimator)
    if description["kind"] != "estimator":
        raise ModelFileError(
            f"{path} holds a bare Posterior; the CLI uses models written by `pymc-bnn fit` or "
            "estimator.save (Posterior files are for the Python API)"
        )
    return model, description


def _note_unfinished_fit(path, description: dict) -> None:
    """A note on stderr where the model file's fit was interrupted or did not settle.

    Predictions from such a model are what the state it reached gives; the user who reads only
    the predictions table would not know (the fit's own warnings were said once, at fit time).
    """
    fit = description.get("posterior", {})
    diagnostics = fit.get("diagnostics") or {}
    if fit.get("interrupted"):
        step = diagnostics.get("steps_run")
        _note(f"{path}: its fit was stopped by Ctrl-C{f' at step {step:,}' if step else ''} "
              "and saved as it stood, so these predictions come from that state; run `pymc-bnn "
              "fit` again for a finished model")
    elif diagnostics.get("converged") is False:
        said = [w for w in diagnostics.get("warnings") or () if "converg" in w]
        _note(f"{path}: its fit did not settle ({said[0] if said else 'it stopped at its step '
              'limit'}), so these predictions come from where it stopped; `pymc-bnn report` "
              "judges the fit")


def _read_data(args, say):
    """`read_table` on DATA with the CSV flags, saying how a CSV is read if not plainly.

    The status line names a separator found in the header ("separated by semicolons (found
    in its header line)"), so a file read in a way the user did not expect shows it.
    """
    from pymc_bnn.cli.csv_format import csv_format

    described = ("" if is_parquet(args.data) or not Path(args.data).is_file()
                 else csv_format(args.data, args.sep, args.encoding, args.decimal).described)
    say(f"Reading {args.data}" + (f": {described}" if described else ""))
    return read_table(args.data, sep=args.sep, encoding=args.encoding, decimal=args.decimal)
