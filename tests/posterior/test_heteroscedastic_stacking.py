"""`stack_heteroscedastic=True`: a Gaussian regressor's network stacked with its
heteroscedastic twin (and its GLM), through the estimator, its file, its report and the CLI.

References: the members' own held-out scores (the weights must follow them on data whose noise
changes with the inputs), the members' own fits (`named_estimators_`), and a file round trip.
"""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn import BayesianMLPRegressor
from pymc_bnn.errors import InvalidSettingError
from pymc_bnn.io import load, save
from pymc_bnn.posterior.convergence import judge_convergence
from pymc_bnn.posterior.stacking import log_predictive_density


def _noisy_on_one_side(seed: int, n: int):
    """y = sin(x₀) with noise sd 0.05 where x₀ < 0 and 0.8 where x₀ > 0: one noise sd for
    every row is wrong on both sides, so held-out rows favour the second head."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    y = np.sin(X[:, 0]) + np.where(X[:, 0] > 0, 0.8, 0.05) * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def three():
    """`BayesianMLPRegressor((6,), stack_linear=True, stack_heteroscedastic=True)` on 150 rows
    of `_noisy_on_one_side` (18 fits), and 150 test rows of the same data."""
    X, y = _noisy_on_one_side(0, 300)
    model = BayesianMLPRegressor((6,), stack_linear=True, stack_heteroscedastic=True, draws=200,
                                 random_state=0).fit(X[:150], y[:150])
    return model, X[150:], y[150:]


@pytest.mark.slow  # a stacking of three models: 18 fits
def test_the_weights_go_to_the_heteroscedastic_network_where_the_noise_changes(three):
    """Measured for data and fit seeds 0-2 (the network's noise following its mean, the
    regressor's default): twin weight 0.935, 0.944, 0.850; held-out density per row -0.38 /
    -0.30 / -0.15 against the network's -0.65 / -0.72 / -0.43; on the test rows the mixture
    scores -0.182 / -0.133 / -0.209, the twin alone -0.164 / -0.123 / -0.311, the network
    -0.508 / -0.383 / -0.469 (nats per row; with one noise sd it scored -0.86 to -0.94)."""
    model, X_test, y_test = three
    stacking = model.posterior_.settings["stacking"]
    assert set(stacking["weights"]) == {"network", "linear", "heteroscedastic"}
    assert sum(stacking["weights"].values()) == pytest.approx(1.0)
    held = stacking["held_out_lpd"]
    assert held["heteroscedastic"] > max(held["network"], held["linear"])
    assert stacking["weights"]["heteroscedastic"] > 0.8
    # one posterior: its noise sd is an output, and its test score is the twin's or better
    assert model.posterior_.likelihood.name == "heteroscedastic"
    Z = model.posterior_inputs(X_test)
    parts = model.named_estimators_
    # each part is that model fitted alone, with the noise a refit would give it: the network's
    # follows its mean (the default), the GLM and the twin keep theirs
    noise = {name: part.get_params()["noise"] for name, part in parts.items()}
    assert noise == {"network": "auto", "linear": "constant", "heteroscedastic": "constant"}
    assert "noise_function" in parts["network"].posterior_.settings
    scores = {name: log_predictive_density(part.posterior_, Z, y_test).mean()
              for name, part in parts.items()}
    mixed = log_predictive_density(model.posterior_, Z, y_test).mean()
    assert mixed > max(scores["network"], scores["linear"]) + 0.2
    assert mixed > scores["heteroscedastic"] - 0.05


@pytest.mark.slow  # reads the shared stacking of three
def test_the_three_models_are_named_estimators_and_survive_the_file(three, tmp_path):
    model, X_test, y_test = three
    parts = model.named_estimators_
    assert sorted(parts) == ["heteroscedastic", "linear", "network"]
    twin = parts["heteroscedastic"]
    assert twin.likelihood == "heteroscedastic" and twin.hidden_layer_sizes == (6,)
    assert twin.posterior_.likelihood.name == "heteroscedastic"
    assert parts["linear"].hidden_layer_sizes == () and parts["network"].likelihood == "gaussian"
    assert not any(part.stack_linear or part.stack_heteroscedastic for part in parts.values())
    save(model, tmp_path / "m.bnn.nc")
    again = load(tmp_path / "m.bnn.nc")
    loaded, fitted = (m.predict(X_test, return_std=True) for m in (again, model))
    for a, b in zip(loaded, fitted, strict=True):  # mean, sd
        np.testing.assert_array_equal(a, b)
    checks = dict(judge_convergence(again.posterior_).checks)
    assert "heteroscedastic network's fit settled" in checks
    assert "linear model's fit settled" in checks


@pytest.mark.slow  # reads the shared stacking of three
def test_info_names_the_stacked_models(three, tmp_path, capsys, monkeypatch):
    from pymc_bnn.cli.app import main

    model, _, _ = three
    save(model, tmp_path / "m.bnn.nc")
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "400")  # one line per row
    assert main(["info", str(tmp_path / "m.bnn.nc")]) == 0
    info = capsys.readouterr().out
    assert "2 → 6 → 2 (tanh, with biases, stacked with a linear model and a heteroscedastic " \
           "network)" in info
    weights = model.posterior_.settings["stacking"]["weights"]
    for name, weight in weights.items():  # the stacking row: each model's weight
        assert f"{name} {weight:.2f} (held out" in info


def test_stack_heteroscedastic_refuses_what_it_cannot_stack_in_one_line(tmp_path, capsys):
    from pymc_bnn.cli.app import main

    X, y = _noisy_on_one_side(1, 30)
    fast = {"steps": 50, "draws": 20, "random_state": 0}
    with pytest.raises(InvalidSettingError, match=r"this fit has likelihood='poisson': leave "
                                                  r"out stack_heteroscedastic=True$"):
        BayesianMLPRegressor((3,), likelihood="poisson", stack_heteroscedastic=True,
                             **fast).fit(X, np.round(np.abs(y) * 3))
    with pytest.raises(InvalidSettingError, match="this fit has no hidden layer"):
        BayesianMLPRegressor((), stack_heteroscedastic=True, **fast).fit(X, y)
    with pytest.raises(InvalidSettingError, match="this fit has bias=False"):
        BayesianMLPRegressor((3,), bias=False, stack_heteroscedastic=True, **fast).fit(X, y)
    with pytest.raises(InvalidSettingError, match="^stack_linear=True and stack_heteroscedastic"
                                                  "=True cannot fit groups yet"):
        BayesianMLPRegressor((3,), stack_linear=True, stack_heteroscedastic=True,
                             **fast).fit(X, y, groups=np.arange(30) % 2)
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y, "c": (y > 0).astype(int)})
    table.to_csv(tmp_path / "t.csv", index=False)
    table.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(InvalidSettingError, match="stack_heteroscedastic=True cannot fit "
                                                  "streamed data"):
        BayesianMLPRegressor((3,), stack_heteroscedastic=True, **fast).fit(
            str(tmp_path / "t.parquet"), "y")
    out = tmp_path / "m.bnn.nc"
    assert main(["fit", str(tmp_path / "t.csv"), "--target", "c", "--exclude", "y",
                 "--stack-heteroscedastic", "--out", str(out), "--quiet"]) != 0
    said = capsys.readouterr().err
    assert "--stack-heteroscedastic stacks a gaussian target's network" in said
    assert "but c is classified: leave out --stack-heteroscedastic" in " ".join(said.split())
    assert main(["fit", str(tmp_path / "t.parquet"), "--target", "y", "--stream",
                 "--stack-heteroscedastic", "--out", str(out), "--quiet"]) != 0
    assert "--stack-heteroscedastic cannot be combined with --stream" in " ".join(
        capsys.readouterr().err.split())
    assert not out.exists()

