"""The online-state contract against a real Redis, plus what only a shared state has: two instances (two
replicas) see one another's counters, caches, buckets and invalidations; shops with different prefixes do not.

Needs a server: ``eval "$(bash scripts/dev_services.sh start)"`` exports ``SHELFWISE_TEST_REDIS`` (CI does it).
Each test uses its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shelfwise.online import INVALIDATE_CHANNEL, OnlineState, open_online_state
from tests.online.contract import OnlineStateContract, eventually
from tests.online.redis_server import REDIS_URL, delete_prefix, needs_redis, new_prefix

pytestmark = needs_redis


@pytest.fixture()
def prefix() -> Iterator[str]:
    """A key prefix of this test; its keys are deleted afterwards."""
    name = new_prefix()
    yield name
    delete_prefix(name)


class TestRedisOnlineState(OnlineStateContract):
    @pytest.fixture(autouse=True)
    def _prefix(self, prefix: str) -> Iterator[None]:
        self.prefix = prefix
        self.made: list[OnlineState] = []
        yield
        for s in self.made:
            s.close()

    def make(self, cache_ttl: float = 30.0, cache_max_entries: int = 1000) -> OnlineState:
        s = open_online_state(
            f"{REDIS_URL}?prefix={self.prefix}", cache_ttl=cache_ttl, cache_max_entries=cache_max_entries
        )
        self.made.append(s)
        return s


def test_two_replicas_share_counters_caches_buckets_and_invalidations(prefix: str) -> None:
    a = open_online_state(f"{REDIS_URL}?prefix={prefix}", hold_seconds=0.5)
    b = open_online_state(f"{REDIS_URL}?prefix={prefix}", hold_seconds=0.5)
    try:
        a.incr("exposures:recommend", 2)
        b.incr_many({"exposures:recommend": 3})  # sent by b's flusher within flush_seconds
        assert b.counters("exposures:") == {"exposures:recommend": 5}
        assert eventually(lambda: a.counters("exposures:") == {"exposures:recommend": 5})
        assert a.cache_put("recommend", "u1|home", {"items": [1]}, owner="u1", generation=a.generation("u1"))
        assert b.cache_get("recommend", "u1|home") == {"items": [1]} and b.holds_owner("u1")
        heard: list[bytes] = []
        b.subscribe(INVALIDATE_CHANNEL, heard.append)
        gen = b.generation("u1")  # b starts computing for u1 ...
        assert a.invalidate_owner("u1") == 1  # ... while a applies an event of u1
        assert b.cache_get("recommend", "u1|home") is None and not b.holds_owner("u1")
        assert not b.cache_put("recommend", "u1|home", {"items": [0]}, owner="u1", generation=gen)
        # b may not have followed u1's event yet: only a caches for u1 until the hold ends
        assert not b.cache_put("recommend", "u1|home", [0], owner="u1", generation=b.generation("u1"))
        assert b.cache_put("search", "q", [1], owner=None, generation=b.generation(None))  # others go on
        assert a.cache_put("recommend", "u1|home", [1], owner="u1", generation=a.generation("u1"))
        assert eventually(
            lambda: b.cache_put("recommend", "u1|home", [2], owner="u1", generation=b.generation("u1"))
        )
        assert eventually(lambda: heard == [b"u1"]), heard
        waits = [s.take_token("key1:read", 2.0, 1.0) for s in (a, b, a)]  # one bucket of 2, both spend
        assert waits[:2] == [0.0, 0.0] and waits[2] > 0
        # the moving-window limits (failed sign-ins) are shared too
        from limits import RateLimitItemPerMinute
        from limits.strategies import MovingWindowRateLimiter

        item = RateLimitItemPerMinute(2)
        hits = [
            MovingWindowRateLimiter(s.window_storage()).hit(item, "failed-auth", "1.2.3.4") for s in (a, b, a)
        ]
        assert hits == [True, True, False]
        # cursors are each replica's own
        a.advance_cursor("event_seq", 7)
        assert (a.cursor("event_seq"), b.cursor("event_seq")) == (7, 0)
    finally:
        a.close()
        b.close()


def test_shops_with_different_prefixes_do_not_meet(prefix: str) -> None:
    a = open_online_state(f"{REDIS_URL}?prefix={prefix}")
    b = open_online_state(f"{REDIS_URL}?prefix={prefix}-other")
    try:
        a.set("k", b"1")
        a.cache_put("search", "q", [1], owner=None, generation=a.generation(None))
        assert b.get("k") is None and b.cache_get("search", "q") is None
        b.invalidate_all()
        assert a.cache_get("search", "q") == [1]
    finally:
        a.close()
        b.close()


def test_unreachable_redis_is_one_clear_line() -> None:
    from shelfwise.online.redis import OnlineStateUnavailable

    with pytest.raises(OnlineStateUnavailable) as err:
        open_online_state("redis://:secret@127.0.0.1:1/0")
    message = str(err.value)
    assert "\n" not in message and "127.0.0.1:1" in message and "secret" not in message
    assert "start Redis" in message
