"""Streamed prediction: Posterior.predict on a Parquet path and `pymc-bnn predict` on Parquet
input write, batch by batch, what the in-memory prediction gives."""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn.errors import InvalidSettingError, OutputPathError


@pytest.fixture
def table(tmp_path, moons):
    frame = pd.DataFrame(moons.X_test, columns=["x0", "x1"])
    path = tmp_path / "rows.parquet"
    frame.to_parquet(path, row_group_size=50)
    return frame, path


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_posterior_predict_to_a_file_equals_predict_in_memory(tmp_path, quick_posterior,
                                                              table, suffix):
    frame, path = table  # row groups of 50 rows: read in several batches
    out = quick_posterior.predict(str(path), out=tmp_path / f"pred{suffix}", progress=False)
    written = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    expected = quick_posterior.predict(frame.to_numpy())
    assert list(written.columns) == ["mean", "std"] and len(written) == len(frame)
    np.testing.assert_allclose(written["mean"], expected["mean"].values, rtol=1e-12)
    np.testing.assert_allclose(written["std"], expected["std"].values, rtol=1e-12)
    # written by pymc-bnn: replaced on the next call; a user's file is not
    quick_posterior.predict(str(path), out=out, progress=False)
    mine = tmp_path / "mine.csv"
    mine.write_text("a,b\n1,2\n")
    with pytest.raises(OutputPathError, match="exists and is not") as refused:
        quick_posterior.predict(str(path), out=mine, progress=False)
    # the fix in the caller's words: the Python API has overwrite=, not the CLI's --force
    assert "overwrite=True" in str(refused.value) and "--force" not in str(refused.value)
    assert mine.read_text() == "a,b\n1,2\n"
    with pytest.raises(InvalidSettingError, match="pass out="):
        quick_posterior.predict(str(path))


@pytest.mark.parametrize("batch_rows", [64, 7])
def test_streamed_batches_of_any_size_write_the_in_memory_prediction(tmp_path, quick_posterior,
                                                                     table, batch_rows):
    """Rows re-cut into batches of `batch_rows` (row groups of 50), the last one padded to a
    full batch's compiled shape: the numbers of one in-memory call, up to float32 rounding
    (a compiled pass of another row count may sum in another order: the dtype policy in
    `pymc_bnn.posterior.compiled`)."""
    from pymc_bnn.posterior.streaming import predict_stream

    frame, path = table
    out = predict_stream(quick_posterior, str(path), out=tmp_path / "pred.parquet",
                         progress=False, batch_rows=batch_rows, max_draws=100)
    written = pd.read_parquet(out)
    expected = quick_posterior.predict(frame.to_numpy(), max_draws=100)
    assert len(written) == len(frame) and len(frame) % batch_rows  # a short last batch
    np.testing.assert_allclose(written["mean"], expected["mean"].values, rtol=2e-6)
    np.testing.assert_allclose(written["std"], expected["std"].values, rtol=2e-6, atol=1e-7)
