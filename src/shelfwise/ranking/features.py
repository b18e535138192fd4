"""Ranking features as objects: each names its columns, documents them, says which state it reads, and
computes its values for one request — the same call builds training frames and serves requests.

A request is a user context plus the merged candidates of the sources (:class:`FeatureRequest`); the state is
the :class:`~shelfwise.ranking.state.FeatureState` the events built. Every value is a float32, NaN where
unknown (LightGBM routes missing values itself). No feature uses the numeric value of an item or user id.

Groups (see :data:`~shelfwise.ranking.config.FEATURE_GROUPS`), one class each:

========== =========================================================================================
sources    each source's raw score, rank and per-request min-max score; how many sources proposed it
popularity log counts of the item's events, views, purchases and its decayed (trending) count
recency    hours since the item's last event and since its first (new-item signal)
quality    smoothed conversion and cart rates, mean star rating and number of ratings
category   the category's event count and smoothed conversion rate; the item's share of its category
affinity   the user's share of history in the item's category / brand / price band; price gap; log price
history    from the request's history: times seen, steps since last seen, history length, in session
funnel     from the state: the user's views / carts / favourites / purchases of the item; hours since
user       the user's event and purchase counts, smoothed conversion rate, hours since last event
sequence   how often the item followed the user's last items (transition probabilities, log count)
========== =========================================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from shelfwise.ranking.config import FeatureConfig
from shelfwise.ranking.feature_base import BUY, CART, FAV, C, Feature, FeatureRequest, V, hours, log1p, rate
from shelfwise.ranking.state import FeatureState
from shelfwise.ranking.user_features import Affinity, Funnel, History, SequenceFeatures, UserActivity

__all__ = ["Feature", "FeatureRequest", "FeatureSet"]


class SourceScores(Feature):
    """What the candidate sources said: per source the raw score, the rank and a per-request min-max score."""

    group = "sources"
    reads = ("candidates",)

    def __init__(self, config: FeatureConfig, sources: Sequence[str]) -> None:
        super().__init__(config)
        self.sources = tuple(sources)
        self._docs: dict[str, str] = {}
        for s in self.sources:
            self._docs[f"{s}_score"] = f"raw score of source {s} (NaN if it did not propose the item)"
            self._docs[f"{s}_rank"] = f"1-based rank in source {s}'s list (NaN if absent)"
            self._docs[f"{s}_norm"] = f"source {s}'s score min-max scaled within the request (0 if absent)"
        self._docs["n_sources"] = "how many sources proposed the item"

    def column_docs(self) -> dict[str, str]:
        return dict(self._docs)

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        m = request.candidates
        if m.sources != self.sources:
            raise ValueError(f"candidates come from {m.sources}, the features expect {self.sources}")
        norm = m.normalised("minmax")
        cols = []
        for j in range(len(self.sources)):
            cols += [m.scores[:, j], m.ranks[:, j], norm[:, j]]
        cols.append((~np.isnan(m.scores)).sum(axis=1).astype(np.float32))
        return np.stack(cols, axis=1).astype(np.float32) if cols else np.zeros((len(m), 0), np.float32)


class Popularity(Feature):
    """How much the shop interacts with the item."""

    group = "popularity"
    reads = ("items",)
    docs: ClassVar[dict[str, str]] = {
        "pop_events": "log(1 + events of any type on the item)",
        "pop_views": "log(1 + views and clicks)",
        "pop_purchases": "log(1 + purchases)",
        "pop_trend": "log(1 + events decayed with a half-life of trend_half_life_days), at request time",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it = request.candidates.items
        c = state.items.counts[it]
        now = state.now if request.now is None else request.now
        return np.stack(
            [
                log1p(c.sum(axis=1)),
                log1p(c[:, V] + c[:, C]),
                log1p(c[:, BUY]),
                log1p(state.items.trend_at(it, now)),
            ],
            axis=1,
        ).astype(np.float32)


class Recency(Feature):
    """How fresh the item's activity is."""

    group = "recency"
    reads = ("items",)
    docs: ClassVar[dict[str, str]] = {
        "item_hours_since_last": "log(1 + hours since the item's last event) (NaN if never)",
        "item_age_hours": "log(1 + hours since the item's first event) (NaN if never): new items are small",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it = request.candidates.items
        now = state.now if request.now is None else request.now
        return np.stack(
            [hours(now, state.items.last_time[it]), hours(now, state.items.first_time[it])], axis=1
        ).astype(np.float32)


class Quality(Feature):
    """How well the item converts and is rated."""

    group = "quality"
    reads = ("items",)
    docs: ClassVar[dict[str, str]] = {
        "item_conversion": "purchases / views, smoothed towards the shop's rate with conversion_prior views",
        "item_cart_rate": "(carts + favourites) / views, smoothed likewise",
        "item_rating": "mean star rating (NaN without ratings)",
        "item_ratings": "log(1 + number of ratings)",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it = request.candidates.items
        c, tot, k = (
            state.items.counts[it].astype(np.float64),
            state.items.totals,
            self.config.conversion_prior,
        )
        seen = np.maximum(c[:, V] + c[:, C], c[:, BUY])
        tot_seen = max(tot[V] + tot[C], tot[BUY], 1.0)
        n = state.items.rating_n[it]
        with np.errstate(invalid="ignore", divide="ignore"):
            rating = np.where(n > 0, state.items.rating_sum[it] / n, np.nan)
        return np.stack(
            [
                rate(c[:, BUY], seen, tot[BUY] / tot_seen, k),
                rate(c[:, CART] + c[:, FAV], seen, (tot[CART] + tot[FAV]) / tot_seen, k),
                rating,
                log1p(n),
            ],
            axis=1,
        ).astype(np.float32)


class Category(Feature):
    """How the item's category does, and how much of it the item is (NaN without a category)."""

    group = "category"
    reads = ("items", "attributes")
    docs: ClassVar[dict[str, str]] = {
        "cat_events": "log(1 + events in the item's category)",
        "cat_conversion": "purchases / views of the category, smoothed towards the shop's rate",
        "cat_item_share": "the item's share of its category's events",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it = request.candidates.items
        out = np.full((it.size, 3), np.nan, dtype=np.float32)
        cat = state.attributes.category[it]
        has = cat >= 0
        if not has.any() or state.items.category_counts.shape[0] == 0:
            return out
        cc = state.items.category_counts[cat[has]].astype(np.float64)
        tot = state.items.totals
        seen = np.maximum(cc[:, V] + cc[:, C], cc[:, BUY])
        events = cc.sum(axis=1)
        out[has, 0] = log1p(events)
        out[has, 1] = rate(
            cc[:, BUY],
            seen,
            tot[BUY] / max(tot[V] + tot[C], tot[BUY], 1.0),
            self.config.conversion_prior,
        )
        out[has, 2] = state.items.counts[it[has]].sum(axis=1) / np.maximum(events, 1.0)
        return out


_GROUPS: dict[str, type[Feature]] = {
    cls.group: cls
    for cls in (
        Popularity,
        Recency,
        Quality,
        Category,
        Affinity,
        History,
        Funnel,
        UserActivity,
        SequenceFeatures,
    )
}


class FeatureSet:
    """The ranker's features in column order; computes a ``(n_candidates, n_features)`` float32 block."""

    def __init__(self, config: FeatureConfig, sources: Sequence[str] = ()) -> None:
        self.config = config
        self.sources = tuple(sources)
        unknown = set(config.groups) - set(_GROUPS) - {"sources"}
        if unknown:
            raise ValueError(
                f"unknown feature groups {sorted(unknown)}; known: sources, {', '.join(_GROUPS)}"
            )
        self.features: list[Feature] = [
            SourceScores(config, self.sources) if g == "sources" else _GROUPS[g](config)
            for g in config.groups
        ]

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in order."""
        return tuple(c for f in self.features for c in f.columns)

    def describe(self) -> dict[str, str]:
        """``{column: meaning}`` for reports and explanations."""
        out: dict[str, str] = {}
        for f in self.features:
            out |= f.column_docs()
        return out

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        """float32 ``(len(request.candidates), len(self.names))`` for one request."""
        n = len(request.candidates)
        blocks = [f.compute(request, state) for f in self.features]
        out = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0), dtype=np.float32)
        return out.astype(np.float32, copy=False)

    def compute_many(self, requests: Sequence[FeatureRequest], state: FeatureState) -> np.ndarray:
        """Rows of several requests stacked in order."""
        if not requests:
            return np.zeros((0, len(self.names)), dtype=np.float32)
        return np.concatenate([self.compute(r, state) for r in requests], axis=0)

    def to_json(self) -> dict[str, object]:
        """JSON-ready spec (rebuild with :meth:`from_json`)."""
        return {"config": self.config.model_dump(), "sources": list(self.sources), "names": list(self.names)}

    @classmethod
    def from_json(cls, spec: dict[str, object]) -> FeatureSet:
        """Inverse of :meth:`to_json`; checks that the columns come out the same."""
        fs = cls(FeatureConfig(**spec["config"]), list(spec["sources"]))  # type: ignore[arg-type,call-overload]
        if list(fs.names) != list(spec["names"]):  # type: ignore[call-overload]
            raise ValueError("saved feature names differ from this version's; retrain the ranker")
        return fs
