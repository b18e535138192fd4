"""The in-process online state passes the contract."""

from __future__ import annotations

import pytest

from shelfwise.online import MemoryOnlineState, OnlineState, open_online_state
from tests.online.contract import OnlineStateContract


class TestMemoryOnlineState(OnlineStateContract):
    def make(self, cache_ttl: float = 30.0, cache_max_entries: int = 1000) -> OnlineState:
        return MemoryOnlineState(cache_ttl=cache_ttl, cache_max_entries=cache_max_entries)


def test_open_online_state_names_what_is_known() -> None:
    assert isinstance(open_online_state("memory://"), MemoryOnlineState)
    with pytest.raises(ValueError, match=r"memory://.*redis://"):
        open_online_state("memcached://localhost")
