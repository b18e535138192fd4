"""Numeric and categorical item features for the fused item vector.

Per item: log price (standardised) and its band (quantiles of log price, one-hot), rating, popularity,
a category id and a brand id. Every numeric feature comes with a "missing" flag, so an item without a
price or rating is encoded as "unknown", not as 0.

Example:
    >>> items = [{"price": 10.0, "category": "Shoes > Running", "brand": "Nike"}, {"price": None}]
    >>> feats = ItemFeaturizer(FeatureConfig(price_bands=2)).fit(items)
    >>> batch = feats.transform(items)
    >>> batch.numeric.shape, batch.category_ids.tolist(), batch.brand_ids.tolist()
    ((2, 8), [1, 0], [1, 0])
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoders.item_text import as_mapping, category_tail, clean_text


class FeatureConfig(BaseModel):
    """Settings of :class:`ItemFeaturizer`.

    Attributes:
        price_bands: number of log-price quantile bands.
        category_levels: levels of the category path that make a category id (from the root).
        max_categories: most frequent categories kept; the rest share id 0 with "missing".
        max_brands: most frequent brands kept; the rest share id 0.
        rating_scale: ratings are divided by this (5 for 1-5 stars).
    """

    model_config = ConfigDict(extra="forbid")

    price_bands: int = Field(default=8, ge=1)
    category_levels: int = Field(default=2, ge=1)
    max_categories: int = Field(default=2000, ge=1)
    max_brands: int = Field(default=5000, ge=1)
    rating_scale: float = Field(default=5.0, gt=0)


@dataclass(frozen=True)
class FeatureBatch:
    """Features of ``n`` items: ``numeric`` ``(n, numeric_dim)`` float32, ids ``(n,)`` int64 (0 = unknown)."""

    numeric: np.ndarray
    category_ids: np.ndarray
    brand_ids: np.ndarray


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _root_category(path: Any, levels: int) -> str:
    parts = category_tail(path, 10_000).split(" > ")
    return " > ".join(parts[:levels]).lower() if parts != [""] else ""


class ItemFeaturizer:
    """Learns vocabularies and price bands from a catalogue, then turns items into :class:`FeatureBatch`.

    Args:
        config: settings.
    """

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self.categories: list[str] = []
        self.brands: list[str] = []
        self.price_edges: list[float] = []
        self.price_mean = 0.0
        self.price_std = 1.0
        self.popularity_max = 1.0
        self._cat_index: dict[str, int] = {}
        self._brand_index: dict[str, int] = {}

    @property
    def numeric_dim(self) -> int:
        """Width of :attr:`FeatureBatch.numeric`."""
        return 6 + self.config.price_bands

    @property
    def n_categories(self) -> int:
        """Category ids run 0..n_categories-1 (0 = unknown)."""
        return len(self.categories) + 1

    @property
    def n_brands(self) -> int:
        """Brand ids run 0..n_brands-1 (0 = unknown)."""
        return len(self.brands) + 1

    def fit(self, items: Sequence[Any], popularity: Sequence[float] | None = None) -> ItemFeaturizer:
        """Learn category / brand vocabularies, log-price bands and scales.

        Args:
            items: dicts or :class:`~shelfwise.data.schema.Item` (keys price, category, brand, optional
                rating and popularity).
            popularity: per-item interaction counts, overriding an item's ``popularity`` key.

        Returns:
            ``self``.
        """
        rows = [as_mapping(i) for i in items]
        cfg = self.config
        cats = Counter(c for r in rows if (c := _root_category(r.get("category"), cfg.category_levels)))
        brands = Counter(b for r in rows if (b := clean_text(r.get("brand")).lower()))
        self.categories = [c for c, _ in cats.most_common(cfg.max_categories)]
        self.brands = [b for b, _ in brands.most_common(cfg.max_brands)]
        logp = np.array(
            [math.log1p(p) for r in rows if (p := _number(r.get("price"))) is not None and p >= 0]
        )
        if len(logp):
            self.price_mean, self.price_std = float(logp.mean()), float(logp.std() or 1.0)
            qs = np.linspace(0, 1, cfg.price_bands + 1)[1:-1]
            self.price_edges = [float(x) for x in np.quantile(logp, qs)]
        pops = self._popularity(rows, popularity)
        self.popularity_max = float(max(np.log1p(np.nan_to_num(pops)).max(initial=0.0), 1.0))
        self._cat_index = {c: i + 1 for i, c in enumerate(self.categories)}
        self._brand_index = {b: i + 1 for i, b in enumerate(self.brands)}
        return self

    @staticmethod
    def _popularity(rows: list[Mapping[str, Any]], popularity: Sequence[float] | None) -> np.ndarray:
        if popularity is not None:
            return np.asarray(popularity, dtype=np.float64)
        return np.array(
            [
                _number(r.get("popularity")) if _number(r.get("popularity")) is not None else np.nan
                for r in rows
            ]
        )

    def transform(self, items: Sequence[Any], popularity: Sequence[float] | None = None) -> FeatureBatch:
        """Features of ``items`` (see :class:`FeatureBatch`)."""
        rows = [as_mapping(i) for i in items]
        cfg = self.config
        n = len(rows)
        num = np.zeros((n, self.numeric_dim), dtype=np.float32)
        pops = self._popularity(rows, popularity)
        for i, r in enumerate(rows):
            price = _number(r.get("price"))
            if price is not None and price >= 0:
                lp = math.log1p(price)
                num[i, 0] = (lp - self.price_mean) / self.price_std
                band = int(np.searchsorted(self.price_edges, lp, side="right"))
                num[i, 6 + band] = 1.0
            else:
                num[i, 1] = 1.0
            rating = _number(r.get("rating"))
            if rating is not None:
                num[i, 2] = rating / cfg.rating_scale
            else:
                num[i, 3] = 1.0
            pop = pops[i] if i < len(pops) else np.nan
            if np.isfinite(pop) and pop >= 0:
                num[i, 4] = math.log1p(pop) / self.popularity_max
            else:
                num[i, 5] = 1.0
        cat_ids = np.array(
            [self._cat_index.get(_root_category(r.get("category"), cfg.category_levels), 0) for r in rows],
            dtype=np.int64,
        )
        brand_ids = np.array(
            [self._brand_index.get(clean_text(r.get("brand")).lower(), 0) for r in rows], dtype=np.int64
        )
        return FeatureBatch(num, cat_ids, brand_ids)

    def save(self, path: str | Path) -> None:
        """Write the fitted state as one JSON file."""
        state = {
            "config": self.config.model_dump(),
            "categories": self.categories,
            "brands": self.brands,
            "price_edges": self.price_edges,
            "price_mean": self.price_mean,
            "price_std": self.price_std,
            "popularity_max": self.popularity_max,
        }
        Path(path).write_text(json.dumps(state))

    @classmethod
    def load(cls, path: str | Path) -> ItemFeaturizer:
        """Read what :meth:`save` wrote."""
        state = json.loads(Path(path).read_text())
        out = cls(FeatureConfig(**state["config"]))
        out.categories, out.brands, out.price_edges = (
            state["categories"],
            state["brands"],
            state["price_edges"],
        )
        out.price_mean, out.price_std = state["price_mean"], state["price_std"]
        out.popularity_max = state["popularity_max"]
        out._cat_index = {c: i + 1 for i, c in enumerate(out.categories)}
        out._brand_index = {b: i + 1 for i, b in enumerate(out.brands)}
        return out
