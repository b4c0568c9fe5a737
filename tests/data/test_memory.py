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

    folder, sizes, features = sys.argv[1], [int(n) for n in sys.argv[2:]], 10
    rng = np.random.default_rng(0)
    schema = pa.schema([(f"x{j}", pa.float64()) for j in range(features)] + [("y", pa.int64())])
    for rows in sizes:
        with pq.ParquetWriter(f"{folder}/{rows}.parquet", schema) as writer:  # 100k rows at a time
            for _ in range(rows // 100_000):
                X = rng.normal(size=(100_000, features))
                columns = {f"x{j}": X[:, j] for j in range(features)}
                columns["y"] = (X[:, 0] > 0).astype(np.int64)
                writer.write_table(pa.table(columns, schema=schema))

    def quick(source):
        bnn = build_streaming_model(source, batch_size=1024, hidden=(8,), progress=False)
        fit(bnn, "advi", steps=300, restarts=1, draws=20, tol=0, progress=False)

    # Warm up on the same models (same row counts) from memory: imports, compiling, first
    # allocations, so what follows measures reading the files.
    X = rng.normal(size=(3200, features))
    block = (X, (X[:, 0] > 0).astype(np.int64))
    for rows in sizes:
        quick(batch_source(lambda: (block for _ in range(rows // 3200))))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for rows in sizes:  # one full pass for the statistics, then batches
        quick(parquet_batches(f"{folder}/{rows}.parquet", target="y"))
        # MiB (ru_maxrss is KiB on Linux) above the warm state: the peak so far
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
""")


def _growth_mib(tmp_path, *sizes: int) -> list[float]:
    """The peak resident set above the warm state after a streamed fit on each of `sizes`
    rows in turn (one child process: the peak so far, so it can only stay or grow)."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), *map(str, sizes)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return [float(line) for line in result.stdout.strip().splitlines()[-len(sizes):]]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_streaming_a_parquet_file_larger_than_the_budget_keeps_memory_bounded(tmp_path):
    """Eight times the rows (34 MiB → 269 MiB of float64 in memory) leave the peak where it
    was: what the fit holds is its batches, Arrow's read buffers and JAX's, not the data.
    Both files in one child process (one interpreter start, one import): measured 82 MiB
    above the warm state after the small file's fit, 93 MiB after the large one's."""
    small, large = 400_000, 3_200_000
    small_mib, large_mib = _growth_mib(tmp_path, small, large)
    large_data_mib = large * 11 * 8 / 2**20
    assert large_mib < small_mib + 40, (small_mib, large_mib)
    assert large_mib < large_data_mib, (large_mib, large_data_mib)
