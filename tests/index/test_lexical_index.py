"""Contract tests every lexical index passes (bm25s, tantivy): a small shop whose right answers are known,
BM25 scores checked against the formula computed by hand, filters, updates, Chinese text, save/load."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from shelfwise.index import LexicalIndexConfig, SearchFilter, build_lexical_index, load_lexical_index

KINDS = ["bm25s", "tantivy"]

SHOP = [
    {
        "item_id": "run1",
        "title": "Pegasus running shoe",
        "brand": "Nike",
        "category": "Shoes > Running",
        "price": 120.0,
        "description": "Light road shoe for daily runs.",
        "attributes": {"colour": "red"},
        "available": True,
    },
    {
        "item_id": "trail1",
        "title": "Speedgoat trail shoe",
        "brand": "Hoka",
        "category": "Shoes > Trail",
        "price": 150.0,
        "description": "Grippy trail running shoe.",
        "attributes": {"colour": "blue"},
        "available": True,
    },
    {
        "item_id": "cof1",
        "title": "Espresso machine",
        "brand": "DeLonghi",
        "category": "Kitchen > Coffee",
        "price": 300.0,
        "description": "Makes coffee. Not a shoe.",
        "attributes": '{"colour": "silver"}',
        "available": False,
    },
    {
        "item_id": "cof2",
        "title": "Coffee grinder",
        "brand": "Baratza",
        "category": "Kitchen > Coffee",
        "price": 140.0,
        "description": "Burr grinder for espresso and filter coffee.",
        "attributes": None,
        "available": True,
    },
    {
        "item_id": "zh1",
        "title": "男款防水运动鞋",
        "brand": "李宁",
        "category": "鞋 > 运动鞋",
        "price": 299.0,
        "description": "轻便透气的跑步鞋",
        "available": True,
    },
    {
        "item_id": "zh2",
        "title": "不锈钢咖啡机",
        "brand": "小米",
        "category": "厨房 > 咖啡",
        "price": 899.0,
        "description": "全自动意式咖啡机",
        "available": True,
    },
    {
        "item_id": "noprice",
        "title": "Mystery running socks",
        "category": "Shoes > Accessories",
        "available": True,
    },
]


def _build(kind: str, **cfg) -> object:
    index = build_lexical_index(LexicalIndexConfig(type=kind, **cfg))
    index.add(SHOP)
    return index


@pytest.mark.parametrize("kind", KINDS)
def test_known_answers(kind: str) -> None:
    index = _build(kind)
    res = index.search(["running shoes", "espresso", "Nike", "red", "运动鞋", "咖啡机", "zzzz", ""], k=3)
    assert res.item_ids[0][0] == "run1"  # title + category + description beat description only
    assert set(res.item_ids[0][:2]) == {"run1", "trail1"}
    assert res.item_ids[1][0] == "cof1"  # espresso in the title beats it in a description
    assert res.item_ids[2] == ["run1"]  # brand field
    assert res.item_ids[3] == ["run1"]  # attribute field
    assert res.item_ids[4][0] == "zh1"  # jieba: 运动鞋 as one word
    assert res.item_ids[5][0] == "zh2"
    assert res.item_ids[6] == [] and res.item_ids[7] == []
    assert res.source == f"lexical:{kind}"
    assert all(np.all(np.diff(s) <= 1e-6) for s in res.scores)


@pytest.mark.parametrize("kind", KINDS)
def test_title_weight_orders_fields(kind: str) -> None:
    items = [
        {"item_id": "in_title", "title": "walnut desk", "description": "a table"},
        {"item_id": "in_desc", "title": "oak table", "description": "walnut desk"},
    ]
    for weights, first in (
        ({"title": 3.0, "description": 1.0}, "in_title"),
        ({"title": 1.0, "description": 3.0}, "in_desc"),
    ):
        index = build_lexical_index(LexicalIndexConfig(type=kind, field_weights=weights))
        index.add(items)
        assert index.search(["walnut"], k=2).item_ids[0][0] == first


@pytest.mark.parametrize("kind", KINDS)
def test_bm25_score_matches_hand_computation(kind: str) -> None:
    docs = ["apple banana", "apple apple cherry", "banana cherry date elder"]
    index = build_lexical_index(LexicalIndexConfig(type=kind, field_weights={"title": 1.0}, k1=1.2, b=0.75))
    index.add([{"item_id": str(i), "title": d} for i, d in enumerate(docs)])
    res = index.search(["apple"], k=3)
    n, df = 3, 2
    avgdl = np.mean([len(d.split()) for d in docs])
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25(tf: int, dl: int) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    expected = {"1": bm25(2, 3), "0": bm25(1, 2)}
    got = dict(zip(res.item_ids[0], res.scores[0].tolist(), strict=True))
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=0.02)  # tantivy stores field norms in one byte


@pytest.mark.parametrize("kind", KINDS)
def test_filters(kind: str) -> None:
    index = _build(kind)
    q = ["shoe coffee espresso running socks"]
    assert set(index.search(q, 10, SearchFilter(categories=("shoes",))).item_ids[0]) == {
        "run1",
        "trail1",
        "noprice",
    }
    assert set(
        index.search(q, 10, SearchFilter(categories=("Shoes > Trail", "kitchen > coffee"))).item_ids[0]
    ) == {"trail1", "cof1", "cof2"}
    assert set(index.search(q, 10, SearchFilter(price_min=130, price_max=300)).item_ids[0]) == {
        "trail1",
        "cof1",
        "cof2",
    }
    assert "cof1" not in index.search(q, 10, SearchFilter(in_stock=True)).item_ids[0]
    assert index.search(q, 10, SearchFilter(in_stock=False)).item_ids[0] == ["cof1"]
    assert "run1" not in index.search(q, 10, SearchFilter(exclude_ids=frozenset({"run1"}))).item_ids[0]
    assert index.search(["运动鞋"], 10, SearchFilter(categories=("鞋",))).item_ids[0] == ["zh1"]
    assert index.search(q, 10, SearchFilter(categories=("garden",))).item_ids[0] == []


@pytest.mark.parametrize("kind", KINDS)
def test_incremental_add_replace_delete(kind: str) -> None:
    index = _build(kind)
    assert len(index) == len(SHOP)
    index.add([{"item_id": "new", "title": "Carbon racing shoe", "category": "Shoes > Running"}])
    assert index.search(["carbon"], 5).item_ids[0] == ["new"]
    index.add([{"item_id": "new", "title": "Bamboo cutting board", "category": "Kitchen"}])  # replace
    assert len(index) == len(SHOP) + 1
    assert index.search(["carbon"], 5).item_ids[0] == []
    assert index.search(["bamboo"], 5).item_ids[0] == ["new"]
    assert index.delete(["new", "run1", "missing"]) == 2
    assert "run1" not in index and "new" not in index
    assert "run1" not in index.search(["running shoe"], 10).item_ids[0]


@pytest.mark.parametrize("kind", KINDS)
def test_save_load(kind: str, tmp_path: Path) -> None:
    index = _build(kind)
    index.delete(["cof2"])
    queries = ["running shoe", "coffee", "咖啡"]
    before = index.search(queries, 5)
    index.save(tmp_path)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    loaded = load_lexical_index(tmp_path)
    after = loaded.search(queries, 5)
    assert after.item_ids == before.item_ids
    for a, b in zip(after.scores, before.scores, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    loaded.add([{"item_id": "x", "title": "Kettle"}])  # writable after load, saved copy untouched
    assert load_lexical_index(tmp_path).search(["kettle"], 3).item_ids[0] == []


def test_backends_agree_on_ranking() -> None:
    a, b = _build("bm25s"), _build("tantivy")
    queries = ["running shoe", "coffee grinder", "trail", "咖啡机", "red shoe"]
    assert [r[:2] for r in a.search(queries, 2).item_ids] == [r[:2] for r in b.search(queries, 2).item_ids]


def test_unknown_field_rejected() -> None:
    with pytest.raises(ValueError, match="unknown lexical fields"):
        build_lexical_index(LexicalIndexConfig(field_weights={"colour": 1.0}))
