"""Fair-exposure metrics of recommended lists: how evenly attention is spread over items and brands.

Exposure is position-weighted, as a shopper's attention falls down a list: the item at 1-based rank ``r`` of a
top-k list receives ``w_r = 1 / log2(1 + r)`` (1 at rank 1, 0.63 at rank 2, 0.29 at rank 10; the DCG
discount, Singh & Joachims 2018). With ``E_i`` = an item's exposure summed over all lists and ``E_b`` = the sum
over a brand's items:

* ``gini_item_exposure@k``  = Gini of ``E_i`` over all ``n_items`` items (never-shown items count with 0)
* ``gini_brand_exposure@k`` = Gini of ``E_b`` over all brands of the catalogue (items of unknown brand left out)
* ``brand_exposure_vs_relevance@k`` = ``sum_b |E_b / sum E - R_b / sum R|`` (L1 in ``[0, 2]``): exposure share
  against relevance share, ``R_b`` = the test targets (the items each user really interacted with next) of
  brand ``b``; 0 = every brand gets the attention its relevance earns
* ``long_tail_share@k`` = the share of exposure going to long-tail items: items outside the short head, the
  ``head_fraction`` (default 20%) most interacted-with items of the training data

Gini is ``sum_j (2j - n - 1) x_(j) / (n sum x)`` (:func:`~shelfwise.metrics.beyond_accuracy.gini_coefficient`).
Lower is fairer for the first three; a higher long-tail share is more exposure for the tail.

Example:
    >>> import numpy as np
    >>> top = np.array([[0, 1], [0, 2]])
    >>> round(GiniBrandExposure(brands=np.array([0, 1, 1]), k=2).compute(top), 4)
    0.1131
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.metrics.base import ListMetric
from shelfwise.metrics.beyond_accuracy import gini_coefficient

__all__ = [
    "BrandExposureVsRelevance",
    "GiniBrandExposure",
    "GiniItemExposure",
    "LongTailShare",
    "fairness_list_metrics",
    "item_brands",
    "position_weights",
]


def position_weights(k: int) -> np.ndarray:
    """float64 ``(k,)``: ``1 / log2(1 + r)`` for ranks ``r = 1..k``."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def item_exposure(top: np.ndarray, n_items: int) -> np.ndarray:
    """float64 ``(n_items,)``: position-weighted exposure of each item over the ``(n_users, k)`` lists."""
    w = np.broadcast_to(position_weights(top.shape[1]), top.shape)
    valid = top >= 0
    return np.bincount(top[valid], weights=w[valid], minlength=n_items).astype(np.float64)


def _codes(brands: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, int]:
    """Dense int64 brand codes per item (``-1`` unknown) and the number of brands."""
    arr = np.asarray(brands)
    if np.issubdtype(arr.dtype, np.integer):
        codes = arr.astype(np.int64)
        known = codes[codes >= 0]
        _, dense = np.unique(known, return_inverse=True)
        out = np.full(codes.size, -1, dtype=np.int64)
        out[codes >= 0] = dense
        return out, int(dense.max(initial=-1)) + 1
    names = [None if b is None or b == "" else str(b) for b in arr.tolist()]
    lookup: dict[str, int] = {}
    out = np.array([-1 if b is None else lookup.setdefault(b, len(lookup)) for b in names], dtype=np.int64)
    return out, len(lookup)


class _BrandMetric(ListMetric):
    def __init__(self, brands: Sequence[Any] | np.ndarray, k: int = 10) -> None:
        super().__init__(k)
        self.brand_of, self.n_brands = _codes(brands)
        if self.n_brands == 0:
            raise ValueError("no item has a known brand")

    def brand_exposure(self, top: np.ndarray) -> np.ndarray:
        e = item_exposure(top, self.brand_of.size)
        known = self.brand_of >= 0
        return np.bincount(self.brand_of[known], weights=e[known], minlength=self.n_brands)


class GiniItemExposure(ListMetric):
    """Gini of position-weighted item exposure over the whole catalogue (lower = more even)."""

    base_name = "gini_item_exposure"
    higher_is_better = False

    def __init__(self, n_items: int, k: int = 10) -> None:
        super().__init__(k)
        if n_items < 1:
            raise ValueError("n_items must be >= 1")
        self.n_items = n_items

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        return gini_coefficient(item_exposure(self._lists(top_items), self.n_items))


class GiniBrandExposure(_BrandMetric):
    """Gini of position-weighted brand exposure over all brands of the catalogue (lower = more even)."""

    base_name = "gini_brand_exposure"
    higher_is_better = False

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        return gini_coefficient(self.brand_exposure(self._lists(top_items)))


class BrandExposureVsRelevance(_BrandMetric):
    """L1 distance between brands' exposure share and their share of the relevant (target) items.

    Args:
        brands: brand per item (ints, ``-1`` unknown; or names, ``None`` unknown).
        targets: ``(n_users,)`` or ``(n_users, m)`` relevant items aligned with the lists' rows (``-1`` padding).
        k: cut-off.
    """

    base_name = "brand_exposure_vs_relevance"
    higher_is_better = False

    def __init__(self, brands: Sequence[Any] | np.ndarray, targets: np.ndarray, k: int = 10) -> None:
        super().__init__(brands, k)
        t = np.asarray(targets, dtype=np.int64)
        self.targets = t[:, None] if t.ndim == 1 else t

    def relevance_share(self) -> np.ndarray:
        """float64 ``(n_brands,)``: each brand's share of the targets of known brand."""
        t = self.targets[self.targets >= 0]
        b = self.brand_of[t]
        counts = np.bincount(b[b >= 0], minlength=self.n_brands).astype(np.float64)
        return counts / counts.sum() if counts.sum() > 0 else counts

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        top = self._lists(top_items)
        if top.shape[0] != self.targets.shape[0]:
            raise ValueError(f"{self.targets.shape[0]} target rows for {top.shape[0]} lists")
        e = self.brand_exposure(top)
        r = self.relevance_share()
        if e.sum() <= 0 or r.sum() <= 0:
            return float("nan")
        return float(np.abs(e / e.sum() - r).sum())


class LongTailShare(ListMetric):
    """Share of position-weighted exposure given to long-tail items (outside the most popular ``head_fraction``).

    Args:
        item_counts: training interactions per item (popularity).
        k: cut-off.
        head_fraction: share of the catalogue, most popular first, that forms the short head.
    """

    base_name = "long_tail_share"

    def __init__(self, item_counts: np.ndarray, k: int = 10, head_fraction: float = 0.2) -> None:
        super().__init__(k)
        if not 0.0 < head_fraction < 1.0:
            raise ValueError("head_fraction must be in (0, 1)")
        counts = np.asarray(item_counts, dtype=np.float64).ravel()
        n_head = round(head_fraction * counts.size)
        head = np.argsort(-counts, kind="stable")[:n_head]
        self.tail = np.ones(counts.size, dtype=bool)
        self.tail[head] = False

    def compute(self, top_items: np.ndarray, history: sp.csr_matrix | None = None) -> float:
        e = item_exposure(self._lists(top_items), self.tail.size)
        return float(e[self.tail].sum() / e.sum()) if e.sum() > 0 else float("nan")


def item_brands(items: Any) -> np.ndarray | None:
    """int32 brand code per catalogue row (``-1`` unknown) of an Arrow items table, or ``None`` with no brands.

    The ``brand`` column when it has values; otherwise, as on Amazon Beauty (``attributes.attribute_ids`` = an
    optional brand id followed by the category path), the leading id of an item's path when that id never
    appears later in any path (a category id does; see :mod:`shelfwise.evaluation.categories`).
    """
    cols = items.column_names
    if "brand" in cols:
        names = items.column("brand").to_pylist()
        if any(b for b in names):
            codes, _ = _codes(names)
            return codes.astype(np.int32)
    if "attributes" not in cols:
        return None
    paths = [
        json.loads(a).get("attribute_ids", []) if a else [] for a in items.column("attributes").to_pylist()
    ]
    later = {a for ids in paths for a in ids[1:]}
    lead = [ids[0] if ids and ids[0] not in later else -1 for ids in paths]
    if all(b == -1 for b in lead):
        return None
    codes, _ = _codes(np.asarray(lead, dtype=np.int64))
    return codes.astype(np.int32)


def fairness_list_metrics(
    items: Any, n_items: int, k: int, targets: np.ndarray | None = None, item_counts: np.ndarray | None = None
) -> list[ListMetric]:
    """The fairness metrics the harness reports next to the other list metrics.

    Args:
        items: the catalogue (Arrow table, rows = dense item indices) for the brands.
        n_items: catalogue size.
        k: cut-off.
        targets: test targets aligned with the lists' rows (for ``brand_exposure_vs_relevance``).
        item_counts: training interactions per item (for ``long_tail_share``).

    Returns:
        ``gini_item_exposure@k``, and what the data allows of ``gini_brand_exposure@k``,
        ``brand_exposure_vs_relevance@k`` and ``long_tail_share@k``.
    """
    out: list[ListMetric] = [GiniItemExposure(n_items, k)]
    brands = item_brands(items) if items is not None else None
    if brands is not None and (brands >= 0).any():
        out.append(GiniBrandExposure(brands, k))
        if targets is not None:
            out.append(BrandExposureVsRelevance(brands, targets, k))
    if item_counts is not None:
        out.append(LongTailShare(item_counts, k))
    return out
