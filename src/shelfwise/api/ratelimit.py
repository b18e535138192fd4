"""Rate limits: token buckets per (API key, scope), and moving windows per client address or shopper
(:class:`WindowLimiter`, on the maintained ``limits`` package). Both thread-safe; both count in the service's
online state, so replicas sharing one (``serve --state redis://...``) count together."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shelfwise.online import MemoryOnlineState, OnlineState


class RateLimiter:
    """Allows ``rate`` requests per second per bucket with bursts up to ``rate * burst_seconds``: token buckets
    kept in an :class:`~shelfwise.online.OnlineState` (in-process by default; shared by every replica on Redis).

    Example:
        >>> t = [0.0]
        >>> rl = RateLimiter(burst_seconds=1.0, clock=lambda: t[0])
        >>> [rl.take("k", 2.0) for _ in range(3)]
        [0.0, 0.0, 0.5]
    """

    def __init__(
        self,
        burst_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        online: OnlineState | None = None,
    ) -> None:
        self.burst_seconds = burst_seconds
        self.online = online or MemoryOnlineState(clock=clock)

    def take(self, bucket: str, rate: float) -> float:
        """Spend one token; returns 0 when allowed, else the seconds to wait. ``rate <= 0``: unlimited."""
        return self.online.take_token(f"ratelimit:{bucket}", rate, self.burst_seconds)


class WindowLimiter:
    """Counts events per bucket in a moving window (the ``limits`` package), e.g. failed sign-ins per address.

    Args:
        per_minute: events allowed per bucket in any 60 s; 0 turns the limit off.
        namespace: what is counted (buckets of different namespaces are separate).
        storage: a ``limits`` storage (:meth:`OnlineState.window_storage`: shared on Redis); default in-process.

    Example:
        >>> wl = WindowLimiter(per_minute=2)
        >>> wl.blocked("1.2.3.4"), wl.hit("1.2.3.4"), wl.hit("1.2.3.4"), wl.blocked("1.2.3.4") > 0
        (0.0, 0.0, 0.0, True)
    """

    def __init__(self, per_minute: int, namespace: str = "shelfwise", storage: Any = None) -> None:
        from limits import RateLimitItemPerMinute
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.per_minute = per_minute
        self.namespace = namespace
        self._item = RateLimitItemPerMinute(max(1, per_minute))
        self._limiter = MovingWindowRateLimiter(storage if storage is not None else MemoryStorage())

    def _retry_after(self, bucket: str) -> float:
        stats = self._limiter.get_window_stats(self._item, self.namespace, bucket)
        return max(0.5, stats.reset_time - time.time())

    def blocked(self, bucket: str) -> float:
        """0 when ``bucket`` may go on, else the seconds until it may (nothing is counted)."""
        if self.per_minute <= 0 or self._limiter.test(self._item, self.namespace, bucket):
            return 0.0
        return self._retry_after(bucket)

    def hit(self, bucket: str) -> float:
        """Count one event; 0 when it was within the limit, else the seconds until the next is allowed."""
        if self.per_minute <= 0 or self._limiter.hit(self._item, self.namespace, bucket):
            return 0.0
        return self._retry_after(bucket)
