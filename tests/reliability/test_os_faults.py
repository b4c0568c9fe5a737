"""Operating-system faults on real file systems: a read-only folder and a full disk become one
line naming the path and the fix, exit code 74 (`EXIT_FILE_SYSTEM`), no traceback unless
--debug, for every command that writes; the previous file stays as it was and no temporary
file is left behind.

Tests run as root here, where chmod 0o555 does not stop writes: the read-only folder is then a
1 MiB tmpfs remounted read-only, and the full disk a 1 MiB tmpfs filled up. Where `mount` is not
permitted those tests are skipped with the reason.
"""

import errno
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from pymc_bnn import FileSystemError
from pymc_bnn._runtime import atomic_writes
from pymc_bnn.cli.app import EXIT_FILE_SYSTEM
from reliability.helpers import TINY_CLI, run_cli


def _mount(*args) -> str | None:
    """Run mount/umount; None on success, else why not."""
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if result.returncode == 0 else (result.stderr.strip() or "mount failed")


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MiB tmpfs at tmp_path/mnt, unmounted afterwards; skipped where mounting is refused."""
    point = tmp_path / "mnt"
    point.mkdir()
    why = _mount("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point))
    if why is not None:
        pytest.skip(f"cannot mount a tmpfs here ({why}); needs root or CAP_SYS_ADMIN")
    yield point
    _mount("umount", str(point))


@pytest.fixture
def read_only(tmp_path, tmpfs):
    """A real read-only folder holding `old.csv` (a predictions CSV) and `report.html`: chmod
    0o555 where that stops writes (not root), else the tmpfs remounted read-only."""
    (tmpfs / "old.csv").write_text("prediction,p_0,p_1\n1,0.2,0.8\n")  # as predict writes it
    (tmpfs / "report.html").write_text('<!DOCTYPE html><meta name="generator" content="pymc-bnn">')
    if os.geteuid() != 0:
        tmpfs.chmod(0o555)
        yield tmpfs
        tmpfs.chmod(0o755)
        return
    why = _mount("mount", "-o", "remount,ro", str(tmpfs))
    if why is not None:
        pytest.skip(f"cannot remount the tmpfs read-only ({why})")
    with pytest.raises(OSError):  # really read-only, even for root
        (tmpfs / "probe").write_text("x")
    yield tmpfs


@pytest.fixture
def full(tmpfs):
    """The tmpfs filled up: fewer than 4 KiB free."""
    with open(tmpfs / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    assert atomic_writes.shutil.disk_usage(tmpfs).free < 4096
    return tmpfs


@pytest.fixture(scope="module")
def files(trained_files):
    return trained_files


def _commands(data, model, folder):
    """Every command that writes, with its output in `folder`."""
    return {
        "fit": ["fit", data, "--target", "label", "--out", folder / "m.bnn.nc", *TINY_CLI],
        "predict": ["predict", model, data, "--out", folder / "old.csv", "--quiet"],
        "report": ["report", model, "--out", folder / "report.html", "--quiet"],
        "demo": ["demo", "--out", folder / "demo", "--quiet"],
        "active": ["active", "--out", folder / "active", "--quiet"],
    }


def _assert_file_system_error(code, err, *phrases):
    assert code == EXIT_FILE_SYSTEM == 74, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for phrase in phrases:
        assert phrase in err, (phrase, err)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fit", "predict", "report", "demo", "active"])
def test_read_only_folder_is_one_line_before_any_work(capsys, files, read_only, command):
    before = {p.name: p.read_bytes() for p in read_only.iterdir()}
    code, _, err = run_cli(capsys, *_commands(*files, read_only)[command])
    reason = "permission denied" if os.geteuid() != 0 else "read-only file system"
    _assert_file_system_error(code, err, str(read_only), reason, "another folder"
                              if reason != "permission denied" else "change its permissions")
    assert {p.name: p.read_bytes() for p in read_only.iterdir()} == before


@pytest.mark.parametrize("command", ["fit", "predict", "report", "demo", "active"])
def test_full_disk_is_one_line_before_any_work(capsys, files, full, command):
    code, _, err = run_cli(capsys, *_commands(*files, full)[command])
    _assert_file_system_error(code, err, str(full), "full disk", "free some space")
    assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_running_out_of_space_mid_write_keeps_the_old_file(tmpfs, monkeypatch):
    """The free-space checks are bypassed, so the disk really fills during the write."""
    path = tmpfs / "pred.csv"
    path.write_text("prediction\n1\n")
    monkeypatch.setattr(atomic_writes, "FREE_SPACE_MARGIN", 0)
    monkeypatch.setattr(atomic_writes.shutil, "disk_usage", lambda p: SimpleNamespace(free=1 << 40))
    with pytest.raises(FileSystemError, match=f"{path} is on a full disk.*free some space"):
        atomic_writes.write_text_atomic(path, "prediction\n" + "2\n" * 1_000_000)  # 2 MB > 1 MiB
    assert path.read_text() == "prediction\n1\n"
    assert sorted(p.name for p in tmpfs.iterdir()) == ["pred.csv"]


def test_a_read_only_mount_mid_write_keeps_the_old_file(read_only):
    path = read_only / "old.csv"
    with pytest.raises(FileSystemError, match=f"{path} is on a read-only file system; write to "
                                              "another folder") as caught:
        atomic_writes.write_text_atomic(path, "prediction\n2\n")
    assert caught.value.errno == errno.EROFS and caught.value.path == str(path)
    assert path.read_text() == "prediction,p_0,p_1\n1,0.2,0.8\n"


def test_debug_shows_the_traceback_with_the_same_exit_code(capsys, files, read_only):
    data, model = files
    code, _, err = run_cli(capsys, "predict", "--debug", model, data, "--out",
                           read_only / "p.csv")
    assert code == EXIT_FILE_SYSTEM and "Traceback" in err and "FileSystemError" in err
    code, _, err = run_cli(capsys, "--debug", "report", model, "--out", read_only / "r.html")
    assert code == EXIT_FILE_SYSTEM and "Traceback" in err


@pytest.mark.parametrize("errno_code, phrase, code", [
    (errno.EACCES, "permission denied; choose a folder you can write to", 74),
    (errno.ENOSPC, "full disk (no space left on the device); free some space", 74),
    (errno.EROFS, "read-only file system; write to another folder", 74),
    (errno.ENOTDIR, "a part of its folder path is a file, not a folder; choose another path", 2),
    (errno.EIO, "could not use (Input/output error); check the path and the disk", 74),
])
def test_any_os_error_a_command_raises_is_one_line(capsys, monkeypatch, files, errno_code,
                                                   phrase, code):
    """An OSError from anywhere in a command (here: reading the model) is translated too."""
    from pymc_bnn.cli import report_command

    def failing(path):
        raise OSError(errno_code, os.strerror(errno_code), str(path))

    monkeypatch.setattr(report_command, "load_model", failing)
    data, model = files
    exit_code, _, err = run_cli(capsys, "report", model, "--out", Path(data).parent / "x.html")
    assert exit_code == code, err
    assert err.count("\n") == 1 and "Traceback" not in err and phrase in err, err
    assert str(model) in err
