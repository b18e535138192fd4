"""Business rules and caps through the whole pipeline: pins, exclusions, boosts, session, caps, quotas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shelfwise.rerank import (
    CapsConfig,
    ExplorationConfig,
    ItemCatalog,
    RerankConfig,
    RerankPipeline,
    RuleConfig,
    UserContext,
)

from .conftest import candidates_for, make_catalog

CATALOG = make_catalog()


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated", "xquad"])
def test_pins_land_at_their_position(method: str) -> None:
    cands = candidates_for(CATALOG, user=UserContext(history=np.arange(5)))
    inside, outside = int(cands.items[17]), int(np.setdiff1d(np.arange(CATALOG.n_items), cands.items)[0])
    rules = [
        RuleConfig(action="pin", items=[inside], position=1),
        RuleConfig(action="pin", items=[outside], position=4),
    ]
    cfg = RerankConfig(method=method, diversity=0.6, rules=rules, exploration=ExplorationConfig(slots=2))
    ranked = RerankPipeline(cfg).rerank(cands)
    got = {r.item: r.position for r in ranked}
    assert got[inside] == 1 and got[outside] == 4
    pinned = [r for r in ranked if r.item in (inside, outside)]
    assert all(r.breakdown["placed_by"] == "pin" and r.reason == "Featured by the shop" for r in pinned)
    assert len(ranked) == 10 and len(set(ranked.indices().tolist())) == 10


def test_pin_clash_and_pin_of_an_excluded_item_are_reported() -> None:
    cands = candidates_for(CATALOG)
    a, b, c = (int(x) for x in cands.items[:3])
    rules = [
        RuleConfig(action="exclude", items=[c]),
        RuleConfig(action="pin", items=[a], position=2),
        RuleConfig(action="pin", items=[b], position=2),
        RuleConfig(action="pin", items=[c], position=5),
    ]
    ranked = RerankPipeline(RerankConfig(rules=rules)).rerank(cands)
    pos = {r.item: r.position for r in ranked}
    assert pos[a] == 2 and pos[b] == 3 and c not in pos
    assert any("clash" in n for n in ranked.notes) and any("excluded" in n for n in ranked.notes)


@pytest.mark.parametrize("method", ["none", "mmr", "dpp", "calibrated", "xquad"])
def test_excluded_and_session_shown_items_never_appear(method: str) -> None:
    for seed in range(5):
        user = UserContext(history=np.arange(4), session_shown=np.arange(10, 30))
        cands = candidates_for(CATALOG, n=60, seed=seed, user=user)
        rules = [
            RuleConfig(action="exclude", categories=[1]),
            RuleConfig(action="exclude", brands=[3]),
            RuleConfig(action="exclude", items=[int(cands.items[0])]),
            RuleConfig(action="pin", items=[15], position=1),  # shown earlier in the session: not repeated
        ]
        cfg = RerankConfig(method=method, diversity=0.5, rules=rules, exploration=ExplorationConfig(slots=2))
        out = RerankPipeline(cfg).rerank(cands).indices()
        assert CATALOG.categories is not None and CATALOG.brands is not None
        assert not (CATALOG.categories[out] == 1).any()
        assert not (CATALOG.brands[out] == 3).any()
        assert int(cands.items[0]) not in out
        assert not np.isin(out, np.arange(10, 30)).any()


def test_boost_and_bury_move_items_and_record_their_effect() -> None:
    cands = candidates_for(CATALOG, n=30, seed=2)
    order = np.argsort(-cands.scores, kind="stable")
    top, low = int(cands.items[order[0]]), int(cands.items[order[-1]])
    rules = [RuleConfig(action="bury", items=[top]), RuleConfig(action="boost", items=[low], amount=2.0)]
    ranked = RerankPipeline(RerankConfig(rules=rules, k=30)).rerank(cands)
    pos = {r.item: r for r in ranked}
    assert pos[low].position == 1 and pos[top].position == 30
    boost = pos[low].breakdown["rules"][0]
    assert boost["action"] == "boost" and boost["after"] - boost["before"] == pytest.approx(2.0)
    assert "promoted by the shop" in pos[low].reason
    assert pos[top].breakdown["rules"][0]["effect"] == -1.0


def test_history_can_be_excluded() -> None:
    cands = candidates_for(CATALOG, n=40)
    hist = cands.items[:8]
    user = UserContext(history=hist)
    cands = type(cands)(cands.items, cands.scores, CATALOG, user, cands.sources)
    out = RerankPipeline(RerankConfig(exclude_history=True)).rerank(cands)
    assert not np.isin(out.indices(), hist).any()
    assert {r.stage for r in out.removed} == {"history"}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    method=st.sampled_from(["none", "mmr", "dpp", "calibrated", "xquad"]),
    diversity=st.floats(0, 1),
    cat_cap=st.integers(1, 3),
    brand_cap=st.integers(1, 3),
    seller_cap=st.integers(2, 4),
    slots=st.integers(0, 2),
)
def test_caps_are_never_exceeded_by_the_pipeline(
    seed: int, method: str, diversity: float, cat_cap: int, brand_cap: int, seller_cap: int, slots: int
) -> None:
    cands = candidates_for(CATALOG, n=50, seed=seed, user=UserContext(history=np.arange(seed % 7, 80, 9)))
    caps = CapsConfig(max_per_category=cat_cap, max_per_brand=brand_cap, max_per_seller=seller_cap)
    cfg = RerankConfig(
        method=method, diversity=diversity, caps=caps, exploration=ExplorationConfig(slots=slots, seed=seed)
    )
    out = RerankPipeline(cfg).rerank(cands, explain=seed % 2 == 0).indices()
    assert CATALOG.categories is not None and CATALOG.brands is not None and CATALOG.sellers is not None
    assert np.bincount(CATALOG.categories[out]).max() <= cat_cap
    assert np.bincount(CATALOG.brands[out]).max() <= brand_cap
    assert np.bincount(CATALOG.sellers[out]).max() <= seller_cap
    assert len(set(out.tolist())) == out.size


def test_caps_that_cannot_be_met_leave_slots_empty_and_say_so() -> None:
    cat = ItemCatalog(categories=np.array([0, 0, 0, 1, 1, 1], dtype=np.int32))
    cands = candidates_for(cat, n=6, sources=False)
    ranked = RerankPipeline(RerankConfig(k=5, caps=CapsConfig(max_per_category=1))).rerank(cands)
    assert len(ranked) == 2
    assert any("2 of 5" in n for n in ranked.notes)
    assert sum(r.stage == "caps" for r in ranked.removed) == 3  # relevance's top 5 minus the 2 shown


def test_category_quotas_are_met_when_candidates_exist() -> None:
    cands = candidates_for(CATALOG, n=60, seed=1)
    assert CATALOG.categories is not None
    cats = CATALOG.categories[cands.items]
    plain = RerankPipeline(RerankConfig()).rerank(cands).indices()
    counts = np.bincount(cats, minlength=8)
    # a category with >= 3 candidates that relevance order under-serves
    rare = next(
        c for c in np.argsort(counts) if counts[c] >= 3 and (CATALOG.categories[plain] == c).sum() < 3
    )
    cfg = RerankConfig(method="mmr", diversity=0.3, caps=CapsConfig(min_per_category={int(rare): 3}))
    out = RerankPipeline(cfg).rerank(cands).indices()
    assert (CATALOG.categories[out] == rare).sum() == 3 and out.size == 10


def test_rule_configs_are_validated() -> None:
    with pytest.raises(ValidationError, match="exactly one item"):
        RuleConfig(action="pin", items=[1, 2], position=1)
    with pytest.raises(ValidationError, match="needs items"):
        RuleConfig(action="boost")
    with pytest.raises(ValidationError):
        RerankConfig(diversity=1.5)
