"""`pymc-bnn predict` at its boundaries: the module of its own, and what it reads and writes."""

import pytest


def test_predicts_helpers_still_import_from_model_commands_with_a_warning():
    from pymc_bnn.cli import model_commands, new_row_notes, predict_command

    with pytest.warns(DeprecationWarning,
                      match="moved to pymc_bnn.cli.predict_command._cmd_predict"):
        assert model_commands._cmd_predict is predict_command._cmd_predict
    with pytest.warns(DeprecationWarning,
                      match="moved to pymc_bnn.cli.new_row_notes._check_new_rows"):
        assert model_commands._check_new_rows is new_row_notes._check_new_rows
    assert model_commands._note_new_rows is new_row_notes._note_new_rows  # report uses it
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        model_commands.nothing  # noqa: B018
