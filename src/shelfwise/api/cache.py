"""Response caches with a TTL and invalidation by events; safe under concurrent requests.

Two caches: recommendations (keyed per user and request) and search (keyed per query, filters and, when
personalised, the user). An event of a user drops that user's entries at once; a catalogue change drops
everything. A request computed while an invalidation happened is not stored: each entry is written only if
the user's *generation* (bumped by every invalidation) is still the one read before computing.

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

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

_GLOBAL = "\x00all"


class ResponseCaches:
    """Named LRU caches with TTL, an owner index per entry and per-owner generations."""

    NAMES = ("recommend", "search")

    def __init__(
        self, ttl_seconds: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self.enabled = ttl_seconds > 0 and max_entries > 0
        self._data: dict[str, OrderedDict[Hashable, tuple[float, str | None, Any]]] = {
            n: OrderedDict() for n in self.NAMES
        }
        self._owned: dict[str, set[tuple[str, Hashable]]] = {}
        self._gen: dict[str, int] = {}
        self._lock = threading.Lock()

    def generation(self, owner: str | None) -> tuple[int, int]:
        """The (owner, catalogue) generations to pass back to :meth:`put`."""
        with self._lock:
            return (self._gen.get(owner or "", 0), self._gen.get(_GLOBAL, 0))

    def get(self, cache: str, key: Hashable) -> Any:
        """The live value, or None."""
        if not self.enabled:
            return None
        with self._lock:
            data = self._data[cache]
            hit = data.get(key)
            if hit is None:
                return None
            expires, _, value = hit
            if expires < self.clock():
                self._drop(cache, key)
                return None
            data.move_to_end(key)
            return value

    def put(
        self, cache: str, key: Hashable, value: Any, *, owner: str | None, generation: tuple[int, int] | int
    ) -> bool:
        """Store unless the owner or the catalogue changed since ``generation`` was read; True if stored."""
        if not self.enabled:
            return False
        gen = generation if isinstance(generation, tuple) else (generation, 0)
        with self._lock:
            if gen != (self._gen.get(owner or "", 0), self._gen.get(_GLOBAL, 0)):
                return False
            data = self._data[cache]
            if key in data:
                self._drop(cache, key)
            data[key] = (self.clock() + self.ttl, owner, value)
            if owner:
                self._owned.setdefault(owner, set()).add((cache, key))
            while len(data) > self.max_entries:
                self._drop(cache, next(iter(data)))
            return True

    def _drop(self, cache: str, key: Hashable) -> None:
        entry = self._data[cache].pop(key, None)
        if entry is not None and entry[1]:
            owned = self._owned.get(entry[1])
            if owned is not None:
                owned.discard((cache, key))
                if not owned:
                    del self._owned[entry[1]]

    def invalidate_user(self, owner: str) -> int:
        """Drop every entry of ``owner`` and refuse in-flight results for them; returns entries dropped."""
        with self._lock:
            self._gen[owner] = self._gen.get(owner, 0) + 1
            keys = list(self._owned.pop(owner, ()))
            for cache, key in keys:
                self._data[cache].pop(key, None)
            return len(keys)

    def invalidate_all(self) -> None:
        """Drop everything (a catalogue change)."""
        with self._lock:
            self._gen[_GLOBAL] = self._gen.get(_GLOBAL, 0) + 1
            for data in self._data.values():
                data.clear()
            self._owned.clear()

    def holds_owner(self, owner: str) -> bool:
        """True when some live entry belongs to ``owner`` (used by deletion checks)."""
        with self._lock:
            return bool(self._owned.get(owner))

    def sizes(self) -> dict[str, int]:
        """Entries per cache."""
        with self._lock:
            return {n: len(d) for n, d in self._data.items()}
