"""Fair-exposure metrics against values computed by hand."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import SyntheticShop
from shelfwise.metrics import get_metric
from shelfwise.metrics.fairness import (
    BrandExposureVsRelevance,
    GiniBrandExposure,
    GiniItemExposure,
    LongTailShare,
    fairness_list_metrics,
    item_brands,
    position_weights,
)
from shelfwise.storage import Store

W2 = 1 / math.log2(3)  # weight of rank 2
W3 = 1 / math.log2(4)  # weight of rank 3 (= 0.5)


def _gini(x: list[float]) -> float:
    """The textbook mean-absolute-difference form: sum_ij |x_i - x_j| / (2 n^2 mean)."""
    n, mean = len(x), sum(x) / len(x)
    return sum(abs(a - b) for a in x for b in x) / (2 * n * n * mean)


def test_position_weights() -> None:
    assert position_weights(3).tolist() == pytest.approx([1.0, W2, 0.5])


def test_gini_item_exposure_by_hand() -> None:
    top = np.array([[0, 1, 2], [0, 2, -1]])
    # item 0: 1 + 1; item 1: W2; item 2: 0.5 + W2; item 3: never shown
    expected = _gini([2.0, W2, 0.5 + W2, 0.0])
    assert GiniItemExposure(n_items=4, k=3).compute(top) == pytest.approx(expected)
    # equal exposure -> 0; all exposure on one of n items -> (n - 1) / n
    assert GiniItemExposure(n_items=2, k=1).compute(np.array([[0], [1]])) == pytest.approx(0.0)
    assert GiniItemExposure(n_items=4, k=1).compute(np.array([[0], [0]])) == pytest.approx(0.75)


def test_gini_brand_exposure_by_hand_and_unknown_brands_left_out() -> None:
    brands = np.array([7, 7, 9, -1])  # item 3 has no brand
    top = np.array([[0, 2, 3], [3, 1, 2]])
    # brand 7: item 0 at rank 1 (1) + item 1 at rank 2 (W2); brand 9: item 2 at rank 2 (W2) + rank 3 (0.5)
    expected = _gini([1 + W2, W2 + 0.5])
    metric = GiniBrandExposure(brands, k=3)
    assert metric.compute(top) == pytest.approx(expected)
    names = ["Acme", "Acme", "Bolt", None]  # names work the same
    assert GiniBrandExposure(names, k=3).compute(top) == pytest.approx(expected)
    # a brand never shown counts with 0
    assert GiniBrandExposure(np.array([0, 1]), k=1).compute(np.array([[0], [0]])) == pytest.approx(0.5)


def test_brand_exposure_vs_relevance_by_hand() -> None:
    brands = np.array([0, 0, 1, 1])
    top = np.array([[0, 2], [1, 3]])  # brand 0 always first, brand 1 always second
    targets = np.array([2, 3])  # both users' targets are brand 1
    e0, e1 = 2.0, 2 * W2
    share0, share1 = e0 / (e0 + e1), e1 / (e0 + e1)
    expected = abs(share0 - 0.0) + abs(share1 - 1.0)
    m = BrandExposureVsRelevance(brands, targets, k=2)
    assert m.compute(top) == pytest.approx(expected)
    assert m.relevance_share().tolist() == [0.0, 1.0]
    # exposure matching relevance -> 0
    fair = BrandExposureVsRelevance(brands, np.array([0, 2]), k=1)
    assert fair.compute(np.array([[1], [3]])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="target rows"):
        m.compute(np.array([[0, 1]]))


def test_long_tail_share_by_hand() -> None:
    counts = np.array([50, 40, 3, 2, 1, 1, 1, 1, 1, 1])  # head (20%) = items 0 and 1
    top = np.array([[0, 5, 1], [6, 0, 7]])
    tail = W2 + 1.0 + 0.5
    total = 1.0 + W2 + 0.5 + 1.0 + W2 + 0.5
    assert LongTailShare(counts, k=3).compute(top) == pytest.approx(tail / total)
    assert LongTailShare(counts, k=1).compute(top) == pytest.approx(0.5)


def test_registered_by_name() -> None:
    m = get_metric("gini_brand_exposure@5", brands=np.array([0, 1]))
    assert m.name == "gini_brand_exposure@5" and not m.higher_is_better
    assert get_metric("gini_item_exposure@10", n_items=3).name == "gini_item_exposure@10"
    assert get_metric("long_tail_share@10", item_counts=np.ones(5)).higher_is_better


def test_item_brands_from_column_and_from_attribute_paths() -> None:
    with_col = pa.table({"brand": ["a", None, "b", "a"]})
    assert item_brands(with_col).tolist() == [0, -1, 1, 0]
    # Beauty-style paths: a leading id never seen later is a brand; 1, 2, 3 are category ids
    paths = pa.table(
        {
            "brand": [None, None, None],
            "attributes": [
                '{"attribute_ids": [90, 1, 2]}',
                '{"attribute_ids": [1, 3]}',
                '{"attribute_ids": [91, 1, 3]}',
            ],
        }
    )
    assert item_brands(paths).tolist() == [0, -1, 1]
    assert item_brands(pa.table({"title": ["x"]})) is None
    names = [m.name for m in fairness_list_metrics(paths, 3, 10, np.array([0, 2]), np.ones(3))]
    assert names == [
        "gini_item_exposure@10",
        "gini_brand_exposure@10",
        "brand_exposure_vs_relevance@10",
        "long_tail_share@10",
    ]


def test_cli_evaluate_reports_fairness_and_a_fair_reranked_row(store: Store, shop: SyntheticShop) -> None:
    """`shelfwise evaluate --json --set rerank.method=fair_exposure --set rerank.fairness=F`, end to end."""
    Ingestor(store, load_settings(environ={})).ingest_dataset(shop.dataset)
    folder = store.url.removeprefix("duckdb://")
    store.close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shelfwise",
            "evaluate",
            "--store",
            folder,
            "--models",
            "popularity",
            "--json",
            "--set",
            "rerank.method=fair_exposure",
            "--set",
            "rerank.fairness=1",
            "--set",
            "rerank.candidates=100",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    models = json.loads(proc.stdout)["models"]
    assert set(models) == {"popularity", "popularity+fair_exposure@1"}
    raw, fair = models["popularity"], models["popularity+fair_exposure@1"]
    for row in (raw, fair):
        assert {"ndcg@10", "gini_item_exposure@10", "gini_brand_exposure@10", "long_tail_share@10"} <= set(
            row
        )
        assert "brand_exposure_vs_relevance@10" in row
    # popularity shows everyone the same ten items: fair exposure spreads attention over the brands
    assert fair["gini_brand_exposure@10"] < raw["gini_brand_exposure@10"] - 0.05
    assert fair["brand_exposure_vs_relevance@10"] < raw["brand_exposure_vs_relevance@10"]
