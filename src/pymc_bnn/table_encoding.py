"""What a table's encoding learned (TableEncoding, plain JSON) and the columns it reads, prepared.

`prepare` turns a table's columns into what both learning (`pymc_bnn.encoding.learn_encoding`)
and applying (`pymc_bnn.row_encoding`) read: numbers as float64, categories as text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pymc_bnn.defaults import MISSING_POLICIES

# The category a missing text value becomes under missing="impute" (scikit-learn's
# SimpleImputer(strategy="constant") default for strings is the same word).
MISSING_CATEGORY = "missing"


@dataclass(frozen=True)
class TableEncoding:
    """What was learned from a training table: the columns' roles and fitted parameters.

    Attributes
    ----------
    columns : tuple of str
        The input columns, in order (the estimator's `feature_names_in_`; "x0", "x1" … for arrays).
    numeric, medians : tuple of str, tuple of float
        Numeric columns and the training median of each (what a missing value becomes).
    indicators : tuple of str
        Numeric columns that had missing values in training: one 0/1 column each.
    categorical, categories : tuple of str, tuple of tuple of str
        One-hot coded columns and their categories (as text), in output order.
    ordinal, ordinal_categories : tuple of str, tuple of tuple of str
        Ordinal-coded columns and their categories in code order.
    missing : {"impute", "drop", "error"}
        The missing-value policy the table was fitted with.

    Examples
    --------
    >>> encoding = TableEncoding(columns=("age", "city"), numeric=("age",), medians=(40.0,),
    ...                          indicators=("age",), categorical=("city",),
    ...                          categories=(("Oslo", "Rome"),))
    >>> encoding.feature_names
    ('age', 'age_missing', 'city=Oslo', 'city=Rome')
    >>> TableEncoding.from_dict(encoding.to_dict()) == encoding  # plain JSON round trip
    True

    A table that has its own ``income_missing`` column keeps it; the generated indicator
    gets its kind added:

    >>> TableEncoding(columns=("income", "income_missing"),
    ...               numeric=("income", "income_missing"), medians=(1.0, 0.0),
    ...               indicators=("income",)).feature_names
    ('income', 'income_missing', 'income_missing (indicator)')
    """

    columns: tuple[str, ...]
    numeric: tuple[str, ...] = ()
    medians: tuple[float, ...] = ()
    indicators: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    ordinal: tuple[str, ...] = ()
    ordinal_categories: tuple[tuple[str, ...], ...] = ()
    missing: str = "impute"

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The encoded matrix's column names, in order (the network's inputs).

        Numeric and ordinal columns keep the table's own names. The generated ones
        (``<col>_missing``, then ``<col>=<category>``, in matrix order) are unique: a name
        already taken by a numeric or ordinal column, or by an earlier generated name, becomes
        ``<name> (indicator)`` or ``<name> (one-hot)``, then ``<name> (indicator 2)`` … until it
        is free. The names follow from the stored fields alone, so a saved model gives the same
        names when it is read back; a table without such clashes gets the plain names.

        Examples
        --------
        >>> TableEncoding(columns=("c", "c=x"), numeric=("c=x",), medians=(0.0,),
        ...               categorical=("c",), categories=(("x", "y"),)).feature_names
        ('c=x', 'c=x (one-hot)', 'c=y')
        """
        taken = {*self.numeric, *self.ordinal}

        def unique(name: str, kind: str) -> str:
            candidate, n = name, 1
            while candidate in taken:
                candidate = f"{name} ({kind})" if n == 1 else f"{name} ({kind} {n})"
                n += 1
            taken.add(candidate)
            return candidate

        indicators = [unique(f"{c}_missing", "indicator") for c in self.indicators]
        onehot = [unique(f"{c}={v}", "one-hot")
                  for c, values in zip(self.categorical, self.categories, strict=True)
                  for v in values]
        return (*self.numeric, *indicators, *onehot, *self.ordinal)

    def to_dict(self) -> dict:
        """Plain JSON: lists of strings and numbers."""
        return {"columns": list(self.columns), "numeric": list(self.numeric),
                "medians": [float(m) for m in self.medians], "indicators": list(self.indicators),
                "categorical": list(self.categorical),
                "categories": [list(c) for c in self.categories],
                "ordinal": list(self.ordinal),
                "ordinal_categories": [list(c) for c in self.ordinal_categories],
                "missing": self.missing}

    @classmethod
    def from_dict(cls, data: dict) -> TableEncoding:
        """The encoding `to_dict` wrote; ValueError naming the first inconsistent entry."""
        def names(key):
            value = data.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"table encoding {key} must be a list of column names")
            return tuple(value)

        def lists(key, n):
            value = data.get(key, [])
            if not (isinstance(value, list) and len(value) == n and all(
                    isinstance(v, list) and v and all(isinstance(s, str) for s in v)
                    for v in value)):
                raise ValueError(f"table encoding {key} must be {n} non-empty lists of text")
            return tuple(tuple(v) for v in value)

        columns, numeric = names("columns"), names("numeric")
        medians = data.get("medians", [])
        if not (isinstance(medians, list) and len(medians) == len(numeric) and all(
                isinstance(m, (int, float)) and not isinstance(m, bool) and np.isfinite(m)
                for m in medians)):
            raise ValueError("table encoding medians must be one finite number per numeric column")
        categorical, ordinal = names("categorical"), names("ordinal")
        encoding = cls(columns=columns, numeric=numeric, medians=tuple(map(float, medians)),
                       indicators=names("indicators"), categorical=categorical,
                       categories=lists("categories", len(categorical)), ordinal=ordinal,
                       ordinal_categories=lists("ordinal_categories", len(ordinal)),
                       missing=str(data.get("missing")))
        if encoding.missing not in MISSING_POLICIES:
            raise ValueError(f"table encoding missing must be one of {', '.join(MISSING_POLICIES)}")
        used = [*numeric, *categorical, *ordinal]
        if sorted(used) != sorted(columns) or not set(encoding.indicators) <= set(numeric):
            raise ValueError("table encoding roles must name each column exactly once")
        return encoding


def category_text(value) -> str:
    """A category (or class label) as text.

    Whole floats lose their ".0", so 3 and 3.0 (an int column that has gaps at predict time) are
    one category.

    Examples
    --------
    >>> category_text(3.0), category_text(3), category_text("a")
    ('3', '3', 'a')
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def prepare(frame, numeric, categorical):
    """`frame` with numeric columns as float64 and categorical ones as text.

    Pandas' NA becomes NaN and missing text NaN: the uniform input scikit-learn's imputers and
    encoders expect.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    numeric : collection of str
        Columns to convert to float64 (text that is not a number becomes NaN).
    categorical : collection of str
        Columns to convert to text; whole floats lose their ".0", so 3 and 3.0 are one
        category.

    Returns
    -------
    pandas.DataFrame
        Only the columns named, in `frame`'s order, with `frame`'s index.

    Examples
    --------
    >>> import pandas as pd
    >>> prepared = prepare(pd.DataFrame({"n": ["1", "x"], "code": [3.0, None]}),
    ...                    numeric=["n"], categorical=["code"])
    >>> prepared["n"].tolist(), prepared["code"].tolist()
    ([1.0, nan], ['3', nan])
    """
    import pandas as pd

    out = {}
    for column in frame.columns:
        values = frame[column]
        if column in numeric:
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif column in categorical:
            text = values.astype(object)
            out[column] = text.where(values.isna(), text.map(category_text)).where(
                values.notna(), np.nan)
    return pd.DataFrame(out, index=frame.index)
