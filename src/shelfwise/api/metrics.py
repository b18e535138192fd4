"""Prometheus metrics of one app (its own registry, so several apps in one process do not collide)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The collectors the service updates. Labels never carry ids or query text (no PII)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        r = self.registry
        self.requests = Counter(
            "shelfwise_requests",
            "HTTP requests by route template and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "shelfwise_request_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.cache = Counter("shelfwise_cache", "response cache lookups", ["cache", "result"], registry=r)
        self.events = Counter("shelfwise_events", "events received by outcome", ["outcome"], registry=r)
        self.impressions = Counter("shelfwise_impressions", "impressions logged", ["surface"], registry=r)
        self.rate_limited = Counter(
            "shelfwise_rate_limited", "requests refused by a rate limit", ["scope"], registry=r
        )
        self.exposures = Counter(
            "shelfwise_experiment_exposures",
            "responses served under an experiment arm",
            ["experiment", "arm"],
            registry=r,
        )
        self.ready = Gauge("shelfwise_ready", "1 once the artifacts are loaded", registry=r)
        self.fallbacks = Counter(
            "shelfwise_fallbacks", "responses served by a fallback", ["surface"], registry=r
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
