"""Shared by the reliability tests: tiny fit settings and the CLI run in-process."""

# Tiny fits: enough to give a usable model, fast enough to repeat. One shape of network and
# data across the modules, so fits after the first reuse the compiled code.
TINY = dict(hidden_layer_sizes=(2,), steps=50, draws=10,
            engine_options={"tol": 0, "restarts": 1, "chunk_steps": 50}, random_state=0)
TINY_CLI = ["--hidden", "2", "--steps", "50", "--draws", "10", "--quiet"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`pymc-bnn ARGS` in this process: (exit code, stdout, stderr)."""
    from pymc_bnn.cli.app import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code: int, err: str, *phrases: str) -> None:
    """Exit code 2, one line on stderr holding every phrase, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    for phrase in phrases:
        assert phrase in err, (phrase, err)


def without_unfinished_fit_note(err: str) -> str:
    """`err` less predict's note that the model's fit did not settle (TINY_CLI's 50 steps)."""
    return "".join(line for line in err.splitlines(keepends=True)
                   if "its fit did not settle" not in line)
