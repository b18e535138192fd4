"""Facet counts over a matching set: category, brand and price bucket.

Price buckets follow the prices of the matching set: edges at its quantiles, rounded to shopper-friendly
amounts (1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100, ...); never a single bucket when prices differ.

Example:
    >>> from shelfwise.search.catalog import SearchCatalog
    >>> cat = SearchCatalog.from_items([
    ...     {"item_id": "a", "title": "t", "brand": "Nike", "category": "Shoes > Running", "price": 40},
    ...     {"item_id": "b", "title": "t", "brand": "Nike", "category": "Shoes > Trail", "price": 60},
    ...     {"item_id": "c", "title": "t", "brand": None, "category": None, "price": None},
    ... ])
    >>> facet_counts(cat, ["a", "b", "c"])
    {'category': {'Shoes > Running': 1, 'Shoes > Trail': 1}, 'brand': {'Nike': 2}, 'price': {'0-50': 1, '50+': 1}}
    >>> price_edges([2.5, 3.0, 3.97, 8.79, 9.5, 12.0, 19.99, 31.0], 4)
    [4.0, 10.0, 15.0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from shelfwise.search.catalog import SearchCatalog

_NICE = (1, 1.5, 2, 2.5, 3, 4, 5, 7.5)


def _nice(value: float) -> float:
    """The shopper-friendly amount nearest ``value`` (1, 2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100...)."""
    if value <= 0:
        return 0.0
    scale = 10 ** np.floor(np.log10(value))
    cands = [n * scale for n in _NICE] + [10 * scale]
    return float(min(cands, key=lambda c: abs(c - value)))


def price_edges(prices: Sequence[float], buckets: int = 5) -> list[float]:
    """Inner bucket edges from the quantiles of ``prices``, rounded and de-duplicated; at least one edge
    inside the range when the prices differ."""
    arr = np.asarray([p for p in prices if p is not None], float)
    if arr.size == 0 or arr.min() == arr.max():
        return []
    qs = np.quantile(arr, np.linspace(0, 1, buckets + 1)[1:-1])
    edges = sorted({_nice(q) for q in qs if arr.min() < _nice(q) <= arr.max()})
    if not edges:  # every rounded edge fell outside: split at the median, unrounded
        edges = [round(float(np.median(arr)), 2)]
    return edges


def _label(price: float, edges: Sequence[float]) -> str:
    low = 0.0
    for high in edges:
        if price < high:
            return f"{low:g}-{high:g}"
        low = high
    return f"{low:g}+"


def facet_counts(
    catalog: SearchCatalog, item_ids: Sequence[str], limit: int = 20, price_buckets: int = 5
) -> dict[str, dict[str, int]]:
    """Counts of the ``limit`` most common categories and brands, and of every price bucket (in order).

    Items without a value for a facet are not counted in it.
    """
    cats: Counter[str] = Counter()
    brands: Counter[str] = Counter()
    prices: list[float] = []
    for item_id in item_ids:
        item = catalog.items.get(item_id)
        if item is None:
            continue
        if item.category:
            cats[item.category_label] += 1
        if item.brand:
            brands[item.brand] += 1
        if item.price is not None:
            prices.append(item.price)
    edges = price_edges(prices, price_buckets)
    counts = Counter(_label(p, edges) for p in prices)
    price_sorted = sorted(counts, key=lambda b: float(b.split("-")[0].rstrip("+")))
    return {
        "category": dict(cats.most_common(limit)),
        "brand": dict(brands.most_common(limit)),
        "price": {b: counts[b] for b in price_sorted},
    }
