"""Latency quantiles and throughput read back from a real Prometheus registry."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from shelfwise.web.service_stats import bucket_quantile, service_rows


def test_bucket_quantile_interpolates_inside_a_bucket() -> None:
    buckets = [(0.01, 0.0), (0.02, 100.0), (float("inf"), 100.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.015)
    assert bucket_quantile(0.99, buckets) == pytest.approx(0.0199)
    assert bucket_quantile(0.5, [(float("inf"), 0.0)]) is None


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.latency = Histogram(
            "shelfwise_request_seconds",
            "latency",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.05),
            registry=self.registry,
        )
        self.requests = Counter(
            "shelfwise_requests", "requests", ["route", "method", "status"], registry=self.registry
        )


def test_service_rows_busiest_route_first_with_errors() -> None:
    m = _Metrics()
    for _ in range(30):
        m.latency.labels("/v1/search", "GET").observe(0.004)
        m.requests.labels("/v1/search", "GET", "200").inc()
    for _ in range(10):
        m.latency.labels("/v1/recommend", "GET").observe(0.03)
        m.requests.labels("/v1/recommend", "GET", "500").inc()
    rows, uptime = service_rows(m)
    assert [r["route"] for r in rows] == ["/v1/search", "/v1/recommend"]
    assert rows[0]["count"] == "30" and rows[0]["errors"] == "0"
    assert float(rows[0]["p50"]) <= 5.0
    assert 10.0 < float(rows[1]["p50"]) <= 50.0
    assert rows[1]["errors"] == "10"
    assert uptime is not None and uptime > 0
