"""The CLI speed benchmark's inputs are what issue 20's targets are about: the row counts, the
(32, 32) network with 1,000 draws, 11 groups, every likelihood. Nothing is fitted or timed."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import cli_speed  # noqa: E402


def test_the_limits_are_the_issue_targets():
    assert cli_speed.LIMITS == {"version_s": 1.0, "info_s": 1.0, "predict_100_s": 3.0,
                                "uncertainty_10k_s": 2.0, "model_file_mb": 5.0,
                                "grouped_model_file_mb": 20.0}
    assert (cli_speed.HIDDEN, cli_speed.DRAWS, cli_speed.GROUPS) == ((32, 32), 1000, 11)
    assert (cli_speed.PREDICT_ROWS, cli_speed.UNCERTAINTY_ROWS) == (100, 10_000)


def test_the_tables_have_the_rows_and_groups(tmp_path):
    paths = cli_speed.make_tables(tmp_path)
    train, rows, firms = (pd.read_csv(paths[name]) for name in ("train", "rows", "firms"))
    assert len(rows) == 100 and "species" not in rows  # predict's 100 new raw rows
    assert set(train.columns) - set(rows.columns) == {"species"}
    assert not any(pd.api.types.is_numeric_dtype(train[c]) for c in ("island", "sex"))  # text
    assert train.isna().any().any()  # with gaps, as real tables have
    assert firms["firm"].nunique() == 11


@pytest.mark.parametrize("quick", [False, True])
def test_the_fit_commands_ask_for_the_target_models(tmp_path, quick):
    from pymc_bnn.cli.app import build_parser

    commands = cli_speed.fit_commands(tmp_path, quick)
    assert set(commands) == {"model", "advi_model", "grouped_model"}
    parsed = {name: build_parser().parse_args(argv) for name, argv in commands.items()}
    for args in parsed.values():
        assert args.command == "fit" and args.hidden == (32, 32) and args.draws == 1000
        assert (args.steps is not None) == quick  # --quick shortens the fits, nothing else
    assert parsed["model"].method == "auto" and parsed["advi_model"].method == "advi"
    assert parsed["grouped_model"].groups == "firm" and parsed["model"].groups is None
    assert len({args.out for args in parsed.values()}) == 3


def test_every_likelihood_is_timed_with_a_target_that_suits_it():
    from pymc_bnn.model.likelihoods import LIKELIHOODS

    timed = (*cli_speed.CLASSIFIER_LIKELIHOODS, *cli_speed.REGRESSOR_LIKELIHOODS)
    assert set(timed) == set(LIKELIHOODS)
    for likelihood in timed:
        X, y = cli_speed.likelihood_data(likelihood, cli_speed.UNCERTAINTY_ROWS, seed=1)
        assert X.shape == (10_000, 4) and y.shape == (10_000,) and np.isfinite(y).all()
        if likelihood in ("poisson", "negative_binomial"):
            assert y.dtype.kind == "i" and y.min() >= 0 and y.var() > 0
    assert set(cli_speed.likelihood_data("bernoulli", 500, 0)[1]) == {0, 1}
    assert set(cli_speed.likelihood_data("categorical", 500, 0)[1]) == {0, 1, 2}


def test_a_model_file_of_the_wrong_shape_is_refused():
    def description(hidden, draws, labels):
        return {"posterior": {"spec": {"__spec__": {"hidden": hidden}},
                              "settings": {"draws": draws},
                              "groups": None if labels is None else {"labels": labels}}}

    cli_speed.check_model(description([32, 32], 1000, None), groups=None)
    cli_speed.check_model(description([32, 32], 1000, list("abcdefghijk")), groups=11)
    for wrong in (description([32], 1000, None), description([32, 32], 500, None),
                  description([32, 32], 1000, list("abc"))):
        with pytest.raises(RuntimeError, match="the benchmark built the wrong model"):
            cli_speed.check_model(wrong, groups=None if wrong["posterior"]["groups"] is None
                                  else 11)


def test_the_baseline_command_is_python_and_the_table_reads_the_records():
    compile(cli_speed.SKLEARN_PREDICT.format(model="m.joblib", rows="r.csv", out="o.csv"),
            "<sklearn predict>", "exec")
    commands = {name: {"median_s": s} for name, s in (
        ("version", 0.5), ("info", 1.2), ("predict_100", 2.0), ("sklearn_predict_100", 1.0),
        ("python_start", 0.05))}
    uncertainty = {"poisson": {"method": "laplace", "uncertainty": {"median_s": 2.5},
                               "predict": {"median_s": 0.5}}}
    rows = cli_speed.targets(commands, uncertainty,
                             {"model": 0.3, "advi_model": 6.0, "grouped_model": 19.0})
    met = {row["target"]: row["met"] for row in rows}
    assert [met[t] for t in met] == [True, False, True, False, True, False, True]
    predict = next(row for row in rows if row["key"] == "predict_100_s")
    assert predict["ratio"] == pytest.approx(2.0)
    report = cli_speed.markdown({
        "run": {"quick": True, "date": "d", "commit": "abcdef0123", "dirty": False,
                "machine": "m", "load_average_start": [3.0, 2.0, 1.0], "idle": False,
                "note": ""},
        "targets": rows, "inputs": {"fit_s": {"model": 9.0}},
        "settings": {"runs": 3, "repeats": 2}})
    assert "| pymc-bnn predict, 100 rows, end to end | 2 s | < 3 s | yes |" in report
    assert "(busy)" in report and "×2.00" in report
