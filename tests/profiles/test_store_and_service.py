from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.profiles import ColdStartContext, ItemCatalog, ProfileConfig, ProfileService, SegmentConfig
from shelfwise.storage import Store

from .test_state_and_builder import assert_same_state


def test_build_from_store_persist_reload_and_continue(
    store: Store, shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
    svc = ProfileService(catalog)
    assert svc.rebuild_from_store(store) == len(shop.truth)
    assert svc.flush(store, with_snapshot=True) == len(shop.truth)
    rows = store.read_profiles(["u1"])
    assert rows.num_rows == 1 and len(rows.column("vector")[0]) == catalog.dim
    stored = json.loads(rows.column("profile")[0].as_py())
    assert stored["profile"]["user_id"] == "u1" and stored["state"]["n_events"] > 0
    reloaded = ProfileService(catalog)
    assert reloaded.load(store) == len(shop.truth)
    for user in ("u1", "u7"):
        assert_same_state(svc.states[user], reloaded.states[user], svc.updater)
    # keep updating after a reload: same as replaying everything including the new event
    reloaded.apply_event("u1", "i3", "purchase", 1_800_000_000.0)
    svc.apply_event("u1", "i3", "purchase", 1_800_000_000.0)
    assert_same_state(svc.states["u1"], reloaded.states["u1"], svc.updater)
    assert reloaded.flush(store) == 1  # only the changed profile is written


def test_profile_json_holds_no_free_text(catalog: ItemCatalog, shop: SyntheticShop) -> None:
    svc = ProfileService(catalog)
    svc.rebuild(shop.dataset.events)
    secret = "my neighbour Jane Doe loves this lovely scent"
    svc.apply_event("u2", "i1", "review", 1_800_000_000.0, value=5.0, review_text=secret)
    out = svc.profile_json("u2")
    text = json.dumps(out)
    assert "Jane" not in text and "neighbour" not in text
    assert out["reviews"]["reviews"] == 1 and out["reviews"]["aspects"][0]["aspect"] == "scent"
    assert out["summary"] and out["explanations"][0] == out["summary"]


def test_cold_start_uses_first_item_query_and_segment_prior(
    shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    cfg = ProfileConfig(segments=SegmentConfig(k_min=3, k_max=6, silhouette_sample=400, n_init=1))
    svc = ProfileService(catalog, cfg)
    svc.rebuild(shop.dataset.events)
    model = svc.fit_segments()
    empty = svc.profile("nobody")  # no context at all: the largest segment's prior
    assert empty.cold_start and empty.categories and empty.segment is not None
    sizes = [s["size"] for s in model.stats]
    assert empty.segment == int(np.argmax(sizes))
    item = "i0"
    item_cat = (
        shop.dataset.items.filter(pa.compute.equal(shop.dataset.items.column("item_id"), item))
        .column("category")[0]
        .as_py()
    )
    first = svc.cold_start(ColdStartContext(first_item=item, timestamp=1.0))
    assert first.categories[0][0] == item_cat and "first item" in first.sources and first.cold_start
    assert catalog.vectors is not None
    query = svc.cold_start(
        ColdStartContext(query_vector=catalog.vectors[int(catalog.index_of(item))], timestamp=1.0)
    )
    assert "query" in query.sources and query.long_vector is not None
    v = svc.interest_vector("nobody", context=ColdStartContext(query_vector=catalog.vectors[0]))
    assert v is not None and float(v @ catalog.vectors[0]) > 0.9


def test_models_roundtrip_through_artifacts(store: Store, shop: SyntheticShop, catalog: ItemCatalog) -> None:
    from shelfwise.profiles import ChurnModel
    from shelfwise.profiles.churn import FEATURE_NAMES, feature_matrix

    cfg = ProfileConfig(segments=SegmentConfig(k_min=3, k_max=4, silhouette_sample=300, n_init=1))
    svc = ProfileService(catalog, cfg)
    svc.rebuild(shop.dataset.events)
    assert svc.load_models(store) == []  # nothing saved yet
    svc.fit_segments()
    states = list(svc.states.values())
    now = max(s.last_ts or 0.0 for s in states)
    X = feature_matrix(states, now)
    svc.reader.churn = ChurnModel.fit(
        X, (np.arange(len(states)) % 2).astype(int), feature_names=FEATURE_NAMES
    )
    assert svc.save_models(store) == ["profile-segments", "profile-churn"]
    other = ProfileService(catalog, cfg)
    other.states = svc.states
    assert other.load_models(store) == ["profile-segments", "profile-churn"]
    assert other.profile_json("u1") == svc.profile_json("u1")
    assert other.segments_json() == svc.segments_json()
