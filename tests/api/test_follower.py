"""Two services on one store folder (two store handles, as two workers would have) converge through the follower,
and a fresh service replays what the profile flush had not written. No HTTP: the follower is polled by hand, so
each step is deterministic; ``test_restart.py`` covers the same through real processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shelfwise.api.components import build_services, load, stop
from shelfwise.api.services import Services


@pytest.fixture()
def store_dir(api_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(api_store, copy)
    return copy


@pytest.fixture()
def open_services(store_dir: Path) -> Iterator[Any]:
    from shelfwise.config import load_settings
    from shelfwise.storage import open_store

    made: list[tuple[Services, Any]] = []
    # no background flush: the tests flush (or not) themselves
    settings = load_settings(
        store_dir / "shelfwise.toml", environ={}, overrides=["api.impression_flush_seconds=3600"]
    )

    def make() -> Services:
        store = open_store(store_dir, create=False)
        svc = build_services(settings, store)
        load(svc, follow=False)
        assert svc.ready, svc.components
        made.append((svc, store))
        return svc

    yield make
    for svc, store in made:
        stop(svc)
        store.close()


def _a_viewed_item(svc: Services) -> tuple[str, str]:
    from collections import Counter

    counts = Counter(svc.store.read_events(["item_id"]).column("item_id").to_pylist())
    item = next(i for i, _ in counts.most_common() if svc.item_facts.get(i, (None,))[0])
    return item, svc.item_facts[item][0]


def _feed(svc: Services, user: str) -> Any:
    from shelfwise.recommend import RecommendRequest

    return svc.serving.recommend(RecommendRequest(user_id=user, slot="home", k=10))


def test_an_event_written_by_one_service_reaches_the_other(open_services: Any) -> None:
    a, b = open_services(), open_services()
    item, title = _a_viewed_item(a)
    user = "follow-" + os.urandom(4).hex()
    assert _feed(b, user).response.fallback is not None  # b caches the stranger's fallback list
    assert _feed(b, user).cached
    out = a.feedback.ingest_events([{"user_id": user, "item_id": item, "type": "view"}])
    assert out.accepted == 1
    assert a.follower is not None and b.follower is not None
    assert a.follower.poll()["events"] == 0  # a applied its own event on write: not twice
    assert a.profiles is not None and a.profiles.states[user].n_events == 1
    assert b.follower.poll()["events"] == 1
    assert b.profiles is not None and b.profiles.states[user].n_events == 1
    served = _feed(b, user)
    assert not served.cached  # the follower dropped b's cached list
    assert served.response.fallback is None
    assert any(title in (i.reason or "") for i in served.response.items)
    assert b.follower.poll()["events"] == 0  # nothing new: nothing applied
    assert b.online.cursor("event_seq") == b.store.max_event_seq()


def test_a_catalogue_change_and_a_deletion_reach_the_other(open_services: Any) -> None:
    from shelfwise.search import SearchRequest

    a, b = open_services(), open_services()
    item, _ = _a_viewed_item(a)
    new = {
        "item_id": "follow-item-1",
        "title": "Quixotic Marigold Follower Balm",
        "brand": "Quixotica",
        "category": "Beauty > Skin Care > Quixotic Balms",
        "price": 9.5,
    }
    assert a.feedback.upsert_items([new]).accepted == 1
    assert a.follower is not None and b.follower is not None
    assert a.follower.poll()["items"] == 0
    assert b.search is not None
    query = SearchRequest(query="quixotic marigold balm", k=5)
    assert "follow-item-1" not in [h.item_id for h in b.search.search(query).results]
    assert b.follower.poll()["items"] == 1
    assert "follow-item-1" in [h.item_id for h in b.search.search(query).results]
    assert b.item_facts["follow-item-1"][1] == "Quixotica"

    user = "forget-" + os.urandom(4).hex()
    a.feedback.ingest_events([{"user_id": user, "item_id": item, "type": "purchase"}])
    b.follower.poll()
    _feed(b, user)
    assert b.profiles is not None and user in b.profiles.states and b.caches.holds_owner(user)
    assert a.feedback.delete_user(user)["deleted"]
    assert a.follower.poll()["deletions"] == 0
    assert b.follower.poll()["deletions"] == 1
    assert user not in b.profiles.states
    assert not b.caches.holds_owner(user)


def test_a_new_service_replays_events_the_profile_flush_had_not_written(open_services: Any) -> None:
    a = open_services()
    item, _ = _a_viewed_item(a)
    flushed, unflushed = "flushed-" + os.urandom(4).hex(), "unflushed-" + os.urandom(4).hex()
    a.feedback.ingest_events([{"user_id": flushed, "item_id": item, "type": "view"}])
    assert a.follower is not None
    a.follower.poll()
    assert a.feedback.flush()["profiles"] >= 1  # written with the cursor it includes
    a.feedback.ingest_events(
        [{"user_id": unflushed, "item_id": item, "type": t} for t in ("view", "add_to_cart")]
        + [{"user_id": flushed, "item_id": item, "type": "click"}]
    )
    c = open_services()  # as after a kill -9: the second batch is only in the events table
    assert c.profiles is not None
    assert c.profiles.states[unflushed].n_events == 2
    assert c.profiles.states[flushed].n_events == 2  # the flushed view once, the later click once
