"""The Redis the shared online-state tests use (``$SHELFWISE_TEST_REDIS``), the skip marker when there is none,
and clean-up of a test's key prefix."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("SHELFWISE_TEST_REDIS")
needs_redis = pytest.mark.skipif(
    not REDIS_URL,
    reason='Redis not available: run `eval "$(bash scripts/dev_services.sh start)"` '
    "(exports SHELFWISE_TEST_REDIS=redis://127.0.0.1:6380/0)",
)


def new_prefix(kind: str = "test") -> str:
    """A key prefix no other test run uses."""
    return f"sw-{kind}-{uuid.uuid4().hex[:10]}"


def delete_prefix(prefix: str) -> None:
    """Delete every key that starts with ``prefix`` (also ``prefix-other:...``)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL or "")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
