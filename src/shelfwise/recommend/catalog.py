"""The catalogue as the recommender serves it: ids, availability, attributes, and items added after training.

Items known at training time keep the dense indices the models were fitted with (``0 .. n_trained - 1``);
items upserted later get the next indices and are served through their attributes (:meth:`similarity`:
category, brand and title words shared with the shopper's items) until the next ``shelfwise train``.
Deleted and unavailable items are never served (:meth:`blocked`).

Example:
    >>> import pyarrow as pa
    >>> cat = ServingCatalog(["a", "b"], pa.table({"item_id": ["a", "b"], "title": ["red lipstick", "pan"],
    ...                      "category": ["Beauty > Lips", "Home > Pans"], "available": [True, False]}))
    >>> cat.blocked().tolist()
    [1]
    >>> cat.upsert([{"item_id": "c", "title": "pink lipstick", "category": "Beauty > Lips"}])
    [2]
    >>> round(float(cat.similarity(np.array([2]), np.array([0]))[0]), 2)
    0.53
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.ranking.attributes import ItemAttributes, price_bands
from shelfwise.rerank import ItemCatalog

__all__ = ["ServingCatalog"]

_WORD = re.compile(r"[a-z0-9]+")
_FIELDS = ("title", "category", "brand", "price", "available")


def _words(text: str | None) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall((text or "").lower()) if len(w) > 2)


class ServingCatalog:
    """Dense item index with the per-item facts serving needs.

    Args:
        trained_ids: external ids in the models' index order.
        rows: the store's catalogue rows (``item_id`` and any of ``title``, ``category``, ``brand``,
            ``price``, ``available``); rows of ids the models never saw become new items.
    """

    def __init__(self, trained_ids: Sequence[str], rows: pa.Table) -> None:
        self.ids: list[str] = [str(i) for i in trained_ids]
        self.index: dict[str, int] = {i: k for k, i in enumerate(self.ids)}
        self.n_trained = len(self.ids)
        n = self.n_trained
        self.titles: list[str | None] = [None] * n
        self.categories: list[str | None] = [None] * n
        self.brands: list[str | None] = [None] * n
        self.price = np.full(n, np.nan, dtype=np.float32)
        self.available = np.ones(n, dtype=bool)
        self.deleted = np.zeros(n, dtype=bool)
        self._words: dict[int, frozenset[str]] = {}
        self._catalog: ItemCatalog | None = None
        cols = [c for c in ("item_id", *_FIELDS) if c in rows.column_names]
        self.upsert(rows.select(cols).to_pylist())

    def __len__(self) -> int:
        return len(self.ids)

    def copy(self) -> ServingCatalog:
        """An independent copy (writers change a copy and swap it in; requests keep the one they read)."""
        new = object.__new__(ServingCatalog)
        new.ids = list(self.ids)
        new.index = dict(self.index)
        new.n_trained = self.n_trained
        new.titles = list(self.titles)
        new.categories = list(self.categories)
        new.brands = list(self.brands)
        new.price = self.price.copy()
        new.available = self.available.copy()
        new.deleted = self.deleted.copy()
        new._words = dict(self._words)
        new._catalog = None
        return new

    def encode(self, ids: Iterable[str | None]) -> np.ndarray:
        """int32 indices of the known ids among ``ids`` (unknown ids are left out)."""
        found = [self.index[str(i)] for i in ids if i is not None and str(i) in self.index]
        return np.asarray(found, dtype=np.int32)

    def upsert(self, rows: Iterable[dict[str, Any]]) -> list[int]:
        """Add or update items (fields not given keep their value; new items start available)."""
        touched = []
        for row in rows:
            item = str(row["item_id"])
            k = self.index.get(item)
            if k is None:
                k = len(self.ids)
                self.ids.append(item)
                self.index[item] = k
                self.titles.append(None)
                self.categories.append(None)
                self.brands.append(None)
                self.price = np.append(self.price, np.float32(np.nan))
                self.available = np.append(self.available, True)
                self.deleted = np.append(self.deleted, False)
            self.deleted[k] = False
            if "title" in row:
                self.titles[k] = row["title"]
            if "category" in row:
                self.categories[k] = row["category"]
            if "brand" in row:
                self.brands[k] = row["brand"]
            if "price" in row:
                self.price[k] = np.nan if row["price"] is None else float(row["price"])
            if "available" in row and row["available"] is not None:
                self.available[k] = bool(row["available"])
            self._words.pop(k, None)
            touched.append(k)
        self._catalog = None
        return touched

    def delete(self, ids: Iterable[str]) -> list[int]:
        """Mark items deleted (never served; their index stays reserved)."""
        gone = [int(k) for k in self.encode(ids)]
        self.deleted[gone] = True
        self._catalog = None
        return gone

    def blocked(self, unavailable: bool = True) -> np.ndarray:
        """int32 items never to serve: deleted, and unavailable ones unless ``unavailable`` is false."""
        mask = self.deleted | ~self.available if unavailable else self.deleted
        return np.flatnonzero(mask).astype(np.int32)

    def new_items(self) -> np.ndarray:
        """int32 servable items added after training."""
        k = np.arange(self.n_trained, len(self.ids))
        return k[~self.deleted[k] & self.available[k]].astype(np.int32)

    def name(self, item: int) -> str:
        """Display name (title, else the id)."""
        return str(self.titles[item] or self.ids[item])

    def words(self, item: int) -> frozenset[str]:
        """Lower-case title words of an item (cached)."""
        if item not in self._words:
            self._words[item] = _words(self.titles[item])
        return self._words[item]

    def similarity(self, items: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """float32 per item: the best attribute similarity to any anchor, in ``[0, 1]``.

        ``0.4`` for the same category (``0.2`` for the same top level) + ``0.2`` for the same brand +
        ``0.4`` x the Jaccard overlap of title words.
        """
        out = np.zeros(len(items), dtype=np.float32)
        for r, i in enumerate(np.asarray(items)):
            ci, bi, wi = self.categories[i], self.brands[i], self.words(int(i))
            best = 0.0
            for a in np.asarray(anchors):
                ca, ba, wa = self.categories[a], self.brands[a], self.words(int(a))
                s = 0.0
                if ci and ca:
                    s += 0.4 if ci == ca else 0.2 if ci.split(" > ")[0] == ca.split(" > ")[0] else 0.0
                if bi and ba and bi == ba:
                    s += 0.2
                if wi and wa:
                    s += 0.4 * len(wi & wa) / len(wi | wa)
                best = max(best, s)
            out[r] = best
        return out

    def apply_to(self, attributes: ItemAttributes) -> None:
        """Copy current prices of trained items into the ranker's attributes (price features follow changes)."""
        n = min(self.n_trained, len(attributes))
        changed = ~np.isclose(attributes.price[:n], self.price[:n], equal_nan=True)
        if changed.any():
            attributes.price[:n] = self.price[:n]
            attributes.price_band[:n] = price_bands(attributes.price[:n])

    def rerank_catalog(self) -> ItemCatalog:
        """The re-ranker's catalogue over every item (rebuilt after a change)."""
        if self._catalog is None:
            cats = sorted({c for c in self.categories if c})
            brands = sorted({b for b in self.brands if b})
            ccode = {c: k for k, c in enumerate(cats)}
            bcode = {b: k for k, b in enumerate(brands)}
            self._catalog = ItemCatalog(
                categories=np.asarray([ccode.get(c, -1) if c else -1 for c in self.categories], np.int32),
                brands=np.asarray([bcode.get(b, -1) if b else -1 for b in self.brands], np.int32),
                prices=self.price,
                item_names=[self.name(k) for k in range(len(self.ids))],
                category_names=cats,
                brand_names=brands,
            )
        return self._catalog
