"""The price grammar: every phrase the module documents, in English and Chinese, and the non-prices."""

from __future__ import annotations

import pytest

from shelfwise.search.query.normalize import normalize_text
from shelfwise.search.query.price import find_prices


def _one(query: str) -> tuple[float | None, float | None, str | None]:
    found = find_prices(normalize_text(query))
    assert len(found) == 1, found
    return found[0].price_min, found[0].price_max, found[0].currency


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("shoes under 50", (None, 50.0, None)),
        ("below $30", (None, 30.0, "USD")),
        ("less than 20", (None, 20.0, None)),
        ("cheaper than €20", (None, 20.0, "EUR")),
        ("max 40", (None, 40.0, None)),
        ("up to 40 bucks", (None, 40.0, "USD")),
        ("sub $100", (None, 100.0, "USD")),
        ("< 25", (None, 25.0, None)),
        ("50 or less", (None, 50.0, None)),
        ("£20 and under", (None, 20.0, "GBP")),
        ("40 dollars max", (None, 40.0, "USD")),
        ("tv 1.5k max", (None, 1500.0, None)),
        ("under 1,000 usd", (None, 1000.0, "USD")),
        ("over 100", (100.0, None, None)),
        ("above $100", (100.0, None, "USD")),
        ("at least 30", (30.0, None, None)),
        ("from $20", (20.0, None, "USD")),
        ("100 and up", (100.0, None, None)),
        ("50+", (50.0, None, None)),
        ("between 20 and 40", (20.0, 40.0, None)),
        ("from 20 to 40", (20.0, 40.0, None)),
        ("20-40 dollars", (20.0, 40.0, "USD")),
        ("$20 - $40", (20.0, 40.0, "USD")),
        ("price 20-40", (20.0, 40.0, None)),
        ("around 50", (40.0, 60.0, None)),
        ("about $50", (40.0, 60.0, "USD")),
        ("$30 watch", (24.0, 36.0, "USD")),
        ("shoes 2000 rs", (1600.0, 2400.0, "INR")),
        ("100元以下", (None, 100.0, "CNY")),
        ("100以内", (None, 100.0, None)),
        ("50元内的袜子", (None, 50.0, "CNY")),
        ("低于50", (None, 50.0, None)),
        ("不超过300", (None, 300.0, None)),
        ("不到100块", (None, 100.0, "CNY")),
        ("100元以上", (100.0, None, "CNY")),
        ("超过200", (200.0, None, None)),
        ("至少200元", (200.0, None, "CNY")),
        ("50到100元", (50.0, 100.0, "CNY")),
        ("价格在50到100之间", (50.0, 100.0, None)),
        ("300元左右", (240.0, 360.0, "CNY")),
    ],
)
def test_price_phrases(query: str, expected: tuple[float | None, float | None, str | None]) -> None:
    assert _one(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "iphone 5",  # a model number
        "ps4 controller",
        "16 gb memory card",  # a quantity
        "under 50 ml",
        "toys for kids over 3 years",  # an age
        "20 to 40",  # a bare range: could be anything
        "50至100的帽子",
        "5-10岁",
        "galaxy note 3",
        "100% cotton",
        "cheap shoes",  # a band, not a number (the parser reads it)
    ],
)
def test_not_prices(query: str) -> None:
    assert find_prices(normalize_text(query)) == []


def test_phrase_span_points_at_the_text() -> None:
    text = normalize_text("red dress under $50 size m")
    (p,) = find_prices(text)
    assert text[p.start : p.end] == "under $50" == p.text
    assert p.kind == "max"


def test_around_tolerance_and_bare_amount_switch() -> None:
    (p,) = find_prices("around 100", around_tolerance=0.1)
    assert (p.price_min, p.price_max) == (90.0, 110.0)
    assert find_prices("$30 watch", bare_amount_is_around=False) == []


def test_range_needs_low_below_high() -> None:
    assert find_prices("between 40 and 20") == []
