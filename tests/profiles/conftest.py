"""Fixtures of the profile tests: the synthetic shop with item vectors that encode category and brand."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.data.synthetic import BRANDS, CATEGORIES, SyntheticShop
from shelfwise.profiles import ItemCatalog


def item_vectors(shop: SyntheticShop, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Vectors = one-hot category + 0.5 * one-hot brand + small noise (seeded), with their item ids."""
    items = shop.dataset.items
    ids = items.column("item_id").to_pylist()
    cats = [CATEGORIES.index(c) for c in items.column("category").to_pylist()]
    brands = [BRANDS.index(b) for b in items.column("brand").to_pylist()]
    rng = np.random.default_rng(seed)
    v = rng.normal(0, 0.1, (len(ids), len(CATEGORIES) + len(BRANDS))).astype(np.float32)
    v[np.arange(len(ids)), cats] += 1.0
    v[np.arange(len(ids)), len(CATEGORIES) + np.asarray(brands)] += 0.5
    return v, ids


@pytest.fixture(scope="session")
def catalog(shop: SyntheticShop) -> ItemCatalog:
    vecs, ids = item_vectors(shop)
    return ItemCatalog.from_items(shop.dataset.items, vecs, ids)
