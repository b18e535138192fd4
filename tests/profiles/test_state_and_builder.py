"""Batch build == replaying events one by one; the online update is order-safe and rebase-invisible."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.data.synthetic import SyntheticShop
from shelfwise.profiles import (
    ItemCatalog,
    ProfileConfig,
    ProfileEvent,
    ProfileReader,
    ProfileUpdater,
    UserState,
)
from shelfwise.profiles.builder import build_states, replay_states
from shelfwise.profiles.explain import profile_json
from shelfwise.profiles.vectors import short_term_vector


def assert_same_state(a: UserState, b: UserState, updater: ProfileUpdater) -> None:
    """Equal derived values (anchors may differ: batch anchors at the last event, replay at the first)."""
    assert (a.n_events, a.type_counts, a.sessions, a.active_days) == (
        b.n_events,
        b.type_counts,
        b.sessions,
        b.active_days,
    )
    assert (a.first_ts, a.last_ts, a.last_session, a.priced_purchases, a.rating_n) == (
        b.first_ts,
        b.last_ts,
        b.last_session,
        b.priced_purchases,
        b.rating_n,
    )
    assert a.monetary == pytest.approx(b.monetary) and a.rating_sum == pytest.approx(b.rating_sum)
    assert list(a.recent) == list(b.recent)
    va, vb = a.long_vector(), b.long_vector()
    assert (va is None) == (vb is None)
    if va is not None and vb is not None:
        np.testing.assert_allclose(va, vb, atol=1e-5)
    assert a.anchor is not None and b.anchor is not None
    # anchored sums differ by the factor 2**((a.anchor - b.anchor) / H); compare them rescaled
    h = updater.config.long_half_life_seconds
    f = 2.0 ** ((a.anchor - b.anchor) / h)
    assert a.weight * f == pytest.approx(b.weight, rel=1e-9)
    for key in ("categories", "brands"):
        da, db = getattr(a, key), getattr(b, key)
        assert set(da) == set(db)
        assert all(da[k] * f == pytest.approx(db[k], rel=1e-9) for k in da)
    for key in ("lifetime_categories", "lifetime_brands"):  # not decayed: equal as they are
        da, db = getattr(a, key), getattr(b, key)
        assert set(da) == set(db) and all(da[k] == pytest.approx(db[k], rel=1e-9) for k in da)
    assert a.stages == b.stages
    assert set(a.lifetime_price) == set(b.lifetime_price)
    assert all(a.lifetime_price[k] == pytest.approx(b.lifetime_price[k], rel=1e-9) for k in a.lifetime_price)
    np.testing.assert_allclose(np.asarray(a.price_hist) * f, b.price_hist, rtol=1e-9, atol=1e-300)
    assert set(a.price_by_cat) == set(b.price_by_cat)
    for k, (s, w) in a.price_by_cat.items():
        assert s / w == pytest.approx(b.price_by_cat[k][0] / b.price_by_cat[k][1], rel=1e-9)
    now = max(a.last_ts or 0.0, b.last_ts or 0.0) + 3600
    h_act = updater.config.activity_half_lives_days
    assert a.activity_at(now, h_act) == pytest.approx(b.activity_at(now, h_act), rel=1e-9)


def test_batch_build_equals_replay_on_the_synthetic_shop(shop: SyntheticShop, catalog: ItemCatalog) -> None:
    up = ProfileUpdater(catalog)
    batch = build_states(shop.dataset.events, up)
    replay = replay_states(shop.dataset.events, up)
    assert set(batch) == set(replay) == set(shop.truth)
    for user in batch:
        assert_same_state(batch[user], replay[user], up)
    reader = ProfileReader(catalog)
    for user in list(batch)[:20]:  # the readable profiles are equal too
        a, b = (
            profile_json(reader.profile(user, batch[user])),
            profile_json(reader.profile(user, replay[user])),
        )
        assert a == b


def test_live_updates_continue_a_batch_build(shop: SyntheticShop, catalog: ItemCatalog) -> None:
    """Batch-build the first 70% of events, apply the rest one by one: same as a batch build of all."""
    events = shop.dataset.events
    ts = events.column("timestamp").to_numpy()
    cut = float(np.quantile(ts, 0.7))
    up = ProfileUpdater(catalog)
    states = build_states(events, up, until=cut)
    later = events.filter(pa.compute.greater_equal(events.column("timestamp"), int(np.ceil(cut))))
    replay_states(later, up, states=states)
    full = build_states(events, up)
    assert set(states) == set(full)
    for user in full:
        assert_same_state(states[user], full[user], up)


def test_taobao_batch_equals_replay() -> None:
    from tests.conftest import require_data

    folder = require_data("taobao-userbehavior")
    from shelfwise.data.datasets import load_dataset

    ds = load_dataset("taobao-userbehavior", folder.parent)
    assert ds.events is not None and ds.items is not None
    users = sorted(set(ds.events.column("user_id").to_pylist()))[:120]
    events = ds.events.filter(pa.compute.is_in(ds.events.column("user_id"), pa.array(users)))
    up = ProfileUpdater(ItemCatalog.from_items(ds.items))
    batch, replay = build_states(events, up), replay_states(events, up)
    for user in users:
        assert_same_state(batch[user], replay[user], up)


def test_long_term_sums_do_not_depend_on_arrival_order(catalog: ItemCatalog) -> None:
    up = ProfileUpdater(catalog, ProfileConfig(long_half_life_days=1.0))
    rng = np.random.default_rng(0)
    events = [
        ProfileEvent(int(rng.integers(len(catalog))), "view", float(t))
        for t in rng.integers(0, 10 * 86_400, 50)
    ]
    in_order, shuffled = up.new_state(), up.new_state()
    for ev in sorted(events, key=lambda e: e.timestamp):
        up.apply(in_order, ev)
    for i in rng.permutation(len(events)):
        up.apply(shuffled, events[i])
    v1, v2 = in_order.long_vector(), shuffled.long_vector()
    assert v1 is not None and v2 is not None
    np.testing.assert_allclose(v1, v2, atol=1e-6)
    f = 2.0 ** ((in_order.anchor - shuffled.anchor) / up.config.long_half_life_seconds)  # type: ignore[operator]
    assert in_order.categories.keys() == shuffled.categories.keys()
    assert all(
        in_order.categories[k] * f == pytest.approx(shuffled.categories[k]) for k in in_order.categories
    )


def test_rebasing_is_invisible(catalog: ItemCatalog) -> None:
    """Events 200 half-lives apart force rebases; the result equals the closed-form decayed mean."""
    cfg = ProfileConfig(long_half_life_days=1.0, activity_half_lives_days=(1.0, 7.0))
    up = ProfileUpdater(catalog, cfg)
    st = up.new_state()
    items, times = [0, 1, 2, 3], [0.0, 100 * 86_400.0, 150 * 86_400.0, 200 * 86_400.0]
    for i, t in zip(items, times, strict=True):
        up.apply(st, ProfileEvent(i, "purchase", t))
    assert st.anchor == times[-1]  # rebased
    assert catalog.vectors is not None
    w = np.exp2((np.asarray(times) - times[-1]) / 86_400.0)
    expected = (w[:, None] * catalog.vectors[items]).sum(0) / w.sum()
    got = st.long_vector()
    assert got is not None
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_purchase_weighs_more_than_view_and_low_ratings_count_zero(catalog: ItemCatalog) -> None:
    up = ProfileUpdater(catalog)
    st = up.new_state()
    up.apply(st, ProfileEvent(0, "view", 0.0))
    up.apply(st, ProfileEvent(1, "purchase", 1.0))
    up.apply(st, ProfileEvent(2, "rating", 2.0, value=1.0))  # a one-star rating: no interest
    assert catalog.vectors is not None
    expected = (catalog.vectors[0] + 5 * catalog.vectors[1]) / 6  # same anchor within seconds: ~no decay
    got = st.long_vector()
    assert got is not None
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert st.rating_n == 1 and st.n_events == 3


def test_short_term_vector_follows_the_latest_session(catalog: ItemCatalog) -> None:
    up = ProfileUpdater(catalog)
    st = up.new_state()
    for k in range(10):
        up.apply(st, ProfileEvent(0, "view", float(k)))
    up.apply(st, ProfileEvent(5, "view", 2 * 86_400.0))  # a day later, a new session
    assert st.sessions == 2 and st.active_days == 2
    short = short_term_vector(st, catalog, up.config)
    assert catalog.vectors is not None and short is not None
    assert float(short @ catalog.vectors[5]) > 0.99 * float(
        np.linalg.norm(short) * np.linalg.norm(catalog.vectors[5])
    )
