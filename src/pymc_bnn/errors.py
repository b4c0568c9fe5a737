"""The exceptions and warnings pymc-bnn raises: one family, so callers can catch ours only.

Every message names the problem and the fix. The CLI maps `PymcBnnError` subclasses that are
the user's doing (bad input, bad settings, bad files) to exit code 2, file-system errors to 74,
anything else to 1.

Examples
--------
Each error is also the built-in exception its callers would expect, so code that catches
`ValueError` keeps working:

>>> issubclass(InvalidInputError, ValueError), issubclass(InvalidInputError, PymcBnnError)
(True, True)
>>> try:
...     raise InvalidSettingError("hidden must be at least 1")
... except PymcBnnError as error:
...     print(type(error).__name__, error)
InvalidSettingError hidden must be at least 1
"""


class PymcBnnError(Exception):
    """Base class of every error pymc-bnn raises on purpose.

    Examples
    --------
    >>> isinstance(ModelFileError("truncated"), PymcBnnError)
    True
    """


class InvalidInputError(PymcBnnError, ValueError):
    """The data is unusable as given: wrong shape, NaN/inf, labels the likelihood cannot take.

    Examples
    --------
    >>> isinstance(InvalidInputError("X has NaN"), ValueError)
    True
    """


class InvalidSettingError(PymcBnnError, ValueError):
    """A setting is impossible: zero hidden units, a negative scale, an unknown method name.

    Examples
    --------
    >>> isinstance(InvalidSettingError("unknown method 'adv'"), ValueError)
    True
    """


class ModelFileError(PymcBnnError, ValueError):
    """A model file is truncated, corrupt, from a newer format version, or not a pymc-bnn file.

    Examples
    --------
    >>> isinstance(ModelFileError("not a pymc-bnn file"), ValueError)
    True
    """


class OutputPathError(PymcBnnError, ValueError):
    """An output path is unsafe: it is an input, a folder is in the way, or a file is not ours.

    A file pymc-bnn did not write is replaced only with `force`.

    Examples
    --------
    >>> isinstance(OutputPathError("out.csv is one of the inputs"), ValueError)
    True
    """


class FileSystemError(PymcBnnError, OSError):
    """The operating system refused a file operation: read-only folder, full disk, permissions.

    The message names the path and the fix.

    Examples
    --------
    >>> isinstance(FileSystemError("cannot write out/: read-only"), OSError)
    True
    """

    path: str | None = None  # the path the operation failed on, where known


class InferenceError(PymcBnnError, RuntimeError):
    """Inference failed (e.g. the ELBO became NaN): the result would be garbage, so none is given.

    Examples
    --------
    >>> isinstance(InferenceError("the ELBO became NaN"), RuntimeError)
    True
    """


class NotFittedError(PymcBnnError, AttributeError):
    """An estimator was used before `fit`.

    An `AttributeError`, as scikit-learn's own `NotFittedError` is, so `hasattr(estimator, ...)`
    answers False on an unfitted estimator.

    Examples
    --------
    >>> isinstance(NotFittedError("call fit first"), AttributeError)
    True
    """



class UnseenCategoryWarning(UserWarning):
    """Rows to predict hold categories the fit never saw; they are coded as no known category.

    The command line says so in a note of its own, so it silences this warning.

    Examples
    --------
    >>> issubclass(UnseenCategoryWarning, UserWarning)
    True
    """

class ConvergenceWarning(UserWarning):
    """Inference finished but its diagnostics say the result may not be trustworthy.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("stopped at steps before converging", ConvergenceWarning)
    >>> caught[0].category.__name__
    'ConvergenceWarning'
    """
