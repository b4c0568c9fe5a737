"""Settings: valid ones work (NUTS with one chain), settings that make no sense are refused by
name with the fix, before any compiling, through the estimators, the API and the CLI."""

import numpy as np
import pytest

from pymc_bnn import build_model, fit


def test_nuts_with_one_chain_samples(table):
    """NumPyro takes one chain's starting point unbatched; this used to fail in JAX every time.
    150 draws are two compiled chunks, so continuing from the last state is covered too."""
    X, y = table[["height", "width"]].to_numpy(), table["label"].to_numpy()
    bnn = build_model(X, y, hidden=(2,))
    posterior = fit(bnn, "nuts", chains=1, draws=150, tune=50, init_steps=200, random_seed=0,
                    progress=False)
    assert dict(posterior.idata["posterior"].sizes)["chain"] == 1
    assert dict(posterior.idata["posterior"].sizes)["draw"] == 150
    assert posterior.settings["chains"] == 1 and posterior.settings["draws_per_chain"] == 150
    proba = posterior.predict(X)["mean"].values
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.mean((proba > 0.5) == y) >= 0.85  # label = height + width > 0: nearly linear
