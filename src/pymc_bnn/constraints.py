"""Parameter constraints the estimators declare in `_parameter_constraints` beyond scikit-learn's
own: whole numbers that refuse booleans, and hidden-layer widths.

Python counts `True` as the integer 1 and scikit-learn's `"array-like"` takes `()` or `(2.5,)`,
so `steps=True` or `hidden_layer_sizes=()` would pass its checks and mean nothing; these
constraints refuse them with scikit-learn's usual message ("The 'steps' parameter of ... must
be ...").
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options


def _is_whole(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_)


class WholeNumbers(Interval):
    """Whole numbers (int or NumPy integer, never a bool) in [left, right]; right None: no
    upper bound."""

    def __init__(self, left: int, right: int | None = None, *, closed: str = "left"):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val) -> bool:
        return _is_whole(val) and super().is_satisfied_by(val)

    def __str__(self) -> str:
        return super().__str__() + " (not a bool)"


class LayerWidths(Options):
    """Hidden-layer widths: one whole number ≥ 1, or a non-empty list, tuple or 1-D array of
    them (never bools or fractions)."""

    def __init__(self):
        super().__init__(object, set())

    def is_satisfied_by(self, val) -> bool:
        if isinstance(val, Real) or np.ndim(val) == 0:
            return _is_whole(val) and val >= 1
        if not isinstance(val, list | tuple | np.ndarray) or np.ndim(val) != 1 or len(val) == 0:
            return False
        return all(_is_whole(width) and width >= 1 for width in val)

    def __str__(self) -> str:
        return ("a positive whole number or a non-empty sequence of them, at least 1 unit per "
                "hidden layer (e.g. (32, 32))")
