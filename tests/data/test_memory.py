"""A streamed fit's memory is bounded by its batches, not by the data: measured in a child
process (peak resident set, `resource.getrusage`) on a Parquet file larger than the budget."""

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import resource, sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    from pymc_bnn import fit
    from pymc_bnn.data import batch_source, parquet_batches
    from pymc_bnn.model.build import build_streaming_model

    path, rows, features = sys.argv[1], int(sys.argv[2]), 10
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(features)] + [("y", pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:  # written 100k rows at a time
        for _ in range(rows // 100_000):
            X = rng.normal(size=(100_000, features))
            columns = {f"x{j}": X[:, j] for j in range(features)}
            columns["y"] = (X[:, 0] > 0).astype(np.int64)
            writer.write_table(pa.table(columns, schema=schema))

    def quick(source):
        bnn = build_streaming_model(source, batch_size=1024, hidden=(8,))
        fit(bnn, "advi", steps=300, restarts=1, draws=20, tol=0, progress=False)

    # Warm up on the same model (same row count) from memory: imports, compiling, first
    # allocations, so what follows measures reading the file.
    X = rng.normal(size=(3200, features))
    block = (X, (X[:, 0] > 0).astype(np.int64))
    quick(batch_source(lambda: (block for _ in range(rows // 3200))))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    quick(parquet_batches(path, target="y"))  # one full pass for the statistics, then batches
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) / 1024)  # MiB (ru_maxrss is KiB on Linux)
""")


def _growth_mib(tmp_path, rows: int) -> float:
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / f"{rows}.parquet"),
                             str(rows)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return float(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_streaming_a_parquet_file_larger_than_the_budget_keeps_memory_bounded(tmp_path):
    """Eight times the rows (34 MiB → 269 MiB of float64 in memory) leave the peak where it
    was: what the fit holds is its batches, Arrow's read buffers and JAX's, not the data."""
    small, large = 400_000, 3_200_000
    small_mib, large_mib = _growth_mib(tmp_path, small), _growth_mib(tmp_path, large)
    large_data_mib = large * 11 * 8 / 2**20
    assert large_mib < small_mib + 40, (small_mib, large_mib)
    assert large_mib < large_data_mib, (large_mib, large_data_mib)
