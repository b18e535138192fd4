"""Id map and filterable metadata shared by the indexes: dense keys, tombstones, filter masks.

Keys are row numbers that only grow: adding an id that exists gives it a new key and tombstones the old
one, deleting tombstones. :meth:`ItemMetadata.compact` renumbers the live rows when an index rebuilds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.index.base import SearchFilter


def normalize_category(path: Any) -> str:
    """Lower-case category path with " > " separators ("Shoes/Running" -> "shoes > running")."""
    if path is None or (isinstance(path, float) and math.isnan(path)):
        return ""
    parts = [p.strip().lower() for p in str(path).replace("/", ">").replace("|", ">").split(">")]
    return " > ".join(p for p in parts if p)


def _price(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


class ItemMetadata:
    """External ids and filterable fields, one row per key."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.key_of: dict[str, int] = {}
        self.alive = np.zeros(0, dtype=bool)
        self.price = np.zeros(0, dtype=np.float64)
        self.available = np.zeros(0, dtype=bool)
        self.category = np.zeros(0, dtype=np.int32)
        self.categories: list[str] = []
        self._category_index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.key_of)

    @property
    def capacity(self) -> int:
        """Number of keys handed out (live + tombstoned)."""
        return len(self.ids)

    def add(self, item_ids: Sequence[str], metadata: Sequence[Mapping[str, Any]] | None = None) -> np.ndarray:
        """Give each id a new key (tombstoning its old key) and store its fields.

        Returns:
            The new keys, int64.
        """
        ids = [str(i) for i in item_ids]
        if len(set(ids)) != len(ids):
            raise ValueError("item_ids must be unique within one add() call")
        if metadata is not None and len(metadata) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(metadata)} metadata rows")
        self.delete(ids)
        start = len(self.ids)
        keys = np.arange(start, start + len(ids), dtype=np.int64)
        meta = metadata if metadata is not None else [{}] * len(ids)
        cats = np.array([self._category_id(m.get("category")) for m in meta], dtype=np.int32)
        prices = np.array([_price(m.get("price")) for m in meta], dtype=np.float64)
        avail = np.array([m.get("available", True) is not False for m in meta], dtype=bool)
        self.ids.extend(ids)
        self.key_of.update(zip(ids, keys.tolist(), strict=True))
        self.alive = np.concatenate([self.alive, np.ones(len(ids), dtype=bool)])
        self.price = np.concatenate([self.price, prices])
        self.available = np.concatenate([self.available, avail])
        self.category = np.concatenate([self.category, cats])
        return keys

    def _category_id(self, path: Any) -> int:
        norm = normalize_category(path)
        if not norm:
            return -1
        if norm not in self._category_index:
            self._category_index[norm] = len(self.categories)
            self.categories.append(norm)
        return self._category_index[norm]

    def delete(self, item_ids: Sequence[str]) -> np.ndarray:
        """Tombstone the keys of the ids present; returns those keys."""
        keys = np.array(
            [k for i in item_ids if (k := self.key_of.pop(str(i), None)) is not None], dtype=np.int64
        )
        if len(keys):
            self.alive[keys] = False
        return keys

    def keys(self, item_ids: Sequence[str]) -> np.ndarray:
        """Keys of live ids, -1 where unknown."""
        return np.array([self.key_of.get(str(i), -1) for i in item_ids], dtype=np.int64)

    def mask(self, flt: SearchFilter | None) -> np.ndarray:
        """Boolean mask over keys: live and passing ``flt``."""
        mask = self.alive.copy()
        if flt is None or flt.is_empty:
            return mask
        if flt.categories is not None:
            wanted = [normalize_category(c) for c in flt.categories]
            ok = [
                i
                for i, c in enumerate(self.categories)
                if any(c == w or c.startswith(w + " > ") for w in wanted)
            ]
            mask &= np.isin(self.category, np.array(ok, dtype=np.int32))
        if flt.price_min is not None:
            mask &= self.price >= flt.price_min  # NaN compares False: unknown prices drop out
        if flt.price_max is not None:
            mask &= self.price <= flt.price_max
        if flt.in_stock is not None:
            mask &= self.available == flt.in_stock
        if flt.exclude_ids:
            gone = self.keys(list(flt.exclude_ids))
            mask[gone[gone >= 0]] = False
        return mask

    def compact(self) -> np.ndarray:
        """Drop tombstones and renumber keys 0..n-1 in key order.

        Returns:
            The old keys of the surviving rows (new key ``i`` was ``old[i]``).
        """
        old = np.flatnonzero(self.alive)
        self.ids = [self.ids[k] for k in old]
        self.key_of = {item_id: i for i, item_id in enumerate(self.ids)}
        self.alive = np.ones(len(old), dtype=bool)
        self.price, self.available, self.category = self.price[old], self.available[old], self.category[old]
        return old

    def save(self, directory: Path) -> None:
        """Write ``meta.json`` (ids, categories) and ``meta_*.npy``."""
        (directory / "meta.json").write_text(json.dumps({"ids": self.ids, "categories": self.categories}))
        for name in ("alive", "price", "available", "category"):
            np.save(directory / f"meta_{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> ItemMetadata:
        """Read what :meth:`save` wrote."""
        out = cls()
        state = json.loads((directory / "meta.json").read_text())
        out.ids, out.categories = state["ids"], state["categories"]
        out._category_index = {c: i for i, c in enumerate(out.categories)}
        for name in ("alive", "price", "available", "category"):
            setattr(out, name, np.load(directory / f"meta_{name}.npy", allow_pickle=False))
        out.key_of = {out.ids[k]: int(k) for k in np.flatnonzero(out.alive)}
        return out
