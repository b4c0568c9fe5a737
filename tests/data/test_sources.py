"""Batch sources: Parquet and the user's batches, one-pass statistics, fixed-size minibatches,
reading ahead, and batch-by-batch writing."""

import numpy as np
import pandas as pd
import pytest

from pymc_bnn.data import (
    BatchSource,
    ReadAhead,
    batch_source,
    fixed_batches,
    parquet_batches,
    stream_statistics,
    write_batches,
)
from pymc_bnn.errors import InvalidInputError


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"a": rng.normal(3, 2, 1000), "b": rng.integers(0, 5, 1000),
                         "id": np.arange(1000), "y": rng.choice(["u", "v", "w"], 1000)})


def test_statistics_of_a_parquet_stream_equal_numpy_on_the_whole_table(tmp_path, frame):
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=97)
    source = parquet_batches(path, target="y", exclude=["id"], read_rows=64)
    assert source.n_rows == 1000 and source.feature_names == ("a", "b")
    stats = stream_statistics(source, labels=True)
    X = frame[["a", "b"]].to_numpy(float)
    np.testing.assert_allclose(stats.x_mean, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(stats.x_sd, X.std(axis=0), rtol=1e-12)
    assert stats.classes.tolist() == ["u", "v", "w"] and stats.n_rows == 1000


def test_numeric_target_statistics_and_fixed_batches_across_epochs():
    X = np.arange(10.0).reshape(5, 2)
    y = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    source = batch_source([(X[:2], y[:2]), (X[2:], y[2:])])
    stats = stream_statistics(source)
    assert stats.y_mean == pytest.approx(4.0) and stats.y_sd == pytest.approx(np.std(y))
    batches = fixed_batches(source, 3)
    got = [next(batches)[1].tolist() for _ in range(4)]  # 12 rows: 2 passes and 2 more rows
    assert got == [[1, 2, 3], [4, 10, 1], [2, 3, 4], [10, 1, 2]]


def test_bad_sources_get_errors_that_name_the_fix(tmp_path, frame):
    with pytest.raises(InvalidInputError, match="pass a function that returns a new iterator"):
        batch_source(iter([(np.ones((2, 1)), np.ones(2))]))
    with pytest.raises(InvalidInputError, match="has no column 'target'"):
        parquet_batches(_written(tmp_path, frame), target="target")
    with pytest.raises(InvalidInputError, match="non-numeric feature column\\(s\\): y"):
        parquet_batches(_written(tmp_path, frame))
    bad = frame.assign(a=frame["a"].where(frame.index != 700))
    source = parquet_batches(_written(tmp_path, bad), target="y", read_rows=500)
    with pytest.raises(InvalidInputError, match="rows 500-999 contains NaN values in 1 row"):
        stream_statistics(source)
    with pytest.raises(InvalidInputError, match="no data at"):
        parquet_batches(tmp_path / "missing.parquet")


def _written(tmp_path, frame):
    path = tmp_path / "w.parquet"
    frame.to_parquet(path)
    return path


def test_read_ahead_keeps_order_and_raises_the_readers_error_where_taken():
    def items():
        yield from range(5)
        raise InvalidInputError("broken row")

    with ReadAhead(items(), depth=2) as ahead:
        assert [next(ahead) for _ in range(5)] == [0, 1, 2, 3, 4]
        with pytest.raises(InvalidInputError, match="broken row"):
            next(ahead)


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_write_batches_equals_the_whole_table_written_at_once(tmp_path, frame, name):
    path = tmp_path / name
    assert write_batches((frame.iloc[i:i + 300] for i in range(0, 1000, 300)), path) == 1000
    back = pd.read_parquet(path) if name.endswith("parquet") else pd.read_csv(path)
    pd.testing.assert_frame_equal(back, frame)
    if name.endswith("csv"):
        assert path.read_text() == frame.to_csv(index=False)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_the_index_pandas_stores_in_a_parquet_file_is_no_feature(tmp_path, frame):
    """A frame shuffled or filtered before `to_parquet` keeps its index as a column
    ('__index_level_0__', or the index's name), which `pandas.read_parquet` gives back as the
    index: a streamed fit took it as a feature (a row number), unlike the same file in memory."""
    shuffled = frame.sample(frac=1, random_state=0)
    shuffled.to_parquet(tmp_path / "shuffled.parquet")
    shuffled.rename_axis("row").to_parquet(tmp_path / "named.parquet")
    for name in ("shuffled.parquet", "named.parquet"):
        source = parquet_batches(tmp_path / name, target="y", exclude=["id"])
        assert source.feature_names == ("a", "b")
        X, y = next(iter(source))
        np.testing.assert_array_equal(X, shuffled[["a", "b"]].to_numpy(float))
    with pytest.raises(InvalidInputError, match="has no column\\(s\\) row"):
        parquet_batches(tmp_path / "named.parquet", target="y", exclude=["id", "row"])


def test_the_statistics_pass_shows_its_rows_on_the_progress_bar_unless_disabled(capsys):
    """On a large folder the pass takes a while: it shows the rows read, as a fit its steps."""
    source = batch_source([(np.ones((600, 1)), np.ones(600)), (np.ones((300, 1)), np.ones(300))],
                          n_rows=900)
    stream_statistics(source, progress=True)
    shown = capsys.readouterr().out
    assert "Statistics" in shown and "900/900" in shown and "rows read" in shown
    stream_statistics(source)
    assert capsys.readouterr() == ("", "")


def test_ctrl_c_during_the_statistics_pass_says_how_far_it_read_and_that_nothing_was_kept():
    def batches():
        yield np.ones((600, 1)), np.ones(600)
        raise KeyboardInterrupt

    source = BatchSource(batches, n_rows=900, name="rows/")
    with pytest.raises(KeyboardInterrupt, match="reading rows/ for its statistics, after 600 of "
                                                "900 rows: nothing was fitted"):
        stream_statistics(source, progress=True)


def test_a_file_broken_after_the_folder_was_opened_is_named_when_read(tmp_path, frame):
    # the reader's own error (Arrow's, from inside a fit) when a file changes between the
    # opening pass and a later one
    folder = tmp_path / "rows"
    folder.mkdir()
    frame[:500].to_parquet(folder / "a.parquet")
    frame[500:].to_parquet(folder / "b.parquet")
    source = parquet_batches(folder, target="y", exclude=["id"])
    (folder / "b.parquet").write_bytes(b"not parquet at all" * 10)
    with pytest.raises(InvalidInputError, match=r"cannot read .*b\.parquet as Parquet: .*magic "
                                                r"bytes.* \(ArrowInvalid\); replace or remove"):
        list(source)
