"""One bounded least-recently-used cache policy for the engines' compiled programs.

Compiled JAX programs (MAP loops, samplers, pointwise log-likelihoods) are kept per model
structure and data shape so refits do not recompile; each holds device memory and XLA
executables, so a long session that fits many shapes keeps only the most recently used few.
The cache is a plain `OrderedDict` the module owns (tests can swap or inspect it). One lock
guards every cache's lookups, insertions and builds, so fits in threads (a stacked fit's folds)
neither race on an entry being dropped nor compile the same program twice.

JAX keeps its own caches of compiled executables, which outlive an entry dropped here: a
process that fits many structures (a grid search, the tabular benchmark) piled up XLA's
executable memory maps until LLVM failed with "Cannot allocate memory" at Linux's
`vm.max_map_count` (65,530), with most of the RAM free. So before each compilation (a miss),
`lru_get` checks the process's memory maps and, past `MAX_MAP_SHARE` of the limit, clears JAX's
caches (`jax.clear_caches()`): the programs still in use compile again when next called.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

# Programs kept per cache: a grid search or cross-validation over a few network shapes and
# fold sizes reuses each. 8 was too few for a session that fits a stacked model beside a plain
# one (three models, their folds' row counts): the plain fit's programs were pushed out and it
# compiled again (benchmarks/program_cache.py); the maps check below bounds what many more cost.
DEFAULT_MAX_ENTRIES = 32
# Share of `vm.max_map_count` past which JAX's compiled programs are dropped (half: a fit adds
# a few hundred maps, its compilation many more for a moment).
MAX_MAP_SHARE = 0.5
# Held while a cache is read or changed, and while its missing value is built (re-entrant: a
# build may fill another cache).
_LOCK = threading.RLock()


def memory_maps() -> tuple[int, int] | None:
    """The memory maps of this process and the system's limit on them; None off Linux.

    Examples
    --------
    >>> counts = memory_maps()
    >>> counts is None or 0 < counts[0] < counts[1]
    True
    """
    try:
        with open("/proc/sys/vm/max_map_count", "rb") as limit_file:
            limit = int(limit_file.read())
        with open("/proc/self/maps", "rb") as maps:
            count = sum(1 for _ in maps)
    except (OSError, ValueError):
        return None
    return count, limit


def relieve_compiled_programs(share: float | None = None) -> bool:
    """Clear JAX's compiled-program caches when the memory maps pass `share` of the limit.

    Parameters
    ----------
    share : float, optional
        The threshold as a share of `vm.max_map_count`; `MAX_MAP_SHARE` by default.

    Returns
    -------
    bool
        Whether the caches were cleared (never where JAX is not imported, or off Linux).

    Examples
    --------
    >>> relieve_compiled_programs(share=1.0)
    False
    """
    jax = sys.modules.get("jax")
    if jax is None:
        return False
    counts = memory_maps()
    if counts is None or counts[0] <= (MAX_MAP_SHARE if share is None else share) * counts[1]:
        return False
    jax.clear_caches()
    return True


def lru_get[Value](cache: OrderedDict, key: Hashable, build: Callable[[], Value],
            max_entries: int = DEFAULT_MAX_ENTRIES) -> Value:
    """`cache[key]`, built by `build()` on a miss; past `max_entries`, the least recently used go.

    Parameters
    ----------
    cache : collections.OrderedDict
        The cache, oldest use first; changed in place.
    key : hashable
        What the value is kept under.
    build : callable
        `build() -> value`, called only when `key` is missing.
    max_entries : int, default DEFAULT_MAX_ENTRIES
        The most entries kept (at least 1).

    Returns
    -------
    object
        The cached or newly built value.

    Examples
    --------
    >>> from collections import OrderedDict
    >>> cache = OrderedDict()
    >>> lru_get(cache, "a", lambda: 1, max_entries=2), lru_get(cache, "b", lambda: 2, max_entries=2)
    (1, 2)
    >>> lru_get(cache, "a", lambda: 99, max_entries=2)  # a hit: not rebuilt, now the newest
    1
    >>> lru_get(cache, "c", lambda: 3, max_entries=2)  # "b" was used longest ago: it goes
    3
    >>> list(cache)
    ['a', 'c']
    """
    with _LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        relieve_compiled_programs()  # a compilation follows: make room for its memory maps
        value = build()
        cache[key] = value
        while len(cache) > max(int(max_entries), 1):
            cache.popitem(last=False)
        return value


def lru_peek(cache: OrderedDict, key: Hashable):
    """`cache[key]`, now the most recently used, or None where it is missing (nothing built).

    Examples
    --------
    >>> from collections import OrderedDict
    >>> cache = OrderedDict(a=1, b=2)
    >>> lru_peek(cache, "a"), lru_peek(cache, "z"), list(cache)
    (1, None, ['b', 'a'])
    """
    with _LOCK:
        if key not in cache:
            return None
        cache.move_to_end(key)
        return cache[key]
