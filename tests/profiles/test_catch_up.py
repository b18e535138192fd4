"""Profiles after the catalogue grew (segments read it by name) and after a restart (events stored
after the last flush are folded in once)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.profiles import ItemCatalog, ProfileConfig, ProfileService, SegmentConfig
from shelfwise.storage import Store

from .conftest import item_vectors
from .test_state_and_builder import assert_same_state

CFG = ProfileConfig(segments=SegmentConfig(k_min=3, k_max=5, silhouette_sample=300, n_init=1))


def _grown(shop: SyntheticShop) -> tuple[ItemCatalog, pa.Table]:
    """The shop's catalogue plus two items of a category and a brand that sort first (every existing
    category and brand code shifts by one)."""
    items = shop.dataset.items
    extra = pa.table(
        {
            "item_id": ["new-a", "new-b"],
            "category": ["AAA Brand New Category", "AAA Brand New Category"],
            "brand": ["AAA New Brand", "AAA New Brand"],
            "price": [10.0, 12.0],
        }
    )
    cols = ["item_id", "category", "brand", "price"]
    table = pa.concat_tables([items.select(cols), extra.cast(items.select(cols).schema)])
    vecs, ids = item_vectors(shop)
    vecs = np.vstack([vecs, np.ones((2, vecs.shape[1]), np.float32)])
    return ItemCatalog.from_items(table, vecs, [*ids, "new-a", "new-b"]), table


def test_segments_read_a_grown_catalogue_by_name(
    store: Store, shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    old = ProfileService(catalog, CFG)
    old.rebuild(shop.dataset.events)
    old.fit_segments()
    old.save_models(store)
    grown_catalog, _ = _grown(shop)
    assert grown_catalog.categories[0] == "AAA Brand New Category"  # codes shifted
    grown = ProfileService(grown_catalog, CFG)
    grown.rebuild(shop.dataset.events)
    assert grown.load_models(store) == ["profile-segments"]
    users = sorted(old.states)[:40]
    for user in users:  # same tastes, same segment and prior, whatever the codes are now
        a, b = old.profile(user), grown.profile(user)
        assert a.segment == b.segment
        assert a.categories == b.categories and a.brands == b.brands
    grown.apply_event(users[0], "new-a", "purchase", 1_900_000_000.0)  # a taste the model never saw
    prof = grown.profile(users[0])
    assert prof.segment is not None
    assert any(name == "AAA Brand New Category" for name, _ in prof.categories)


def test_restart_folds_in_events_stored_after_the_last_flush(
    store: Store, shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    ing = Ingestor(store, load_settings(environ={}))
    ing.ingest_dataset(shop.dataset)
    first = ProfileService(catalog)
    first.rebuild_from_store(store)
    first.flush(store)
    assert first.event_seq == store.max_event_seq()
    last = pc.max(store.read_events(["timestamp"]).column("timestamp")).as_py().timestamp()
    later = [
        {
            "event_id": f"late-{k}",
            "user_id": "u3",
            "item_id": f"i{k}",
            "type": "purchase",
            "timestamp": int(last) + 60 * (k + 1),
        }
        for k in range(4)
    ]
    ing.ingest_table(later, "events")  # stored, but the process died before any flush
    restarted = ProfileService(catalog)
    restarted.load(store)
    assert restarted.catch_up(store) == 4
    assert restarted.catch_up(store) == 0  # once
    truth = ProfileService(catalog)
    truth.rebuild_from_store(store)
    for user in ("u3", "u5"):
        assert_same_state(truth.states[user], restarted.states[user], truth.updater)
    assert restarted.states["u3"].n_events == first.states["u3"].n_events + 4


def test_events_applied_live_and_flushed_are_not_replayed(
    store: Store, shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    """The write path stores an event and applies it (without knowing its seq), the profile is flushed,
    the process restarts: the event is in the profile once."""
    ing = Ingestor(store, load_settings(environ={}))
    ing.ingest_dataset(shop.dataset)
    live = ProfileService(catalog)
    live.rebuild_from_store(store)
    live.flush(store)
    t = pc.max(store.read_events(["timestamp"]).column("timestamp")).as_py().timestamp() + 60
    ing.ingest_table(
        [{"event_id": "w1", "user_id": "u4", "item_id": "i2", "type": "view", "timestamp": int(t)}], "events"
    )
    live.apply_event("u4", "i2", "view", float(int(t)))
    live.flush(store)
    restarted = ProfileService(catalog)
    restarted.load(store)
    assert restarted.catch_up(store) == 0
    assert restarted.states["u4"].n_events == live.states["u4"].n_events


def test_cli_profile_after_a_new_brand_and_category(tmp_path: Path) -> None:
    """`shelfwise profile` after a new brand and category reached the catalogue (and the shopper bought
    it) answers instead of crashing on the segment model fitted before."""
    from typer.testing import CliRunner

    from shelfwise.cli import app
    from shelfwise.demo import run_demo
    from shelfwise.profiles.pipeline import build_profiles
    from shelfwise.storage import open_store

    path = tmp_path / "demo"
    run_demo(path)
    with open_store(path) as st:
        quick = ["profiles.segments.k_max=4", "profiles.segments.n_init=1"]
        report = build_profiles(st, load_settings(environ={}, overrides=quick))
        assert report["segments"] > 0
        user = sorted(st.read_profiles().column("user_id").to_pylist())[0]
        t = pc.max(st.read_events(["timestamp"]).column("timestamp")).as_py().timestamp() + 60
        ing = Ingestor(st, load_settings(environ={}))
        ing.ingest_table(
            [
                {
                    "item_id": "CRIMSON-1",
                    "title": "Crimson Velvet Red Lipstick",
                    "brand": "Aardvark Beauty",
                    "category": "AAA Makeup > Lipstick",
                    "price": 14.0,
                }
            ],
            "items",
        )
        ing.ingest_table(
            [
                {
                    "event_id": "cli-1",
                    "user_id": user,
                    "item_id": "CRIMSON-1",
                    "type": "purchase",
                    "timestamp": int(t),
                }
            ],
            "events",
        )
    result = CliRunner().invoke(app, ["profile", user, "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["segment"] is not None
    assert "Aardvark Beauty" in json.dumps(payload)  # the purchase after the last flush is in the profile
