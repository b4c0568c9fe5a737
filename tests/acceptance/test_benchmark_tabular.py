"""The tabular benchmark's pure helpers on hand-made records: no model is fitted here."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.preprocessing import scale

from pymc_bnn.datasets import two_moons

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import _tabular_panel as panel  # noqa: E402
import tabular  # noqa: E402


def rec(dataset, split, model, task="classification", error=None, warm=True, n_train=200,
        **metrics):
    return {"dataset": dataset, "task": task, "split": split, "model": model,
            "family": "pymc-bnn" if model in tabular.BNN_MODELS else "baseline",
            "n_train": n_train, "n_test": 50, "n_features": 2, "warm": warm, "error": error,
            "metrics": None if error else metrics}


def test_standard_error_is_sd_over_sqrt_n():
    values = [0.31, 0.12, 0.57, 0.44, 0.29]
    assert panel.standard_error(values) == pytest.approx(np.std(values, ddof=1) / np.sqrt(5))
    assert math.isnan(panel.standard_error([0.3]))


def test_regression_scores_against_closed_forms():
    mean, sd = np.zeros(3), np.full(3, 2.0)
    y = np.array([0.0, 1.5 * 2.0, 2.0 * 2.0])  # z = 0, 1.5, 2: two inside the 90% interval
    scores = panel.regression_scores(y, mean, sd)
    assert scores["coverage_90"] == pytest.approx(2 / 3)
    assert scores["rmse"] == pytest.approx(np.sqrt(np.mean(y ** 2)))
    assert scores["gaussian_nll"] == pytest.approx(-stats.norm.logpdf(y, 0, 2).mean())
    one = panel.regression_scores([0.0], [0.0], [2.0])["crps"]  # z = 0: sd (2φ(0) − 1/√π)
    assert one == pytest.approx(2.0 * (2 * stats.norm.pdf(0) - 1 / np.sqrt(np.pi)))
    assert panel.residual_sd([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == pytest.approx(np.sqrt(5 / 3))


def test_beats_baselines_share_counts_failures_and_skips_pairs_without_baselines():
    records = []
    # 10 pairs: the default wins 7 (below both baselines), loses 2 to hgb, fails once
    for split in range(10):
        default = 0.10 if split < 7 else 0.30
        records.append(rec("a", split, "default", error="InvalidSettingError: x" if split == 9
                           else None, log_loss=default))
        records += [rec("a", split, "mlp", log_loss=0.20), rec("a", split, "hgb", log_loss=0.25)]
    records.append(rec("b", 0, "default", log_loss=0.01))  # no baseline: left out
    result = panel.beats_baselines(records)
    assert (result["n_pairs"], result["share"], result["met"]) == (10, 0.7, True)
    assert ["a", 9] in result["lost"] and ["a", 0] in result["won"]
    records[0]["metrics"]["log_loss"] = 0.20  # a tie with the MLP is not a win
    assert panel.beats_baselines(records)["share"] == pytest.approx(0.6)
    assert panel.beats_baselines(records)["met"] is False
    # two moons counts once: the project's (seed_moons) where it ran, else the smaller one
    small = [rec("moons", 0, "default", log_loss=0.1), rec("moons", 0, "mlp", log_loss=0.2)]
    seed = [rec("seed_moons", 0, "default", log_loss=0.3), rec("seed_moons", 0, "mlp", log_loss=0.2)]
    assert panel.beats_baselines(small)["won"] == [["moons", 0]]
    assert panel.beats_baselines(small + seed) == {"share": 0.0, "n_pairs": 1, "won": [],
                                                   "lost": [["seed_moons", 0]], "met": False}


def test_the_own_density_score_takes_a_baselines_gaussian_nll_and_loses_without_it():
    """`a_by_own_density`: a pymc-bnn regressor by its predictive_nll against the baselines'
    Gaussian NLL (their predictive is that Normal); a record without the score loses."""
    records = [rec("r", 0, "stacked_all", "regression", gaussian_nll=1.2, predictive_nll=0.9),
               rec("r", 0, "ridge", "regression", gaussian_nll=1.0),
               rec("r", 1, "stacked_all", "regression", gaussian_nll=0.8),  # before the score
               rec("r", 1, "ridge", "regression", gaussian_nll=1.0),
               rec("c", 0, "stacked_all", log_loss=0.1), rec("c", 0, "mlp", log_loss=0.2)]
    assert panel.beats_baselines(records, "stacked_all")["won"] == [["c", 0], ["r", 1]]
    own = panel.beats_baselines(records, "stacked_all", panel.OWN_DENSITY)
    assert (own["won"], own["lost"]) == ([["c", 0], ["r", 0]], [["r", 1]])


def test_an_entry_that_builds_an_earlier_entrys_estimator_takes_its_record():
    """A classifier's stacked_all is stacked's estimator (no heteroscedastic member to add);
    a regressor's is its own; the default is nobody's duplicate."""
    assert tabular._same_as("stacked_all", "classification") == "stacked"
    assert tabular._same_as("stacked_all", "regression") is None
    assert tabular._same_as("default", "regression") is None
    assert tabular._same_as("laplace", "classification") is None  # auto != laplace as params


def test_the_best_entry_bound_takes_each_pairs_lowest_pymc_bnn_score():
    """Pair 0: the default wins; pair 1: only the stacked entry does; pair 2: neither (the
    failed default does not count as a score); pair 3: a baseline below both."""
    records = [rec("a", 0, "default", log_loss=0.1), rec("a", 0, "stacked", log_loss=0.3),
               rec("a", 1, "default", log_loss=0.3), rec("a", 1, "stacked", log_loss=0.1),
               rec("a", 2, "default", error="InvalidSettingError: x"),
               rec("a", 2, "stacked", log_loss=0.4),
               rec("a", 3, "default", log_loss=0.3), rec("a", 3, "stacked", log_loss=0.25)]
    records += [rec("a", split, "mlp", log_loss=0.2) for split in range(3)]
    records.append(rec("a", 3, "hgb", log_loss=0.05))
    bound = panel.best_entry_bound(records)
    assert bound["won"] == [["a", 0], ["a", 1]] and bound["share"] == 0.5
    assert panel.beats_baselines(records)["won"] == [["a", 0]]  # the default's own: 1 of 4
    assert not any(r["model"] == panel.ORACLE for r in records)  # the records are left as given


def test_each_baseline_is_scored_against_the_other_baselines_only():
    """Pair 0: the MLP is below hgb (the default's score plays no part); pair 1: hgb is; pair
    2: a tie is nobody's win; pair 3: hgb failed, so the MLP faces nobody and the pair has no
    rival for it (left out of its count), while hgb's failed run loses it."""
    records = [rec("a", 0, "mlp", log_loss=0.1), rec("a", 0, "hgb", log_loss=0.2),
               rec("a", 1, "mlp", log_loss=0.3), rec("a", 1, "hgb", log_loss=0.2),
               rec("a", 2, "mlp", log_loss=0.2), rec("a", 2, "hgb", log_loss=0.2),
               rec("a", 3, "mlp", log_loss=0.2), rec("a", 3, "hgb", error="ValueError: x")]
    records += [rec("a", split, "default", log_loss=0.01) for split in range(4)]
    result = panel.baselines_against_each_other(records)
    assert result["mlp"]["won"] == [["a", 0]] and result["mlp"]["n_pairs"] == 3
    assert result["hgb"]["won"] == [["a", 1]] and result["hgb"]["n_pairs"] == 4
    assert all(r["family"] != "candidate" for r in records)  # the records are left as given


def test_the_lowest_mean_per_data_set_is_told_apart_from_the_pairs_won():
    """A confident baseline that wins two splits by a little and loses the third by a lot has
    the higher mean, yet the default wins one pair of three."""
    records = []
    for split, (ours, hgb, linear) in enumerate([(0.03, 0.01, 0.06), (0.04, 0.02, 0.05),
                                                 (0.05, 0.30, 0.07)]):
        records += [rec("wine", split, "default", log_loss=ours),
                    rec("wine", split, "hgb", log_loss=hgb),
                    rec("wine", split, "linear", log_loss=linear),
                    rec("iris", split, "default", log_loss=0.2),
                    rec("iris", split, "linear", log_loss=0.1)]
    summary = panel.summarise(records)
    lowest = panel.lowest_mean_per_dataset(records, summary)
    wine, iris = lowest["per_dataset"]["wine"], lowest["per_dataset"]["iris"]
    assert wine["lowest"] and wine["best_baseline"] == "linear"  # hgb's mean is 0.11
    assert wine["baseline_mean"] == pytest.approx(0.06) and wine["mean"] == pytest.approx(0.04)
    assert (wine["pairs_won"], wine["pairs"]) == (1, 3)
    assert not iris["lowest"] and (iris["pairs_won"], iris["pairs"]) == (0, 3)
    assert (lowest["n_lowest"], lowest["n"]) == (1, 2)
    assert panel.beats_baselines(records)["share"] == pytest.approx(1 / 6)
    words = panel._lowest_mean_words(lowest)
    assert "below every baseline's mean on 1 of 2 (wine 0.040 ± 0.006 vs linear 0.060, " \
        "1 of 3 pairs won); not on iris 0.200 ± 0.000 vs linear 0.100, 0 of 3 pairs won" in words


def test_summary_targets_and_report():
    records = []
    mlp_moons = [0.10, 0.12, 0.14]
    for split, mlp in enumerate(mlp_moons):
        records += [rec("moons", split, "default", log_loss=0.12 + 0.001 * split, accuracy=0.97,
                        ece=0.04, brier=0.05, fit_s=3.0, predict_s=0.1),
                    rec("seed_moons", split, "default", log_loss=0.1, accuracy=0.97, ece=0.02,
                        brier=0.05, fit_s=1.0, predict_s=0.1),
                    rec("moons", split, "mlp", log_loss=mlp, accuracy=0.96, ece=0.03,
                        brier=0.06, fit_s=0.2, predict_s=0.01),
                    rec("diabetes", split, "default", task="regression", gaussian_nll=5.8,
                        rmse=57.0, coverage_90=0.80, crps=30.0, fit_s=8.0 if split else 40.0,
                        predict_s=0.1, warm=split > 0),
                    rec("diabetes", split, "mlp", task="regression", gaussian_nll=5.4 + 0.1 * split,
                        rmse=55.0, coverage_90=0.9, crps=31.0, fit_s=0.3, predict_s=0.01)]
    records.append(rec("diabetes", 3, "laplace", task="regression", error="InvalidSettingError: "
                       "method 'laplace' is not one of advi, nuts"))
    summary = panel.summarise(records)
    nll = summary["diabetes"]["models"]["mlp"]["gaussian_nll"]
    assert nll["mean"] == pytest.approx(5.5) and nll["n"] == 3
    assert nll["se"] == pytest.approx(np.std([5.4, 5.5, 5.6], ddof=1) / np.sqrt(3))
    assert summary["diabetes"]["models"]["laplace"]["n_error"] == 1

    targets = panel.evaluate_targets(records, summary)
    b = targets["b_not_worse_than_mlp"]["per_dataset"]
    # moons: 0.121 vs 0.12 ± 0.0115, within the se; diabetes: 5.8 vs 5.5 ± 0.058, worse
    assert b["moons"]["worse"] is False and b["diabetes"]["worse"] is True
    assert targets["b_not_worse_than_mlp"]["met"] is False
    # (c) is the project's two moons (the seed's 1,000 points); the small moons is reported
    assert targets["c_two_moons"] == {"accuracy": pytest.approx(0.97), "ece": pytest.approx(0.02),
                                      "met": True, "calibrated_ece": None}  # no probabilities
    assert targets["c_small_moons"] == {"accuracy": pytest.approx(0.97),
                                        "ece": pytest.approx(0.04), "met": False,
                                        "calibrated_ece": None}
    assert targets["d_coverage_90"]["per_model"]["default"]["diabetes"]["ok"] is False
    e = targets["e_fit_seconds_warm"]
    assert e["small"] == {"moons": 3.0, "seed_moons": 1.0, "diabetes": 8.0}
    assert e["small_met"] is False
    assert e["large_met"] is None  # cold fits (the 40 s) are left out; no large set was run

    result = {"run": {"commit": "abc", "date": "today", "machine": "2 CPUs", "quick": True,
                      "load": ""}, "summary": summary, "targets": targets, "nuts_distance": {}}
    report = panel.markdown(result)
    assert "| default | 3 | 0.121 ± 0.001 |" in report
    assert "| laplace | 0 (1 failed) |" in report
    assert "worse than MLP by more than its se on: diabetes: NOT MET" in report
    assert "two moons (seed_moons) accuracy 0.970 (≥ 0.96), ECE 0.020 (≤ 0.03): MET\n" in report
    assert "the smaller moons (reported, not the verdict): accuracy 0.970, ECE 0.040: NOT MET\n" \
        in report  # no stored probabilities: no floor
    targets["c_two_moons"]["calibrated_ece"] = {"floor": 0.032, "n_test": 90, "splits": 5,
                                                "draws": 1000, "share_meeting_target": 0.31}
    assert ("ECE 0.020 (≤ 0.03): MET; a perfectly calibrated predictor with the same "
            "probabilities (labels drawn from them, 1,000 times) shows ECE 0.032 on average on "
            "these 5 test sets of 90 rows, and a mean ECE ≤ 0.03 in 31% of the draws: the ECE "
            "target asks for less than a calibrated predictor's average at this test size"
            ) in panel.markdown(result)


def test_nuts_distance_is_mean_absolute_difference_per_split():
    nuts = rec("iris", 0, "nuts", log_loss=0.1)
    nuts["prediction"] = {"proba": [[0.8, 0.2], [0.4, 0.6]]}
    fast = rec("iris", 0, "advi", log_loss=0.1)
    fast["prediction"] = {"proba": [[0.7, 0.3], [0.4, 0.6]]}
    mlp = rec("iris", 0, "mlp", log_loss=0.1)
    mlp["prediction"] = {"proba": [[0.0, 1.0], [0.0, 1.0]]}  # baselines are not compared
    gap = panel.nuts_distance([nuts, fast, mlp])
    assert list(gap["iris"]) == ["advi"]
    assert gap["iris"]["advi"]["abs_diff_proba"]["mean"] == pytest.approx(0.05)


def test_raw_records_replace_and_retry_errors(tmp_path):
    raw = panel.load_raw(tmp_path / "raw.json")
    panel.put_record(raw, rec("a", 0, "laplace", error="InvalidSettingError: no laplace"))
    panel.put_record(raw, rec("a", 0, "mlp", log_loss=0.2))
    assert panel.done_keys(raw["records"]) == {("a", 0, "mlp")}
    panel.put_record(raw, rec("a", 0, "laplace", log_loss=0.1))
    panel.save_raw(tmp_path / "raw.json", raw)
    again = panel.load_raw(tmp_path / "raw.json")
    assert len(again["records"]) == 2
    assert panel.done_keys(again["records"]) == {("a", 0, "mlp"), ("a", 0, "laplace")}


def test_panel_splits_and_model_rules():
    X, y = tabular._gap_1d()
    X_tr, X_te, y_tr, y_te = tabular.split("gap_1d", X, y, seed=3)
    assert np.all(np.abs(X_tr[:, 0]) >= tabular.GAP) and np.any(np.abs(X_te[:, 0]) < tabular.GAP)
    assert len(y_te) == 90
    X, y = tabular._moons()
    _, _, y_tr, y_te = tabular.split("moons", X, y, seed=0)
    assert (np.bincount(y_tr).tolist(), np.bincount(y_te).tolist()) == ([105, 105], [45, 45])
    # target (c)'s two moons: the project's (the seed's points), 700 / 300 rows
    X, y = tabular._seed_moons()
    X_tr, X_te, y_tr, y_te = tabular.split("seed_moons", X, y, seed=0)
    assert (len(y_tr), len(y_te)) == (700, 300)
    seed_data = two_moons()
    ours = np.sort(scale(np.vstack([X_tr, X_te])), axis=0)
    assert np.allclose(ours, np.sort(np.vstack([seed_data.X_train, seed_data.X_test]), axis=0))
    assert not tabular.applies("nuts", "moons", 210, quick=True, nuts=True)
    assert tabular.applies("nuts", "moons", 210, quick=False, nuts=True)
    assert not tabular.applies("nuts", "breast_cancer", 501, quick=False, nuts=True)
    assert not tabular.applies("gp", "digits", 1257, quick=False, nuts=True)
    assert not tabular.applies("mlp", "large_regression", 10_000, quick=False, nuts=True)


def test_selection_names_the_unknown_and_the_choices():
    args = tabular.argparse.Namespace(datasets="moons,penguins", models=None, quick=False)
    with pytest.raises(SystemExit, match="unknown data set penguins; choose from moons, "):
        tabular.selection(args)
    quick = tabular.argparse.Namespace(datasets=None, models="default,logistic", quick=True)
    assert tabular.selection(quick) == (["moons", "breast_cancer", "diabetes"],
                                        ["default", "linear"])
    full = tabular.argparse.Namespace(datasets=None, models=None, quick=False)
    datasets, models = tabular.selection(full)
    assert len(datasets) == 11 and "large_regression" in datasets and "gap_1d" in datasets
    assert models[0] == "default" and "gp" in models and "nuts" in models


def test_the_calibrated_ece_floor_matches_a_closed_form():
    """Probabilities of 0.5 everywhere: the argmax is class 0, so a calibrated predictor's ECE is
    |share of class 0 − 1/2| with that share Binomial(n, 1/2)/n; certain predictions give 0."""
    n = 40
    half = {"proba": np.full((n, 2), 0.5).tolist()}
    records = [{**rec("moons", k, panel.DEFAULT), "prediction": half} for k in range(3)]
    floor = panel.calibrated_ece(records, "moons", draws=4000)
    k = np.arange(n + 1)
    expected = float(np.sum(stats.binom.pmf(k, n, 0.5) * np.abs(k / n - 0.5)))
    assert floor["floor"] == pytest.approx(expected, abs=0.003)  # Monte Carlo: sd ≈ 0.0007
    assert (floor["splits"], floor["n_test"]) == (3, n)
    sure = [{**rec("moons", 0, panel.DEFAULT), "prediction": {"proba": [[1.0, 0.0]] * n}}]
    assert panel.calibrated_ece(sure, "moons", draws=50) == {
        "floor": 0.0, "n_test": n, "splits": 1, "draws": 50, "share_meeting_target": 1.0}
    assert panel.calibrated_ece([rec("moons", 0, panel.DEFAULT)], "moons") is None  # none stored
    assert panel.calibrated_ece(records) is None  # (c)'s own data set: none of these


def test_the_quoted_warm_fit_times_are_the_recorded_ones():
    """README's "Defaults" and two guides quote the default's warm fit times; the guides still
    said 0.4–1.8 s and 5–8 s (an earlier run) where benchmarks/results/tabular.json records
    0.4–2.2 s on up to 1,000 rows and 5.4–8.6 s on 10,000 rows. Each quote is the record's."""
    root = Path(__file__).resolve().parents[2]
    record = json.loads((root / "benchmarks" / "results" / "tabular.json").read_text())
    warm = record["targets"]["e_fit_seconds_warm"]
    small, large = warm["small"].values(), warm["large"].values()
    quotes = (f"{min(small):.1f}–{max(small):.1f} s on up to 1,000 rows",
              f"{min(large):.1f}–{max(large):.1f} s on 10,000 rows")
    for page in ("README.md", "docs/guide/getting_started.md", "docs/guide/large_data.md"):
        text = " ".join((root / page).read_text(encoding="utf-8").split())
        for quote in quotes:
            assert quote in text, (page, quote)
