"""Product facts for the pages: one cached read of the store's catalogue, shaped for cards.

The pipelines return item ids, scores and reasons; titles, prices and images come from here.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ItemView", "WebCatalog", "price_text"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}
_COLUMNS = ["item_id", "title", "description", "category", "brand", "price", "currency", "image", "available"]


def price_text(price: float | None, currency: str | None) -> str:
    """``$12.99``; ``12.99 CHF`` for currencies without a symbol; empty when there is no price."""
    if price is None:
        return ""
    symbol = _SYMBOLS.get(currency or "USD")
    return f"{symbol}{price:,.2f}" if symbol else f"{price:,.2f} {currency}"


@dataclass(frozen=True)
class ItemView:
    """What a product card or page shows of one item."""

    item_id: str
    title: str
    brand: str | None
    category: str | None
    category_leaf: str | None
    price: float | None
    price_text: str
    image: str | None
    available: bool
    description: str | None
    initials: str
    hue: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ItemView:
        """From one catalogue row (the store's canonical item columns)."""
        category = row.get("category") or None
        leaf = category.split(" > ")[-1] if category else None
        words = [w for w in (leaf or row.get("title") or "?").replace("&", " ").split() if w[:1].isalnum()]
        return cls(
            item_id=str(row["item_id"]),
            title=row.get("title") or str(row["item_id"]),
            brand=row.get("brand") or None,
            category=category,
            category_leaf=leaf,
            price=row.get("price"),
            price_text=price_text(row.get("price"), row.get("currency")),
            image=row.get("image") or None,
            available=row.get("available") is not False,
            description=row.get("description") or None,
            initials="".join(w[0].upper() for w in words[:2]) or "?",
            hue=zlib.crc32((leaf or "").encode()) % 360,
        )

    def card(self, url: str, reason: str | None = None, score: float | None = None) -> dict[str, Any]:
        """The template values of a card linking to ``url`` with its one-line reason."""
        return {**asdict(self), "url": url, "reason": reason, "score": score}


class WebCatalog:
    """The store's items by id, re-read at most every ``ttl_seconds`` (catalogue upserts show up then)."""

    def __init__(self, store: Any, ttl_seconds: float = 30.0) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self._items: dict[str, ItemView] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def items(self) -> dict[str, ItemView]:
        """All items by id."""
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl_seconds:
                rows = self.store.read_items(_COLUMNS).to_pylist()
                self._items = {str(r["item_id"]): ItemView.from_row(r) for r in rows}
                self._read_at = time.monotonic()
            return self._items

    def category_names(self) -> dict[str, str]:
        """Category paths by their lower-case form (facet keys are lower case)."""
        return {i.category.lower(): i.category for i in self.items().values() if i.category}

    def get(self, item_id: str) -> ItemView | None:
        """One item, or ``None`` when the catalogue has no such id."""
        return self.items().get(item_id)
