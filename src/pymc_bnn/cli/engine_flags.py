"""`pymc-bnn fit`'s engine flags, generated from the engines' one declaration of their options.

Every option in `pymc_bnn.inference.options.ENGINE_OPTIONS` that a command line can set gets a
flag named after it (`target_accept` -> `--target-accept`), with the declared help and default
of each engine that takes it. The text of a flag becomes a number where it reads as one and is
then checked, as the command line is parsed, by the option's own constraint, so `--tune 1.5` is
refused with the words `fit(..., tune=1.5)` is ("argument --tune: must be a whole number, got
1.5", a usage error). A flag the chosen engine does not take is refused in one line that lists
the flags it does take.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.inference.options import ENGINE_OPTIONS, Either, Flag, Number, OneOf, Whole


def flag_name(option: str) -> str:
    """The CLI flag of engine option `option` ("target_accept" -> "--target-accept").

    Examples
    --------
    >>> flag_name("target_accept")
    '--target-accept'
    >>> flag_name("tune")
    '--tune'
    """
    return "--" + option.replace("_", "-")


def cli_options() -> dict[str, dict]:
    """Each option a command line can set, with the engines that take it.

    Options marked `python_only` (a function, a fitted Posterior, an array) are left out.

    Returns
    -------
    dict
        Option name → {engine name: its `pymc_bnn.inference.options.Option`}, in the order the
        engines declare them.

    Examples
    --------
    >>> options = cli_options()
    >>> list(options["tune"])
    ['nuts']
    >>> sorted(options["steps"])
    ['advi', 'fullrank_advi', 'laplace', 'pymc_advi']
    >>> "callback" in options
    False
    """
    by_name: dict[str, dict] = {}
    for engine, options in ENGINE_OPTIONS.items():
        for name, option in options.items():
            if not getattr(option, "python_only", ""):
                by_name.setdefault(name, {})[engine] = option
    return by_name


def python_only_options() -> dict[str, str]:
    """The engine options that have no flag, each with why.

    Returns
    -------
    dict of str to str
        Option name → what its value is that a command line cannot give (a function, a fitted
        Posterior, an array).

    Examples
    --------
    >>> python_only_options()
    {'init': 'a fitted Posterior', 'callback': 'a function',
     'check_X': 'an array of encoded inputs'}
    """
    return {name: option.python_only for options in ENGINE_OPTIONS.values()
            for name, option in options.items() if getattr(option, "python_only", "")}


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per settable engine option to `parser`, in an "engine options" group.

    Each flag's dest is the option's name and its default None, which leaves the engine's own
    default. A value is read as a number where it reads as one and checked by the option's
    declared constraint as the command line is parsed; an on/off option is a switch.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser of `pymc-bnn fit`, or any parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="fit")
    >>> add_engine_flags(parser)
    >>> args = parser.parse_args(["--tune", "500", "--target-accept", "0.95", "--dense-mass"])
    >>> args.tune, args.target_accept, args.dense_mass, args.chains
    (500, 0.95, True, None)
    """
    skipped = python_only_options()
    group = parser.add_argument_group(
        "engine options",
        "each sets the option of that name of the engine --method chooses (see the engines' "
        "guide in the docs); a flag the engine does not take is an error. The defaults shown "
        "are the engines' own; with --prior auto a regressor's laplace fit, as the "
        "estimators', takes --map-scale holdout and --noise-sd evidence. Python only: "
        + ", ".join(f"{name} ({why})" for name, why in skipped.items()) + ".")
    for name, per_engine in cli_options().items():
        checks = [getattr(option, "check", option) for option in per_engine.values()]
        help_text = _help(per_engine)
        if all(isinstance(check, Flag) for check in checks):
            group.add_argument(flag_name(name), dest=name, action="store_const", const=True,
                               default=None, help=help_text)
        else:
            group.add_argument(flag_name(name), dest=name, type=_checked(checks[0], name),
                               default=None, metavar=_metavar(checks[0]), help=help_text)


def engine_options(args: argparse.Namespace, method: str) -> dict:
    """The engine options the flags in `args` set for engine `method`.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser with `add_engine_flags`; a flag left out (None) sets nothing.
    method : str
        The engine `--method` chose (resolved: not "auto").

    Returns
    -------
    dict
        Option name → value, each checked by its declared constraint (messages name the flag);
        empty when no engine flag was given.

    Raises
    ------
    InvalidSettingError
        For a flag `method` does not take; the message lists the flags it does take.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_engine_flags(parser)
    >>> args = parser.parse_args(["--tune", "500"])
    >>> engine_options(args, "nuts")
    {'tune': 500}
    >>> engine_options(args, "laplace")
    Traceback (most recent call last):
    ...
    pymc_bnn.errors.InvalidSettingError: --tune is not an option of laplace; ...
    """
    given = {name: getattr(args, name) for name in cli_options()
             if getattr(args, name, None) is not None}
    declared = ENGINE_OPTIONS.get(method, {})
    refused = [name for name in given if name not in declared]
    if refused:
        taken = [flag_name(name) for name in cli_options() if name in declared]
        flags = ", ".join(map(flag_name, refused))
        raise InvalidSettingError(
            f"{flags} {'is not an option' if len(refused) == 1 else 'are not options'} of "
            f"{method}; --method {method} takes {', '.join(taken) or 'no engine flag'}")
    return {name: declared[name](value, flag_name(name)) for name, value in given.items()}


def _help(per_engine: dict) -> str:
    """Help text from the declarations: "engine, engine: what it does (default: value); ..."."""
    said: dict[tuple[str, str], list[str]] = {}
    for engine, option in per_engine.items():
        default = getattr(option, "default", None)
        text = getattr(option, "help", "")
        shown = ("" if default is None or default is False
                 else " (default: "
                 f"{format(default, 'g') if isinstance(default, float) else default})")
        said.setdefault((text, shown), []).append(engine)
    return "; ".join(f"{', '.join(engines)}: {text}{shown}"
                     for (text, shown), engines in said.items()).replace("%", "%%")


def _metavar(check) -> str:
    """How `--help` shows the value a flag takes: N, X, {a,b}, or marglik|X."""
    if isinstance(check, Whole):
        return "N"
    if isinstance(check, Number):
        return "P" if check.kind == "probability" else "X"
    if isinstance(check, OneOf):
        return "{" + ",".join(check.choices) + "}"
    if isinstance(check, Either):
        return "|".join(_metavar(option) for option in check.options)
    return "VALUE"


def _checked(check, name: str):
    """An argparse type: the flag's text as a value `check` accepts, or a usage error.

    The error is in the words of the Python API's (its message after the option's name).
    """
    flag = flag_name(name)
    if isinstance(check, Either):  # a flag left out is the CLI's None: never offer "None"
        check = replace(check, allow_none=False)

    def parse(text: str):
        try:
            return check(_text_value(text), flag)
        except InvalidSettingError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from None

    parse.__name__ = flag  # argparse names a type in some of its own messages
    return parse


def _text_value(text: str):
    """A flag's text as an int ("1_000"), a float ("1e-3", "nan") or the text itself.

    The option's constraint then accepts or refuses it with the Python API's words.
    """
    for parse in (int, float):
        try:
            return parse(text.replace("_", ""))
        except ValueError:
            continue
    return text
