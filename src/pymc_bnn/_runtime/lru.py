"""One bounded least-recently-used cache policy for the engines' compiled programs.

Compiled JAX programs (MAP loops, samplers, pointwise log-likelihoods) are kept per model
structure and data shape so refits do not recompile; each holds device memory and XLA
executables, so a long session that fits many shapes keeps only the most recently used few.
The cache is a plain `OrderedDict` the module owns (tests can swap or inspect it).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

# Programs kept per cache: a grid search or cross-validation over a few network shapes and
# fold sizes reuses each; more distinct shapes than this are rarely alive at once.
DEFAULT_MAX_ENTRIES = 8


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
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = build()
    cache[key] = value
    while len(cache) > max(int(max_entries), 1):
        cache.popitem(last=False)
    return value
