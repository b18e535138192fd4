"""CrowdFlower Search Results Relevance (Kaggle 2015): graded (query, product) judgements.

File (read in place): ``train.csv.zip`` holding ``train.csv`` with id, query, product_title,
product_description (HTML-ish, often empty), median_relevance (1-4), relevance_variance.

Items are the distinct products (``item_id`` = :func:`~shelfwise.data.judgements.product_id` of the raw
title and description; description stripped to plain text). Judgements keep every row, including the
pairs judged more than once (counts in ``metadata``); ``relevance`` is ``median_relevance`` as a float,
and ``relevance_variance`` and the source row ``id`` are kept as extra columns. No events.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from shelfwise.data.judgements import read_judgements
from shelfwise.data.schema import Dataset

NAME = "crowdflower-search"

COLUMNS = {
    "query": "query",
    "title": "product_title",
    "description": "product_description",
    "relevance": "median_relevance",
}


def load(data_dir: Path) -> Dataset:
    """Load the dataset from its folder (e.g. ``../shared/data/crowdflower-search``).

    Returns:
        Items (title, plain-text description) and judgements (10,158 rows over 261 queries).
    """
    data_dir = Path(data_dir)
    ds = read_judgements(
        data_dir / "train.csv.zip",
        columns=COLUMNS,
        member="train.csv",
        dataset=NAME,
        extra_columns=("id", "relevance_variance"),
    )
    assert ds.judgements is not None
    judgements = ds.judgements
    idx = judgements.schema.get_field_index("relevance_variance")
    judgements = judgements.set_column(idx, "relevance_variance", judgements.column(idx).cast(pa.float64()))
    return Dataset(
        name=NAME,
        items=ds.items,
        judgements=judgements,
        metadata={
            **ds.metadata,
            "source": str(data_dir),
            "gain_note": "NDCG gain = relevance - 1 (labels 1..4)",
            "protocol": "split by query with a fixed seed; NDCG@10 (re-ranking or retrieval), Recall@50",
        },
    )
