"""Online state of the service (counters, caches, rate-limit buckets, sessions, follower cursors).

:class:`OnlineState` is the interface, shaped like Redis; :class:`MemoryOnlineState` the in-process default.
Pick one with :func:`open_online_state` (``memory://`` today; ``redis://`` is where a shared one plugs in).
"""

from __future__ import annotations

from shelfwise.online.base import CURSORS, INVALIDATE_CHANNEL, OnlineState
from shelfwise.online.memory import MemoryOnlineState


def open_online_state(
    url: str = "memory://", *, cache_ttl: float = 30.0, cache_max_entries: int = 50_000
) -> OnlineState:
    """The online state at ``url`` (only ``memory://`` is built in)."""
    scheme = url.partition("://")[0] or "memory"
    if scheme == "memory":
        return MemoryOnlineState(cache_ttl=cache_ttl, cache_max_entries=cache_max_entries)
    raise ValueError(f"unknown online state {url!r}; known: memory://")


__all__ = ["CURSORS", "INVALIDATE_CHANNEL", "MemoryOnlineState", "OnlineState", "open_online_state"]
