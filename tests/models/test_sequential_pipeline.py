"""From a store's tables to a versioned artifact and back: what ``shelfwise train`` and serving call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.data.synthetic import SyntheticShop
from shelfwise.models.sequential import SequentialConfig
from shelfwise.models.sequential.pipeline import (
    load_artifact,
    save_artifact,
    sequence_events,
    train_from_tables,
)
from shelfwise.storage.artifacts import ArtifactStore
from tests.models.conftest import TINY, ShopData


def test_sequence_events_filters_orders_and_collapses_repeats() -> None:
    events = pa.table(
        {
            "user_id": ["u", "u", "u", "u", "v", "u"],
            "item_id": ["a", "a", None, "b", "a", "a"],
            "type": ["view", "add_to_cart", "search", "view", "view", "purchase"],
            "timestamp": [1, 2, 3, 4, 1, 5],
        }
    )
    out = sequence_events(events)
    assert list(zip(out.column("user_id").to_pylist(), out.column("item_id").to_pylist(), strict=True)) == [
        ("u", "a"),
        ("u", "b"),
        ("u", "a"),
        ("v", "a"),
    ]
    views = sequence_events(events, types=["view"], collapse_repeats=False)
    assert views.column("item_id").to_pylist() == ["a", "b", "a"]


def test_train_save_load_serve_by_external_ids(
    shop: SyntheticShop, shop_data: ShopData, tmp_path: Path
) -> None:
    events, items = shop.dataset.events, shop.dataset.items
    assert events is not None
    ids = sorted(set(events.column("item_id").to_pylist()))
    rows = {i: k for k, i in enumerate(shop_data.data.items.ids)}
    vectors = shop_data.text[[rows[i] for i in ids]]  # stand-in text vectors, sorted-id order
    config = SequentialConfig.model_validate({**TINY, "epochs": 3})
    model = train_from_tables(events, items, config, item_vectors=vectors, show_progress=False)
    assert model.item_ids is not None and model.item_ids.tolist() == ids
    assert len(model.user_sequences) == len(shop.truth)
    assert model.user_ids is not None and sorted(model.user_ids.tolist()) == sorted(shop.truth)
    assert model.report["best_valid"]["ndcg@10"] > 0

    store = ArtifactStore(tmp_path / "artifacts")
    artifact = save_artifact(model, store, data="synthetic")
    assert artifact.version == 1 and artifact.manifest["data"] == "synthetic"
    assert artifact.manifest["config"]["item_embedding"] == "text+id"
    loaded = load_artifact(store)
    assert loaded.user_ids is not None and loaded.user_ids.tolist() == model.user_ids.tolist()
    recent = loaded.encode_items(["i3", "i17", "i5"])
    assert (recent >= 0).all()
    np.testing.assert_array_equal(loaded.score_sequences([recent]), model.score_sequences([recent]))
    (artifact.path / "item_counts.npy").write_bytes(b"broken")
    with pytest.raises(ValueError, match="damaged"):
        load_artifact(store)
