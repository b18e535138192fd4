"""Shopper-chosen orders of the confident matches: price, rating, newest.

Items without the fact a sort needs (no price, no rating) go last, in their relevance order; ties keep
relevance order too (the sort is stable).

Example:
    >>> from shelfwise.search.catalog import SearchCatalog
    >>> cat = SearchCatalog.from_items([{"item_id": "a", "title": "t", "price": 9},
    ...                                 {"item_id": "b", "title": "t", "price": 3},
    ...                                 {"item_id": "c", "title": "t"}])
    >>> sort_ids(["a", "b", "c"], cat, "price_asc"), sort_ids(["a", "b", "c"], cat, "price_desc")
    (['b', 'a', 'c'], ['a', 'b', 'c'])
"""

from __future__ import annotations

from collections.abc import Sequence

from shelfwise.search.catalog import CatalogItem, SearchCatalog


def _key(item: CatalogItem | None, sort: str) -> tuple[bool, float | str]:
    if item is None:
        return (True, 0.0)
    if sort in ("price_asc", "price_desc"):
        if item.price is None:
            return (True, 0.0)
        return (False, item.price if sort == "price_asc" else -item.price)
    if sort == "rating":
        rating = item.rating
        return (rating is None, -(rating or 0.0))
    if sort == "newest":  # latest update first; without dates, the latest added to the catalogue
        return (False, -float(item.added)) if not item.updated else (False, item.updated)
    return (False, 0.0)


def sort_ids(ids: Sequence[str], catalog: SearchCatalog, sort: str) -> list[str]:
    """``ids`` (in relevance order) re-ordered by ``sort`` (``relevance`` keeps them as they are)."""
    if sort == "relevance":
        return list(ids)
    items = catalog.items
    if sort == "newest" and any(items[i].updated for i in ids if i in items):
        dated = sorted(
            (i for i in ids if i in items and items[i].updated), key=lambda i: items[i].updated, reverse=True
        )
        return dated + [i for i in ids if i not in set(dated)]
    return sorted(ids, key=lambda i: _key(items.get(i), sort))
