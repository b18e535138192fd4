"""What each replica keeps a copy of (experiment definitions, API keys) is read again when another replica
changes it: :class:`~shelfwise.api.components.Broadcast` over a shared online state, and the reloads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shelfwise.api.auth import KeyRing
from shelfwise.api.components import Broadcast
from shelfwise.experiments.config import Experiment, Variant
from shelfwise.experiments.registry import ExperimentRegistry
from shelfwise.online import OnlineState, open_online_state
from shelfwise.storage import Store, open_store
from tests.online.contract import eventually
from tests.online.redis_server import REDIS_URL, delete_prefix, needs_redis, new_prefix


@pytest.fixture()
def two_states() -> Iterator[tuple[OnlineState, OnlineState]]:
    prefix = new_prefix()
    a = open_online_state(f"{REDIS_URL}?prefix={prefix}")
    b = open_online_state(f"{REDIS_URL}?prefix={prefix}")
    yield a, b
    a.close()
    b.close()
    delete_prefix(prefix)


@needs_redis
def test_a_change_is_heard_by_the_other_replica_only(two_states: tuple[OnlineState, OnlineState]) -> None:
    a, b = (Broadcast(s) for s in two_states)
    heard = {"a": threading.Event(), "b": threading.Event()}
    a.follow("keys.changed", heard["a"].set)
    b.follow("keys.changed", heard["b"].set)
    a.changed("keys.changed")
    assert heard["b"].wait(5)
    assert not heard["a"].wait(0.3)  # a made the change: nothing to read again


def test_keys_and_experiments_are_read_again_from_the_store(tmp_path: Path) -> None:
    store: Store
    with open_store(tmp_path / "shop") as store:
        mine, other = KeyRing(store=store), KeyRing(store=store)
        token, record = mine.create("ops", ["read"])
        assert other.verify(token) is None  # a copy made before the change
        other.reload()
        assert other.verify(token) == record
        mine.revoke(record.key_id)
        other.reload()
        assert other.verify(token) is None

        told: list[str] = []
        ours = ExperimentRegistry(store, on_change=lambda: told.append("changed"))
        theirs = ExperimentRegistry(store)
        variants = [Variant(name="a", share=0.5), Variant(name="b", share=0.5)]
        ours.create(Experiment(name="exp1", variants=variants))
        assert told == ["changed"] and theirs.get("exp1") is None
        theirs.reload()
        assert theirs.get("exp1") is not None


@needs_redis
def test_keyring_changes_reach_the_other_replica_through_redis(
    tmp_path: Path, two_states: tuple[OnlineState, OnlineState]
) -> None:
    with open_store(tmp_path / "shop") as store:
        rings = []
        for online in two_states:  # what build_services does for each replica
            ring, broadcast = KeyRing(store=store), Broadcast(online)
            ring.on_change = lambda b=broadcast: b.changed("keys.changed")
            broadcast.follow("keys.changed", ring.reload)
            rings.append(ring)
        token, record = rings[0].create("ops", ["read"])
        assert eventually(lambda: rings[1].verify(token) == record, 5)
        rings[0].revoke(record.key_id)
        assert eventually(lambda: rings[1].verify(token) is None, 5)
