"""What coding new rows will do, said as a note on stderr: `predict`, `report`, `stability`.

A model file's table coding fills gaps and meets categories it never saw in training
(`pymc_bnn.new_rows` counts them); the commands say so once per table, or once for all the
batches of a Parquet table, even with --quiet (it changes what was predicted). Rows the file's
missing-value policy cannot take ("drop", "error"), text in a column of numbers and infinite
numbers are refused, naming the table.
"""

from __future__ import annotations

from pymc_bnn.cli.command_steps import note
from pymc_bnn.feature_checks import check_features


def note_new_rows(model, rows, source: str) -> None:
    """Say on stderr (with --quiet too) what encoding `rows` for a loaded estimator will do.

    As `predict` says it: the gaps filled and the categories not seen in training (report and
    stability, whose own predictions are then told to keep quiet about them).

    Parameters
    ----------
    model : estimator
        A loaded estimator (its `table_encoding_`, when it has one, is used).
    rows : pandas.DataFrame or numpy.ndarray
        The feature columns to code.
    source : str
        What the note calls the rows (DATA's path).

    Examples
    --------
    >>> import numpy as np
    >>> note_new_rows(object(), np.ones((2, 2)), "rows.csv")  # numbers only: nothing to say
    """
    from pymc_bnn.encoding import TableEncoding

    saved = getattr(model, "table_encoding_", None)
    what = check_new_rows(None if saved is None else TableEncoding.from_dict(saved), rows,
                           source)
    if what is not None:
        note(f"{source}: {what}")


def check_new_rows(encoding, rows, source: str) -> str | None:
    """What encoding `rows` will do beyond the plain coding, or None; refuse what cannot be.

    `encoding` is the model file's `TableEncoding` (None in a file from before it). Refused,
    naming `source`: gaps under the file's missing-value policy "drop" or "error", text in a
    column of numbers, infinite numbers, non-numbers for a file from before the table encoding.
    Returned: the gaps filled and the categories not seen in training (`describe_new_rows`).
    predict and stability say it as a note.

    Parameters
    ----------
    encoding : TableEncoding or None
    rows : pandas.DataFrame or numpy.ndarray
    source : str
        What a refusal names (DATA's path).

    Returns
    -------
    str or None

    Raises
    ------
    InvalidInputError
        Rows the coding cannot take.

    Examples
    --------
    >>> import numpy as np
    >>> check_new_rows(None, np.ones((2, 2)), "rows.csv") is None
    True
    >>> check_new_rows(None, np.array([[1.0, np.inf]]), "rows.csv")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: rows.csv ...
    """
    from pymc_bnn.new_rows import describe_new_row_counts

    counts = count_batch_new_rows(encoding, rows, source)
    return None if counts is None else describe_new_row_counts(counts)


def count_batch_new_rows(encoding, rows, source: str, so_far=None, first_row: int = 0):
    """`check_new_rows` as counts (`NewRowCounts`) added to `so_far`: one batch of a file.

    None for a model file from before the table encoding (numbers only, nothing to count).
    A refusal numbers the rows from `first_row`, the batch's first row in the file.

    Parameters
    ----------
    encoding : TableEncoding or None
    rows : pandas.DataFrame or numpy.ndarray
        One batch's feature columns.
    source : str
        What a refusal names.
    so_far : NewRowCounts, optional
        The counts of the batches before.
    first_row : int, default 0

    Returns
    -------
    NewRowCounts or None

    Examples
    --------
    >>> import numpy as np
    >>> count_batch_new_rows(None, np.ones((2, 2)), "rows.parquet") is None
    True
    """
    if encoding is None:  # a model file from before the table encoding: numbers only
        check_features(rows, name=source)
        return None
    from pymc_bnn.encoding import apply_encoding
    from pymc_bnn.new_rows import count_new_rows

    # the coding's refusals (gaps under "drop" or "error", text in a number column, infinite
    # numbers) naming the file, before any note: the estimator's own would call the rows "X",
    # after a note that counted text in a number column as a gap it filled
    apply_encoding(encoding, rows, name=source, first_row=first_row)
    return count_new_rows(encoding, rows, so_far)
