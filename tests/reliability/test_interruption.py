"""Ctrl-C during a fit stops cleanly and keeps the state reached so far, flagged `interrupted`:
through the API (a KeyboardInterrupt from the progress callback), the estimators, and a real
SIGINT to `pymc-bnn fit` in its own process."""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from pymc_bnn import BayesianMLPClassifier, build_model, fit, load
from reliability.helpers import TINY


def _sigint_as_in_a_shell() -> None:
    """In each child, before it starts: SIGINT unblocked and at its default action.

    A pytest-xdist worker can carry a blocked SIGINT (a library's signal mask, left by whatever
    ran before in that worker), and a child inherits its mask: the presses these tests send
    would never arrive and the fit would run to its end (exit 0). A user's shell starts
    commands with SIGINT unblocked, so the children here start that way too.
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_at(step):
    def callback(info):
        if info["step"] >= step:
            raise KeyboardInterrupt
    return callback


def test_ctrl_c_keeps_the_state_so_far(small_moons):
    bnn = build_model(small_moons.X_train, small_moons.y_train)
    post = fit(bnn, "advi", steps=30_000, draws=50, progress=False, restarts=1,
               chunk_steps=500, callback=_interrupt_at(1000))
    assert post.interrupted
    assert post.diagnostics["steps_run"] == 1000 and len(post.elbo) == 1000
    assert post.diagnostics["warnings"] == []  # stopped by the user: no convergence warning
    p = post.predict(small_moons.X_test)["mean"].values
    assert np.all(np.isfinite(p)) and np.mean((p > 0.5) == small_moons.y_test) > 0.7


def test_estimator_fit_interrupted_warns_and_predicts(table):
    options = {**TINY["engine_options"], "callback": _interrupt_at(100), "chunk_steps": 50}
    X, y = table[["height", "width"]], table["kind"]
    with pytest.warns(UserWarning, match="interrupted; the estimator holds the state reached"):
        model = BayesianMLPClassifier(**{**TINY, "steps": 10_000,
                                         "engine_options": options}).fit(X, y)
    assert model.posterior_.interrupted and model.posterior_.diagnostics["steps_run"] == 100
    assert set(model.predict(X)) <= {"big", "small"}


@pytest.mark.slow
def test_ctrl_c_during_cli_fit_saves_a_usable_flagged_model(tmp_path, table):
    """SIGINT once the progress bar shows a speed (the optimisation loop is running)."""
    table.to_csv(tmp_path / "train.csv", index=False)
    env = {**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "NO_COLOR": "1",
           "COLUMNS": "200"}
    command = [sys.executable, "-m", "pymc_bnn.cli", "fit", "train.csv", "--target", "kind",
               "--exclude", "label,price", "--out", "m.bnn.nc", "--hidden", "2",
               "--steps", "10000000", "--draws", "20", "--method", "advi"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=_sigint_as_in_a_shell)
    shown = b""
    try:
        while b"steps/s" not in shown:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, process.communicate()[1].decode()
            shown += chunk
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    out, err = (shown + out).decode(), err.decode()
    assert process.returncode == 3, err  # EXIT_PARTIAL: a partial fit was saved
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.count("\n") == 1, err
    assert re.fullmatch(r"interrupted: the fit was stopped by Ctrl-C at step \d+; the state "
                        r"reached so far is saved in m\.bnn\.nc, marked interrupted \(exit 3\)\n",
                        err), err
    model = load(tmp_path / "m.bnn.nc")
    assert model.posterior_.interrupted
    steps = model.posterior_.diagnostics["steps_run"]
    assert 0 < steps < 10_000_000 and len(model.posterior_.elbo) == steps
    proba = model.predict_proba(table[["height", "width", "depth"]])
    assert np.isfinite(proba).all() and proba.shape == (len(table), 2)


class _PressedFromCheck(list):
    """A Ctrl-C record that reads as pressed from its `at`-th look on (1-based)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.looks = at, 0

    def __bool__(self):
        self.looks += 1
        return self.looks >= self.at


def _nuts_with_press_at(monkeypatch, small_moons, at):
    """NUTS on a tiny network in calls of exactly 10 transitions (tune=50: looks 3–7 are the
    tuning calls, after looks 1 and 2 at the end of compiling and of the ADVI start-up), with
    Ctrl-C pressed from look `at` on."""
    import contextlib

    from pymc_bnn._runtime import interrupt
    from pymc_bnn._runtime.jax_setup import import_jax
    from pymc_bnn.inference import nuts

    # JAX imported before the press: `fit`'s own import of it looks for a press in a block of
    # its own (a press there ends the run as Python's Ctrl-C does), which would take look 1
    # when this test runs first in its process
    import_jax()

    @contextlib.contextmanager
    def pressed_from_look():
        yield _PressedFromCheck(at)

    monkeypatch.setattr(interrupt, "ctrl_c_deferred", pressed_from_look)
    monkeypatch.setattr(nuts, "MAX_STEPS_PER_CALL", 10)
    monkeypatch.setattr(nuts, "FIRST_STEPS_PER_CALL", 10)
    monkeypatch.setattr(nuts, "SECONDS_PER_CALL", 1e9)  # every call as long as allowed
    bnn = build_model(small_moons.X_train, small_moons.y_train, hidden=(2,))
    return fit(bnn, "nuts", draws=200, chains=2, tune=50, init_steps=200, progress=False)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
@pytest.mark.parametrize(("at", "stage"), [(1, "compiling"), (2, "fitting ADVI"), (4, "tuning")])
def test_ctrl_c_before_nuts_draws_anything_ends_the_run(small_moons, monkeypatch, at, stage):
    """Pressed while compiling, during the ADVI start-up or while tuning, there is nothing to
    keep: the run ends with KeyboardInterrupt at the next call boundary, saying where it was."""
    with pytest.raises(KeyboardInterrupt, match=f"interrupted while {stage}.*no draws were kept"):
        _nuts_with_press_at(monkeypatch, small_moons, at)


@pytest.mark.slow  # a fit of several seconds (NUTS or a shared module fit)
def test_ctrl_c_during_nuts_sampling_keeps_the_draws_so_far(small_moons, monkeypatch):
    """Pressed during the first sampling call (look 8), NUTS stops after it and keeps its 10
    draws per chain, flagged as interrupted."""
    with pytest.warns(UserWarning, match="NUTS was interrupted: kept 10 of 100 draws per chain"):
        post = _nuts_with_press_at(monkeypatch, small_moons, 8)
    assert post.interrupted
    assert post.idata["posterior"]["w_0"].shape[:2] == (2, 10)
    assert post.idata["sample_stats"]["diverging"].shape == (2, 10)
    assert np.isfinite(post.predict(small_moons.X_test)["mean"].values).all()


# A real SIGINT at a chosen moment after the command starts: a timer in the child process sends
# it to itself, so "during imports" is hit reliably rather than by racing the interpreter. The
# child then runs as the console script does (`main()` reading sys.argv: the command's own
# process, which leaves Dask unimported, where a caller's `main([...])` would import it).
_AT = """
import os, signal, sys
signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
signal.setitimer(signal.ITIMER_REAL, float(sys.argv[1]))
sys.argv = ["pymc-bnn", *sys.argv[2:]]
from pymc_bnn.cli import main
sys.exit(main())
"""


@pytest.mark.slow  # four fresh processes, each importing the engines
@pytest.mark.parametrize("seconds", [0.05, 0.15, 0.4, 1.0])
def test_sigint_before_the_fit_is_one_line_exit_130_and_writes_nothing(tmp_path, table, seconds):
    """Presses while the parser and the engines are imported, and while the data is read and
    the model built: one line, exit 130, no file at --out."""
    table.to_csv(tmp_path / "train.csv", index=False)
    command = [sys.executable, "-c", _AT, str(seconds), "fit", "train.csv", "--target", "kind",
               "--exclude", "label,price", "--out", "m.bnn.nc", "--hidden", "2",
               "--steps", "10000000", "--draws", "20", "--method", "advi", "--quiet"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False,
                          preexec_fn=_sigint_as_in_a_shell)
    if done.returncode == 3:  # this machine was fast enough to be fitting already
        assert load(tmp_path / "m.bnn.nc").posterior_.interrupted
        return
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted: nothing was kept\n"
    assert not (tmp_path / "m.bnn.nc").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]  # no temporary file either


def test_a_press_that_fails_an_extensions_import_is_an_interruption(tmp_path, table, monkeypatch,
                                                                     capsys):
    """A press inside a compiled extension's initialisation (scipy's pybind11 modules) comes out
    as "ImportError: initialization failed" raised from the KeyboardInterrupt; seen in CI when
    the press landed while `fit` first imported scikit-learn. It is the user's press: one line,
    exit 130, no file. An ImportError of its own is still an error (a traceback: a broken
    installation is not the user's to fix by pressing again)."""
    from pymc_bnn.cli import command_steps, main

    table.to_csv(tmp_path / "train.csv", index=False)
    monkeypatch.chdir(tmp_path)

    def failed_import(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as press:
            raise ImportError("initialization failed") from press

    monkeypatch.setattr(command_steps, "read_table", failed_import)
    arguments = ["fit", "train.csv", "--target", "kind", "--out", "m.bnn.nc", "--quiet"]
    assert main(arguments) == 130
    assert capsys.readouterr().err == "interrupted: nothing was kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]

    def broken(*args, **kwargs):
        raise ImportError("initialization failed")

    monkeypatch.setattr(command_steps, "read_table", broken)
    with pytest.raises(ImportError, match="initialization failed"):
        main(arguments)


def test_sigint_keeps_a_previous_model_when_nothing_new_was_written(tmp_path, table, saved_model):
    """--out already holds a model: a press before the save leaves it byte for byte."""
    table.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "m.bnn.nc").write_bytes(saved_model.read_bytes())
    command = [sys.executable, "-c", _AT, "0.3", "fit", "train.csv", "--target", "kind",
               "--exclude", "label,price", "--out", "m.bnn.nc", "--hidden", "2", "--quiet"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False,
                          preexec_fn=_sigint_as_in_a_shell)
    assert done.returncode == 130 and done.stderr == "interrupted: nothing was kept\n", done.stderr
    assert (tmp_path / "m.bnn.nc").read_bytes() == saved_model.read_bytes()


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("previous") / "m.bnn.nc"
    BayesianMLPClassifier(**TINY).fit(table[["height", "width", "depth"]], table["kind"]).save(path)
    return path


# SIGINT again and again from a chosen moment on, so that every later phase (compiling,
# fitting, drawing, saving, the summary) is pressed in: whatever phase the first press lands in,
# the command ends in one line with exit 130 and nothing at --out, or exit 3 and a complete
# model marked interrupted. Never a traceback, a half-written file or a temporary file. The fit
# never stops by itself (--tol 0, ten million steps), so a late first press still lands in the
# fit and the presses after it in drawing, saving and the summary (with ADVI's own stopping
# rule, the fit ended before 10 s once the startup got faster, and the latest storms pressed
# nothing).
_STORM = """
import os, signal, sys
signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
signal.setitimer(signal.ITIMER_REAL, float(sys.argv[1]), 0.2)
sys.argv = ["pymc-bnn", *sys.argv[2:]]  # as the console script (see _AT)
from pymc_bnn.cli import main
code = main()
signal.setitimer(signal.ITIMER_REAL, 0)
sys.exit(code)
"""


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [1.5, 3.0, 6.0, 10.0])
def test_repeated_sigint_from_any_moment_leaves_nothing_or_a_complete_flagged_model(
        tmp_path, table, seconds):
    table.to_csv(tmp_path / "train.csv", index=False)
    command = [sys.executable, "-c", _STORM, str(seconds), "fit", "train.csv", "--target",
               "kind", "--exclude", "label,price", "--out", "m.bnn.nc", "--hidden", "4",
               "--steps", "10000000", "--tol", "0", "--draws", "200", "--method", "advi",
               "--quiet"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False,
                          preexec_fn=_sigint_as_in_a_shell)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (3, 130), (done.returncode, done.stderr)
    if done.returncode == 130:
        assert done.stderr.strip().splitlines()[-1] == "interrupted: nothing was kept"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]
    else:
        assert "marked interrupted (exit 3)" in done.stderr
        assert load(tmp_path / "m.bnn.nc").posterior_.interrupted
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bnn.nc", "train.csv"]


def test_a_ctrl_c_inside_a_garbage_collection_callback_is_delivered_after_it_without_a_traceback():
    """A press that lands in a finaliser (JAX's GC callback, in a storm of presses) cannot act
    there; the command prints no "Exception ignored in ...: Traceback" and the press reaches the
    main thread's handler once the callback has returned (before, it was lost and a fit whose
    step count is only a ceiling ran on to the end)."""
    script = ("import gc, sys, time\n"
              "from pymc_bnn.cli import _ignoring_interrupts\n"
              "sys.unraisablehook = _ignoring_interrupts(sys.unraisablehook)\n"
              "def callback(phase, info):\n"
              "    if phase == 'start':\n"
              "        raise KeyboardInterrupt\n"
              "gc.callbacks.append(callback)\n"
              "try:\n"
              "    gc.collect()\n"
              "    gc.callbacks.remove(callback)\n"
              # up to 10 s, in short sleeps: the simulated press (not a real signal) cannot
              # cut a sleep short, but runs its handler between two of them
              "    for _ in range(100):\n"
              "        time.sleep(0.1)\n"
              "    print('not delivered')\n"
              "except KeyboardInterrupt:\n"
              "    print('delivered')\n"
              "gc.callbacks.clear()\n"
              "def other(phase, info):\n"
              "    raise ValueError('kept')\n"
              "gc.callbacks.append(other)\n"
              "gc.collect()\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False,
                          preexec_fn=_sigint_as_in_a_shell)
    assert done.stdout.strip() == "delivered", (done.stdout, done.stderr)
    assert "KeyboardInterrupt" not in done.stderr, done.stderr
    assert "ValueError: kept" in done.stderr  # any other unraisable error is still shown


def test_a_ctrl_c_during_the_jax_import_waits_until_the_import_is_whole(tmp_path):
    """A press inside a compiled extension's import (jaxlib's nanobind modules: "Critical
    nanobind error" and a traceback, seen in the storm above) is held until the import has
    finished and then raised as a plain KeyboardInterrupt. A stand-in module presses during its
    own import and records that the import ran to its end."""
    (tmp_path / "slow_extension.py").write_text(
        "import os, signal\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "WHOLE = True\n")
    script = ("import sys\n"
              "from pymc_bnn._runtime.interrupt import import_whole\n"
              "try:\n"
              "    import_whole('slow_extension')\n"
              "except KeyboardInterrupt:\n"
              "    print('raised after', sys.modules['slow_extension'].WHOLE)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)},
                          preexec_fn=_sigint_as_in_a_shell)
    assert done.stdout.strip() == "raised after True", (done.stdout, done.stderr)
    assert done.stderr == ""


# A stacked fit whose folds run in two threads and never converge on their own: a real SIGINT
# lands in the main thread while both threads' engines are stepping.
_STACKED_FOLDS = """
import os, signal, threading, time, warnings
import numpy as np
from pymc_bnn import BayesianMLPClassifier
from pymc_bnn.datasets import two_moons
from pymc_bnn.sklearn import stacked_fit

started = threading.Event()
endless = stacked_fit.fold_density

def fold_density(build, method, options, *args, **kwargs):
    started.set()
    return endless(build, method, {**options, "steps": 10**8, "tol": 0}, *args, **kwargs)

stacked_fit.fold_density = fold_density
def press():
    started.wait()
    time.sleep(2.0)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=press, daemon=True).start()
data = two_moons(n_samples=120)
t0 = time.perf_counter()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = BayesianMLPClassifier((4,), stack_linear=True, n_jobs=2, steps=300, draws=50,
                                  random_state=0).fit(data.X_train, data.y_train)
print("seconds", round(time.perf_counter() - t0, 1))
print("interrupted", model.posterior_.interrupted, model.posterior_.spec.hidden)
print("warned", any("kept the network's fit alone" in str(w.message) for w in caught))
print("accuracy", np.mean(model.predict(data.X_test) == data.y_test))
"""


@pytest.mark.slow  # a fresh process, a stacked fit
def test_sigint_during_threaded_folds_stops_them_and_keeps_the_networks_fit(tmp_path):
    done = subprocess.run([sys.executable, "-c", _STACKED_FOLDS], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False,
                          preexec_fn=_sigint_as_in_a_shell)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert said["interrupted"] == "True (4,)" and said["warned"] == "True"
    assert float(said["accuracy"]) > 0.7  # the network's own fit, whole
    assert float(said["seconds"]) < 120  # the endless folds stopped at the press


def test_a_press_in_an_exit_handler_after_the_command_prints_nothing(tmp_path):
    """The console script has returned its exit code; a Ctrl-C that lands in an exit handler
    (JAX registers some) is not printed as 'Exception ignored in atexit callback'."""
    script = (
        "import atexit, sys\n"
        "def pressed():\n"
        "    raise KeyboardInterrupt\n"
        "atexit.register(pressed)\n"
        "from pymc_bnn.cli import main\n"
        "sys.argv = ['pymc-bnn', 'info', 'missing.bnn.nc']\n"
        "sys.exit(main())\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr  # the command's own answer: no such file
    assert "KeyboardInterrupt" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
