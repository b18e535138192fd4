"""Fixtures of the sequential-model tests: the synthetic shop's view sequences and tiny trained models.

The synthetic shop's shoppers view items of one or two preferred categories (85% of views), so the
right answer is known: a trained model should put those categories at the top. Stand-in "text
vectors" encode each item's category and brand (plus noise), as a text encoder would place titles
of one category near each other; they keep these tests free of the 90 MB encoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc
import pytest

pytest.importorskip("torch")

from shelfwise.data.synthetic import BRANDS, CATEGORIES, SyntheticShop
from shelfwise.encoded import LeaveOneOut, RankingData, Split
from shelfwise.models.sequential import SequentialConfig, SequentialRecommender, fit_on_split

#: Small and fast: a few seconds of training on one thread.
TINY = {
    "hidden": 32,
    "layers": 1,
    "heads": 2,
    "max_len": 20,
    "epochs": 20,
    "batch_size": 16,
    "lr": 1e-2,
    "dropout": 0.0,
    "attn_dropout": 0.0,
    "emb_dropout": 0.0,
    "eval_every": 1,
    "patience": 20,
    "num_threads": 1,
}


@dataclass(frozen=True)
class ShopData:
    """The view events of the shop split leave-one-out, with per-item categories and text stand-ins."""

    split: Split
    data: RankingData
    item_category: np.ndarray  # int (n_items,) index into CATEGORIES
    user_categories: list[set[int]]  # per user index, the preferred category indices
    text: np.ndarray  # float32 (n_items, 32)


def text_standins(categories: np.ndarray, brands: np.ndarray, seed: int = 0) -> np.ndarray:
    """Unit vectors: one-hot category + 0.5 one-hot brand + noise, 32 wide."""
    rng = np.random.default_rng(seed)
    v = rng.normal(0.0, 0.15, (categories.size, 32)).astype(np.float32)
    v[np.arange(categories.size), categories] += 1.0
    v[np.arange(categories.size), len(CATEGORIES) + brands] += 0.5
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def shop_data(shop: SyntheticShop) -> ShopData:
    events = shop.dataset.events
    views = events.filter(pc.equal(events.column("type"), "view"))
    split = LeaveOneOut().split(views)
    data = RankingData.from_split(split)
    items = shop.dataset.items
    assert items is not None
    by_id = dict(zip(items.column("item_id").to_pylist(), range(items.num_rows), strict=True))
    rows = np.array([by_id[i] for i in data.items.ids])
    cats = np.array([CATEGORIES.index(c) for c in items.column("category").to_pylist()])[rows]
    brands = np.array([BRANDS.index(b) for b in items.column("brand").to_pylist()])[rows]
    prefs = [{CATEGORIES.index(c) for c in shop.truth[u].categories} for u in data.users.ids]
    return ShopData(split, data, cats, prefs, text_standins(cats, brands))


def train_tiny(shop_data: ShopData, **overrides: object) -> SequentialRecommender:
    config = SequentialConfig.model_validate({**TINY, **overrides})
    return fit_on_split(
        config, shop_data.split, shop_data.data, item_vectors=shop_data.text, show_progress=False
    )


@pytest.fixture(scope="session")
def text_model(shop_data: ShopData) -> SequentialRecommender:
    return train_tiny(shop_data, item_embedding="text+id")


@pytest.fixture(scope="session")
def id_model(shop_data: ShopData) -> SequentialRecommender:
    return train_tiny(shop_data, item_embedding="id", text_neighbours=0)  # classic SASRec: no text at all
