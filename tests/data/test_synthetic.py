from __future__ import annotations

from collections import Counter

from shelfwise.data.synthetic import PRICE_BANDS, SyntheticShop, make_event_table, make_shop


def test_users_behave_by_their_latent_tastes(shop: SyntheticShop) -> None:
    items = shop.dataset.items.to_pylist()
    category = {i["item_id"]: i["category"] for i in items}
    price = {i["item_id"]: i["price"] for i in items}
    events = [e for e in shop.dataset.events.to_pylist() if e["type"] == "view"]
    by_user: dict[str, list[str]] = {}
    for e in events:
        by_user.setdefault(e["user_id"], []).append(e["item_id"])
    top_hits = band_hits = 0
    for user, seen in by_user.items():
        truth = shop.truth[user]
        top = Counter(category[i] for i in seen).most_common(1)[0][0]
        top_hits += top in truth.categories
        lo, hi = PRICE_BANDS[truth.price_band]
        band_hits += sum(lo <= price[i] <= hi for i in seen) / len(seen) > 1 / len(PRICE_BANDS)
    assert top_hits / len(by_user) > 0.9
    assert band_hits / len(by_user) > 0.8


def test_generation_is_seeded() -> None:
    a = make_shop(n_users=20, n_items=50, n_events=300, seed=1)
    b = make_shop(n_users=20, n_items=50, n_events=300, seed=1)
    c = make_shop(n_users=20, n_items=50, n_events=300, seed=2)
    assert a.dataset.events.equals(b.dataset.events) and a.truth == b.truth
    assert not a.dataset.events.equals(c.dataset.events)


def test_event_table_has_canonical_columns_and_funnel_mix() -> None:
    table = make_event_table(10_000, seed=0)
    types = Counter(table.column("type").to_pylist())
    assert set(types) == {"view", "click", "add_to_cart", "purchase"}
    assert types["view"] > types["click"] > types["add_to_cart"] > types["purchase"]
    assert table.column("value").null_count == 10_000 - types["purchase"]
