"""Steps that `fit`, `predict` and `report` share.

Their `--quiet` flag and status lines (`say`), a note on stderr, a model file loaded for the
CLI (an estimator's file, not a bare Posterior), and DATA read with the CSV flags.
"""

from __future__ import annotations

from pathlib import Path

from pymc_bnn.cli.table_files import is_parquet, read_table
from pymc_bnn.cli.words import cli_words


def add_quiet(parser) -> None:
    """Add `--quiet` alone: predicting and reporting draw no random numbers, so no `--seed`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A command's parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_quiet(parser)
    >>> parser.parse_args(["--quiet"]).quiet
    True
    """
    parser.add_argument("--quiet", action="store_true", help="no progress or summary")


def status_printer(args, console):
    """The command's `say`: one status line per step ("• Loading m.bnn.nc"), none with --quiet.

    Parameters
    ----------
    args : argparse.Namespace
        The command's arguments (`quiet` read).
    console : rich.console.Console
        Where the lines go.

    Returns
    -------
    callable
        `say(message)`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from rich.console import Console
    >>> say = status_printer(SimpleNamespace(quiet=False), Console(width=60))
    >>> say("Loading m.bnn.nc")
    • Loading m.bnn.nc
    >>> status_printer(SimpleNamespace(quiet=True), Console())("Loading m.bnn.nc")  # nothing
    """
    return (lambda message: None) if args.quiet else (
        lambda message: console.print(f"[dim]•[/] {message}", highlight=False))


def note(message: str) -> None:
    """Say `message` on stderr as "note: …", with --quiet too, in the CLI's words.

    Parameters
    ----------
    message : str
        The note; the library's fix hints in it become flags (`cli_words`).

    Examples
    --------
    >>> note("rows.csv: 2 gap(s) in 'x0' filled with the training mean")  # on stderr
    """
    from rich.console import Console

    Console(stderr=True, soft_wrap=True).print(f"[cyan]note[/]: {cli_words(message)}",
                                               highlight=False)


def load_model(path, *, saved_estimator: bool = False):
    """A model file written by `pymc-bnn fit` or `estimator.save`, and its description.

    `predict` takes the SavedEstimator: the same predictions without importing scikit-learn.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    saved_estimator : bool, default False
        Return a `SavedEstimator` in place of the estimator.

    Returns
    -------
    tuple
        `(model, description)`: the estimator (or SavedEstimator) and the file's description.

    Raises
    ------
    ModelFileError
        The file holds a bare Posterior, or is no valid model file.

    Examples
    --------
    >>> _ = fitted_classifier.save("model.bnn.nc")
    >>> model, description = load_model("model.bnn.nc")
    >>> type(model).__name__, description["kind"]
    ('BayesianMLPClassifier', 'estimator')
    """
    from pymc_bnn.errors import ModelFileError
    from pymc_bnn.io.model_file_reader import decode_with_description

    model, description = decode_with_description(path, saved_estimator=saved_estimator)
    if description["kind"] != "estimator":
        raise ModelFileError(
            f"{path} holds a bare Posterior; the CLI uses models written by `pymc-bnn fit` or "
            "estimator.save (Posterior files are for the Python API)"
        )
    return model, description


def note_unfinished_fit(path, description: dict) -> None:
    """A note on stderr where the model file's fit was interrupted or did not settle.

    Predictions from such a model are what the state it reached gives; the user who reads only
    the predictions table would not know (the fit's own warnings were said once, at fit time).

    Parameters
    ----------
    path : str or os.PathLike
        The model file, as the note names it.
    description : dict
        Its description (`load_model`).

    Examples
    --------
    >>> note_unfinished_fit("m.bnn.nc", {"posterior": {"diagnostics": {"converged": True}}})
    >>> note_unfinished_fit("m.bnn.nc", {"posterior": {"interrupted": True}})  # a note on stderr
    """
    fit = description.get("posterior", {})
    diagnostics = fit.get("diagnostics") or {}
    if fit.get("interrupted"):
        step = diagnostics.get("steps_run")
        note(f"{path}: its fit was stopped by Ctrl-C{f' at step {step:,}' if step else ''} "
              "and saved as it stood, so these predictions come from that state; run `pymc-bnn "
              "fit` again for a finished model")
    elif diagnostics.get("converged") is False:
        said = [w for w in diagnostics.get("warnings") or () if "converg" in w]
        note(f"{path}: its fit did not settle ({said[0] if said else 'it stopped at its step '
              'limit'}), so these predictions come from where it stopped; `pymc-bnn report` "
              "judges the fit")


def read_data(args, say):
    r"""`read_table` on DATA with the CSV flags, saying how a CSV is read if not plainly.

    The status line names a separator found in the header ("separated by semicolons (found
    in its header line)"), so a file read in a way the user did not expect shows it.

    Parameters
    ----------
    args : argparse.Namespace
        The command's arguments (`data`, `sep`, `encoding`, `decimal` read).
    say : callable
        The status line (`status_printer`).

    Returns
    -------
    pandas.DataFrame
        DATA's table.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> with open("rows.csv", "w") as file:
    ...     _ = file.write("x0;x1\n1.5;2\n")
    >>> args = SimpleNamespace(data="rows.csv", sep=None, encoding=None, decimal=None)
    >>> read_data(args, print)
    Reading rows.csv: separated by semicolons (found in its header line)
        x0  x1
    0  1.5   2
    """
    from pymc_bnn.cli.csv_format import csv_format

    described = ("" if is_parquet(args.data) or not Path(args.data).is_file()
                 else csv_format(args.data, args.sep, args.encoding, args.decimal).described)
    say(f"Reading {args.data}" + (f": {described}" if described else ""))
    return read_table(args.data, sep=args.sep, encoding=args.encoding, decimal=args.decimal)
