"""The command line's light layer: argument types, and a `--help` that loads no heavy library."""

import argparse
import subprocess
import sys

import pytest

from pymc_bnn.cli.args import positive_int, widths

HEAVY = ("matplotlib", "scipy", "pymc", "pytensor", "jax", "sklearn", "pandas", "arviz")


def _imported(code: str) -> set[str]:
    """Top-level packages a fresh interpreter imports to run `code` (from -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True,
                          capture_output=True, text=True, timeout=120)
    rows = [line.split("|")[-1] for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {row.strip().split(".")[0] for row in rows[1:]}  # rows[0] is the header


def test_the_command_line_is_built_without_heavy_libraries():
    imported = _imported("import pymc_bnn.cli")
    assert "pymc_bnn" in imported  # the parsing above reads what it should
    assert not {"matplotlib", "scipy"} & imported
    # building every subcommand's parser (what `pymc-bnn --help` does) loads none of them either
    imported = _imported("import pymc_bnn.cli as c; c.build_parser()")
    assert not set(HEAVY) & imported, sorted(set(HEAVY) & imported)


def test_the_light_engine_names_are_the_engines():
    from pymc_bnn.defaults import DEFAULT_METHOD, ENGINE_NAMES
    from pymc_bnn.inference import ENGINES

    assert set(ENGINE_NAMES) == set(ENGINES) and DEFAULT_METHOD in ENGINES


def test_the_light_likelihood_names_are_the_likelihoods():
    from pymc_bnn.defaults import CLASSIFIER_LIKELIHOODS, REGRESSOR_LIKELIHOODS
    from pymc_bnn.model.likelihoods import LIKELIHOODS

    assert set(REGRESSOR_LIKELIHOODS) == {n for n, c in LIKELIHOODS.items() if not c.is_classifier}
    assert set(CLASSIFIER_LIKELIHOODS) - {"auto"} == {n for n, c in LIKELIHOODS.items()
                                                      if c.is_classifier}


def test_argument_types_refuse_in_one_line():
    assert positive_int("1_000") == 1000 and widths("32, 16,") == (32, 16)
    assert widths("None") == ()  # no hidden layer: a GLM
    with pytest.raises(argparse.ArgumentTypeError, match="expected a number ≥ 1, got 0"):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number, got 'ten'"):
        positive_int("ten")
    with pytest.raises(argparse.ArgumentTypeError, match="at least 1 unit, got '4,0'"):
        widths("4,0")
    with pytest.raises(argparse.ArgumentTypeError, match=r"such as 5,5 or 32,32 \(or none\), got '5;5'"):
        widths("5;5")


def test_the_entry_point_exit_code_for_ctrl_c_is_the_documented_one():
    import pymc_bnn.cli as entry
    from pymc_bnn.cli.args import EXIT_INTERRUPTED

    assert entry._EXIT_INTERRUPTED == EXIT_INTERRUPTED == 130


def test_draws_precision_flag_accepts_exactly_the_bits_the_file_format_allows():
    """The flag keeps its own copy of the limit (so --help imports nothing); it must match."""
    import argparse

    from pymc_bnn.cli.args import draws_precision
    from pymc_bnn.io.precision import MAX_BITS

    assert draws_precision(str(MAX_BITS)) == MAX_BITS
    with pytest.raises(argparse.ArgumentTypeError, match=f"from 1 to {MAX_BITS}"):
        draws_precision(str(MAX_BITS + 1))
