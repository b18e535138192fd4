"""Search judgements as graded gains: what the search ranker trains on and the search harness scores against.

CrowdFlower-style relevance is 1..4; the gain is ``relevance - 1`` (0..3), and repeated judgements of one
(query, item) pair are merged by their mean (BENCHMARKS.md section 3).

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"query": ["q", "q", "q"], "item_id": ["a", "a", "b"], "relevance": [4.0, 2.0, 1.0]})
    >>> sorted(gains_from_judgements(t).to_pylist(), key=lambda r: r["item_id"])
    [{'query': 'q', 'item_id': 'a', 'gain': 2.0}, {'query': 'q', 'item_id': 'b', 'gain': 0.0}]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.storage import Store

__all__ = ["gains_from_judgements", "merged_judgements"]


def gains_from_judgements(table: pa.Table) -> pa.Table:
    """(query, item_id, gain) from (query, item_id, relevance) rows, repeated pairs merged by the mean."""
    grouped = table.group_by(["query", "item_id"]).aggregate([("relevance", "mean")])
    gain = pc.subtract(grouped.column("relevance_mean"), 1.0)
    return pa.table({"query": grouped.column("query"), "item_id": grouped.column("item_id"), "gain": gain})


def merged_judgements(store: Store) -> pa.Table:
    """(query, item_id, gain) with repeated pairs merged by the mean relevance; gain = relevance - 1.

    Raises:
        ValueError: the store has no judgements (the message says how to ingest some).
    """
    table = store.read_judgements()
    if table.num_rows == 0:
        raise ValueError(
            "the store has no search judgements; ingest some (e.g. --dataset crowdflower-search)"
        )
    return gains_from_judgements(table)
