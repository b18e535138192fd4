"""Managed merchandising rules: the rule book's checks, its store round trip, and their re-ranker form over a
serving catalogue (category and everything under it, brand, item; slots; targets missing from the catalogue)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from shelfwise.recommend.catalog import ServingCatalog
from shelfwise.recommend.merchandising import META_KEY, NewRule, RuleBook
from shelfwise.rerank import CandidateList, RerankConfig, RerankPipeline
from shelfwise.rerank import UserContext as RerankContext
from shelfwise.storage import open_store

ROWS = pa.Table.from_pylist(
    [
        {"item_id": "a", "title": "Duct tape", "category": "Home > Tape", "brand": "Acme", "price": 5.0},
        {"item_id": "b", "title": "Glue", "category": "Home > Glue", "brand": "Bond", "price": 3.0},
        {"item_id": "c", "title": "Lipstick", "category": "Beauty > Lips", "brand": "Acme", "price": 9.0},
        {"item_id": "d", "title": "Homeware", "category": "Homeware", "brand": None, "price": 1.0},
    ]
)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action": "boost"}, "exactly one of item_id, category or brand"),
        ({"action": "boost", "brand": "A", "item_id": "a"}, "exactly one of item_id, category or brand"),
        ({"action": "pin", "brand": "A", "position": 1}, "a pin rule needs an item_id and a position"),
        ({"action": "pin", "item_id": "a"}, "a pin rule needs an item_id and a position"),
        ({"action": "bury", "item_id": "a", "position": 2}, "takes an amount, not a position"),
        ({"action": "boost", "item_id": "a", "amount": -1}, "greater than 0"),
        ({"action": "hide", "item_id": "a"}, "'boost', 'bury' or 'pin'"),
        ({"action": "pin", "item_id": "a", "postion": 1}, "Extra inputs are not permitted"),
    ],
)
def test_a_rule_that_cannot_mean_one_thing_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NewRule.model_validate(fields)


def test_rules_round_trip_through_the_store_and_other_books_see_them(tmp_path: Path) -> None:
    with open_store(tmp_path / "s") as st:
        book, other = RuleBook(st, ttl=0.0), RuleBook(st, ttl=3600.0)
        assert other.rules() == []
        made = book.add(NewRule(action="pin", item_id="a", position=2, note="launch"))
        assert made.rule_id and made.created_at > 0
        assert st.get_meta(META_KEY)[0]["item_id"] == "a"
        assert other.rules() == []  # within its ttl
        other.refresh()
        assert [r.rule_id for r in other.rules()] == [made.rule_id]
        assert book.remove(made.rule_id) and not book.remove(made.rule_id)
        assert RuleBook(st).rules() == []


def test_rules_become_reranker_rules_over_the_catalogue() -> None:
    class Meta(dict):  # type: ignore[type-arg]
        def get_meta(self, k: str, d: object = None) -> object:
            return self.get(k, d)

        def set_meta(self, k: str, v: object) -> None:
            self[k] = v

    cat = ServingCatalog(["a", "b", "c", "d"], ROWS)
    book = RuleBook(Meta())
    book.add(NewRule(action="bury", category="Home", amount=0.6))  # Home > Tape, Home > Glue; not Homeware
    book.add(NewRule(action="boost", brand="Acme", slots=["home"]))
    book.add(NewRule(action="pin", item_id="gone", position=1))  # no longer in the catalogue: left out
    book.add(NewRule(action="pin", item_id="c", position=1, slots=["similar"]))
    home = book.configs(cat, "home")
    assert [(r.action, sorted(r.items), r.amount) for r in home] == [
        ("bury", [0, 1], 0.6),
        ("boost", [0, 2], None),
    ]
    assert home[0].name == "bury category Home (-0.6)"
    similar = book.configs(cat, "similar")
    assert [(r.action, r.items, r.position) for r in similar] == [("bury", [0, 1], None), ("pin", [2], 1)]
    # applied by the re-ranker: the pin puts c first, the bury (-0.6) sends a (1 -> 0.4) below d (0.5)
    cfg = RerankConfig(rules=similar)
    cands = CandidateList(
        np.array([0, 1, 3], dtype=np.int32),
        np.array([3.0, 2.0, 2.5], dtype=np.float32),  # relevance 1, 0, 0.5
        cat.rerank_catalog(),
        RerankContext(history=np.zeros(0, dtype=np.int32), seed=0),
    )
    order = RerankPipeline(cfg).rerank(cands, 4, config=cfg).indices().tolist()
    assert order == [2, 3, 0, 1]


def test_a_book_whose_store_closed_keeps_serving_the_rules_it_read(tmp_path: Path) -> None:
    st = open_store(tmp_path / "s")
    book = RuleBook(st, ttl=0.0)
    made = book.add(NewRule(action="bury", brand="Acme"))
    st.close()  # e.g. a recommender loaded from a store that was closed afterwards
    assert [r.rule_id for r in book.rules()] == [made.rule_id]
