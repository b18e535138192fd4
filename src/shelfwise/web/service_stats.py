"""Latency and throughput per route, read from the app's Prometheus registry (``app.state.metrics``).

Quantiles come from the latency histogram's buckets (linear interpolation inside a bucket, as Prometheus'
``histogram_quantile`` does); throughput is requests over the process's uptime.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

__all__ = ["bucket_quantile", "service_rows"]

_LATENCY = "shelfwise_request_seconds"
_REQUESTS = "shelfwise_requests"


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``q`` quantile from cumulative ``(upper_bound, count)`` buckets sorted by bound (``inf`` last).

    >>> bucket_quantile(0.5, [(0.01, 50.0), (0.02, 100.0), (float("inf"), 100.0)])
    0.01
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1000:.1f}"


def service_rows(metrics: Any, limit: int = 12) -> tuple[list[dict[str, Any]], float | None]:
    """Rows ``{route, count, rate, p50, p95, p99, errors}`` (formatted; ``p95_ms`` as a number) busiest
    first, and the uptime in seconds."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, float] = defaultdict(float)
    errors: dict[str, float] = defaultdict(float)
    started = None
    for family in metrics.registry.collect():
        for s in family.samples:
            if s.name == f"{_LATENCY}_bucket":
                buckets[s.labels["route"]][float(s.labels["le"])] += s.value
            elif s.name == f"{_LATENCY}_count":
                counts[s.labels["route"]] += s.value
            elif s.name == f"{_REQUESTS}_total" and str(s.labels.get("status", "")).startswith("5"):
                errors[s.labels["route"]] += s.value
            elif s.name == "process_start_time_seconds":
                started = s.value
    uptime = max(1e-9, time.time() - started) if started else None
    rows = []
    for route, n in sorted(counts.items(), key=lambda kv: -kv[1])[:limit]:
        b = sorted(buckets[route].items())
        p95 = bucket_quantile(0.95, b)
        rows.append(
            {
                "p95_ms": None if p95 is None else p95 * 1000,
                "route": route,
                "count": f"{n:,.0f}",
                "rate": f"{n / uptime:.2f}" if uptime else "–",
                "p50": _ms(bucket_quantile(0.5, b)),
                "p95": _ms(p95),
                "p99": _ms(bucket_quantile(0.99, b)),
                "errors": f"{errors.get(route, 0):,.0f}",
            }
        )
    return rows, uptime
