"""The in-process :class:`OnlineState`: dictionaries with TTLs under one lock (the embedded default).

Example:
    >>> online = MemoryOnlineState(cache_ttl=60, cache_max_entries=10)
    >>> online.incr("exposures:recommend")
    1
    >>> gen = online.generation("u1")
    >>> online.cache_put("recommend", "u1|home", [1, 2], owner="u1", generation=gen)
    True
    >>> online.cache_get("recommend", "u1|home")
    [1, 2]
    >>> online.invalidate_owner("u1")
    1
    >>> online.cache_get("recommend", "u1|home") is None
    True
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from shelfwise.online.base import INVALIDATE_CHANNEL, Handler, OnlineState

_CATALOGUE = "\x00all"


class MemoryOnlineState(OnlineState):
    """Online state in this process.

    Args:
        cache_ttl: seconds a cached response lives (0 turns response caching off).
        cache_max_entries: entries per cache name before the least recently used go.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        cache_ttl: float = 30.0,
        cache_max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache_ttl = cache_ttl
        self.cache_max_entries = cache_max_entries
        self.caching = cache_ttl > 0 and cache_max_entries > 0
        self.clock = clock
        self._kv: dict[str, tuple[float | None, Any]] = {}  # key -> (expires at, bytes or int)
        self._buckets: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, last time)
        self._subs: dict[str, list[Handler]] = {}
        self._caches: dict[str, OrderedDict[str, tuple[float, str | None, Any]]] = {}
        self._owned: dict[str, set[tuple[str, str]]] = {}
        self._gen: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- key / value -------------------------------------------------------------------------------
    def _live(self, key: str) -> Any:
        hit = self._kv.get(key)
        if hit is None:
            return None
        expires, value = hit
        if expires is not None and expires <= self.clock():
            del self._kv[key]
            return None
        return value

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key)
        if value is None:
            return None
        return str(value).encode() if isinstance(value, int) else bytes(value)

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"online state values are bytes, not {type(value).__name__} (use set_json)")
        with self._lock:
            self._kv[key] = (None if ttl is None else self.clock() + ttl, bytes(value))

    def delete(self, *keys: str) -> int:
        with self._lock:
            found = [k for k in keys if self._live(k) is not None]
            for k in found:
                del self._kv[k]
            return len(found)

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        with self._lock:
            return self._incr(key, amount, ttl)

    def _incr(self, key: str, amount: int, ttl: float | None) -> int:
        current = self._live(key)
        if current is None:
            value, expires = int(amount), (None if ttl is None else self.clock() + ttl)
        else:
            try:
                value = int(current) + int(amount)
            except ValueError:
                raise ValueError(f"the value at {key!r} is not an integer") from None
            expires = self._kv[key][0]
        self._kv[key] = (expires, value)
        return value

    def incr_many(self, amounts: dict[str, int]) -> None:  # type: ignore[override]
        with self._lock:
            for key, amount in amounts.items():
                self._incr(key, amount, None)

    def counters(self, prefix: str) -> dict[str, int]:
        with self._lock:
            out = {}
            for key in [k for k in self._kv if k.startswith(prefix)]:
                value = self._live(key)
                if value is not None:
                    try:
                        out[key] = int(value)
                    except ValueError:
                        continue
            return out

    # -- rate limits -------------------------------------------------------------------------------
    def _spend_token(self, bucket: str, rate: float, capacity: float) -> float:
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(bucket, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return 0.0
            self._buckets[bucket] = (tokens, now)
            return (1.0 - tokens) / rate

    # -- pub / sub ---------------------------------------------------------------------------------
    def publish(self, channel: str, message: bytes) -> int:
        with self._lock:
            handlers = list(self._subs.get(channel, ()))
        for handler in handlers:  # outside the lock: a handler may use this object
            handler(message)
        return len(handlers)

    def subscribe(self, channel: str, handler: Handler) -> Callable[[], None]:
        with self._lock:
            self._subs.setdefault(channel, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._subs.get(channel, [])
                if handler in subs:
                    subs.remove(handler)

        return unsubscribe

    # -- response caches ---------------------------------------------------------------------------
    def generation(self, owner: str | None) -> tuple[int, int]:
        with self._lock:
            return (self._gen.get(owner or "", 0), self._gen.get(_CATALOGUE, 0))

    def cache_get(self, cache: str, key: str) -> Any:
        if not self.caching:
            return None
        with self._lock:
            data = self._caches.get(cache)
            hit = data.get(key) if data is not None else None
            if hit is None:
                return None
            expires, _, value = hit
            if expires <= self.clock():
                self._drop(cache, key)
                return None
            data.move_to_end(key)  # type: ignore[union-attr]
            return value

    def cache_put(
        self, cache: str, key: str, value: Any, *, owner: str | None, generation: tuple[int, int]
    ) -> bool:
        if not self.caching:
            return False
        with self._lock:
            if tuple(generation) != (self._gen.get(owner or "", 0), self._gen.get(_CATALOGUE, 0)):
                return False
            data = self._caches.setdefault(cache, OrderedDict())
            if key in data:
                self._drop(cache, key)
            data[key] = (self.clock() + self.cache_ttl, owner, value)
            if owner:
                self._owned.setdefault(owner, set()).add((cache, key))
            while len(data) > self.cache_max_entries:
                self._drop(cache, next(iter(data)))
            return True

    def _drop(self, cache: str, key: str) -> None:
        entry = self._caches[cache].pop(key, None)
        if entry is not None and entry[1]:
            owned = self._owned.get(entry[1])
            if owned is not None:
                owned.discard((cache, key))
                if not owned:
                    del self._owned[entry[1]]

    def invalidate_owner(self, owner: str) -> int:
        with self._lock:
            self._gen[owner] = self._gen.get(owner, 0) + 1
            keys = list(self._owned.pop(owner, ()))
            for cache, key in keys:
                self._caches[cache].pop(key, None)
        self.publish(INVALIDATE_CHANNEL, owner.encode())
        return len(keys)

    def invalidate_all(self) -> None:
        with self._lock:
            self._gen[_CATALOGUE] = self._gen.get(_CATALOGUE, 0) + 1
            for data in self._caches.values():
                data.clear()
            self._owned.clear()
        self.publish(INVALIDATE_CHANNEL, b"*")

    def holds_owner(self, owner: str) -> bool:
        with self._lock:
            return bool(self._owned.get(owner))

    def cache_sizes(self) -> dict[str, int]:
        with self._lock:
            return {name: len(data) for name, data in self._caches.items()}
