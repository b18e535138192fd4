"""Item categories for the category metrics: the catalogue's column, else the attribute-path proxy."""

from __future__ import annotations

import json

import pyarrow as pa

from shelfwise.evaluation.categories import item_categories


def _attrs(ids: list[int] | None) -> str | None:
    return None if ids is None else json.dumps({"asin": "x", "attribute_ids": ids})


def test_the_category_column_wins_and_unknown_is_minus_one() -> None:
    t = pa.table({"category": ["a > b", None, "a > b", "c"], "attributes": [_attrs([1, 2])] * 4})
    assert item_categories(t).tolist() == [0, -1, 0, 1]


def test_attribute_paths_skip_a_leading_brand_and_keep_two_levels() -> None:
    # 1, 2, 3, 4 appear after position 0 somewhere: category ids; 90 and 91 never do: brands
    rows = [[90, 1, 2, 3], [1, 2, 4], [91, 1, 3], [1, 2], [], None]
    t = pa.table({"category": [None] * 6, "attributes": [_attrs(r) for r in rows]})
    codes = item_categories(t).tolist()
    assert codes[0] == codes[1] == codes[3]  # path (1, 2) with or without a brand / deeper levels
    assert len({codes[0], codes[2], codes[4]}) == 3  # (1, 2), (1, 3) and "no path" differ
    assert codes[4] == codes[5]


def test_nothing_to_use_gives_none() -> None:
    assert item_categories(pa.table({"category": [None, None], "attributes": [None, "{}"]})) is None
    assert item_categories(pa.table({"title": ["x"]})) is None
