"""Service parts without a server: caches under concurrency, rate limits, hashed keys, the error shape."""

from __future__ import annotations

import threading
import time

import pytest

from shelfwise.api.auth import KeyRing
from shelfwise.api.cache import ResponseCaches
from shelfwise.api.ratelimit import RateLimiter


def test_cache_ttl_lru_and_owner_invalidation() -> None:
    now = [0.0]
    c = ResponseCaches(ttl_seconds=10, max_entries=2, clock=lambda: now[0])
    gen = c.generation("u1")
    assert c.put("recommend", "a", 1, owner="u1", generation=gen)
    assert c.put("search", "q", 2, owner=None, generation=c.generation(None))
    assert c.get("recommend", "a") == 1 and c.holds_owner("u1")
    now[0] = 11
    assert c.get("recommend", "a") is None  # expired
    for i in range(3):
        c.put("recommend", i, i, owner="u2", generation=c.generation("u2"))
    assert c.sizes()["recommend"] == 2 and c.get("recommend", 0) is None  # least recent evicted
    assert c.invalidate_user("u2") == 2 and not c.holds_owner("u2")
    c.invalidate_all()
    assert c.sizes() == {"recommend": 0, "search": 0}


def test_a_result_computed_across_an_invalidation_is_not_cached() -> None:
    """Many threads compute a user's list slowly while events invalidate it: no stale entry survives."""
    c = ResponseCaches(ttl_seconds=60, max_entries=1000)
    version = [0]  # what "the pipeline" would answer now
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            gen = c.generation("u")
            seen = version[0]
            time.sleep(0.0005)  # computing
            c.put("recommend", "k", seen, owner="u", generation=gen)

    def writer() -> None:
        for _ in range(200):
            time.sleep(0.0002)
            version[0] += 1  # the event is applied ...
            c.invalidate_user("u")  # ... then the cache dropped, as the feedback loop does

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    writer()
    stop.set()  # readers in flight now hold results computed before the last event
    for t in threads:
        t.join()
    cached = c.get("recommend", "k")
    assert cached is None or cached == version[0]


def test_rate_limiter_refills_and_zero_means_unlimited() -> None:
    t = [0.0]
    rl = RateLimiter(burst_seconds=2.0, clock=lambda: t[0])
    assert [rl.take("k", 1.0) for _ in range(3)] == [0.0, 0.0, 1.0]
    t[0] = 1.0
    assert rl.take("k", 1.0) == 0.0 and rl.take("other", 1.0) == 0.0
    assert all(rl.take("k", 0) == 0.0 for _ in range(100))


class _Meta:
    def __init__(self) -> None:
        self.meta: dict[str, object] = {}

    def get_meta(self, key: str, default: object = None) -> object:
        return self.meta.get(key, default)

    def set_meta(self, key: str, value: object) -> None:
        self.meta[key] = value


def test_keys_are_stored_hashed_and_survive_a_restart() -> None:
    store = _Meta()
    ring = KeyRing(store=store, env_admin_key="from-the-environment")
    token, record = ring.create("shop", ["read", "events"])
    assert token not in repr(store.meta) and record.hash in repr(store.meta)
    again = KeyRing(store=store)  # a restart without the environment key
    assert again.verify(token).scopes == ("events", "read")
    assert again.verify("from-the-environment") is None and ring.verify("from-the-environment").allows(
        "admin"
    )
    assert again.verify(token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert not again.verify(token).allows("admin")
    assert again.revoke(record.key_id) and KeyRing(store=store).verify(token) is None
    with pytest.raises(Exception, match="unknown scopes"):
        ring.create("bad", ["superuser"])
