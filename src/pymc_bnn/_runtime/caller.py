"""Warnings said at the user's line: past pymc-bnn's frames and the libraries that call it.

A fixed `stacklevel` counts frames, and the same warning is reached through different depths
(`fit` called directly, through an estimator, through scikit-learn's `fit` wrapper, from a
`GridSearchCV` in joblib's workers), so it landed in `classifier.py` or `sklearn/base.py`.
`warn_caller` skips every frame whose file lies in pymc-bnn, scikit-learn or joblib instead
(`warnings.warn`'s `skip_file_prefixes`, Python 3.12), so a warning names the line of the code
that called the library, and a `filterwarnings(module=...)` filter sees the user's module.
"""

from __future__ import annotations

import functools
import warnings
from importlib.util import find_spec
from pathlib import Path

# Packages whose frames stand between a user's call and ours.
_CALLERS = ("sklearn", "joblib")


@functools.cache
def library_prefixes() -> tuple[str, ...]:
    """Directories whose frames a warning is said past: pymc-bnn's and `_CALLERS`' (installed).

    Examples
    --------
    >>> import pymc_bnn
    >>> from pathlib import Path
    >>> str(Path(pymc_bnn.__file__).parent) in library_prefixes()
    True
    """
    prefixes = [str(Path(__file__).parents[1])]
    for name in _CALLERS:
        spec = find_spec(name)
        if spec is not None and spec.origin is not None:
            prefixes.append(str(Path(spec.origin).parent))
    return tuple(prefixes)


def warn_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """`warnings.warn(message, category)`, attributed to the first frame outside the libraries.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning, default UserWarning
        Its class.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_caller("the fit stopped early")
    >>> str(caught[0].message), caught[0].filename.endswith("caller.py")
    ('the fit stopped early', False)
    """
    warnings.warn(message, category, skip_file_prefixes=library_prefixes())


__all__ = ["library_prefixes", "warn_caller"]
