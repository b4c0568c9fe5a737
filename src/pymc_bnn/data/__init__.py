"""Data larger than memory: batch sources, statistics, minibatches, batch-by-batch output.

Batch sources read Parquet files and folders or the user's own batches; one pass gives the
statistics; fixed-size minibatches are read ahead in a thread; output is written batch by batch.

    from pymc_bnn.data import parquet_batches, stream_statistics
    source = parquet_batches("rows/", target="y")    # a file or a folder of Parquet files
    stats = stream_statistics(source)                 # n_rows, feature means and sds, ...
"""

from pymc_bnn.data.parquet_files import open_parquet
from pymc_bnn.data.sources import (
    BatchSource,
    as_source,
    batch_source,
    is_stream,
    parquet_batches,
)
from pymc_bnn.data.stream import (
    ReadAhead,
    StreamStatistics,
    fixed_batches,
    rebatched,
    stacked,
    stream_statistics,
)
from pymc_bnn.data.writer import write_batches

__all__ = ["BatchSource", "ReadAhead", "StreamStatistics", "as_source", "batch_source",
           "fixed_batches", "is_stream", "open_parquet", "parquet_batches", "rebatched",
           "stacked", "stream_statistics", "write_batches"]
