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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.test_restart import AUTH, Server, _recommend, _reflects, _store_facts
from tests.online.redis_server import REDIS_URL, delete_prefix, needs_redis, new_prefix

pytestmark = needs_redis
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
    from tests.web.conftest import build_demo_store

    root = tmp_path_factory.mktemp("scaleout")
    store = build_demo_store(root / "shop")
    _, item, title = _store_facts(store)
    prefix = new_prefix("scaleout")
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
        delete_prefix(prefix)


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
    started = time.monotonic()
    for server in (shop.a, shop.b):
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as c:
            # b's follower matches the deletion log's digest against every shopper it knows (234 s here while
            # each digest read the salt from the leased store; now one read per process)
            status = _until(lambda c=c: c.get(f"/v1/users/{shopper}/profile").status_code == 404, 60)
            assert status, f"the profile still answers on {server.url}: {server.tail()}"
            for k in (10, 5):
                r = c.post("/v1/recommendations", json={"user_id": shopper, "slot": "home", "k": k})
                body = r.json()
                assert r.status_code == 200 and body["fallback"] is not None and not body["cached"], body
    print(f"deletion through a reached b after {time.monotonic() - started:.1f}s")


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


def test_an_experiment_changed_through_one_is_served_by_both(shop: Shop) -> None:
    name = "scaleout-" + os.urandom(3).hex()
    body = {"name": name, "variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}
    with httpx.Client(base_url=shop.a.url, headers=AUTH, timeout=60) as a:
        assert a.post("/v1/experiments", json=body).status_code in (200, 201)
    with httpx.Client(base_url=shop.b.url, headers=AUTH, timeout=60) as b:
        # b hears it on the online state's channel and reads the definitions again
        assert _until(lambda: b.get(f"/v1/experiments/{name}").status_code == 200, 10), shop.b.tail()
        r = b.post("/v1/recommendations", json={"user_id": "scaleout-arm", "slot": "home", "k": 5})
        assert r.status_code == 200 and (r.json()["arm"] or "").startswith(name), r.text
    with httpx.Client(base_url=shop.a.url, headers=AUTH, timeout=60) as a:
        assert a.delete(f"/v1/experiments/{name}").status_code == 200
    with httpx.Client(base_url=shop.b.url, headers=AUTH, timeout=60) as b:
        assert _until(lambda: b.get(f"/v1/experiments/{name}").status_code == 404, 10)


def test_a_key_and_its_rate_limit_are_one_for_both(shop: Shop) -> None:
    transport = {"transport": httpx.HTTPTransport(local_address="127.0.0.78")}  # its failures are its own
    with httpx.Client(base_url=shop.a.url, headers=AUTH, timeout=60) as admin:
        r = admin.post("/v1/keys", json={"name": "scaleout", "scopes": ["read"], "rate_per_second": 0.05})
    assert r.status_code == 201, r.text
    token, key_id = r.json()["key"], r.json()["key_id"]
    mine = {"Authorization": f"Bearer {token}"}
    ask = {"json": {"k": 5}, "headers": mine}
    # b hears of the new key on the online state's channel and reads the keys again from the store
    assert _until(lambda: key_id in _key_ids(shop.b), 30), shop.b.tail()
    with (
        httpx.Client(base_url=shop.a.url, timeout=60, **transport) as a,
        httpx.Client(base_url=shop.b.url, timeout=60, **transport) as b,
    ):
        assert b.post("/v1/recommendations", **ask).status_code == 200  # the bucket's one token, spent on b
        refused = a.post("/v1/recommendations", **ask)
        assert refused.status_code == 429, refused.text  # ... so a refuses: one bucket for both
        with httpx.Client(base_url=shop.a.url, headers=AUTH, timeout=60) as admin:
            assert admin.delete(f"/v1/keys/{key_id}").status_code == 200
        assert _until(lambda: key_id not in _key_ids(shop.b), 30), shop.b.tail()
        assert b.post("/v1/recommendations", **ask).status_code == 401


def _key_ids(server: Server) -> set[str]:
    """The ids of the keys ``server`` accepts (its own copy of the key ring)."""
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as admin:
        return {k["key_id"] for k in admin.get("/v1/keys").json()}
