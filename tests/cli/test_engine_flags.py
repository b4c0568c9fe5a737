"""Every engine option is a `pymc-bnn fit` flag that reaches the engine, checked with the Python
API's words; and the library's fix hints, shown by the CLI, name the CLI's flags."""

import inspect
import re

import numpy as np
import pandas as pd
import pytest

from pymc_bnn.cli.app import build_parser, main
from pymc_bnn.cli.engine_flags import cli_options, flag_name, python_only_options
from pymc_bnn.cli.words import cli_words as words_for_python
from pymc_bnn.cli.words import flag_table
from pymc_bnn.errors import InferenceError, InvalidSettingError
from pymc_bnn.inference.options import (
    ENGINE_OPTIONS,
    Either,
    Flag,
    Number,
    OneOf,
    Whole,
    check_engine_options,
)

FIT = ["fit", "table.csv", "--target", "label", "--out", "m.bnn.nc"]


def _a_good_value(check):
    """(text on the command line, the value the Python API takes) for a constraint."""
    if isinstance(check, Flag):
        return None, True
    if isinstance(check, Whole):
        return "1_007", 1007  # the underscore is allowed, as in --draws 1_000
    if isinstance(check, Number):
        return "0.75", 0.75
    if isinstance(check, OneOf):
        return check.choices[-1], check.choices[-1]
    if isinstance(check, Either):
        return _a_good_value(check.options[-1])
    raise AssertionError(f"no test value for {check!r}")


def _a_bad_text(check) -> str:
    if isinstance(check, Whole):
        return "2.5"
    if isinstance(check, Number):
        return "-3" if check.kind != "probability" else "1.5"
    if isinstance(check, OneOf):
        return "no-such-choice"
    return "abc"


def _flag_args(method: str) -> tuple[list[str], dict]:
    """(the flags for every settable option of `method`, the options the engine should get)."""
    argv, expected = [], {}
    for name, option in ENGINE_OPTIONS[method].items():
        if option.python_only:
            continue
        text, value = _a_good_value(option.check)
        argv += [flag_name(name)] + ([] if text is None else [text])
        expected[name] = value
    return argv, expected


def test_every_settable_option_has_a_flag_and_the_rest_say_why_not():
    flags = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["fit"]._actions}
    for method, options in ENGINE_OPTIONS.items():
        for name, option in options.items():
            if option.python_only:
                assert name not in flags, (method, name)
            else:
                assert flags[name].option_strings == [flag_name(name)], (method, name)
                assert method in flags[name].help and option.help[:30] in flags[name].help
    assert python_only_options() == {"init": "a fitted Posterior", "callback": "a function",
                                     "check_X": "an array of encoded inputs"}


def test_an_option_has_one_check_whatever_the_engine():
    # the flag checks its value as the command line is parsed, before the engine is known
    for name, per_engine in cli_options().items():
        assert len({repr(option.check) for option in per_engine.values()}) == 1, name


@pytest.mark.parametrize("method", sorted(ENGINE_OPTIONS))
def test_each_flag_reaches_the_engine_as_the_python_option(method, tmp_path, monkeypatch,
                                                           capsys):
    """`pymc-bnn fit --method M --every-flag-of-M ...` hands the engine exactly the options
    `fit(bnn, M, **options)` would get: the estimator's call to `fit` is caught before any
    engine runs."""
    import pymc_bnn.sklearn.base as estimators  # where the estimators call fit

    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30),
                  "label": np.tile(["x", "y"], 15)}).to_csv(tmp_path / "table.csv", index=False)
    reached = {}

    def caught(bnn, method, **kwargs):
        reached.update(method=method, **kwargs)
        raise InferenceError("stopped by the test before the engine")

    monkeypatch.setattr(estimators, "fit", caught)
    monkeypatch.chdir(tmp_path)
    argv, expected = _flag_args(method)
    code = main([*FIT, "--method", method, "--hidden", "2", "--quiet", *argv])
    assert code == 1 and "stopped by the test" in capsys.readouterr().err
    got = {k: v for k, v in reached.items()
           if k not in ("method", "draws", "random_seed", "progress")}
    assert reached["method"] == method
    assert got == check_engine_options(method, expected) == expected
    assert not (tmp_path / "m.bnn.nc").exists()


def test_no_flag_given_leaves_every_engine_default(tmp_path):
    args = build_parser().parse_args(FIT)
    from pymc_bnn.cli.engine_flags import engine_options

    assert all(engine_options(args, method) == {} for method in ENGINE_OPTIONS)


@pytest.mark.parametrize("name", sorted(name for name, per_engine in cli_options().items()
                                         if not isinstance(next(iter(per_engine.values())).check,
                                                           Flag)))  # a switch takes no value
def test_a_bad_value_is_one_usage_line_in_the_python_api_words(name, capsys):
    method, option = next(iter(cli_options()[name].items()))
    text = _a_bad_text(option.check)
    with pytest.raises(InvalidSettingError) as python:
        check_engine_options(method, {name: _python_value(text)})
    with pytest.raises(SystemExit) as exited:
        main([*FIT, flag_name(name), text])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    words = str(python.value).removeprefix(f"{name} ")  # "must be a whole number, got 2.5"
    # Python's None is a flag left out: the command line never offers it as a value
    words = words.replace(" or None, got", ", got")
    assert f"argument {flag_name(name)}: {words}; see pymc-bnn fit --help" in err, err
    assert "None" not in err, err


def _python_value(text: str):
    """What a Python user would pass for `text`: an int, a float or the text."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


@pytest.mark.parametrize(("argv", "phrase"), [
    (["--tune", "100"], "error: --tune is not an option of laplace; --method laplace takes "
                        "--steps, --learning-rate"),
    (["--method", "nuts", "--steps", "100", "--ensemble"],
     "error: --steps, --ensemble are not options of nuts; --method nuts takes --chains, --tune"),
    (["--groups", "g", "--hessian", "full"],  # auto with groups is advi
     "error: --hessian is not an option of advi; --method advi takes --steps"),
])
def test_a_flag_the_engine_does_not_take_is_refused_before_reading_the_data(argv, phrase,
                                                                            capsys):
    code = main([*FIT, *argv])  # table.csv does not exist: nothing was read
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and phrase in err, err


def test_declared_defaults_are_the_engines_defaults():
    import dataclasses

    from pymc_bnn.inference import laplace, nuts, pymc_advi, vi

    def fields(settings):
        return {f.name: f.default for f in dataclasses.fields(settings)}

    def keywords(function):
        return {n: p.default for n, p in inspect.signature(function).parameters.items()
                if p.kind is p.KEYWORD_ONLY and p.default is not p.empty}

    engines = {
        "advi": {**fields(vi.ADVISettings), "learning_rate": vi.DEFAULT_LEARNING_RATE["meanfield"]},
        "fullrank_advi": {**fields(vi.ADVISettings),
                          "learning_rate": vi.DEFAULT_LEARNING_RATE["fullrank"]},
        "laplace": fields(laplace.LaplaceSettings),
        "nuts": keywords(nuts.run),
        "pymc_advi": keywords(pymc_advi.run),
    }
    for method, options in ENGINE_OPTIONS.items():
        for name, option in options.items():
            if name in engines[method]:
                assert option.default == engines[method][name], (method, name)


def test_the_help_says_which_defaults_a_regressor_fit_changes():
    """The flags show `fit()`'s defaults; `pymc-bnn fit` under --method auto and --prior auto is
    the estimators' fit, whose regressors set some laplace options otherwise: the help says so."""
    from pymc_bnn.sklearn import LAPLACE_REGRESSION_OPTIONS

    fit = build_parser()._subparsers._group_actions[0].choices["fit"]
    group = next(g for g in fit._action_groups if g.title == "engine options")
    said = " ".join(group.description.split())
    for name, value in LAPLACE_REGRESSION_OPTIONS.items():
        assert f"{flag_name(name)} {value}" in said, said


# ----------------------------------------------------------------------------- fix hints


def cli_words(message: str) -> str:
    """`message` in the words of the whole `pymc-bnn` parser."""
    return words_for_python(message, flag_table(build_parser()))


def test_fix_hints_name_the_flags_on_the_command_line():
    assert cli_words("run more tune= and draws=, or raise target_accept= (now 0.9)") \
        == "run more --tune and --draws, or raise --target-accept (now 0.9)"
    assert cli_words("or pass unseen_groups='population' to predict them") \
        == "or pass --unseen-groups population to predict them"
    assert cli_words("raise steps=, or learning_rate= if …, or pass tol=0 to run") \
        == "raise --steps, or --learning-rate if …, or pass --tol 0 to run"
    assert cli_words("fit with pooling='partial'; random_seed=3; force=True; X= and dims='obs'") \
        == "fit with --pooling partial; --seed 3; --force; X= and dims='obs'"
    assert cli_words("engine_options={'target_accept': 0.99}") == "--target-accept 0.99"
    both = "--steps (Python: steps=, engine_options={'tune': 5})"
    assert cli_words(both) == both  # a message naming both faces stays as it is


def test_every_convergence_fix_names_a_flag_and_no_python_argument_outside_an_aside():
    from types import SimpleNamespace

    from pymc_bnn.posterior.convergence import judge_convergence

    nuts = SimpleNamespace(method="nuts", settings={"chains": 2, "draws_per_chain": 40,
                                                    "tune": 30}, elbo=None, interrupted=False,
                           diagnostics={"divergences": 90, "divergence_rate": 0.3,
                                        "predictive_rhat_max": 1.62,
                                        "predictive_ess_bulk_min": 7.0})
    advi = SimpleNamespace(method="advi", settings={"steps": 100, "tol": 1e-3, "window": 10},
                           elbo=np.linspace(-500, -100, 100), interrupted=False,
                           diagnostics={"converged": False, "steps_run": 100,
                                        "relative_change": 0.2})
    problems = [*judge_convergence(nuts).problems, *judge_convergence(advi).problems]
    assert {p.kind for p in problems} == {"divergences", "rhat", "ess", "step_limit"}
    for problem in problems:
        shown = re.sub(r"\(Python:[^)]*\)", "", cli_words(str(problem)))
        assert problem.flag in shown and not re.search(r"\b\w+=", shown), shown
    assert "--target-accept" in str(problems[0]) and "no CLI flag" not in str(problems[0])


def test_engine_warnings_translate_to_flags():
    from pymc_bnn.inference.diagnostics import convergence_warnings

    shown = [cli_words(m) for m in convergence_warnings(
        {"predictive_rhat_max": 1.3, "predictive_ess_bulk_min": 12.0}, "nuts")]
    assert "larger --draws, more tuning (--tune) or more chains (--chains)" in shown[0]
    assert "larger --draws and more tuning (--tune)" in shown[1]
    assert not any(re.search(r"\b\w+=", re.sub(r"\(Python:[^)]*\)", "", m)) for m in shown)
