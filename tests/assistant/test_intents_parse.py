"""Turn understanding: acts, ordinals, exclusions, refinements vs new needs, clearing."""

from __future__ import annotations

import pytest

from shelfwise.assistant.intents import classify, ordinals
from shelfwise.assistant.parse import Refinement, apply, read_refinement
from shelfwise.search.query import CatalogueVocabulary, QueryParser


@pytest.fixture(scope="module")
def parse():
    rows = [
        {"item_id": "1", "title": "3M black duct tape", "brand": "3M", "category": "Tapes > Duct Tape"},
        {"item_id": "2", "title": "Gorilla red duct tape", "brand": "Gorilla", "category": "Tapes > Duct Tape"},
        {"item_id": "3", "title": "Nitrile gloves, blue", "brand": "Ansell", "category": "Safety > Gloves"},
    ]
    return QueryParser(CatalogueVocabulary.build(rows)).parse


@pytest.mark.parametrize(
    ("message", "act"),
    [
        ("my order never arrived", "handoff"),
        ("I want a refund, it came broken", "handoff"),
        ("can I talk to a human", "handoff"),
        ("compare the first two", "compare"),
        ("more like the second one", "more_like"),
        ("is the second one waterproof?", "question"),
        ("what do people complain about?", "question"),
        ("how long does shipping take?", "shop"),
        ("what is your return policy", "shop"),
        ("I need tape", "search"),
        ("under $10", "search"),
        ("not 3M", "search"),
    ],
)
def test_acts(message: str, act: str) -> None:
    assert classify(message, has_items=True).act == act


def test_a_question_without_products_shown_and_without_a_reference_is_not_about_an_item() -> None:
    assert classify("do you have glue", has_items=False).act == "search"


def test_ordinals() -> None:
    assert ordinals("compare the first two") == [0, 1]
    assert ordinals("is the third one red") == [2]
    assert ordinals("compare 1 and 3") == [0, 2]
    assert ordinals("#4 please") == [3]
    assert ordinals("the last one") == [-1]
    assert ordinals("I need tape") == []


def test_exclusion_is_not_read_as_a_wanted_brand(parse) -> None:
    r = read_refinement("not 3M", parse)
    assert r.exclude == {"brand_exclude": ["3M"]}
    assert "brand" not in r.set and not r.new_need


def test_price_and_colour_refine(parse) -> None:
    r = read_refinement("in black under $10", parse)
    assert r.set == {"colour": ["black"], "price_max": 10.0}
    assert not r.new_need


def test_no_more_than_is_a_price_not_an_exclusion(parse) -> None:
    r = read_refinement("no more than $20", parse)
    assert r.exclude == {}
    assert r.set.get("price_max") == 20.0


def test_new_need_starts_over(parse) -> None:
    r = read_refinement("I need nitrile gloves", parse)
    assert r.new_need and "gloves" in r.need
    assert apply({"price_max": 10.0, "brand_exclude": ["3M"]}, r) == {}


def test_apply_keeps_refinements_and_any_brand_clears(parse) -> None:
    c = apply({}, read_refinement("under $10", parse))
    c = apply(c, read_refinement("not 3M", parse))
    assert c == {"price_max": 10.0, "brand_exclude": ["3M"]}
    c = apply(c, read_refinement("any brand", parse))
    assert c == {"price_max": 10.0}


def test_wanting_an_excluded_brand_lifts_the_exclusion() -> None:
    c = apply({"brand_exclude": ["3M"]}, Refinement(set={"brand": ["3M"]}))
    assert c == {"brand": ["3M"]}
