"""Token-bucket rate limits, one bucket per (key, scope); thread-safe."""

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
