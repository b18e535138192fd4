"""Amortised brand exposure kept in the service's online state, so every replica sees what the others served.

:class:`SharedFairLedger` is the serving counterpart of :class:`~shelfwise.rerank.fair.FairExposureLedger`:
the same exposure (``1 / log2(1 + rank)`` per slot) and merit (relevance scaled to a list's exposure) per
brand, kept in the :class:`~shelfwise.online.base.OnlineState` interface's integer counters (``incr_many``, one
round trip per list) in fixed point (:data:`SCALE` units per exposure unit), keyed by brand *name* (brand ids
are per catalogue snapshot, names are the same in every replica). Keys, per surface ``s``::

    fair:<s>:lists                  lists counted (all windows)
    fair:<s>:<w>:E / :R             total exposure / merit of window w
    fair:<s>:<w>:e:<brand> / r:     one brand's exposure / merit of window w

Recent lists weigh more, as with :class:`~shelfwise.rerank.exposure.LiveExposure`'s half-life: the counters
live in windows of ``half_life`` lists; a request reads the current window at weight 1 and the previous one at
weight 1/2, and older windows are no longer read (the first list of a window deletes the window before the
previous one). Only the candidates' brands and the totals are read per request (``2m + 2`` gets).

Example:
    >>> from shelfwise.online import MemoryOnlineState
    >>> from shelfwise.rerank.catalog import ItemCatalog
    >>> cat = ItemCatalog(brands=np.array([0, 0, 1]), brand_names=["acme", "zeta"])
    >>> ledger = SharedFairLedger(MemoryOnlineState(), "home", cat)
    >>> ledger.record(np.array([0, 2]))
    >>> view = ledger.brand_view(cat, np.array([0, 2]), np.array([1.0, 1.0]), 2, np.array([0, 1]))
    >>> view.exposure.round(3).tolist(), round(view.total_exposure, 3)
    ([1.0, 0.631], 1.631)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from shelfwise.rerank.catalog import ItemCatalog
from shelfwise.rerank.fair import BrandLedger, BrandView, scaled_merit

if TYPE_CHECKING:
    from shelfwise.online.base import OnlineState

__all__ = ["SCALE", "SharedFairLedger"]

#: Counter units per unit of exposure / merit (counters are integers).
SCALE = 1_000_000


def _weights(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64))


class SharedFairLedger(BrandLedger):
    """Brand exposure and merit of one surface in an :class:`OnlineState` (see the module docstring).

    Args:
        online: the service's online state (in-process or shared).
        surface: the recommendation slot the lists are shown in.
        catalog: the re-ranker's catalogue (``brands`` and ``brand_names``).
        half_life: lists per window.
    """

    def __init__(
        self, online: OnlineState, surface: str, catalog: ItemCatalog, half_life: int = 10_000
    ) -> None:
        if catalog.brands is None or catalog.brand_names is None:
            raise ValueError("a shared fairness ledger needs the catalogue's brands and brand names")
        self.online = online
        self.prefix = f"fair:{surface}:"
        self.brands = np.asarray(catalog.brands, dtype=np.int64)
        self.names = list(catalog.brand_names)
        self.half_life = max(1, int(half_life))

    def _window(self) -> int:
        raw = self.online.get(self.prefix + "lists")
        return (int(raw) if raw is not None else 0) // self.half_life

    def _add(self, kind: str, per_item: np.ndarray, items: np.ndarray) -> None:
        """Add ``per_item`` amounts (aligned with ``items``) to their brands' ``kind`` counters."""
        b = np.full(items.size, -1, dtype=np.int64)
        b[items >= 0] = self.brands[items[items >= 0]]
        known = b >= 0
        if not known.any():
            return
        sums = np.bincount(b[known], weights=per_item[known])
        w = self._window()
        amounts = {
            f"{self.prefix}{w}:{kind}:{self.names[code]}": round(float(v) * SCALE)
            for code, v in enumerate(sums)
            if v > 0
        }
        if amounts:
            amounts[f"{self.prefix}{w}:{kind.upper()}"] = sum(amounts.values())
            self.online.incr_many(amounts)

    def record(self, items: np.ndarray) -> None:
        arr = np.asarray(items, dtype=np.int64)
        self._add("e", _weights(arr.size), arr)
        lists = self.online.incr(self.prefix + "lists")
        if lists % self.half_life == 0:  # a new window starts: the one before the previous is no longer read
            old = lists // self.half_life - 2
            if old >= 0:
                stale = self.online.counters(f"{self.prefix}{old}:")
                if stale:
                    self.online.delete(*stale)

    def _read(self, key: str, w: int) -> float:
        total = 0.0
        for window, weight in ((w, 1.0), (w - 1, 0.5)):
            if window >= 0:
                raw = self.online.get(f"{self.prefix}{window}:{key}")
                total += weight * (int(raw) if raw is not None else 0)
        return total / SCALE

    def brand_view(
        self, catalog: ItemCatalog, items: np.ndarray, merit: np.ndarray, k: int, brands: np.ndarray
    ) -> BrandView:
        arr = np.asarray(items, dtype=np.int64)
        self._add("r", scaled_merit(merit, k), arr)
        w = self._window()
        names = [self.names[int(b)] for b in brands]
        return BrandView(
            np.array([self._read(f"e:{n}", w) for n in names], dtype=np.float64),
            np.array([self._read(f"r:{n}", w) for n in names], dtype=np.float64),
            self._read("E", w),
            self._read("R", w),
        )
