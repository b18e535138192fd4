"""Online state of the service (counters, caches, rate-limit buckets, sessions, follower cursors).

:class:`OnlineState` is the interface, shaped like Redis; :class:`MemoryOnlineState` the in-process default;
:class:`~shelfwise.online.redis.RedisOnlineState` the shared one, for several replicas of one shop. Pick one with
:func:`open_online_state` (``memory://`` or ``redis://host:port/db[?prefix=shop]``).
"""

from __future__ import annotations

from shelfwise.online.base import CURSORS, INVALIDATE_CHANNEL, OnlineState
from shelfwise.online.memory import MemoryOnlineState

KNOWN = "memory://, redis://HOST:PORT/DB[?prefix=NAME] (rediss:// for TLS)"


def open_online_state(
    url: str = "memory://",
    *,
    cache_ttl: float = 30.0,
    cache_max_entries: int = 50_000,
    prefix: str | None = None,
    hold_seconds: float = 2.0,
) -> OnlineState:
    """The online state at ``url``.

    Args:
        url: ``memory://`` (this process) or ``redis://...`` (shared by every replica).
        cache_ttl: seconds a cached response lives.
        cache_max_entries: entries per cache name.
        prefix: the Redis key prefix when the URL names none (callers pass one derived from the store).
        hold_seconds: see :class:`~shelfwise.online.redis.RedisOnlineState` (more than the follow interval).

    Raises:
        ValueError: an unknown scheme, or the ``redis`` package is not installed.
        shelfwise.online.redis.OnlineStateUnavailable: Redis does not answer.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else url.lower()
    if scheme == "memory":
        return MemoryOnlineState(cache_ttl=cache_ttl, cache_max_entries=cache_max_entries)
    if scheme in ("redis", "rediss", "unix"):
        import importlib.util

        if importlib.util.find_spec("redis") is None:
            raise ValueError(f"{url}: the redis package is not installed (pip install 'shelfwise[redis]')")
        from shelfwise.online.redis import RedisOnlineState

        return RedisOnlineState(
            url,
            prefix=prefix,
            cache_ttl=cache_ttl,
            cache_max_entries=cache_max_entries,
            hold_seconds=hold_seconds,
        )
    raise ValueError(f"unknown online state {url!r}; known: {KNOWN}")


__all__ = ["CURSORS", "INVALIDATE_CHANNEL", "KNOWN", "MemoryOnlineState", "OnlineState", "open_online_state"]
