"""What profiles need to know about items, in dense int32 form: vectors, categories, brands, prices.

The item vectors come from outside (any encoder or learned model) as a float32 ``(n, d)`` array with the
item ids its rows belong to, so profile code does not depend on how they were made. External item ids
appear only here; everything downstream speaks catalogue indices.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> items = pa.table({"item_id": ["b", "a"], "category": ["X > Y", None], "brand": ["Acme", None],
    ...                   "price": [3.0, None]})
    >>> cat = ItemCatalog.from_items(items, np.eye(2, dtype=np.float32), ["a", "b"])
    >>> cat.index_of("b"), cat.categories, cat.category.tolist(), cat.vectors[cat.index_of("b")].tolist()
    (1, ('X > Y',), [-1, 0], [0.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from shelfwise.profiles.price import percentile_in_category

__all__ = ["ItemCatalog"]


def _codes(values: Sequence[str | None]) -> tuple[np.ndarray, tuple[str, ...]]:
    """int32 codes (``-1`` for null / blank) and the sorted distinct names."""
    names = tuple(sorted({v for v in values if v is not None and str(v).strip()}))
    pos = {n: i for i, n in enumerate(names)}
    codes = np.fromiter((pos.get(v, -1) if v is not None else -1 for v in values), np.int32, len(values))
    return codes, names


@dataclass(frozen=True, eq=False)
class ItemCatalog:
    """Dense item facts aligned with ``ids`` (sorted external item ids).

    Attributes:
        ids: external item ids, sorted (object array); position = catalogue index.
        vectors: float32 ``(n, d)`` unit rows (zero rows for items without a vector), or ``None``.
        category: int32 category code per item (``-1`` = none); ``categories`` are the names.
        brand: int32 brand code per item (``-1`` = none); ``brands`` are the names.
        price: float64 price (NaN = unknown).
        price_pct: float32 percentile of the price within the item's category (NaN = unknown).
        titles: item titles (for segment labels on catalogues without categories), or ``None``.
    """

    ids: np.ndarray
    vectors: np.ndarray | None
    category: np.ndarray
    categories: tuple[str, ...]
    brand: np.ndarray
    brands: tuple[str, ...]
    price: np.ndarray
    price_pct: np.ndarray
    titles: tuple[str, ...] | None = None
    _pos: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_items(
        cls,
        items: pa.Table,
        vectors: np.ndarray | None = None,
        vector_ids: Sequence[str] | None = None,
        *,
        extra_item_ids: Sequence[str] = (),
    ) -> ItemCatalog:
        """Build from a catalogue table (``item_id`` and optional ``category``, ``brand``, ``price``, ``title``).

        Args:
            items: the catalogue (store or dataset items table).
            vectors: float32 ``(m, d)`` item vectors (normalised here), or ``None``.
            vector_ids: the item id of each row of ``vectors`` (required with ``vectors``); ids unknown to
                the catalogue are ignored.
            extra_item_ids: ids referenced by events but absent from the catalogue (kept, with no facts).

        Raises:
            ValueError: when ``vectors`` is given without matching ``vector_ids``.
        """
        cols = set(items.column_names)

        def col(name: str) -> list[object]:
            return items.column(name).to_pylist() if name in cols else [None] * items.num_rows

        raw_ids = [str(i) for i in items.column("item_id").to_pylist()]
        ids = np.asarray(sorted(set(raw_ids) | {str(i) for i in extra_item_ids}), dtype=object)
        pos = {str(i): k for k, i in enumerate(ids.tolist())}
        order = np.fromiter((pos[i] for i in raw_ids), np.int64, len(raw_ids))
        n = ids.size

        def aligned(values: list[object]) -> list[object]:
            out: list[object] = [None] * n
            for k, v in zip(order.tolist(), values, strict=True):
                out[k] = v
            return out

        category, categories = _codes(aligned(col("category")))  # type: ignore[arg-type]
        brand, brands = _codes(aligned(col("brand")))  # type: ignore[arg-type]
        price = np.asarray([np.nan if p is None else float(p) for p in aligned(col("price"))])  # type: ignore[arg-type]
        titles = tuple(str(t or "") for t in aligned(col("title"))) if "title" in cols else None
        vecs = None
        if vectors is not None:
            if vector_ids is None or len(vector_ids) != len(vectors):
                raise ValueError("vectors need vector_ids of the same length")
            src = np.asarray(vectors, dtype=np.float32)
            vecs = np.zeros((n, src.shape[1]), dtype=np.float32)
            rows = np.fromiter((pos.get(str(i), -1) for i in vector_ids), np.int64, len(vector_ids))
            keep = rows >= 0
            vecs[rows[keep]] = src[keep]
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            vecs = vecs / np.maximum(norms, 1e-12)
        return cls(
            ids=ids,
            vectors=vecs,
            category=category,
            categories=categories,
            brand=brand,
            brands=brands,
            price=price,
            price_pct=percentile_in_category(price, category),
            titles=titles,
            _pos=pos,
        )

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def dim(self) -> int:
        """Vector width (0 without vectors)."""
        return 0 if self.vectors is None else int(self.vectors.shape[1])

    def index_of(self, item_id: str | None) -> int:
        """Catalogue index of an external id, ``-1`` when unknown or ``None``."""
        if item_id is None:
            return -1
        return self._pos.get(str(item_id), -1)

    def encode(self, item_ids: Sequence[str | None]) -> np.ndarray:
        """int32 catalogue indices of many ids (``-1`` for unknown)."""
        pos = self._pos
        return np.fromiter(
            (pos.get(str(i), -1) if i is not None else -1 for i in item_ids), np.int32, len(item_ids)
        )
