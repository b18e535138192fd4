"""The item facts search needs in memory: titles, brands, categories, prices, stock, colours, popularity.

The indexes answer text and vector queries; this table answers "does item X satisfy constraint Y" for the
constraints the indexes cannot filter on (brand, colour, size), counts facets and supplies the titles of
the results. It is updated together with the indexes (:meth:`SearchCatalog.upsert`, :meth:`delete`).

Example:
    >>> cat = SearchCatalog.from_items([
    ...     {"item_id": "a", "title": "Nike Red Running Shoe", "brand": "Nike", "price": 40.0,
    ...      "category": "Shoes > Running"},
    ...     {"item_id": "b", "title": "Blue sandal", "brand": None, "price": 70.0},
    ... ])
    >>> cat.matches("a", {"brand": ["nike"], "colour": ["red"], "price_max": 50})
    True
    >>> cat.matches("b", {"price_max": 50}), cat.price_bucket("b")
    (False, '50-100')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shelfwise.encoders.item_text import parse_attributes
from shelfwise.index.metadata import normalize_category

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")

#: Upper bounds of the price facet buckets (the last bucket is open).
PRICE_BUCKETS: tuple[float, ...] = (10.0, 25.0, 50.0, 100.0, 250.0, 500.0)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _price(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def bucket_label(price: float | None) -> str | None:
    """The price facet bucket of a price ("25-50", "500+"), ``None`` for an unknown price."""
    if price is None:
        return None
    low = 0.0
    for high in PRICE_BUCKETS:
        if price < high:
            return f"{low:g}-{high:g}"
        low = high
    return f"{low:g}+"


@dataclass
class CatalogItem:
    """One item as search sees it (lower-cased helpers for matching)."""

    item_id: str
    title: str
    brand: str | None
    category: str
    price: float | None
    available: bool
    words: frozenset[str]
    attribute_values: frozenset[str]
    popularity: float = 0.0
    category_label: str = ""
    stems: frozenset[str] = frozenset()
    title_stems: frozenset[str] = frozenset()
    updated: str = ""
    added: int = 0
    rating_sum: float = 0.0
    rating_count: int = 0

    @property
    def leaf(self) -> str:
        """The last two levels of the category path ("Adhesive Tapes > Duct Tape"), for reasons."""
        return " > ".join(self.category_label.split(" > ")[-2:])

    @property
    def rating(self) -> float | None:
        """Mean rating from ``rating`` / ``review`` events with a value, or ``None``."""
        return self.rating_sum / self.rating_count if self.rating_count else None


def stem(word: str) -> str:
    """A light English plural stem ("tapes" -> "tape", "batteries" -> "battery", "glass" stays), used to
    decide whether a query word is *in* an item (evidence and reasons, not retrieval)."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def item_stems(title: str, category_label: str, brand: str | None, values: Iterable[str]) -> frozenset[str]:
    """Stems of what a shopper sees of an item: its title, the last level of its category, its brand and
    attribute values (not the broad upper category levels: "Tapes, Adhesives & Sealants" does not make a
    lubricant a tape)."""
    leaf = category_label.rsplit(" > ", 1)[-1]
    words = _WORD.findall(f"{title} {leaf} {brand or ''}".lower())
    return frozenset(stem(w) for w in [*words, *values])


class SearchCatalog:
    """In-memory item facts keyed by external id."""

    def __init__(self) -> None:
        self.items: dict[str, CatalogItem] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.items

    @classmethod
    def from_items(cls, rows: Iterable[Mapping[str, Any]]) -> SearchCatalog:
        """A catalogue of item rows (``item_id``, ``title``, ``brand``, ``category``, ``price``, ...)."""
        out = cls()
        out.upsert(rows)
        return out

    def upsert(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add or replace items (popularity is kept for replaced items); returns how many.

        Copy-on-write: the new mapping is swapped in whole, so a search iterating :attr:`items` meanwhile
        keeps the one it started with.
        """
        n = 0
        items = dict(self.items)
        for row in rows:
            item_id = str(row["item_id"])
            title = str(row.get("title") or "")
            attrs = parse_attributes(row.get("attributes"))
            values = {w.lower() for v in attrs.values() for w in _WORD.findall(str(v))}
            old = items.get(item_id)
            label = " > ".join(
                p.strip() for p in str(row.get("category") or "").replace("/", ">").split(">") if p.strip()
            )
            brand = (str(row["brand"]).strip() or None) if row.get("brand") else None
            items[item_id] = CatalogItem(
                item_id=item_id,
                title=title,
                brand=brand,
                category=normalize_category(row.get("category")),
                price=_price(row.get("price")),
                available=row.get("available", True) is not False,
                words=frozenset(w.lower() for w in _WORD.findall(title)),
                attribute_values=frozenset(values),
                popularity=old.popularity if old else 0.0,
                category_label=label,
                stems=item_stems(title, label, brand, values),
                title_stems=frozenset(stem(w) for w in _WORD.findall(title.lower())),
                updated=str(row.get("updated_at") or (old.updated if old else "")),
                added=old.added if old else len(items),
                rating_sum=old.rating_sum if old else 0.0,
                rating_count=old.rating_count if old else 0,
            )
            n += 1
        self.items = items
        return n

    def delete(self, item_ids: Sequence[str]) -> int:
        """Remove items; returns how many were present (copy-on-write, like :meth:`upsert`)."""
        items = dict(self.items)
        n = sum(items.pop(str(i), None) is not None for i in item_ids)
        self.items = items
        return n

    def title(self, item_id: str) -> str:
        """The item's title ("" for an unknown id)."""
        item = self.items.get(item_id)
        return item.title if item else ""

    def price_bucket(self, item_id: str) -> str | None:
        """The price facet bucket of an item."""
        item = self.items.get(item_id)
        return bucket_label(item.price) if item else None

    def add_popularity(self, counts: Mapping[str, float]) -> None:
        """Add event weights to the items' popularity."""
        for item_id, value in counts.items():
            item = self.items.get(item_id)
            if item is not None:
                item.popularity += float(value)

    def add_ratings(self, ratings: Iterable[tuple[str, float]]) -> None:
        """Fold ``(item_id, rating)`` pairs into the items' mean rating (for ``sort=rating``)."""
        for item_id, value in ratings:
            item = self.items.get(item_id)
            if item is not None:
                item.rating_sum += float(value)
                item.rating_count += 1

    # -- constraints ----------------------------------------------------------------------------------
    def brand_matches(self, item_id: str, brands: Sequence[str]) -> bool:
        """The item's brand is one of ``brands`` (or, without a brand field, its title names one)."""
        return item_id in self.items and self.predicate({"brand": list(brands)})(item_id)

    def category_matches(self, item_id: str, categories: Sequence[str]) -> bool:
        """The item's category path equals or lies under one of ``categories``."""
        return item_id in self.items and self.predicate({"category": list(categories)})(item_id)

    def matches(self, item_id: str, filters: Mapping[str, Any]) -> bool:
        """Whether an item satisfies every constraint in ``filters`` (keys of :class:`SearchRequest`)."""
        return self.predicate(filters)(item_id)

    def predicate(self, filters: Mapping[str, Any]) -> Callable[[str], bool]:
        """A test ``item_id -> bool`` for every constraint in ``filters``, prepared once for many items.

        Brand: the item's brand field (case-insensitive), or its title words when it has no brand.
        Category: the path equals or lies under a wanted one. Colour / size: every word of one of the
        values is a title word or an attribute value. Price bounds exclude items without a price.
        """

        def phrases(key: str) -> list[frozenset[str]]:
            out = [frozenset(w.lower() for w in _WORD.findall(v)) for v in _as_list(filters.get(key))]
            return [p for p in out if p]

        def has(item: CatalogItem, wanted: list[frozenset[str]]) -> bool:
            return any(p <= item.words or p <= (item.words | item.attribute_values) for p in wanted)

        brand_names = {b.lower() for b in _as_list(filters.get("brand"))}
        brand_words = phrases("brand")
        cats = [normalize_category(c) for c in _as_list(filters.get("category"))]
        colours, excluded, sizes = phrases("colour"), phrases("colour_exclude"), phrases("size")
        low, high = _price(filters.get("price_min")), _price(filters.get("price_max"))
        in_stock = filters.get("in_stock")
        exclude = set(_as_list(filters.get("exclude_ids")))

        def test(item_id: str) -> bool:
            item = self.items.get(item_id)
            if item is None or item_id in exclude:
                return False
            if brand_names and not (
                item.brand.lower() in brand_names if item.brand else has(item, brand_words)
            ):
                return False
            if cats and not any(item.category == w or item.category.startswith(w + " > ") for w in cats):
                return False
            if colours and not has(item, colours):
                return False
            if excluded and has(item, excluded):
                return False
            if sizes and not has(item, sizes):
                return False
            if low is not None or high is not None:
                if item.price is None:
                    return False
                if (low is not None and item.price < low) or (high is not None and item.price > high):
                    return False
            return in_stock is None or item.available == bool(in_stock)

        return test
