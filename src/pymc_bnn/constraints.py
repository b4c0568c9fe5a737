"""Parameter constraints for the estimators' `_parameter_constraints`, beyond scikit-learn's own.

Two of them: whole numbers that refuse booleans, and hidden-layer widths.

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
    """Whole numbers (int or NumPy integer, never a bool) in an interval.

    Parameters
    ----------
    left : int
        Lower bound.
    right : int or None, default None
        Upper bound; None means none.
    closed : {"left", "right", "both", "neither"}, default "left"
        Which bounds belong to the interval, as in scikit-learn's `Interval`.

    Examples
    --------
    >>> steps = WholeNumbers(1)
    >>> steps.is_satisfied_by(500), steps.is_satisfied_by(True), steps.is_satisfied_by(2.0)
    (True, False, False)
    >>> str(WholeNumbers(1, 10, closed="both"))
    'an int in the range [1, 10] (not a bool)'
    """

    def __init__(self, left: int, right: int | None = None, *, closed: str = "left"):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val) -> bool:
        """Whether `val` is a whole number (not a bool) inside the interval."""
        return _is_whole(val) and super().is_satisfied_by(val)

    def __str__(self) -> str:
        return super().__str__() + " (not a bool)"


class LayerWidths(Options):
    """Hidden-layer widths: one whole number ≥ 1, or a 1-D sequence of them.

    A sequence is a list, tuple or 1-D array; bools and fractions are refused. An empty
    sequence means no hidden layer: a Bayesian generalised linear model.

    Examples
    --------
    >>> widths = LayerWidths()
    >>> [widths.is_satisfied_by(v) for v in (5, (32, 32), (), (2.5,), [True], 0)]
    [True, True, True, False, False, False]
    """

    def __init__(self):
        super().__init__(object, set())

    def is_satisfied_by(self, val) -> bool:
        """Whether `val` is one width ≥ 1 or a 1-D sequence (maybe empty) of them."""
        if isinstance(val, Real) or np.ndim(val) == 0:
            return _is_whole(val) and val >= 1
        if not isinstance(val, list | tuple | np.ndarray) or np.ndim(val) != 1:
            return False
        return all(_is_whole(width) and width >= 1 for width in val)

    def __str__(self) -> str:
        return ("a positive whole number or a sequence of them, at least 1 unit per hidden "
                "layer (e.g. (32, 32); () for no hidden layer)")
