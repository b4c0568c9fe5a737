"""New rows against a fitted table coding: the gaps it fills and the categories it never saw.

Predicting from rows a model was not fitted on is where a table's coding does things the user
should hear of: a missing value filled with the training median (or the category "missing"), a
category not seen in training coded as none. `count_new_rows` counts them per column (batch by
batch for a file read in parts) and `describe_new_row_counts` words the total in one line, which
the command line prints as a note and the estimators as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymc_bnn.table_encoding import MISSING_CATEGORY, TableEncoding, prepare


@dataclass(frozen=True)
class NewRowCounts:
    """What encoding new rows did beyond the plain coding, counted per column.

    A plain record, so that the rows of a file read in batches are described as a whole: add
    each batch's counts (`count_new_rows` with `so_far`) and word the total once
    (`describe_new_row_counts`).

    Attributes
    ----------
    missing : tuple of (str, int)
        Each column of the encoding, in order, and its missing values (filled when encoded).
    unseen : tuple of (str, int, tuple of str)
        Each categorical then ordinal column, its values in categories not seen in training,
        and the first three of those categories in sorted order (what a message shows).

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.encoding import learn_encoding
    >>> encoding = learn_encoding(pd.DataFrame({"age": [30.0, None], "city": ["Oslo", "Rome"]}))
    >>> count_new_rows(encoding, pd.DataFrame({"age": [None], "city": ["Paris"]}))
    NewRowCounts(missing=(('age', 1), ('city', 0)), unseen=(('city', 1, ('Paris',)),))
    """

    missing: tuple[tuple[str, int], ...]
    unseen: tuple[tuple[str, int, tuple[str, ...]], ...]


def count_new_rows(encoding: TableEncoding, frame,
                   so_far: NewRowCounts | None = None) -> NewRowCounts:
    """The missing values and unseen categories of `frame`, added to `so_far` when given.

    Parameters
    ----------
    encoding : TableEncoding
        What was learned.
    frame : pandas.DataFrame
        New rows (one batch of them, for a file read in batches).
    so_far : NewRowCounts, optional
        The counts of the rows before `frame` (earlier batches of the same file).

    Returns
    -------
    NewRowCounts
        The counts of `frame`, plus `so_far`'s.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.encoding import learn_encoding
    >>> encoding = learn_encoding(pd.DataFrame({"member": [True, False, True]}))
    >>> counts = count_new_rows(encoding, pd.DataFrame({"member": [1, 0]}))
    >>> counts = count_new_rows(encoding, pd.DataFrame({"member": ["maybe", True]}), counts)
    >>> counts.unseen
    (('member', 3, ('0', '1', 'maybe')),)
    >>> print(describe_new_row_counts(counts))
    3 value(s) in categories not seen in training (member: '0', '1', 'maybe') coded as no ...
    """
    prepared = prepare(frame, encoding.numeric, (*encoding.categorical, *encoding.ordinal))
    gaps = prepared[list(encoding.columns)].isna().sum()
    coded = dict(zip((*encoding.categorical, *encoding.ordinal),
                     (*encoding.categories, *encoding.ordinal_categories), strict=True))
    # a gap in a text column that had none in training is its category "missing", unseen:
    # counted there once, not also as filled
    missing = tuple((str(c), 0 if c in coded and MISSING_CATEGORY not in coded[c] else int(n))
                    for c, n in gaps.items())
    unseen = []
    for column, known in coded.items():
        values = prepared[column].fillna(MISSING_CATEGORY)
        new = values[~values.isin(known)]
        unseen.append((column, len(new), tuple(sorted(set(new))[:3])))
    if so_far is not None:  # same encoding, so the same columns in the same order
        missing = tuple((c, n + before) for (c, n), (_, before) in
                        zip(missing, so_far.missing, strict=True))
        unseen = [(c, n + before, tuple(sorted(set(shown) | set(earlier))[:3]))
                  for (c, n, shown), (_, before, earlier) in
                  zip(unseen, so_far.unseen, strict=True)]
    return NewRowCounts(missing=missing, unseen=tuple(unseen))


def describe_new_row_counts(counts: NewRowCounts) -> str | None:
    """One line on the missing values filled and the categories not seen in training.

    Parameters
    ----------
    counts : NewRowCounts
        From `count_new_rows`.

    Returns
    -------
    str or None
        What `describe_new_rows` says of the rows counted; None when there was nothing to say.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.encoding import learn_encoding
    >>> encoding = learn_encoding(pd.DataFrame({"city": ["Oslo", "Rome"]}))
    >>> print(describe_new_row_counts(count_new_rows(encoding, pd.DataFrame({"city": ["Rome"]}))))
    None
    """
    parts = []
    gaps = [(c, n) for c, n in counts.missing if n]
    if gaps:
        parts.append(f"filled {sum(n for _, n in gaps)} missing value(s) ("
                     + ", ".join(f"{c}: {n}" for c, n in gaps)
                     + ") with the training median (numbers) or the 'missing' category (text)")
    unseen = _unseen_words(counts)
    if unseen:
        parts.append(unseen)
    return "; ".join(parts) if parts else None


def describe_new_rows(encoding: TableEncoding, frame) -> str | None:
    """One line on what encoding `frame` did beyond the plain coding.

    Parameters
    ----------
    encoding : TableEncoding
        What was learned.
    frame : pandas.DataFrame
        New rows.

    Returns
    -------
    str or None
        Names the missing values filled and the categories not seen in training; None when
        there were none.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.encoding import learn_encoding
    >>> table = pd.DataFrame({
    ...     "age": [30.0, None, 50.0, 40.0],
    ...     "city": ["Oslo", "Rome", None, "Oslo"],
    ...     "size": pd.Categorical(["S", "L", "M", "S"], categories=["S", "M", "L"],
    ...                            ordered=True)})
    >>> encoding = learn_encoding(table, ordinal=["size"])
    >>> describe_new_rows(encoding, table.iloc[[0]]) is None
    True
    >>> print(describe_new_rows(encoding, pd.DataFrame(
    ...     {"age": [35.0], "city": ["Paris"], "size": ["M"]})))
    1 value(s) in categories not seen in training (city: 'Paris') coded as no known category ...
    """
    return describe_new_row_counts(count_new_rows(encoding, frame))


def describe_unseen_categories(encoding: TableEncoding, frame) -> str | None:
    """The values of `frame` in categories not seen in training, in one line; None if none.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_bnn.encoding import learn_encoding
    >>> encoding = learn_encoding(pd.DataFrame({"member": [True, False, True]}))
    >>> print(describe_unseen_categories(encoding, pd.DataFrame({"member": [1, 0]})))
    2 value(s) in categories not seen in training (member: '0', '1') coded as no known ...
    """
    return _unseen_words(count_new_rows(encoding, frame))


def _unseen_words(counts: NewRowCounts) -> str | None:
    unseen = [(c, n, shown) for c, n, shown in counts.unseen if n]
    if not unseen:
        return None
    return (f"{sum(n for _, n, _ in unseen)} value(s) in categories not seen in "
            "training (" + "; ".join(f"{c}: {', '.join(map(repr, shown))}"
                                     for c, _, shown in unseen)
            + ") coded as no known category (all-zero one-hot columns, ordinal code -1)")


__all__ = ["NewRowCounts", "count_new_rows", "describe_new_row_counts", "describe_new_rows",
           "describe_unseen_categories"]
