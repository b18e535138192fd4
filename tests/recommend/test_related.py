"""The product page's slots: ``bought_together`` from co-purchase / co-visit evidence only, ``similar`` from
content and behaviour, each reason true of the data; "you viewed" said only of a viewed item (issue #20)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pytest

from shelfwise.data.sample import sample_paths
from shelfwise.recommend import Recommender, RecommendRequest
from shelfwise.recommend.related import RelatedItems, together_reason
from shelfwise.storage import open_store
from tests.recommend.conftest import fast_settings, trained_demo

ANCHOR = "B000CSS8UE"  # Gorilla duct tape: the example, bought with other items by many shoppers
_NONE = np.zeros(0, dtype=np.int32)


# ---------------------------------------------------------------- a synthetic shop with known co-purchases

ITEMS = {"tent": 0, "pegs": 1, "stove": 2, "tent-2": 3, "lamp": 4, "sock": 5}


def _synthetic() -> pa.Table:
    """Shoppers s0..s4 buy tent + pegs (5); s0, s1 also cart the stove; visitor v0 views tent and lamp in one
    visit and, a day later, the sock; nobody takes tent-2 (a look-alike) with the tent."""
    rows: list[tuple[str, str, str, float, str | None]] = []
    for k in range(5):
        rows += [
            (f"s{k}", "tent", "purchase", 1000.0 * k, None),
            (f"s{k}", "pegs", "purchase", 1000.0 * k + 60, None),
        ]
    for k in range(2):
        rows.append((f"s{k}", "stove", "add_to_cart", 1000.0 * k + 120, None))
    rows += [("v0", "tent", "view", 0.0, "visit-1"), ("v0", "lamp", "view", 30.0, "visit-1")]
    rows += [("v0", "sock", "view", 90_000.0, "visit-2"), ("w0", "tent-2", "purchase", 0.0, None)]
    user, item, kind, ts, session = zip(*rows, strict=True)
    return pa.table(
        {"user_id": user, "item_id": item, "type": kind, "timestamp": ts, "session_id": list(session)}
    )


def test_bought_together_counts_shoppers_and_visits_exactly() -> None:
    rel = RelatedItems.from_events(_synthetic(), ITEMS)
    got = {t.item: t for t in rel.together(ITEMS["tent"], 10, _NONE)}
    assert set(got) == {ITEMS["pegs"], ITEMS["stove"], ITEMS["lamp"]}  # never the look-alike, never the sock
    assert (got[ITEMS["pegs"]].bought, got[ITEMS["pegs"]].carted) == (5, 0)
    assert (got[ITEMS["stove"]].bought, got[ITEMS["stove"]].carted) == (0, 2)
    assert got[ITEMS["lamp"]].visits == 1 and got[ITEMS["lamp"]].bought == 0
    assert next(t.item for t in rel.together(ITEMS["tent"], 10, _NONE)) == ITEMS["pegs"]  # strongest first
    assert together_reason(got[ITEMS["pegs"]]) == "Bought together by 5 shoppers"
    assert together_reason(got[ITEMS["stove"]]) == "Put in the cart together by 2 shoppers"
    assert together_reason(got[ITEMS["lamp"]]) == "Looked at together in 1 visit"


def test_no_evidence_means_no_bought_together_and_excluded_items_stay_out() -> None:
    rel = RelatedItems.from_events(_synthetic(), ITEMS)
    assert rel.together(ITEMS["tent-2"], 10, _NONE) == []
    assert ITEMS["pegs"] not in [t.item for t in rel.together(ITEMS["tent"], 10, np.array([ITEMS["pegs"]]))]


def test_a_forgotten_shopper_leaves_every_count() -> None:
    rel = RelatedItems.from_events(_synthetic(), ITEMS)
    fewer = rel.without_user("s0").without_user("v0")
    got = {t.item: t for t in fewer.together(ITEMS["tent"], 10, _NONE)}
    assert got[ITEMS["pegs"]].bought == 4 and got[ITEMS["stove"]].carted == 1 and ITEMS["lamp"] not in got
    assert {t.item: t.bought for t in rel.together(ITEMS["tent"], 10, _NONE)}[ITEMS["pegs"]] == 5  # unchanged


def test_live_events_add_to_the_counts_and_forgetting_takes_them_out() -> None:
    rel = RelatedItems.from_events(_synthetic(), ITEMS)
    live = [
        {"user_id": "n1", "item_id": "tent", "type": "purchase", "timestamp": 5e6},
        {"user_id": "n1", "item_id": "pegs", "type": "purchase", "timestamp": 5e6 + 60},
        {"user_id": "s0", "item_id": "tent-2", "type": "add_to_cart", "timestamp": 5e6},  # s0 bought the tent
        {"user_id": "n2", "item_id": "tent", "type": "view", "timestamp": 5e6, "session_id": "x"},
        {"user_id": "n2", "item_id": "sock", "type": "view", "timestamp": 5e6 + 9, "session_id": "x"},
        {"user_id": "n2", "item_id": "unknown-item", "type": "view", "timestamp": 5e6 + 9},
    ]
    assert rel.observe(live, ITEMS) == 5
    got = {t.item: t for t in rel.together(ITEMS["tent"], 10, _NONE)}
    assert got[ITEMS["pegs"]].bought == 6
    assert got[ITEMS["tent-2"]].carted == 1  # a stored purchase and a live cart by the same shopper
    assert got[ITEMS["sock"]].visits == 1 and got[ITEMS["sock"]].bought == 0
    after = rel.without_user("n1").without_user("s0")
    got = {t.item: t for t in after.together(ITEMS["tent"], 10, _NONE)}
    assert got[ITEMS["pegs"]].bought == 4 and ITEMS["tent-2"] not in got and got[ITEMS["sock"]].visits == 1


# ---------------------------------------------------------------- the demo shop, served


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    path = trained_demo(tmp_path_factory.mktemp("related") / "store")
    with open_store(path) as st:
        return Recommender.load(st, fast_settings())


def _demo_copurchases(anchor: str) -> Counter[str]:
    """Shoppers of the demo's events file who bought ``anchor`` and each other item (counted here, directly)."""
    table = pa.csv.read_csv(sample_paths()["events"])
    bought: dict[str, set[str]] = defaultdict(set)
    for user, item, kind in zip(
        *(table.column(c).to_pylist() for c in ("user_id", "item_id", "type")), strict=True
    ):
        if kind == "purchase":
            bought[user].add(item)
    return Counter(i for items in bought.values() if anchor in items for i in items if i != anchor)


def test_bought_together_on_the_demo_says_how_many_shoppers_and_is_right(rec: Recommender) -> None:
    truth = _demo_copurchases(ANCHOR)
    resp = rec.recommend(RecommendRequest(slot="bought_together", item_id=ANCHOR, k=8))
    assert resp.fallback is None and len(resp.items) == 8
    for item in resp.items:
        n = truth[item.item_id]
        assert n > 0, item
        assert item.reason == f"Bought together by {n} shopper{'s' if n > 1 else ''}", item
    counts = [truth[i.item_id] for i in resp.items]
    assert counts == sorted(counts, reverse=True) and counts[0] == max(truth.values())


def test_similar_and_bought_together_differ_and_similar_says_what_is_alike(rec: Recommender) -> None:
    together = rec.recommend(RecommendRequest(slot="bought_together", item_id=ANCHOR, k=8))
    similar = rec.recommend(RecommendRequest(slot="similar", item_id=ANCHOR, k=8))
    assert [i.item_id for i in similar.items] != [i.item_id for i in together.items]
    cat = rec.catalog
    a = cat.index[ANCHOR]
    truth = _demo_copurchases(ANCHOR)
    for item in similar.items:
        k = cat.index[item.item_id]
        assert item.reason.startswith("Similar: ") and "viewed" not in item.reason
        if "same category" in item.reason:
            assert cat.categories[k] == cat.categories[a]
        if "brand" in item.reason:
            assert cat.brands[k] == cat.brands[a]
        if "shoppers chose both" in item.reason:
            assert f"{truth[item.item_id]} shoppers chose both" in item.reason


def test_an_item_nobody_bought_with_anything_gets_no_bought_together(rec: Recommender) -> None:
    a = rec.catalog.index[ANCHOR]
    cat = rec.catalog
    rec.upsert_items(
        [
            {
                "item_id": "NEW-TAPE",
                "title": cat.titles[a],
                "category": cat.categories[a],
                "brand": cat.brands[a],
            }
        ]
    )
    resp = rec.recommend(RecommendRequest(slot="bought_together", item_id="NEW-TAPE", k=8))
    assert resp.items == [] and resp.fallback == "no_co_purchases"
    similar = rec.recommend(RecommendRequest(slot="similar", item_id="NEW-TAPE", k=8))
    assert similar.items and similar.items[0].reason.startswith("Similar: same category and brand")
    # the first shopper to buy it with something else: counted at once, by the served recommender
    t = 2e9
    rec.observe(
        [
            {
                "user_id": "first-buyer",
                "item_id": "NEW-TAPE",
                "type": "purchase",
                "timestamp": t,
                "event_id": "e1",
            },
            {
                "user_id": "first-buyer",
                "item_id": ANCHOR,
                "type": "purchase",
                "timestamp": t + 1,
                "event_id": "e2",
            },
            {
                "user_id": "first-buyer",
                "item_id": ANCHOR,
                "type": "purchase",
                "timestamp": t + 1,
                "event_id": "e2",
            },
        ]
    )
    after = rec.recommend(RecommendRequest(slot="bought_together", item_id="NEW-TAPE", k=8))
    assert [(i.item_id, i.reason) for i in after.items] == [(ANCHOR, "Bought together by 1 shopper")]
    rec.forget_user("first-buyer")
    assert rec.recommend(RecommendRequest(slot="bought_together", item_id="NEW-TAPE", k=8)).items == []


def test_anonymous_visitors_are_never_told_you_viewed(rec: Recommender) -> None:
    for slot in ("similar", "bought_together"):
        for item in rec.recommend(RecommendRequest(slot=slot, item_id=ANCHOR, k=10)).items:
            assert "you viewed" not in item.reason
    cart = rec.recommend(RecommendRequest(cart=[ANCHOR], k=10))
    assert cart.fallback == "session"
    assert all("you viewed" not in i.reason for i in cart.items)
    assert any("in your cart" in i.reason for i in cart.items)


def test_a_bought_item_is_said_bought_not_viewed(rec: Recommender) -> None:
    said = 0
    for user, k in list(rec.users.items())[:80]:  # demo shoppers only bought
        bought = {rec.catalog.ids[i] for i in rec._purchased(k)}
        for item in rec.recommend(RecommendRequest(user_id=user, k=10)).items:
            for claim in item.breakdown["claims"]:
                if claim["claim"] == "similar_to":
                    assert claim["anchor"] in bought
                    assert item.reason.endswith("you bought") or "you bought;" in item.reason, item.reason
                    said += 1
            assert "you viewed" not in item.reason
    assert said > 0


def test_a_viewed_item_is_said_viewed(rec: Recommender) -> None:
    user = next(u for u, k in rec.users.items() if len(rec.histories[k]) >= 3)
    seen = next(
        i for i in range(rec.catalog.n_trained) if i not in set(rec.histories[rec.users[user]].tolist())
    )
    rec.observe(
        [
            {"user_id": user, "item_id": rec.catalog.ids[seen], "type": "view", "timestamp": 2e9 + t}
            for t in range(3)
        ]
    )
    items = rec.recommend(RecommendRequest(user_id=user, k=10)).items
    anchored = [i for i in items for c in i.breakdown["claims"] if c.get("anchor") == rec.catalog.ids[seen]]
    assert anchored and all(i.reason.endswith("you viewed") or "you viewed;" in i.reason for i in anchored)
