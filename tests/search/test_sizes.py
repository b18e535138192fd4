"""Size phrases: letters, numbers, regions, beds, quantities, Chinese."""

from __future__ import annotations

import pytest

from shelfwise.search.query.normalize import normalize_text
from shelfwise.search.query.sizes import find_sizes


@pytest.mark.parametrize(
    ("query", "sizes"),
    [
        ("running shoes size 10.5", ["10.5"]),
        ("puma t-shirt size m", ["M"]),
        ("jacket xl", ["XL"]),
        ("hoodie 2xl", ["XXL"]),
        ("heels uk 8", ["UK 8"]),
        ("queen comforter sets", ["queen"]),
        ("king size bed", ["king"]),
        ("16 gb memory card", ["16 gb"]),
        ("seagate 2tb hard disk", ["2 tb"]),
        ("8 ounce mason jars", ["8 oz"]),
        ("0.5 fl. oz perfume", ["0.5 fl oz"]),
        ('13" macbook case', ["13 in"]),
        ("42码 运动鞋", ["42"]),
        ("xl码卫衣", ["XL"]),
        ("大号T恤", ["L"]),
        ("full tang knife", []),  # "full" only before a bedding word
        ("iphone 5", []),  # a bare number is never a size
        ("m&m candy", []),  # a bare letter only after "size"
    ],
)
def test_sizes(query: str, sizes: list[str]) -> None:
    assert [s.value for s in find_sizes(normalize_text(query))] == sizes


def test_skip_spans_are_respected() -> None:
    text = "size 9"
    assert find_sizes(text, skip=[(0, len(text))]) == []
