"""Bounded caches for the assessment hot path: per owning object, and per fact content.

Every cache here is cleared when full, so memory stays flat however long a process runs
(``docs/performance.md``, Memory).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar, cast

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class ObjectMemo:
    """What is derived from one object (a fact spec, a knowledge) alone, kept between calls.

    Entries are keyed by the object's identity and hold the object, so a new object at a reused
    id never meets an old entry. A knowledge reload leaves the old objects' entries behind until
    the memo is full and cleared.
    """

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        """An empty memo of at most ``limit`` entries."""
        self._entries: dict[tuple[int, Hashable], tuple[object, object]] = {}
        self._limit = limit

    def get(self, owner: object, key: Hashable, build: Callable[[], _V]) -> _V:
        """The value ``build`` derives for (``owner``, ``key``), built on first use."""
        hit = self._entries.get((id(owner), key))
        if hit is not None and hit[0] is owner:
            return cast("_V", hit[1])
        if len(self._entries) >= self._limit:
            self._entries.clear()
        value = build()
        self._entries[id(owner), key] = (owner, value)
        return value


def content_key(fact: Mapping[str, object]) -> tuple[object, ...]:
    """A hashable key for a fact's content that tells ``True``, ``1`` and ``1.0`` apart.

    Python says ``True == 1 == 1.0``; JSON and durable do not, so the key holds each value's
    type. Hashing the key raises TypeError for an unhashable value (a list).
    """
    return (*fact.items(), *map(type, fact.values()))


def remember(cache: dict[_K, _V], key: _K, build: Callable[[], _V], limit: int) -> _V:
    """``cache[key]``, built on first use; the cache is cleared when it holds ``limit`` entries."""
    value = cache.get(key)
    if value is None:
        if len(cache) >= limit:
            cache.clear()
        value = cache[key] = build()
    return value
