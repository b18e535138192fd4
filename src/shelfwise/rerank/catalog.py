"""The catalogue as the re-ranker sees it (:class:`ItemCatalog`) and verifiable query filters (:class:`QueryFilter`).

Example:
    >>> import numpy as np
    >>> cat = ItemCatalog(prices=np.array([12.0, 80.0, np.nan]))
    >>> QueryFilter("under $50", price_max=50).matches(cat, np.array([0, 1, 2])).tolist()
    [True, False, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ItemCatalog", "QueryFilter"]


@dataclass(frozen=True, eq=False)
class ItemCatalog:
    """Per-item metadata arrays of the whole catalogue, indexed by dense item index.

    Every array is optional; the ones given must agree in length. Unknown category / brand / seller is
    ``-1``. Embeddings are stored L2-normalised float32 (rows are normalised on construction when they
    are not; a zero row stays zero).

    Attributes:
        embeddings: float32 ``(n_items, d)`` unit vectors (MMR / DPP similarity, ILD).
        categories: int32 ``(n_items,)`` category ids.
        brands: int32 ``(n_items,)`` brand ids.
        sellers: int32 ``(n_items,)`` seller ids.
        prices: float32 ``(n_items,)`` prices (NaN = unknown), used to check price filters.
        item_names: display name per item (for "similar to X"); ``None`` = ``"item <index>"``.
        category_names: display name per category id.
        brand_names: name per brand id (shared exposure counters are keyed by name).
    """

    embeddings: np.ndarray | None = None
    categories: np.ndarray | None = None
    brands: np.ndarray | None = None
    sellers: np.ndarray | None = None
    prices: np.ndarray | None = None
    item_names: Sequence[str] | None = None
    category_names: Sequence[str] | None = None
    brand_names: Sequence[str] | None = None

    def __post_init__(self) -> None:
        sizes: dict[str, int] = {}
        if self.embeddings is not None:
            emb = np.asarray(self.embeddings, dtype=np.float32)
            if emb.ndim != 2:
                raise ValueError(f"embeddings must be 2-D, got shape {emb.shape}")
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            if not np.allclose(norms[norms > 0], 1.0, atol=1e-3):
                emb = np.divide(emb, norms, out=np.zeros_like(emb), where=norms > 0)
            object.__setattr__(self, "embeddings", np.ascontiguousarray(emb))
            sizes["embeddings"] = emb.shape[0]
        for name in ("categories", "brands", "sellers"):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value)
                if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
                    raise ValueError(f"{name} must be a 1-D integer array")
                object.__setattr__(self, name, np.ascontiguousarray(arr, dtype=np.int32))
                sizes[name] = arr.size
        if self.prices is not None:
            object.__setattr__(self, "prices", np.asarray(self.prices, dtype=np.float32))
            sizes["prices"] = self.prices.size
        if self.item_names is not None:
            sizes["item_names"] = len(self.item_names)
        if len(set(sizes.values())) > 1:
            raise ValueError(f"catalogue arrays differ in length: {sizes}")
        object.__setattr__(self, "_n", next(iter(sizes.values()), 0))
        n_cat = int(self.categories.max()) + 1 if self.categories is not None and self.categories.size else 0
        object.__setattr__(self, "_n_categories", max(n_cat, 0))

    @property
    def n_items(self) -> int:
        """Items in the catalogue (0 when no per-item array was given)."""
        return int(self._n)  # type: ignore[attr-defined]

    @property
    def n_categories(self) -> int:
        """``max(category id) + 1`` (0 without categories)."""
        return int(self._n_categories)  # type: ignore[attr-defined]

    def category_of(self, items: np.ndarray) -> np.ndarray:
        """int32 category ids of ``items`` (``-1`` everywhere when the catalogue has no categories)."""
        if self.categories is None:
            return np.full(np.asarray(items).shape, -1, dtype=np.int32)
        return np.asarray(self.categories[items])

    def item_name(self, item: int) -> str:
        """Display name of an item."""
        return str(self.item_names[item]) if self.item_names is not None else f"item {item}"

    def category_name(self, category: int) -> str:
        """Display name of a category id."""
        if self.category_names is not None and 0 <= category < len(self.category_names):
            return str(self.category_names[category])
        return f"category {category}"


@dataclass(frozen=True)
class QueryFilter:
    """A filter parsed from a search query ("under $50", "nail polish", "by OPI").

    An item matches when every condition given holds **according to the catalogue** (an item whose
    price / category / brand is unknown does not match), so "matches 'under $50'" is only ever said of
    an item whose known price is at most 50.

    Attributes:
        label: the shopper-facing text of the filter, e.g. ``"under $50"``.
        categories: the item's category must be one of these.
        brands: the item's brand must be one of these.
        price_min: inclusive lower price bound.
        price_max: inclusive upper price bound.
    """

    label: str
    categories: tuple[int, ...] = ()
    brands: tuple[int, ...] = ()
    price_min: float | None = None
    price_max: float | None = None

    def __post_init__(self) -> None:
        if not (self.categories or self.brands or self.price_min is not None or self.price_max is not None):
            raise ValueError(f"filter {self.label!r} has no condition")

    def matches(self, catalog: ItemCatalog, items: np.ndarray) -> np.ndarray:
        """Boolean mask over ``items``: which verifiably satisfy the filter."""
        items = np.asarray(items, dtype=np.int64)
        ok = np.ones(items.shape, dtype=bool)
        if self.categories:
            cats = catalog.category_of(items)
            ok &= np.isin(cats, self.categories) & (cats >= 0)
        if self.brands:
            if catalog.brands is None:
                return np.zeros(items.shape, dtype=bool)
            ok &= np.isin(catalog.brands[items], self.brands)
        if self.price_min is not None or self.price_max is not None:
            if catalog.prices is None:
                return np.zeros(items.shape, dtype=bool)
            price = catalog.prices[items]
            ok &= np.isfinite(price)
            if self.price_min is not None:
                ok &= price >= self.price_min
            if self.price_max is not None:
                ok &= price <= self.price_max
        return ok
