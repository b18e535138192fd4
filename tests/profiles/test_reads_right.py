"""Profiles that read right (issue #20): a funnel that cannot exceed 100%, affinities weighted by event
strength as well as recency, and stored states that keep both."""

from __future__ import annotations

import pyarrow as pa

from shelfwise.profiles import ItemCatalog, ProfileService
from shelfwise.profiles.explain import explain, profile_json, summary
from shelfwise.profiles.store import state_from_json, state_to_json

_DAY = 86_400.0


def _shop() -> ProfileService:
    """15 duct tapes ($10-24) and six thermometers, the AcuRite the dearest by far (top price percentile)."""
    items = pa.table(
        {
            "item_id": [f"t{k}" for k in range(15)] + [f"th{k}" for k in range(5)] + ["acu"],
            "title": [f"Duct tape {k}" for k in range(15)]
            + [f"Thermometer {k}" for k in range(5)]
            + ["AcuRite thermometer"],
            "category": ["Industrial > Tapes > Duct Tape"] * 15
            + ["Industrial > Instruments > Temperature & Humidity"] * 6,
            "brand": ["Gorilla"] * 15 + ["Generic"] * 5 + ["AcuRite"],
            "price": [10.0 + k for k in range(15)] + [5.0, 6.0, 7.0, 8.0, 9.0, 100.0],
        }
    )
    return ProfileService(ItemCatalog.from_items(items))


def _issue_shopper(svc: ProfileService) -> None:
    """The issue's shopper: 15 purchases, then (two years later) one click on an AcuRite item."""
    for k in range(15):
        svc.apply_event("u", f"t{k}", "purchase", k * 5 * _DAY)
    svc.apply_event("u", "acu", "click", 800 * _DAY)


def test_fifteen_purchases_outweigh_one_later_click() -> None:
    svc = _shop()
    _issue_shopper(svc)
    p = svc.profile("u")
    assert p.categories[0][0] == "Industrial > Tapes > Duct Tape" and p.categories[0][1] > 0.9
    assert p.brands[0][0] == "Gorilla"
    line = summary(p)
    assert line.startswith("mostly buys duct tape") and "recently browsing temperature & humidity" in line
    assert "prefers Gorilla" in explain(p)[1]
    assert p.price_band in ("40-60th", "60-80th")  # the tapes' prices, not the one dear thermometer clicked


def test_recency_still_counts_between_equal_events() -> None:
    svc = _shop()
    svc.apply_event("u", "t0", "view", 0.0)
    svc.apply_event("u", "acu", "view", 300 * _DAY)
    assert svc.profile("u").categories[0][0].endswith("Temperature & Humidity")


def test_the_funnel_counts_distinct_items_and_never_exceeds_100_percent() -> None:
    svc = _shop()
    _issue_shopper(svc)
    f = svc.profile("u").funnel
    assert f["basis"] == "distinct items"
    assert (f["views"], f["carts"], f["purchases"]) == (16, 15, 15)  # a bought item was looked at and carted
    assert all(0 <= f[r] <= 1 for r in ("view_to_cart", "cart_to_purchase", "view_to_purchase"))
    text = " ".join(explain(svc.profile("u")))
    assert "1500" not in text and "16 -> 15 -> 15 (94% of the items looked at were bought)" in text
    # repeated views of one item count once; a cart without a purchase stays at the cart step
    svc.apply_event("v", "t1", "view", 0.0)
    svc.apply_event("v", "t1", "view", 10.0)
    svc.apply_event("v", "t2", "add_to_cart", 20.0)
    g = svc.profile("v").funnel
    assert (g["views"], g["carts"], g["purchases"], g["view_to_cart"]) == (2, 1, 0, 0.5)


def test_stored_state_keeps_the_lifetime_sums_and_funnel() -> None:
    svc = _shop()
    _issue_shopper(svc)
    st = svc.states["u"]
    again = state_from_json(state_to_json(st, svc.updater), None, svc.updater)
    assert again.lifetime_categories == st.lifetime_categories and again.stages == st.stages
    assert profile_json(svc.reader.profile("u", again))["summary"] == summary(svc.profile("u"))
