"""Response caches with a TTL and invalidation by events, kept in the service's :class:`OnlineState`.

Two caches: recommendations (keyed per user and request) and search (keyed per query, filters and, when
personalised, the user). An event of a user drops that user's entries at once; a catalogue change drops
everything. A request computed while an invalidation happened is not stored: each entry is written only if
the user's *generation* (bumped by every invalidation) is still the one read before computing.

This class only turns request keys into the online state's string keys; the entries, generations and
invalidation live in :mod:`shelfwise.online` (in-process by default, shared when that is configured).

Example:
    >>> c = ResponseCaches(ttl_seconds=60, max_entries=10)
    >>> gen = c.generation("u1")
    >>> c.put("recommend", ("u1", "home"), [1, 2], owner="u1", generation=gen)
    True
    >>> c.get("recommend", ("u1", "home"))
    [1, 2]
    >>> c.invalidate_user("u1")
    1
    >>> c.get("recommend", ("u1", "home")) is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from shelfwise.online import MemoryOnlineState, OnlineState


def cache_key(key: Hashable) -> str:
    """The online state's string key for a request key (a string, or a tuple of plain values)."""
    return key if isinstance(key, str) else repr(key)


class ResponseCaches:
    """Named response caches over an :class:`OnlineState`.

    Args:
        ttl_seconds: entry lifetime (0 turns caching off); used when ``online`` is not given.
        max_entries: entries per cache; used when ``online`` is not given.
        clock: monotonic seconds for the in-process state made here (tests pass a fake one).
        online: the service's online state (default: a new in-process one).
    """

    NAMES = ("recommend", "search")

    def __init__(
        self,
        ttl_seconds: float = 30.0,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
        *,
        online: OnlineState | None = None,
    ) -> None:
        self.online = online or MemoryOnlineState(ttl_seconds, max_entries, clock=clock)
        self.enabled = ttl_seconds > 0 and max_entries > 0

    def generation(self, owner: str | None) -> tuple[int, int]:
        """The (owner, catalogue) generations to pass back to :meth:`put`."""
        return self.online.generation(owner)

    def get(self, cache: str, key: Hashable) -> Any:
        """The live value, or None."""
        if not self.enabled:
            return None
        return self.online.cache_get(cache, cache_key(key))

    def put(
        self, cache: str, key: Hashable, value: Any, *, owner: str | None, generation: tuple[int, int] | int
    ) -> bool:
        """Store unless the owner or the catalogue changed since ``generation`` was read; True if stored."""
        if not self.enabled:
            return False
        gen = generation if isinstance(generation, tuple) else (generation, 0)
        return self.online.cache_put(cache, cache_key(key), value, owner=owner, generation=gen)

    def invalidate_user(self, owner: str) -> int:
        """Drop every entry of ``owner`` and refuse in-flight results for them; returns entries dropped."""
        return self.online.invalidate_owner(owner)

    def invalidate_all(self) -> None:
        """Drop everything (a catalogue change)."""
        self.online.invalidate_all()

    def holds_owner(self, owner: str) -> bool:
        """True when some live entry belongs to ``owner`` (used by deletion checks)."""
        return self.online.holds_owner(owner)

    def sizes(self) -> dict[str, int]:
        """Entries per cache."""
        sizes = self.online.cache_sizes()
        return {n: sizes.get(n, 0) for n in self.NAMES}
