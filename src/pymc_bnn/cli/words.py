"""The library's messages in the command line's words: Python arguments become `pymc-bnn` flags.

The library writes its errors and fix hints for Python (`raise tune=`, `pass
unseen_groups='population'`, `engine_options={'target_accept': 0.99}`); the CLI shows them with
the flag that does the same (`raise --tune`, `pass --unseen-groups population`,
`--target-accept 0.99`). The flags are read from the command line's own parser, so every flag,
the engine flags included, is translated without a list to keep: `build_parser` hands its parser
to `learn_flags` (this module never imports the parser's module, so the two do not import each
other). Text inside "(Python: …)", where a message names both faces already, is left as it is.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping

# Python names whose flag is spelt differently from the argument (dest) it sets
_ALIASES = {"random_seed": "seed", "random_state": "seed", "hidden_layer_sizes": "hidden",
            "sample_weight": "weight", "n_jobs": "jobs"}
_PYTHON_ASIDE = re.compile(r"(\(Python:[^)]*\))")
_ENGINE_OPTION = re.compile(r"engine_options=\{'(\w+)': ([^,}]+)\}")
_ARGUMENT = re.compile(r"(?<![\w.-])(\w+)=('[^']*'|\"[^\"]*\"|[-+]?[\w.]+)?")
# scikit-learn's parameter validation: "The 'random_state' parameter of BayesianMLPClassifier"
_PARAMETER = re.compile(r"The '(\w+)' parameter of \w+")
# the flags of the last parser `build_parser` built (one per process in practice)
_LEARNED: dict[str, tuple[str, bool]] = {}


def cli_words(message: str, flags: Mapping[str, tuple[str, bool]] | None = None) -> str:
    """`message` with each Python argument of a `pymc-bnn` flag written as that flag.

    Parameters
    ----------
    message : str
        A library message (an error, a warning, a fix hint).
    flags : mapping, optional
        Each Python name → (its long flag, whether it is a switch), as `flag_table` gives;
        default: the flags of the parser `pymc_bnn.cli.build_parser` built last (before any
        parser is built, nothing is translated).

    Returns
    -------
    str

    Examples
    --------
    >>> from pymc_bnn.cli import build_parser
    >>> flags = flag_table(build_parser())
    >>> cli_words("run more tune= and draws=, or raise target_accept", flags)
    'run more --tune and --draws, or raise target_accept'
    >>> cli_words("or pass unseen_groups='population' to predict them", flags)
    'or pass --unseen-groups population to predict them'
    >>> cli_words("The 'random_state' parameter of BayesianMLPClassifier must be an int", flags)
    '--seed must be an int'
    >>> cli_words("raise it (Python: engine_options={'target_accept': 0.99}); or "
    ...           "engine_options={'target_accept': 0.99}; X= stays", flags)
    "raise it (Python: engine_options={'target_accept': 0.99}); or --target-accept 0.99; X= stays"
    """
    flags = _LEARNED if flags is None else flags

    def engine_option(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        return _written(flags[name], value) if name in flags else match.group(0)

    def argument(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        name = _ALIASES.get(name, name)
        return _written(flags[name], value) if name in flags else match.group(0)

    def parameter(match: re.Match) -> str:
        name = _ALIASES.get(match.group(1), match.group(1))
        return f"{flags[name][0]}" if name in flags else match.group(0)

    parts = _PYTHON_ASIDE.split(message)
    for i in range(0, len(parts), 2):  # the odd parts are "(Python: …)" asides
        parts[i] = _ARGUMENT.sub(argument, _ENGINE_OPTION.sub(engine_option, parts[i]))
        parts[i] = _PARAMETER.sub(parameter, parts[i])
    return "".join(parts)


def _written(flag: tuple[str, bool], value: str | None) -> str:
    """`--flag value` (`--flag` for a switch set to True, or no value given)."""
    option, switch = flag
    if value is None or (switch and value == "True"):
        return option
    return f"{option} {value.strip().strip(chr(39)).strip(chr(34))}"


def flag_table(parser: argparse.ArgumentParser) -> dict[str, tuple[str, bool]]:
    """Each dest → (its long flag, whether it is a switch), over `parser` and its subcommands.

    Parameters
    ----------
    parser : argparse.ArgumentParser

    Returns
    -------
    dict of str to (str, bool)

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> _ = parser.add_argument("--target-accept", type=float)
    >>> _ = parser.add_argument("--force", action="store_true")
    >>> flag_table(parser)
    {'target_accept': ('--target-accept', False), 'force': ('--force', True)}
    """
    found: dict[str, tuple[str, bool]] = {}
    parsers = [parser]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:  # argparse keeps no public list of a parser's arguments
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
                continue
            long = [s for s in action.option_strings if s.startswith("--")]
            if long and action.dest not in ("help", "version"):
                found.setdefault(action.dest, (long[0], action.nargs == 0))
    return found


def learn_flags(parser: argparse.ArgumentParser) -> None:
    """Make `parser`'s flags the ones `cli_words` writes by default.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The whole `pymc-bnn` parser; `build_parser` calls this with the one it built.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> _ = parser.add_argument("--tune", type=int)
    >>> learn_flags(parser)
    >>> cli_words("run more tune=")
    'run more --tune'
    >>> from pymc_bnn.cli import build_parser
    >>> _ = build_parser()  # learns every pymc-bnn flag again
    """
    _LEARNED.clear()
    _LEARNED.update(flag_table(parser))
