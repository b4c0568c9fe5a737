"""What a table's columns may hold before they are coded, and the refusals that say why not.

`pymc_bnn.encoding` learns and applies a table's coding; the checks here come first, each
refusing a column that the coding would turn into something else without a word: dates
(nanosecond counts, or a category per day), complex numbers (their real part), identifiers and
free text (a one-hot column per row), numbers stored as text (a category per number), text in a
column fitted as numbers (filled as if missing), and missing values under a policy that does not
fill them. Every refusal is an `InvalidInputError` that names the column and the fix, in Python
and on the command line.
"""

from __future__ import annotations

import numpy as np

from pymc_bnn.errors import InvalidInputError
from pymc_bnn.label_checks import numbers_as_text, numbers_but_a_few

# A text column with more distinct values than this and than half its rows is an identifier or
# free text, not a category: one-hot coding it would give the network one input per row.
MAX_CATEGORIES = 50


def refuse_numbers_as_text(values, column: str, name: str) -> None:
    """Refuse a text column that is numbers, or numbers but for a few placeholders ("?").

    As text it would be one-hot coded with a category per number (and a number written
    another way at predict time, 70 for "70.0", would be a category never seen). Numbers in
    at least 90% of the filled rows, more distinct than `MAX_CLASS_LABELS`, is such a column.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_numbers_as_text(pd.Series(["red", "blue"] * 30), "colour", "X")  # categories
    >>> refuse_numbers_as_text(pd.Series([str(v) for v in range(60)]), "income", "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: column 'income' of X holds numbers stored as text ...
    """
    from pandas.api.types import is_bool_dtype

    from pymc_bnn.defaults import MAX_CLASS_LABELS

    filled = values.dropna()
    if not filled.empty and not is_bool_dtype(values):
        text = filled.astype(str).str.strip()
        grouped = text.str.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
        if grouped.any() and (grouped | text.str.fullmatch(r"[-+]?\d{1,3}(\.\d*)?")).all():
            examples = ", ".join(repr(v) for v in filled[grouped.to_numpy()].unique()[:3])
            raise InvalidInputError(
                f"column {column!r} of {name} holds numbers written with thousands separators "
                f"({examples}, …), which read as text; read the file with them understood "
                "(pandas.read_csv(..., thousands=',')) or save the numbers without them")
        as_text = numbers_as_text(values, max_labels=MAX_CLASS_LABELS)
        if as_text is not None:
            examples = ", ".join(repr(v) for v in as_text[1])
            raise InvalidInputError(
                f"column {column!r} of {name} holds numbers stored as text ({examples}, …): as "
                "text it would be coded with a category per number; store them as numbers "
                "(pandas.to_numeric), or name the column categorical to keep it as categories "
                f"(Python: categorical=[{column!r}]; the command line: --categorical {column})")
    found = numbers_but_a_few(values, max_labels=MAX_CLASS_LABELS)
    if found is None:
        return
    shown, n_odd, first = found
    raise InvalidInputError(
        f"column {column!r} of {name} holds numbers except {n_odd} value(s) "
        f"({', '.join(repr(v) for v in shown[:5])}; first: row {first}); as text it would be "
        "coded with a category per number: leave those cells empty (missing values, imputed), "
        "or name the column categorical to keep it as categories "
        f"(Python: categorical=[{column!r}]; the command line: --categorical {column})")


def refuse_complex(frame, name: str) -> None:
    """Refuse complex columns: as numbers they would lose their imaginary parts unsaid.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_complex(pd.DataFrame({"z": [1 + 2j]}), "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X column(s) z hold complex numbers; pass real ...
    """
    complex_columns = [str(c) for c in frame.columns if frame[c].dtype.kind == "c"]
    if complex_columns:
        raise InvalidInputError(
            f"{name} column(s) {', '.join(complex_columns)} hold complex numbers; pass real "
            "features (e.g. split each into real and imaginary columns)")


def refuse_dates(frame, name: str) -> None:
    """Dates as numbers are nanosecond counts and as text one category per day: refuse both.

    Text columns count as dates when their first 50 values read as ISO 8601 (digits alone,
    "2020", are codes, not dates).

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_dates(pd.DataFrame({"year": ["2020", "2021"]}), "X")  # codes
    >>> refuse_dates(pd.DataFrame({"day": ["2024-01-05", "2024-02-11"]}), "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X column(s) day hold dates or durations, which ...
    """
    import pandas as pd
    from pandas.api.types import is_object_dtype, is_string_dtype

    dated = [c for c in frame.columns if getattr(frame[c].dtype, "kind", None) in ("M", "m")
             or isinstance(frame[c].dtype, pd.PeriodDtype)]
    for c in frame.columns:
        values = frame[c].dropna()
        text = is_string_dtype(frame[c]) or is_object_dtype(frame[c])
        # digits alone ("2020", "10115") are codes that ISO 8601 would also read as dates
        if c not in dated and text and len(values) and all(
                isinstance(v, str) and not v.isdigit() for v in values.iloc[:50]):
            try:
                pd.to_datetime(values.iloc[:50], format="ISO8601")
            except (ValueError, TypeError):
                continue
            dated.append(c)
    if dated:
        raise InvalidInputError(
            f"{name} column(s) {', '.join(map(str, dated))} hold dates or durations, which the "
            f"network cannot use as they are; drop them ({dropping_hint(dated)}) or turn them into "
            "numbers that mean something (days since a start, day of the week)")


def dropping_hint(columns, *, identifier: bool = False) -> str:
    """How to leave `columns` out, in Python and on the command line.

    Examples
    --------
    >>> dropping_hint(["tag"], identifier=True)
    "X.drop(columns=['tag']); on the command line --id or --exclude tag"
    """
    named = [str(c) for c in columns]
    return (f"X.drop(columns={named!r}); on the command line "
            f"{'--id or --exclude' if identifier else '--exclude'} {','.join(named)}")


def refuse_identifiers(filled, name: str) -> None:
    """Refuse a text column with more distinct values than `MAX_CATEGORIES` and half its rows.

    Such a column is an identifier or free text: one-hot coded, it would give the network about
    one input per row.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_identifiers(pd.DataFrame({"city": ["Oslo", "Rome"] * 40}), "X")
    >>> refuse_identifiers(pd.DataFrame({"id": [f"p{i}" for i in range(80)]}), "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X column 'id' has 80 distinct values in 80 rows, ...
    """
    for column in filled.columns:
        n_distinct = filled[column].nunique()
        if n_distinct > max(MAX_CATEGORIES, len(filled) // 2):
            raise InvalidInputError(
                f"{name} column {column!r} has {n_distinct} distinct values in {len(filled)} "
                f"rows, like an identifier or free text, not a category; leave it out "
                f"({dropping_hint([column], identifier=True)})")


# Text that marks a missing value (what pandas' read_csv reads as one by default).
NA_TEXT = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                     "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                     "nan", "null"})


def refuse_text_in_numbers(frame, numeric, name: str, *, first_row: int = 0) -> None:
    """Refuse text that is not a number, or True/False, in a column the fit coded as numbers.

    It is not a missing value: filled with the training median, it would be predicted as if
    it were one, without a word. Text that marks a missing value (`NA_TEXT`: "n/a", "NULL",
    ...) is one, and is filled. The message numbers `frame`'s rows from `first_row` (a batch
    of a larger table names the table's row).

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_text_in_numbers(pd.DataFrame({"age": ["40", "n/a"]}), ["age"], "X")
    >>> refuse_text_in_numbers(pd.DataFrame({"age": ["40", "forty"]}), ["age"], "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: column 'age' of X holds text where the model takes ...
    >>> refuse_text_in_numbers(pd.DataFrame({"age": [True, False]}), ["age"], "X")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: column 'age' of X holds True/False where the model was ...
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    for column in numeric:
        values = frame[column]
        # True/False in a column fitted as numbers would be read as 1/0 without a word: a
        # different quantity from the one fitted unless the column held 0 and 1
        truth = (values.notna().to_numpy() if is_bool_dtype(values)
                 else values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
                 if values.dtype == object else np.zeros(len(values), dtype=bool))
        if truth.any():
            first = int(np.flatnonzero(truth)[0])
            raise InvalidInputError(
                f"column {column!r} of {name} holds True/False where the model was fitted on "
                f"numbers ({int(truth.sum())} value(s); first: {bool(values.iloc[first])} in row "
                f"{first + first_row}); write them as the numbers they stand for (1 and 0 if "
                "the column held 0 and 1 when the model was fitted)")
        if is_numeric_dtype(values):
            continue
        given = (values.notna() & ~values.astype(str).str.strip().isin(NA_TEXT)).to_numpy()
        odd = given & pd.to_numeric(values, errors="coerce").isna().to_numpy()
        if odd.any():
            first = int(np.flatnonzero(odd)[0])
            raise InvalidInputError(
                f"column {column!r} of {name} holds text where the model takes numbers "
                f"({int(odd.sum())} value(s); first: {values.iloc[first]!r} in row "
                f"{first + first_row}); "
                "fix those values, or leave the cells empty to have them filled as missing")


def missing_rows(frame) -> np.ndarray:
    """Boolean (n_obs,): rows with a missing value in any column (what missing="drop" drops).

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    numpy.ndarray
        `(n_obs,)` bool.

    Examples
    --------
    >>> import pandas as pd
    >>> missing_rows(pd.DataFrame({"a": [1.0, None], "b": ["x", "y"]}))
    array([False,  True])
    """
    return frame.isna().any(axis=1).to_numpy()


def refuse_missing(frame, name: str, policy: str, *, fitted: bool = False,
                   first_row: int = 0) -> None:
    """InvalidInputError naming the rows and columns with missing values, if any.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    name : str
        What the message calls it.
    policy : str
        The missing-value policy, named in the message.
    fitted : bool, default False
        Rows to predict with a model fitted under `policy` (the fix is then to fill or drop
        them, or to refit: the policy is the fit's), rather than rows to fit.
    first_row : int, default 0
        The number the message gives `frame`'s first row: its row in the table it is a batch
        of.

    Raises
    ------
    InvalidInputError
        When any value is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_missing(pd.DataFrame({"a": [1.0, 2.0]}), "X", "error")  # nothing missing
    >>> refuse_missing(pd.DataFrame({"a": [1.0, None]}), "X", "error")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidInputError: X has missing values in 1 row(s) (first: row 1; ...
    """
    rows = np.flatnonzero(missing_rows(frame)) + first_row
    if rows.size == 0:
        return
    counts = frame.isna().sum()
    where = ", ".join(f"{c} ({n})" for c, n in counts[counts > 0].items())
    if fitted:
        raise InvalidInputError(
            f"{name} has missing values in {rows.size} row(s) (first: row {rows[0]}; column(s) "
            f"{where}), and the model was fitted with the missing-value policy {policy!r}, so it "
            "has nothing to fill them with; fill them in or leave those rows out, or fit again "
            "with the policy 'impute' (missing='impute')")
    raise InvalidInputError(
        f"{name} has missing values in {rows.size} row(s) (first: row {rows[0]}; column(s) "
        f"{where}) and the missing-value policy is {policy!r}; fill them in, or use the policy "
        "'impute' (median and an indicator column for numbers, a 'missing' category for text) "
        "or 'drop' (missing=)")


__all__ = ["MAX_CATEGORIES", "NA_TEXT", "dropping_hint", "missing_rows", "refuse_complex",
           "refuse_dates", "refuse_identifiers", "refuse_missing", "refuse_numbers_as_text",
           "refuse_text_in_numbers"]
