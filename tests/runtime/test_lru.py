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


@pytest.mark.slow  # over 2 s (fast tier kept under 2 minutes)
def test_threads_build_each_program_once_and_never_lose_an_entry():
    """Eight threads ask a two-entry cache for three keys over and over: every answer is its
    key's value, and a key is built again only after it was dropped (never twice at once)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    cache: OrderedDict = OrderedDict()
    building: set = set()
    overlaps: list = []
    guard = threading.Lock()

    def build(key):
        def value():
            with guard:
                if key in building:
                    overlaps.append(key)
                building.add(key)
            time.sleep(0.001)
            with guard:
                building.discard(key)
            return key * 10
        return value

    def ask(i):
        key = i % 3
        return lru.lru_get(cache, key, build(key), max_entries=2), lru.lru_peek(cache, key)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(600)))
    assert all(got == (i % 3) * 10 for i, (got, _) in enumerate(answers))
    assert all(peeked in (None, (i % 3) * 10) for i, (_, peeked) in enumerate(answers))
    assert overlaps == [] and len(cache) == 2
