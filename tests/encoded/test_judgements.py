"""Judgements -> graded gains, against hand-computed values and on a real (empty) DuckDB store."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shelfwise.encoded.judgements import gains_from_judgements, merged_judgements
from shelfwise.storage import Store


def test_gain_is_mean_relevance_minus_one_per_pair() -> None:
    table = pa.table(
        {
            "query": ["shoes", "shoes", "shoes", "mat", "mat"],
            "item_id": ["a", "a", "b", "a", "c"],
            "relevance": [4.0, 1.0, 3.0, 2.0, 4.0],
        }
    )
    got = {(r["query"], r["item_id"]): r["gain"] for r in gains_from_judgements(table).to_pylist()}
    # (4 + 1) / 2 - 1 = 1.5; the same item under another query is another pair
    assert got == {("shoes", "a"): 1.5, ("shoes", "b"): 2.0, ("mat", "a"): 1.0, ("mat", "c"): 3.0}


def test_a_store_without_judgements_says_how_to_get_some(store: Store) -> None:
    with pytest.raises(ValueError, match="crowdflower-search"):
        merged_judgements(store)
