"""Two replicas, one shop: two real ``shelfwise serve`` processes on one store and one ``--state redis://...``,
real HTTP.

* An event posted through one is reflected in the other's next recommendations for that shopper.
* A shopper deleted through one is gone from both: profile 404, no personalised list, and the cached responses
  the *other* replica wrote are dropped by the deleting one (the receipt counts them).
* Failed authentications count across both: the limit is reached half through each.
* An invalidation in one drops what the other cached: a response the other cached is shared (a hit through
  either), and after an event of that shopper through one, the other's very next answer is computed afresh.

Needs Redis: ``eval "$(bash scripts/dev_services.sh start)"`` exports ``SHELFWISE_TEST_REDIS`` (CI does it).
The replicas use a key prefix of their own, deleted afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_restart import AUTH, Server, _recommend, _reflects, _store_facts

REDIS_URL = os.environ.get("SHELFWISE_TEST_REDIS")
pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason='Redis not available: run `eval "$(bash scripts/dev_services.sh start)"` '
    "(exports SHELFWISE_TEST_REDIS=redis://127.0.0.1:6380/0)",
)
FAILED_AUTH_PER_MINUTE = 4


@dataclass
class Shop:
    """Two replicas of one shop, and facts read from its store before they started."""

    a: Server
    b: Server
    prefix: str
    item: str
    title: str


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    pytest.importorskip("fastapi")
    import redis

    from tests.web.conftest import build_demo_store

    root = tmp_path_factory.mktemp("scaleout")
    store = build_demo_store(root / "shop")
    _, item, title = _store_facts(store)
    prefix = f"sw-scaleout-{uuid.uuid4().hex[:8]}"
    state = f"{REDIS_URL}?prefix={prefix}"
    extra = ["--state", state, "--set", f"api.rate_limit.failed_auth_per_minute={FAILED_AUTH_PER_MINUTE}"]
    a = Server(store, root / "a.log", extra)
    b = Server(store, root / "b.log", extra)
    try:
        a.wait_ready(600)
        b.wait_ready(600)
        yield Shop(a, b, prefix, item, title)
    finally:
        a.stop()
        b.stop()
        client = redis.Redis.from_url(REDIS_URL or "")
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def _post_event(url: str, shopper: str, item: str) -> None:
    with httpx.Client(base_url=url, headers=AUTH, timeout=60) as c:
        r = c.post("/v1/events", json={"events": [{"user_id": shopper, "item_id": item, "type": "view"}]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def _until(check: Any, seconds: float = 20.0) -> Any:
    """Poll ``check()`` until it returns something truthy (returned), or give the last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_an_event_through_one_reaches_the_others_next_recommendations(shop: Shop) -> None:
    shopper = "scaleout-event-" + os.urandom(4).hex()
    assert _recommend(shop.b.url, shopper)["fallback"] is not None  # a stranger; now cached in Redis
    _post_event(shop.a.url, shopper, shop.item)
    started = time.monotonic()
    assert _reflects(_recommend(shop.a.url, shopper), shop.title)  # applied on write by a
    assert _until(lambda: _reflects(_recommend(shop.b.url, shopper), shop.title)), shop.b.tail()
    lag = time.monotonic() - started
    assert lag < 10, f"b reflected a's event only after {lag:.1f}s"


def test_a_shopper_deleted_through_one_is_gone_from_both(shop: Shop) -> None:
    shopper = "scaleout-delete-" + os.urandom(4).hex()
    _post_event(shop.a.url, shopper, shop.item)
    # one cached response written by each replica (different requests: k=10 through a, k=5 through b)
    with httpx.Client(base_url=shop.b.url, headers=AUTH, timeout=60) as b:
        assert _until(lambda: _reflects(_recommend(shop.b.url, shopper), shop.title)), shop.b.tail()
        r = b.post("/v1/recommendations", json={"user_id": shopper, "slot": "home", "k": 5})
        assert r.status_code == 200 and r.json()["fallback"] is None, r.text
    assert _recommend(shop.a.url, shopper)["cached"]  # written by b's reflecting request above
    with httpx.Client(base_url=shop.a.url, headers=AUTH, timeout=60) as a:
        receipt = a.delete(f"/v1/users/{shopper}")
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["removed"]["cached_responses"] == 2, receipt.json()["removed"]  # b's entries too
    for server in (shop.a, shop.b):
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as c:
            status = _until(lambda c=c: c.get(f"/v1/users/{shopper}/profile").status_code == 404)
            assert status, f"the profile still answers on {server.url}: {server.tail()}"
            for k in (10, 5):
                r = c.post("/v1/recommendations", json={"user_id": shopper, "slot": "home", "k": k})
                body = r.json()
                assert r.status_code == 200 and body["fallback"] is not None and not body["cached"], body


def test_failed_authentications_count_across_both(shop: Shop) -> None:
    # a loopback address of this test's own, so the other tests' requests are not refused
    transport = {"transport": httpx.HTTPTransport(local_address="127.0.0.77")}
    half = FAILED_AUTH_PER_MINUTE // 2
    for server in (shop.a, shop.b):
        with httpx.Client(base_url=server.url, timeout=60, **transport) as c:
            for _ in range(half):
                r = c.post("/v1/recommendations", json={"k": 5}, headers={"Authorization": "Bearer wrong"})
                assert r.status_code == 401, r.text
    for server in (shop.a, shop.b):  # the limit is reached: even the right key is refused from there
        with httpx.Client(base_url=server.url, timeout=60, **transport) as c:
            r = c.post("/v1/recommendations", json={"k": 5}, headers=AUTH)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, r.text
    with httpx.Client(base_url=shop.b.url, headers=AUTH, timeout=60) as c:  # other addresses go on
        assert c.post("/v1/recommendations", json={"k": 5}).status_code == 200


def test_an_invalidation_in_one_drops_the_others_cache(shop: Shop) -> None:
    shopper = "scaleout-cache-" + os.urandom(4).hex()
    first = _recommend(shop.b.url, shopper)
    assert not first["cached"]
    assert _recommend(shop.a.url, shopper)["cached"]  # one cache: b's answer is a hit through a
    _post_event(shop.a.url, shopper, shop.item)  # a drops the shopper's entries before it answers
    again = _recommend(shop.b.url, shopper)  # at once, before b's follower may have polled
    assert not again["cached"], "b answered from a cache entry a had invalidated"
