"""The interface of the service's online state: what one serving process keeps between requests.

Online state is everything the service changes while it runs and can rebuild from the store on start: exposure
and experiment counters, response caches, rate-limit buckets, session state and the follower cursors (how far
this process has applied the store's event, catalogue and deletion logs). Live histories and profiles stay in
the pipelines / :class:`~shelfwise.profiles.service.ProfileService` for now (see docs/ARCHITECTURE.md).

The interface is shaped like Redis so a Redis implementation drops in without touching callers:

* keys are strings, values are ``bytes`` (JSON helpers on top), every write may carry a TTL;
* counters are atomic increments (``INCRBY`` / a pipeline of them);
* rate limits are one atomic token-bucket step per call (a Lua script in Redis);
* invalidation is published on a channel (``PUBLISH`` / ``SUBSCRIBE``) so every replica drops its entries;
* response caches hold opaque values under string keys with per-owner *generations* (``INCR`` keys), so a
  response computed while its owner changed is never stored.

Cursors are per process (each replica follows the store on its own): a shared implementation namespaces them
by replica.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping
from typing import Any

#: Channel on which cache invalidations are published (message: the owner, or b"*" for everything).
INVALIDATE_CHANNEL = "cache.invalidate"
#: Names of the follower cursors.
CURSORS: tuple[str, ...] = ("event_seq", "catalogue_seq", "deletion_seq")

Handler = Callable[[bytes], None]


class OnlineState(abc.ABC):
    """Online state of one service (see the module docstring for the Redis shape)."""

    # -- key / value -------------------------------------------------------------------------------
    @abc.abstractmethod
    def get(self, key: str) -> bytes | None:
        """The live value of ``key``, or None (missing or expired)."""

    @abc.abstractmethod
    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``; it expires after ``ttl`` seconds when given."""

    @abc.abstractmethod
    def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""

    @abc.abstractmethod
    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``amount`` to the integer at ``key`` (0 when missing); returns the new value. ``ttl``
        is set when the key is created."""

    def incr_many(self, amounts: Mapping[str, int]) -> None:
        """Add to several counters (a shared implementation may batch them: see its docs)."""
        for key, amount in amounts.items():
            self.incr(key, amount)

    @abc.abstractmethod
    def counters(self, prefix: str) -> dict[str, int]:
        """Every integer counter whose key starts with ``prefix`` (for metrics and dashboards)."""

    def get_json(self, key: str) -> Any:
        """The JSON value at ``key``, or None."""
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store a JSON-serialisable value."""
        self.set(key, json.dumps(value, separators=(",", ":")).encode(), ttl)

    # -- rate limits -------------------------------------------------------------------------------
    def take_token(self, bucket: str, rate: float, burst_seconds: float) -> float:
        """One atomic token-bucket step: 0 when a request of ``bucket`` is allowed (a token is spent), else the
        seconds until one will be. ``rate <= 0`` means unlimited; bursts up to ``rate * burst_seconds``."""
        if rate <= 0:
            return 0.0
        return self._spend_token(bucket, float(rate), max(1.0, rate * burst_seconds))

    @abc.abstractmethod
    def _spend_token(self, bucket: str, rate: float, capacity: float) -> float:
        """The atomic step of :meth:`take_token` for a limited ``rate`` and a bucket of ``capacity``."""

    def window_storage(self) -> Any:
        """A ``limits`` storage for moving-window limits (failed sign-ins, storefront writes) kept where this
        online state keeps its buckets (in-process here; the shared store in a shared implementation)."""
        from limits.storage import MemoryStorage

        return MemoryStorage()

    # -- pub / sub ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def publish(self, channel: str, message: bytes) -> int:
        """Deliver ``message`` to every subscriber of ``channel``; returns how many received it."""

    @abc.abstractmethod
    def subscribe(self, channel: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler(message)`` for each message published on ``channel``; returns an unsubscribe."""

    # -- response caches ---------------------------------------------------------------------------
    @abc.abstractmethod
    def generation(self, owner: str | None) -> tuple[int, int]:
        """The (owner, catalogue) generations to pass back to :meth:`cache_put`."""

    @abc.abstractmethod
    def cache_get(self, cache: str, key: str) -> Any:
        """The live cached value, or None."""

    @abc.abstractmethod
    def cache_put(
        self, cache: str, key: str, value: Any, *, owner: str | None, generation: tuple[int, int]
    ) -> bool:
        """Store unless the owner or the catalogue changed since ``generation``; True when stored."""

    @abc.abstractmethod
    def invalidate_owner(self, owner: str) -> int:
        """Drop every cached entry of ``owner`` and refuse in-flight results for them (publishes on
        :data:`INVALIDATE_CHANNEL`); returns entries dropped."""

    @abc.abstractmethod
    def invalidate_all(self) -> None:
        """Drop every cached entry (a catalogue or experiment change; publishes ``b"*"``)."""

    @abc.abstractmethod
    def holds_owner(self, owner: str) -> bool:
        """True while some live cached entry belongs to ``owner`` (deletion checks)."""

    @abc.abstractmethod
    def cache_sizes(self) -> dict[str, int]:
        """Entries per cache name."""

    # -- sessions ----------------------------------------------------------------------------------
    def session(self, session_id: str) -> dict[str, Any] | None:
        """The state of a session, or None."""
        value = self.get_json(f"session:{session_id}")
        return value if isinstance(value, dict) else None

    def save_session(self, session_id: str, data: dict[str, Any], ttl: float = 1800.0) -> None:
        """Keep a session's state for ``ttl`` seconds after its last change."""
        self.set_json(f"session:{session_id}", data, ttl)

    # -- follower cursors --------------------------------------------------------------------------
    def cursor(self, name: str) -> int:
        """How far this process applied one of the store's logs (:data:`CURSORS`); 0 when never."""
        raw = self.get(f"cursor:{name}")
        return int(raw) if raw is not None else 0

    def advance_cursor(self, name: str, value: int) -> int:
        """Move a cursor forward to ``value`` (never back); returns the cursor now."""
        if name not in CURSORS:
            raise ValueError(f"unknown cursor {name!r}; one of {', '.join(CURSORS)}")
        current = self.cursor(name)
        if value > current:
            self.set(f"cursor:{name}", str(int(value)).encode())
            return int(value)
        return current

    def health(self) -> str:
        """``ok``, or ``failed: <what is wrong>`` (reported by ``/health/ready``)."""
        return "ok"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (nothing for the in-process implementation)."""
