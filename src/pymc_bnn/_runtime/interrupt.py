"""Ctrl-C that stops long work at a safe point instead of in the middle of it.

Engines check the record between compiled chunks (and keep the state reached so far); the
command line defers a press while it writes a file, so a file is never cut short.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from types import ModuleType

_PRESSED: list[bool] | None = None  # the record of the outermost ctrl_c_deferred block


@contextlib.contextmanager
def ctrl_c_deferred():
    """Within the block Ctrl-C is recorded, not raised.

    Yields a list that holds True once it was pressed. Nested blocks share the outermost one's
    record. A no-op (an empty list) outside the main thread or when someone else handles
    SIGINT.

    Examples
    --------
    >>> with ctrl_c_deferred() as pressed:
    ...     pass  # compiled work here: a press is seen as `pressed` between chunks
    >>> pressed
    []
    """
    global _PRESSED
    if _PRESSED is not None:
        yield _PRESSED
        return
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield []
        return
    _PRESSED = pressed = []
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(True))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _PRESSED = None


def caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether `exc` is a Ctrl-C, or an error raised because of one.

    A press that lands while a compiled extension initialises (scipy's pybind11 modules, for
    one) does not come out as KeyboardInterrupt: the extension's import fails with
    "ImportError: initialization failed", raised *from* the KeyboardInterrupt. Such an error is
    the user's press, not a fault, and is reported as one. Follows `__cause__` and
    `__context__` (each exception once).

    Parameters
    ----------
    exc : BaseException
        The exception that ended the work.

    Returns
    -------
    bool
        True when `exc` or an exception it was raised from or while handling is a
        KeyboardInterrupt.

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise KeyboardInterrupt
    ...     except KeyboardInterrupt as press:
    ...         raise ImportError("initialization failed") from press
    ... except ImportError as exc:
    ...     caused_by_ctrl_c(exc)
    True
    >>> caused_by_ctrl_c(ValueError("a fault of its own"))
    False
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def import_whole(name: str) -> ModuleType:
    """Import module `name` with Ctrl-C held until the import has finished, then raise it.

    A KeyboardInterrupt raised inside the initialisation of a compiled extension is not a clean
    Python exception: jaxlib's nanobind modules print "Critical nanobind error" and a traceback
    and leave the process half-initialised. Holding the press until the import is complete,
    then raising KeyboardInterrupt, ends the work at a point where Python can unwind it as usual.
    Inside an enclosing `ctrl_c_deferred` block the press is left on that block's record.

    Parameters
    ----------
    name : str
        The module's dotted name.

    Returns
    -------
    module
        The imported module (from `sys.modules` when it is already imported: no cost then).

    Examples
    --------
    >>> import_whole("json").dumps([1])
    '[1]'
    """
    module = sys.modules.get(name)
    if module is not None:
        return module
    enclosed = _PRESSED is not None
    with ctrl_c_deferred() as pressed:
        module = importlib.import_module(name)
    if pressed and not enclosed:
        raise KeyboardInterrupt
    return module
