"""The contract every :class:`~shelfwise.online.OnlineState` passes; an implementation's test file subclasses
:class:`OnlineStateContract` and defines ``make(cache_ttl, cache_max_entries)``.

Times are real (a shared implementation cannot take a fake clock): TTLs are a few tenths of a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from shelfwise.online import CURSORS, INVALIDATE_CHANNEL, OnlineState


def eventually(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    """True once ``check()`` is (a shared implementation delivers published messages from another thread)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class OnlineStateContract:
    """Mix into a test class and implement :meth:`make`."""

    def make(self, cache_ttl: float = 30.0, cache_max_entries: int = 1000) -> OnlineState:
        raise NotImplementedError

    # -- key / value -------------------------------------------------------------------------------
    def test_set_get_delete_bytes(self) -> None:
        s = self.make()
        assert s.get("a") is None
        s.set("a", b"\x00one")
        assert s.get("a") == b"\x00one"
        assert s.delete("a", "missing") == 1
        assert s.get("a") is None

    def test_values_must_be_bytes(self) -> None:
        with pytest.raises(TypeError):
            self.make().set("a", "text")  # type: ignore[arg-type]

    def test_json_round_trip(self) -> None:
        s = self.make()
        s.set_json("j", {"x": [1, 2.5, None], "y": "z"})
        assert s.get_json("j") == {"x": [1, 2.5, None], "y": "z"}

    def test_ttl_expires(self) -> None:
        s = self.make()
        s.set("short", b"1", ttl=0.2)
        s.set("long", b"1", ttl=30)
        assert s.get("short") == b"1"
        time.sleep(0.35)
        assert s.get("short") is None
        assert s.get("long") == b"1"

    def test_incr_is_atomic_under_threads(self) -> None:
        s = self.make()

        def work() -> None:
            for _ in range(500):
                s.incr("n")

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert s.incr("n", 0) == 4000
        assert s.get("n") == b"4000"

    def test_incr_many_and_counters_by_prefix(self) -> None:
        s = self.make()
        s.incr_many({"exp:a": 2, "exp:b": 3})
        s.incr("exp:a", 5)
        s.incr("other", 1)
        assert s.counters("exp:") == {"exp:a": 7, "exp:b": 3}

    def test_incr_of_text_is_an_error(self) -> None:
        s = self.make()
        s.set("t", b"abc")
        with pytest.raises(ValueError):
            s.incr("t")

    # -- rate limits -------------------------------------------------------------------------------
    def test_token_bucket_allows_burst_then_waits(self) -> None:
        s = self.make()
        waits = [s.take_token("k:read", 5.0, 1.0) for _ in range(6)]
        assert waits[:5] == [0.0] * 5
        assert 0.0 < waits[5] <= 0.2 + 1e-6
        assert s.take_token("other", 5.0, 1.0) == 0.0  # buckets are separate
        time.sleep(0.25)
        assert s.take_token("k:read", 5.0, 1.0) == 0.0  # refilled at 5/s
        assert all(s.take_token("k:read", 0.0, 1.0) == 0.0 for _ in range(100))  # 0 = unlimited

    # -- pub / sub ---------------------------------------------------------------------------------
    def test_publish_reaches_subscribers_until_unsubscribed(self) -> None:
        s = self.make()
        got: list[bytes] = []
        off = s.subscribe("ch", got.append)
        assert s.publish("ch", b"m1") == 1
        assert s.publish("elsewhere", b"x") == 0
        assert eventually(lambda: got == [b"m1"]), got
        off()
        s.publish("ch", b"m2")
        s.publish("ch", b"m3")
        time.sleep(0.2)  # long enough for a delivery that should not happen
        assert got == [b"m1"]

    # -- response caches ---------------------------------------------------------------------------
    def test_cache_put_get_and_invalidate_owner(self) -> None:
        s = self.make()
        heard: list[bytes] = []
        s.subscribe(INVALIDATE_CHANNEL, heard.append)
        gen = s.generation("u1")
        assert s.cache_put("recommend", "u1|home", {"items": [1]}, owner="u1", generation=gen)
        assert s.cache_put("search", "q", ["x"], owner=None, generation=s.generation(None))
        assert s.cache_get("recommend", "u1|home") == {"items": [1]}
        assert s.holds_owner("u1")
        assert s.invalidate_owner("u1") == 1
        assert s.cache_get("recommend", "u1|home") is None
        assert not s.holds_owner("u1")
        assert s.cache_get("search", "q") == ["x"]  # other owners keep theirs
        assert eventually(lambda: heard == [b"u1"]), heard

    def test_result_computed_across_an_invalidation_is_refused(self) -> None:
        s = self.make()
        gen = s.generation("u2")
        s.invalidate_owner("u2")  # an event arrived while the response was computed
        assert not s.cache_put("recommend", "k", 1, owner="u2", generation=gen)
        cat = s.generation(None)
        s.invalidate_all()  # a catalogue change
        assert not s.cache_put("search", "q", 1, owner=None, generation=cat)
        assert s.cache_get("search", "q") is None

    def test_invalidate_all_drops_everything(self) -> None:
        s = self.make()
        for i in range(5):
            s.cache_put("recommend", f"k{i}", i, owner=f"u{i}", generation=s.generation(f"u{i}"))
        s.invalidate_all()
        assert all(s.cache_get("recommend", f"k{i}") is None for i in range(5))
        assert sum(s.cache_sizes().values()) == 0

    def test_cache_entries_expire_and_are_bounded(self) -> None:
        s = self.make(cache_ttl=0.2, cache_max_entries=3)
        for i in range(5):
            s.cache_put("search", f"q{i}", i, owner=None, generation=s.generation(None))
        assert s.cache_sizes()["search"] == 3
        assert s.cache_get("search", "q0") is None  # least recently used went first
        assert s.cache_get("search", "q4") == 4
        time.sleep(0.3)
        assert s.cache_get("search", "q4") is None

    def test_caching_off_stores_nothing(self) -> None:
        s = self.make(cache_ttl=0)
        assert not s.cache_put("search", "q", 1, owner=None, generation=s.generation(None))
        assert s.cache_get("search", "q") is None

    # -- sessions and cursors ----------------------------------------------------------------------
    def test_session_state_with_ttl(self) -> None:
        s = self.make()
        assert s.session("s1") is None
        s.save_session("s1", {"items": ["a", "b"]}, ttl=0.2)
        assert s.session("s1") == {"items": ["a", "b"]}
        time.sleep(0.3)
        assert s.session("s1") is None

    def test_cursors_only_move_forward(self) -> None:
        s = self.make()
        assert [s.cursor(c) for c in CURSORS] == [0, 0, 0]
        assert s.advance_cursor("event_seq", 10) == 10
        assert s.advance_cursor("event_seq", 4) == 10
        assert s.cursor("event_seq") == 10 and s.cursor("catalogue_seq") == 0
        with pytest.raises(ValueError):
            s.advance_cursor("nope", 1)
