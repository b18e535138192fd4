"""What the ranking features know about items from the catalogue: category, brand, price, price band.

Rows are aligned with the dense item index the models were fitted with (e.g. ``RecommendData.items``,
whose rows follow ``RankingData.items``). Names become int32 codes (``-1`` = unknown); prices stay
float32 with NaN for unknown; the price band is the item's global price tercile (0 budget, 1 mid,
2 premium, ``-1`` unknown).

Example:
    >>> import pyarrow as pa
    >>> t = pa.table({"item_id": ["a", "b", "c"], "category": ["X > Y", None, "X > Y"],
    ...               "brand": ["B", "B", None], "price": [5.0, None, 50.0]})
    >>> a = ItemAttributes.from_table(t)
    >>> a.category.tolist(), a.brand.tolist(), a.price_band.tolist(), a.n_categories
    ([0, -1, 0], [0, 0, -1], [0, -1, 2], 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["ItemAttributes"]

N_PRICE_BANDS = 3


def _codes(values: Sequence[object]) -> tuple[np.ndarray, tuple[str, ...]]:
    names = tuple(sorted({str(v) for v in values if v is not None and str(v).strip()}))
    pos = {n: i for i, n in enumerate(names)}
    codes = np.fromiter((pos.get(str(v), -1) if v is not None else -1 for v in values), np.int32, len(values))
    return codes, names


def price_bands(price: np.ndarray) -> np.ndarray:
    """int8 global price tercile of each item (``-1`` for a missing or non-positive price)."""
    price = np.asarray(price, dtype=np.float64)
    known = np.isfinite(price) & (price > 0)
    out = np.full(price.shape, -1, dtype=np.int8)
    if known.any():
        edges = np.quantile(price[known], [1 / 3, 2 / 3])
        out[known] = np.searchsorted(edges, price[known], side="right").astype(np.int8)
    return out


@dataclass(frozen=True, eq=False)
class ItemAttributes:
    """Dense catalogue facts.

    Attributes:
        category: int32 code per item (``-1`` = none); ``categories`` are the names.
        brand: int32 code per item (``-1`` = none); ``brands`` are the names.
        price: float32 price (NaN = unknown).
        price_band: int8 global price tercile (``-1`` = unknown).
    """

    category: np.ndarray
    categories: tuple[str, ...]
    brand: np.ndarray
    brands: tuple[str, ...]
    price: np.ndarray
    price_band: np.ndarray

    @classmethod
    def from_table(cls, items: pa.Table) -> ItemAttributes:
        """Build from catalogue rows aligned with the item index (missing columns = unknown)."""
        n = items.num_rows

        def col(name: str) -> list[Any]:
            return items.column(name).to_pylist() if name in items.column_names else [None] * n

        category, categories = _codes(col("category"))
        brand, brands = _codes(col("brand"))
        price = np.asarray([np.nan if p is None else float(p) for p in col("price")], dtype=np.float32)
        return cls(category, categories, brand, brands, price, price_bands(price))

    @classmethod
    def empty(cls, n_items: int) -> ItemAttributes:
        """Attributes of a catalogue with no facts at all."""
        return cls.from_table(pa.table({"item_id": [str(i) for i in range(n_items)]}))

    def __len__(self) -> int:
        return int(self.category.size)

    @property
    def n_categories(self) -> int:
        """Number of distinct categories."""
        return len(self.categories)

    @property
    def n_brands(self) -> int:
        """Number of distinct brands."""
        return len(self.brands)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready names (codes and prices are saved as arrays by the caller)."""
        return {"categories": list(self.categories), "brands": list(self.brands)}

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-item arrays, for ``np.savez``."""
        return {
            "category": self.category,
            "brand": self.brand,
            "price": self.price,
            "price_band": self.price_band,
        }

    @classmethod
    def from_saved(cls, meta: dict[str, Any], arrays: Any) -> ItemAttributes:
        """Inverse of :meth:`to_json` + :meth:`arrays`."""
        return cls(
            np.asarray(arrays["category"], dtype=np.int32),
            tuple(meta["categories"]),
            np.asarray(arrays["brand"], dtype=np.int32),
            tuple(meta["brands"]),
            np.asarray(arrays["price"], dtype=np.float32),
            np.asarray(arrays["price_band"], dtype=np.int8),
        )
