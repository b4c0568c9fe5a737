"""Writing a file atomically, and operating-system errors as one line naming the fix.

`write_bytes_atomic` writes through a temporary file in the same folder and `os.replace`: a
crash, Ctrl-C, full disk or read-only folder leaves the previous file as it was and no temporary
file behind. An output that is a symbolic link is written through (`written_path`): its target
is replaced, in the target's folder, and the link stays, as the shell's `>` leaves it; a link
that loops is refused. `file_system_error` turns an OSError into a FileSystemError that names
the path, what went wrong and the fix.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from pymc_bnn.errors import FileSystemError, OutputPathError

# Room kept free beyond the bytes of a write: file-system metadata and the temporary file's
# directory entry. A write that would leave less than this is refused before it starts.
FREE_SPACE_MARGIN = 64 * 1024


def written_path(path: str | os.PathLike) -> Path:
    r"""The file a write to `path` replaces: a symbolic link's target, else `path` itself.

    pymc-bnn writes through a link, as the shell's `>` does: the target (followed through
    every link) is replaced and the link stays; replacing the link itself would leave the
    target stale. A link that loops is refused.

    Raises
    ------
    OutputPathError
        `path` is a symbolic link that loops.

    Examples
    --------
    >>> import os
    >>> _ = open("runs_latest.csv", "w").write("mean,std\n")
    >>> os.symlink("runs_latest.csv", "latest.csv")
    >>> written_path("latest.csv").name, written_path("other.csv").name
    ('runs_latest.csv', 'other.csv')
    """
    path = Path(path)
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops at a loop
        raise OutputPathError(f"{path} is a symbolic link that loops (it leads back to itself); "
                              "remove the link or choose another path")
    return target


# --------------------------------------------------------------------------- errors


# keyed by OSError.errno, which may be None (then no advice matches)
_ADVICE: dict[int | None, tuple[str, str]] = {
    errno.EROFS: ("is on a read-only file system", "write to another folder"),
    errno.ENOSPC: ("is on a full disk (no space left on the device)",
                   "free some space or write to another disk"),
    errno.EDQUOT: ("is over the disk quota", "free some space or write to another disk"),
    errno.EACCES: ("cannot be written: permission denied",
                   "choose a folder you can write to, or change its permissions"),
    errno.EPERM: ("cannot be written: operation not permitted",
                  "choose a folder you can write to, or change its permissions"),
    errno.ENOTDIR: ("cannot be created: a part of its folder path is a file, not a folder",
                    "choose another path"),
    errno.EEXIST: ("cannot be created: a part of its folder path is a file, not a folder",
                   "choose another path"),
    errno.ENOENT: ("does not exist", "check the path"),
    errno.EISDIR: ("is a folder, not a file", "give a file name"),
}


def file_system_error(exc: OSError, path: str | os.PathLike, *,
                      action: str = "write") -> FileSystemError:
    """`exc` as a FileSystemError: one line naming `path`, what went wrong and the fix."""
    problem, fix = _ADVICE.get(exc.errno, (f"could not {action} ({exc.strerror or exc})",
                                           "check the path and the disk"))
    error = FileSystemError(f"{path} {problem}; {fix}")
    error.errno, error.path = exc.errno, str(path)  # not .filename: str() would show it
    return error


# --------------------------------------------------------------------------- writing


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    r"""Write `data` to `path` through a temporary file in the same folder, then rename.

    Missing folders are created. A crash, Ctrl-C or operating-system error mid-write leaves the
    old file (if any) untouched and no temporary file behind; operating-system errors are raised
    as FileSystemError naming `path` and the fix. A write that would not fit in the free space
    is refused before it starts. A symbolic link at `path` is written through
    (`written_path`): its target is replaced, in the target's folder, and the link stays.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; an existing one is replaced (its permissions are kept).
    data : bytes
        The whole content.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    FileSystemError
        The folder cannot be created or written (read-only, permissions, full disk).
    OutputPathError
        `path` is a symbolic link that loops.

    Examples
    --------
    >>> import os
    >>> write_bytes_atomic("out/data.bin", b"\x00\x01").read_bytes()
    b'\x00\x01'
    >>> os.listdir("out")  # no temporary file left behind
    ['data.bin']
    """
    path = Path(path)
    target = written_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise file_system_error(exc, path) from exc
    try:
        if shutil.disk_usage(target.parent).free < len(data) + FREE_SPACE_MARGIN:
            os.close(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileSystemError):
            raise file_system_error(exc, path) from exc
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    r"""`write_bytes_atomic` of `text` as UTF-8.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    text : str
        The whole content.

    Returns
    -------
    pathlib.Path
        `path`.

    Examples
    --------
    >>> path = write_text_atomic("notes.txt", "grüße\n")
    >>> path.read_bytes()
    b'gr\xc3\xbc\xc3\x9fe\n'
    """
    return write_bytes_atomic(path, text.encode("utf-8"))


def mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
