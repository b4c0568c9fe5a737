"""The compiled-program caches: least recently used first out, and JAX's caches cleared before
the process's memory maps reach Linux's limit (the benchmark's "LLVM compilation error: Cannot
allocate memory" after ~170 fits)."""

from collections import OrderedDict

import jax
import jax.numpy as jnp
import pytest

from pymc_bnn._runtime import lru


def _compiled():
    """A jitted function with one compiled program in JAX's cache."""
    f = jax.jit(lambda x: x * 2.0 + 1.0)
    f(jnp.ones(3))
    assert f._cache_size() == 1
    return f


@pytest.mark.skipif(lru.memory_maps() is None, reason="memory maps are read from Linux's /proc")
def test_a_miss_past_the_map_share_clears_jaxs_compiled_programs(monkeypatch):
    f = _compiled()
    monkeypatch.setattr(lru, "MAX_MAP_SHARE", 1.0)  # far from the limit: kept
    assert lru.lru_get(OrderedDict(), "a", lambda: 1) == 1
    assert f._cache_size() == 1
    monkeypatch.setattr(lru, "MAX_MAP_SHARE", 0.0)  # past it: cleared before the new build
    assert lru.lru_get(OrderedDict(), "b", lambda: 2) == 2
    assert f._cache_size() == 0
    cache = OrderedDict(c=3)
    f = _compiled()
    assert lru.lru_get(cache, "c", lambda: 99) == 3  # a hit compiles nothing: nothing cleared
    assert f._cache_size() == 1


@pytest.mark.skipif(lru.memory_maps() is None, reason="memory maps are read from Linux's /proc")
def test_the_maps_count_is_this_process(tmp_path):
    """Mapping a file adds a map; the count is below the limit."""
    import mmap

    before, limit = lru.memory_maps()
    path = tmp_path / "f"
    path.write_bytes(b"x" * 4096)
    with open(path, "r+b") as handle, mmap.mmap(handle.fileno(), 4096):
        assert lru.memory_maps()[0] > before
    assert before < limit
