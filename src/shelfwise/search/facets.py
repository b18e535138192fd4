"""Facet counts over a matching set: category, brand and price bucket.

Example:
    >>> from shelfwise.search.catalog import SearchCatalog
    >>> cat = SearchCatalog.from_items([
    ...     {"item_id": "a", "title": "t", "brand": "Nike", "category": "Shoes > Running", "price": 40},
    ...     {"item_id": "b", "title": "t", "brand": "Nike", "category": "Shoes > Trail", "price": 60},
    ...     {"item_id": "c", "title": "t", "brand": None, "category": None, "price": None},
    ... ])
    >>> facet_counts(cat, ["a", "b", "c"])
    {'category': {'Shoes > Running': 1, 'Shoes > Trail': 1}, 'brand': {'Nike': 2}, 'price': {'25-50': 1, '50-100': 1}}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from shelfwise.search.catalog import SearchCatalog, bucket_label


def facet_counts(
    catalog: SearchCatalog, item_ids: Sequence[str], limit: int = 20
) -> dict[str, dict[str, int]]:
    """Counts of the ``limit`` most common categories and brands, and of every price bucket (in order).

    Items without a value for a facet are not counted in it.
    """
    cats: Counter[str] = Counter()
    brands: Counter[str] = Counter()
    prices: Counter[str] = Counter()
    for item_id in item_ids:
        item = catalog.items.get(item_id)
        if item is None:
            continue
        if item.category:
            cats[item.category_label] += 1
        if item.brand:
            brands[item.brand] += 1
        if (label := bucket_label(item.price)) is not None:
            prices[label] += 1
    price_sorted = sorted(prices, key=lambda b: float(b.split("-")[0].rstrip("+")))
    return {
        "category": dict(cats.most_common(limit)),
        "brand": dict(brands.most_common(limit)),
        "price": {b: prices[b] for b in price_sorted},
    }
