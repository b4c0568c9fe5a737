"""The exceptions and warnings pymc-bnn raises: one family, so callers can catch ours only.

Every message names the problem and the fix. The CLI maps `PymcBnnError` subclasses that are
the user's doing (bad input, bad settings, bad files) to exit code 2, file-system errors to 74,
anything else to 1.
"""


class PymcBnnError(Exception):
    """Base class of every error pymc-bnn raises on purpose."""


class InvalidInputError(PymcBnnError, ValueError):
    """The data is unusable as given: wrong shape, NaN/inf, labels the likelihood cannot take."""


class InvalidSettingError(PymcBnnError, ValueError):
    """A setting is impossible: zero hidden units, a negative scale, an unknown method name."""


class ModelFileError(PymcBnnError, ValueError):
    """A model file is truncated, corrupt, from a newer format version, or not a pymc-bnn file."""


class OutputPathError(PymcBnnError, ValueError):
    """An output path is unsafe: it is one of the inputs, a folder is in the way, or it holds a
    file pymc-bnn did not write (replaced only with force)."""


class FileSystemError(PymcBnnError, OSError):
    """The operating system refused a file operation: read-only folder, full disk, permissions.
    The message names the path and the fix."""


class InferenceError(PymcBnnError, RuntimeError):
    """Inference failed (e.g. the ELBO became NaN): the result would be garbage, so none is returned."""


class NotFittedError(PymcBnnError, AttributeError):
    """An estimator was used before `fit`."""


class ConvergenceWarning(UserWarning):
    """Inference finished but its diagnostics say the result may not be trustworthy."""
