"""The feature state: the batch build equals replaying events one by one; save / load keeps everything."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.encoded.data import RecommendData
from shelfwise.encoded.interactions import IdIndex
from shelfwise.ranking import EventBatch, FeatureState, ItemAttributes, StateEvent, fit_state
from shelfwise.ranking.events import TYPE_INDEX


def _events() -> EventBatch:
    # user 0: view a, cart a, purchase a, view b, view a ; user 1: view b, view c (days apart), rate c 4 stars
    return EventBatch.from_events(
        [
            StateEvent(0, 0, "view", 0.0),
            StateEvent(0, 0, "add_to_cart", 5.0),
            StateEvent(0, 0, "purchase", 10.0),
            StateEvent(0, 1, "view", 20.0),
            StateEvent(0, 0, "view", 30.0),
            StateEvent(1, 1, "view", 40.0),
            StateEvent(1, 2, "view", 40.0 + 3 * 86_400),
            StateEvent(1, 2, "rating", 50.0 + 3 * 86_400, 4.0),
        ]
    )


def _attrs() -> ItemAttributes:
    return ItemAttributes.from_table(
        pa.table({"item_id": ["a", "b", "c"], "category": ["X", "X", "Y"], "price": [1.0, 2.0, None]})
    )


def test_item_counts_and_times_match_hand_computed_values() -> None:
    st = FeatureState.from_batch(_events(), _attrs(), n_users=2)
    v, buy = TYPE_INDEX["view"], TYPE_INDEX["purchase"]
    assert st.items.counts[:, v].tolist() == [2.0, 2.0, 1.0]
    assert st.items.counts[0, buy] == 1.0
    assert st.items.first_time[0] == 0.0 and st.items.last_time[2] == 50.0 + 3 * 86_400
    assert st.items.rating_sum[2] == 4.0 and st.items.rating_n[2] == 1.0
    assert st.items.category_counts[0].sum() == 6.0  # category X: 4 events on a, 2 on b
    assert st.now == 50.0 + 3 * 86_400
    # decayed counts: item c's two events are at the end, item a's four are 3 days older (half-life 7 days)
    trend = st.items.trend_at(np.array([0, 2]), st.now)
    assert trend[1] == pytest.approx(2.0, abs=1e-3)
    assert trend[0] == pytest.approx(4 * 2 ** (-3 * 86_400 / (7 * 86_400)), rel=1e-3)


def test_funnel_and_transitions_match_hand_computed_values() -> None:
    st = FeatureState.from_batch(_events(), _attrs(), n_users=2)
    counts, first, last = st.funnel.lookup(0, np.array([0, 1, 2]))
    assert counts[0, TYPE_INDEX["add_to_cart"]] == 1.0 and counts[0, TYPE_INDEX["view"]] == 2.0
    assert first.tolist()[:2] == [0.0, 20.0] and last[0] == 30.0 and np.isnan(last[2])
    # streams: user 0 a a a b a -> a->b, b->a ; user 1 b c c -> b->c
    t = st.transitions.counts(np.array([0, 1]), np.array([0, 1, 2]))
    assert t.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    assert st.transitions.out_degree.tolist() == [1.0, 2.0, 0.0]
    assert st.transitions.in_degree.tolist() == [1.0, 1.0, 1.0]
    back = st.transitions.counts(np.array([0, 1]), np.array([0, 1, 2]), reverse=True)
    assert back.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # how often a (b) followed each item
    assert st.transitions.last_item.tolist() == [0, 2]


def _same(a: FeatureState, b: FeatureState) -> None:
    for name, arr in a.items.arrays().items():
        if name != "trend" and name != "anchor":
            np.testing.assert_allclose(arr, b.items.arrays()[name], equal_nan=True)
    items = np.arange(a.n_items)
    np.testing.assert_allclose(a.items.trend_at(items, a.now), b.items.trend_at(items, a.now), rtol=1e-6)
    for u in range(a.funnel.n_users):
        for x, y in zip(a.funnel.lookup(u, items), b.funnel.lookup(u, items), strict=True):
            np.testing.assert_allclose(x, y, equal_nan=True)
    np.testing.assert_allclose(a.funnel.user_counts, b.funnel.user_counts)
    np.testing.assert_allclose(a.transitions.counts(items, items), b.transitions.counts(items, items))
    np.testing.assert_allclose(
        a.transitions.counts(items, items, reverse=True), b.transitions.counts(items, items, reverse=True)
    )
    np.testing.assert_array_equal(a.transitions.last_item, b.transitions.last_item)
    np.testing.assert_allclose(a.transitions.out_degree, b.transitions.out_degree)
    np.testing.assert_allclose(a.transitions.in_degree, b.transitions.in_degree)


def test_batch_build_equals_replay_and_incremental_fit(loo_data: RecommendData) -> None:
    batch = EventBatch.from_table(
        loo_data.split.table, loo_data.ranking.users, loo_data.ranking.items, np.sort(loo_data.split.train)
    )
    attrs = ItemAttributes.from_table(loo_data.items)
    batch_state = FeatureState.from_batch(batch, attrs, loo_data.n_users)
    replay = FeatureState(attrs, loo_data.n_users)
    for event in batch:
        replay.update(event)
    _same(batch_state, replay)
    half = len(batch) // 2
    incremental = FeatureState(attrs, loo_data.n_users)
    incremental.fit(batch.take(np.arange(half)))
    incremental.fit(batch.take(np.arange(half, len(batch))))
    _same(batch_state, incremental)


def test_save_load_round_trip(loo_data: RecommendData, tmp_path: Path) -> None:
    st = fit_state(loo_data)
    st.update(StateEvent(0, 1, "view", st.now + 60.0))  # an online event still in the overlay
    st.save(tmp_path)
    back = FeatureState.load(tmp_path)
    _same(st, back)
    assert back.now == st.now and back.attributes.categories == st.attributes.categories


def test_event_batch_encodes_ids_and_drops_unknowns() -> None:
    t = pa.table(
        {
            "user_id": ["u", "u", "v", "u"],
            "item_id": ["a", "zz", "a", "b"],
            "type": ["view", "view", "view", "bogus"],
            "timestamp": [3, 1, 2, 0],
        }
    )
    b = EventBatch.from_table(t, IdIndex.from_values(["u"]), IdIndex.from_values(["a", "b"]))
    assert b.users.tolist() == [0] and b.items.tolist() == [0] and b.times.tolist() == [3.0]
