"""Feeding a compiled fitting loop from a stream, chunk by chunk.

Fixed-size minibatches in the model's data order, stacked per chunk of steps and read ahead in
a background thread. The model (built by `build_streaming_model` on its first minibatch, with
`total_size`) fixes the rows per step; memory holds a few chunks, `_CHUNK_FLOATS` floats each,
whatever the size of the data.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pymc_bnn.data import ReadAhead, fixed_batches, stacked
from pymc_bnn.errors import InvalidSettingError

# Floats of data per compiled chunk (steps × rows × columns): 1M float64 = 8 MB. A few are
# held at once (the one running, its device copy, two read ahead), so tens of MB at any data
# size; at 1,024 rows of 20 features that is 46 steps per chunk, enough to amortise a call.
_CHUNK_FLOATS = 1_000_000
# the model's data containers that stream, in the order batches give them
_STREAMED = ("X", "y_data")


def chunk_feed(compiled, stream, settings):
    """Chunk size and a read-ahead feed of the stream's minibatches for a compiled fitting loop.

    Parameters
    ----------
    compiled : CompiledModel
        The streamed model compiled (`pymc_bnn.inference.jax_model.compile_model`); its data
        must be exactly X and y_data, and its `n_obs` fixes the rows per step.
    stream : BatchSource
        The training data, targets encoded as the model's.
    settings : ADVISettings
        The fit's settings; `minibatch_size` must be None or `compiled.n_obs`.

    Returns
    -------
    settings : ADVISettings
        `settings` with `chunk_steps` capped so a chunk holds about `_CHUNK_FLOATS` floats,
        and `minibatch_size` None (each step takes one whole minibatch).
    chunks : ReadAhead
        Each chunk's data as the tuple the compiled model takes, `(chunk_steps, batch, ...)`
        per data container; close it (or use it as a context manager) when done.

    Raises
    ------
    InvalidSettingError
        A model with other data (groups) or a `minibatch_size` other than the model's.

    Examples
    --------
    A stand-in for the compiled model, with the three attributes `chunk_feed` reads:

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from pymc_bnn.data import batch_source
    >>> from pymc_bnn.inference.vi import ADVISettings
    >>> compiled = SimpleNamespace(data_names=("X", "y_data"), n_obs=4,
    ...                            coords={"feature": np.array(["x0", "x1"])})
    >>> stream = batch_source([(np.zeros((10, 2)), np.zeros(10))])
    >>> settings, chunks = chunk_feed(compiled, stream, ADVISettings(chunk_steps=3))
    >>> with chunks:
    ...     X, y = next(chunks)
    >>> settings.chunk_steps, X.shape, y.shape
    (3, (3, 4, 2), (3, 4))
    """
    if set(compiled.data_names) != set(_STREAMED):
        extra = sorted(set(compiled.data_names) - set(_STREAMED))
        raise InvalidSettingError(
            f"this model has data {extra} besides X and y_data, which a stream does not give; "
            "streamed fits take ungrouped networks with a bernoulli, categorical or "
            "real-valued likelihood (build_streaming_model)")
    batch = compiled.n_obs
    if settings.minibatch_size not in (None, batch):
        raise InvalidSettingError(
            f"minibatch_size={settings.minibatch_size} but this streamed model takes "
            f"{batch} rows per step, fixed when it was built; leave minibatch_size out, or "
            "build it again with build_streaming_model(batch_size=...)")
    n_features = int(compiled.coords.get("feature", [0]).size) or 1
    fitting = max(1, _CHUNK_FLOATS // (batch * (n_features + 1)))
    settings = dataclasses.replace(settings, chunk_steps=min(settings.chunk_steps, fitting),
                                   minibatch_size=None)
    order = [_STREAMED.index(name) for name in compiled.data_names]

    def chunks():
        for parts in stacked(fixed_batches(stream, batch), settings.chunk_steps,
                             dtype=np.dtype(settings.dtype)):
            yield tuple(parts[i] for i in order)

    return settings, ReadAhead(chunks())
