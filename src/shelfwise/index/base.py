"""Interfaces of the vector index and the lexical index, their filters and their results.

Both indexes take external string item ids at the edge and keep dense int64 keys inside. Both support
incremental ``add`` (an existing id is replaced) and ``delete``, metadata filters (category subtree, price
range, in stock, excluded ids) and ``save(dir)`` / ``load(dir)`` as JSON + ``.npy`` (+ the backend's own
index file), never pickle.

Item metadata is a plain mapping per item, the columns of :data:`shelfwise.data.schema.ITEM_COLUMNS`::

    {"item_id": "sku-1", "title": ..., "description": ..., "category": "Shoes > Running",
     "brand": "Nike", "price": 89.0, "available": True, "attributes": {"colour": "red"}}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class SearchFilter:
    """Restricts results; every condition given must hold (``None`` = no condition).

    Attributes:
        categories: category paths; an item matches when its path equals one of them or lies below it
            ("Shoes" matches "Shoes > Running"). Case-insensitive.
        price_min: lowest price allowed (items without a price are excluded when a bound is set).
        price_max: highest price allowed.
        in_stock: ``True`` keeps only available items, ``False`` only unavailable ones.
        exclude_ids: item ids never returned (e.g. already bought).
    """

    categories: tuple[str, ...] | None = None
    price_min: float | None = None
    price_max: float | None = None
    in_stock: bool | None = None
    exclude_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        """True when the filter lets every live item through."""
        return (
            self.categories is None
            and self.price_min is None
            and self.price_max is None
            and self.in_stock is None
            and not self.exclude_ids
        )


@dataclass(frozen=True)
class Hit:
    """One result: the item, its score and the index that produced it."""

    item_id: str
    score: float
    source: str


@dataclass(frozen=True)
class SearchResults:
    """Results of a batch of queries, best first per query (fewer than ``k`` when the filter is narrow).

    Attributes:
        item_ids: per query, the item ids.
        scores: per query, float32 scores aligned with ``item_ids`` (cosine / inner product for vector
            indexes, BM25 for lexical ones).
        source: which index produced them (e.g. ``"vector:faiss-hnsw"``).
    """

    item_ids: list[list[str]]
    scores: list[np.ndarray]
    source: str

    def __len__(self) -> int:
        return len(self.item_ids)

    def hits(self, query: int = 0) -> list[Hit]:
        """The results of one query as :class:`Hit` objects."""
        return [
            Hit(i, float(s), self.source)
            for i, s in zip(self.item_ids[query], self.scores[query], strict=True)
        ]


class VectorIndex(ABC):
    """Nearest neighbours by inner product over unit vectors (= cosine)."""

    #: ``"exact"``, ``"faiss-hnsw"``, ``"usearch"``...
    kind: str
    dim: int

    @abstractmethod
    def add(
        self,
        item_ids: Sequence[str],
        vectors: np.ndarray,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Add or replace items.

        Args:
            item_ids: external ids, one per row.
            vectors: ``(n, dim)`` float32 unit vectors.
            metadata: per item, the filterable fields (category, price, available); ``None`` = unknown.
        """

    @abstractmethod
    def delete(self, item_ids: Sequence[str]) -> int:
        """Remove items; returns how many were present."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int = 10, filter: SearchFilter | None = None) -> SearchResults:
        """The ``k`` best items for each query row of ``(nq, dim)``."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of live items."""

    @abstractmethod
    def __contains__(self, item_id: object) -> bool:
        """Whether an item id is live in the index."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the index into ``directory`` (created if needed)."""

    @classmethod
    @abstractmethod
    def load(cls: type[T], directory: str | Path) -> T:
        """Read an index written by :meth:`save`."""


class LexicalIndex(ABC):
    """Keyword search over weighted item fields (title, brand, category, description, attributes)."""

    kind: str

    @abstractmethod
    def add(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Add or replace items (mappings with ``item_id`` and text fields)."""

    @abstractmethod
    def delete(self, item_ids: Sequence[str]) -> int:
        """Remove items; returns how many were present."""

    @abstractmethod
    def search(
        self, queries: Sequence[str], k: int = 10, filter: SearchFilter | None = None
    ) -> SearchResults:
        """The ``k`` best items for each query string."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of live items."""

    @abstractmethod
    def __contains__(self, item_id: object) -> bool:
        """Whether an item id is live in the index."""

    @abstractmethod
    def save(self, directory: str | Path) -> None:
        """Write the index into ``directory`` (created if needed)."""

    @classmethod
    @abstractmethod
    def load(cls: type[T], directory: str | Path) -> T:
        """Read an index written by :meth:`save`."""


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest entries of each row, best first (``-inf`` entries dropped by caller)."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
