"""Rate limits: token buckets per (API key, scope), and moving windows per client address or shopper
(:class:`WindowLimiter`, on the maintained ``limits`` package). Both thread-safe, in-process (online state)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allows ``rate`` requests per second per bucket with bursts up to ``rate * burst_seconds``.

    Example:
        >>> t = [0.0]
        >>> rl = RateLimiter(burst_seconds=1.0, clock=lambda: t[0])
        >>> [rl.take("k", 2.0) for _ in range(3)]
        [0.0, 0.0, 0.5]
    """

    def __init__(self, burst_seconds: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst_seconds = burst_seconds
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # bucket -> (tokens, last time)
        self._lock = threading.Lock()

    def take(self, bucket: str, rate: float) -> float:
        """Spend one token; returns 0 when allowed, else the seconds to wait. ``rate <= 0``: unlimited."""
        if rate <= 0:
            return 0.0
        capacity = max(1.0, rate * self.burst_seconds)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(bucket, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return 0.0
            self._buckets[bucket] = (tokens, now)
            return (1.0 - tokens) / rate


class WindowLimiter:
    """Counts events per bucket in a moving window (the ``limits`` package), e.g. failed sign-ins per address.

    Args:
        per_minute: events allowed per bucket in any 60 s; 0 turns the limit off.

    Example:
        >>> wl = WindowLimiter(per_minute=2)
        >>> wl.blocked("1.2.3.4"), wl.hit("1.2.3.4"), wl.hit("1.2.3.4"), wl.blocked("1.2.3.4") > 0
        (0.0, 0.0, 0.0, True)
    """

    def __init__(self, per_minute: int, namespace: str = "shelfwise") -> None:
        from limits import RateLimitItemPerMinute
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.per_minute = per_minute
        self.namespace = namespace
        self._item = RateLimitItemPerMinute(max(1, per_minute))
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

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
