"""The `pymc-bnn` command: `app` (the entry point and `demo`), `args` (argument types shared by
commands), `model_commands` (`fit`, `predict`, `info`, `report`), `stability_command`
(`stability`), `tables` (reading tables and writing predictions)."""

from pymc_bnn.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
