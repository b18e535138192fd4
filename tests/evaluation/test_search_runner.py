"""The search harness on a small judged catalogue, with the real BM25 index and the real MiniLM encoder."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.encoded.judgements import merged_judgements
from shelfwise.evaluation.search_runner import run_search
from shelfwise.storage import Store

PRODUCTS = [
    ("p1", "Red running shoes", "Lightweight trainers for road running"),
    ("p2", "Blue running shoes", "Cushioned trainers"),
    ("p3", "Espresso machine", "15 bar pump coffee maker"),
    ("p4", "Coffee grinder", "Burr grinder for espresso and filter"),
    ("p5", "Yoga mat", "Non-slip exercise mat"),
    ("p6", "Wireless headphones", "Bluetooth over-ear headphones"),
    ("p7", "Phone case", "Silicone case for smartphones"),
    ("p8", "Trail running shoes", "Grippy outsole for trails"),
]
JUDGED = [
    ("running shoes", "p1", 4),
    ("running shoes", "p2", 4),
    ("running shoes", "p8", 3),
    ("running shoes", "p5", 1),
    ("running shoes", "p1", 2),  # a repeated pair: merged by the mean (3)
    ("espresso", "p3", 4),
    ("espresso", "p4", 3),
    ("espresso", "p6", 1),
    ("headphones", "p6", 4),
    ("headphones", "p7", 1),
    ("headphones", "p3", 1),
    ("yoga", "p5", 4),
    ("yoga", "p1", 1),
]


@pytest.fixture()
def judged_store(store: Store) -> Store:
    ing = Ingestor(store, load_settings(environ={}))
    ing.ingest_table([{"item_id": i, "title": t, "description": d} for i, t, d in PRODUCTS], "items")
    ing.ingest_table([{"query": q, "item_id": i, "relevance": r} for q, i, r in JUDGED], "judgements")
    return store


def test_repeated_pairs_merge_by_mean(judged_store: Store) -> None:
    merged = merged_judgements(judged_store).to_pylist()
    gains = {(r["query"], r["item_id"]): r["gain"] for r in merged}
    assert gains[("running shoes", "p1")] == pytest.approx(2.0)  # mean(4, 2) - 1
    assert len(merged) == len(JUDGED) - 1


def test_bm25_and_dense_find_the_obvious_products(judged_store: Store) -> None:
    settings = load_settings(
        overrides=["search.encoder.type=sentence-transformers", "evaluation.folds=2"], environ={}
    )
    result = run_search(judged_store, ["bm25", "dense", "hybrid"], settings)
    table = result.table()
    for name in ("bm25", "dense", "hybrid"):
        assert table[name]["ndcg_retrieval@10"] > 0.8, (name, table[name])
        assert 0.8 < table[name]["ndcg_rerank@10"] <= 1.0
        assert table[name]["recall_retrieval@50"] == pytest.approx(1.0)
    per_query = result.data["per_query"]
    assert set(per_query) == {"running shoes", "espresso", "headphones", "yoga"}
    assert result.protocol["folds"] == 2


def test_no_judgements_is_a_clear_error(store: Store) -> None:
    with pytest.raises(ValueError, match="no search judgements"):
        run_search(store, ["bm25"], load_settings(environ={}))


def test_unknown_searcher_lists_known(judged_store: Store) -> None:
    with pytest.raises(ValueError, match=r"known: bm25, dense, hybrid"):
        run_search(judged_store, ["nope"], load_settings(environ={}))


def test_judgements_table_is_what_was_ingested(judged_store: Store) -> None:
    assert isinstance(judged_store.read_judgements(), pa.Table)
    assert judged_store.counts()["queries"] == 4
