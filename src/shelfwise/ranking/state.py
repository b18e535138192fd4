"""Item-level feature state: what the ranking features remember about items and categories.

metarank-style: a piece of state declares how one event updates it (:meth:`ItemStats.update`, O(1)), and a
batch build (:meth:`ItemStats.fit`, vectorised) gives the same state as replaying the events in time order
(tested). Features read it at request time (:mod:`shelfwise.ranking.features`), so training frames and
serving share one code path. :class:`FeatureState` bundles it with the per-user state of
:mod:`shelfwise.ranking.user_state`.

Decayed ("trending") counts use anchored sums: an event at ``t`` adds ``2**((t - anchor) / H)``, the value
at ``now`` is the sum times ``2**((anchor - now) / H)``; the anchor moves forward (rescaling the sums) when
events run far past it, so nothing overflows and no decay pass is ever needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.config import FeatureConfig
from shelfwise.ranking.events import RATING_TYPES, TYPE_INDEX, TYPES, EventBatch, StateEvent
from shelfwise.ranking.user_state import Transitions, UserItemFunnel

__all__ = ["FeatureState", "ItemStats"]

_DAY = 86_400.0
_REBASE = 60.0  # half-lives past the anchor before the sums are rescaled
_N_TYPES = len(TYPES)
_RATING = np.array([TYPE_INDEX[t] for t in RATING_TYPES])


class ItemStats:
    """Per item and per category: counts by event type, first / last time, ratings, a decayed count.

    Attributes:
        counts: float32 ``(n_items, n_types)`` events per type (columns follow :data:`TYPES`).
        totals: float64 ``(n_types,)`` events per type over all items.
        first_time / last_time: float64 Unix seconds of the item's first / last event (NaN = never).
        rating_sum / rating_n: float32 sum and number of star ratings (rating / review values).
        category_counts: float32 ``(n_categories, n_types)``.
        trend: float64 decayed event count, relative to ``anchor`` (see :meth:`trend_at`).
    """

    def __init__(self, category: np.ndarray, half_life_days: float = 7.0) -> None:
        self.category = np.asarray(category, dtype=np.int32)
        n, n_cat = self.category.size, int(self.category.max(initial=-1)) + 1
        self.half_life = half_life_days * _DAY
        self.counts = np.zeros((n, _N_TYPES), dtype=np.float32)
        self.totals = np.zeros(_N_TYPES, dtype=np.float64)
        self.first_time = np.full(n, np.nan)
        self.last_time = np.full(n, np.nan)
        self.rating_sum = np.zeros(n, dtype=np.float32)
        self.rating_n = np.zeros(n, dtype=np.float32)
        self.category_counts = np.zeros((n_cat, _N_TYPES), dtype=np.float32)
        self.trend = np.zeros(n, dtype=np.float64)
        self.anchor = float("nan")

    @property
    def n_items(self) -> int:
        """Items in the catalogue."""
        return int(self.category.size)

    def fit(self, batch: EventBatch) -> ItemStats:
        """Add a batch of events (vectorised; equal to :meth:`update` on each event in order)."""
        if not len(batch):
            return self
        i, ty, t = batch.items.astype(np.int64), batch.types.astype(np.int64), batch.times
        n = self.n_items
        self.counts += np.bincount(i * _N_TYPES + ty, minlength=n * _N_TYPES).reshape(n, _N_TYPES)
        self.totals += np.bincount(ty, minlength=_N_TYPES)
        first = np.full(n, np.inf)
        np.minimum.at(first, i, t)
        last = np.full(n, -np.inf)
        np.maximum.at(last, i, t)
        self.first_time = np.fmin(self.first_time, np.where(np.isinf(first), np.nan, first))
        self.last_time = np.fmax(self.last_time, np.where(np.isinf(last), np.nan, last))
        rated = np.isin(ty, _RATING) & np.isfinite(batch.values)
        self.rating_sum += np.bincount(i[rated], weights=batch.values[rated], minlength=n).astype(np.float32)
        self.rating_n += np.bincount(i[rated], minlength=n).astype(np.float32)
        cat = self.category[i]
        has = cat >= 0
        n_cat = self.category_counts.shape[0]
        self.category_counts += np.bincount(
            cat[has].astype(np.int64) * _N_TYPES + ty[has], minlength=n_cat * _N_TYPES
        ).reshape(n_cat, _N_TYPES)
        self._rebase(float(t.max()))
        self.trend += np.bincount(i, weights=np.exp2((t - self.anchor) / self.half_life), minlength=n)
        return self

    def update(self, event: StateEvent) -> None:
        """Add one event (O(1))."""
        i, ty, t = event.item, TYPE_INDEX[event.type], event.timestamp
        self.counts[i, ty] += 1.0
        self.totals[ty] += 1.0
        self.first_time[i] = np.fmin(self.first_time[i], t)
        self.last_time[i] = np.fmax(self.last_time[i], t)
        if event.type in RATING_TYPES and event.value is not None and np.isfinite(event.value):
            self.rating_sum[i] += event.value
            self.rating_n[i] += 1.0
        if self.category[i] >= 0:
            self.category_counts[self.category[i], ty] += 1.0
        if np.isnan(self.anchor) or t > self.anchor + _REBASE * self.half_life:
            self._rebase(t)
        self.trend[i] += np.exp2((t - self.anchor) / self.half_life)

    def _rebase(self, t: float) -> None:
        """Move the anchor to ``t`` when it is later (rescaling the decayed sums)."""
        if np.isnan(self.anchor):
            self.anchor = t
        elif t > self.anchor:
            self.trend *= np.exp2((self.anchor - t) / self.half_life)
            self.anchor = t

    def trend_at(self, items: np.ndarray, now: float) -> np.ndarray:
        """float32 decayed event counts of ``items`` at time ``now``."""
        if np.isnan(self.anchor):
            return np.zeros(len(items), dtype=np.float32)
        return (self.trend[items] * np.exp2((self.anchor - now) / self.half_life)).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything, for ``np.savez``."""
        return {
            "counts": self.counts,
            "totals": self.totals,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "rating_sum": self.rating_sum,
            "rating_n": self.rating_n,
            "category_counts": self.category_counts,
            "trend": self.trend,
            "anchor": np.array([self.anchor]),
        }

    def load_arrays(self, arrays: Any) -> None:
        """Inverse of :meth:`arrays`."""
        for name in (
            "counts",
            "totals",
            "first_time",
            "last_time",
            "rating_sum",
            "rating_n",
            "category_counts",
            "trend",
        ):
            setattr(self, name, np.array(arrays[name], dtype=getattr(self, name).dtype))
        self.anchor = float(arrays["anchor"][0])


class FeatureState:
    """All the state the ranking features read, updated by one event or built from a batch.

    Attributes:
        attributes: catalogue facts.
        items: per-item and per-category statistics.
        funnel: per (user, item) event counts by type and per-user totals.
        transitions: item-to-next-item counts of users' event streams.
        now: the latest event time seen (the default request time), NaN before any event.
    """

    def __init__(self, attributes: ItemAttributes, n_users: int, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self.attributes = attributes
        self.items = ItemStats(attributes.category, self.config.trend_half_life_days)
        self.funnel = UserItemFunnel(n_users)
        self.transitions = Transitions(len(attributes), n_users)
        self.now = float("nan")

    @classmethod
    def from_batch(
        cls, batch: EventBatch, attributes: ItemAttributes, n_users: int, config: FeatureConfig | None = None
    ) -> FeatureState:
        """Build the state of a batch of events (vectorised)."""
        state = cls(attributes, n_users, config)
        state.fit(batch)
        return state

    @property
    def n_items(self) -> int:
        """Items in the catalogue."""
        return len(self.attributes)

    def fit(self, batch: EventBatch) -> FeatureState:
        """Add a batch of events later than everything seen so far."""
        self.items.fit(batch)
        self.funnel.fit(batch)
        self.transitions.fit(batch)
        if len(batch):
            self.now = float(np.fmax(self.now, batch.times.max()))
        return self

    def update(self, event: StateEvent) -> None:
        """Add one event (the online path; same result as :meth:`fit` on it)."""
        if event.item < 0 or event.item >= self.n_items or event.type not in TYPE_INDEX:
            return
        self.items.update(event)
        self.funnel.update(event)
        self.transitions.update(event)
        self.now = float(np.fmax(self.now, event.timestamp))

    def save(self, folder: Path) -> None:
        """Write ``state.json`` and ``state.npz`` (plain arrays, no pickle) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": self.config.model_dump(),
            "attributes": self.attributes.to_json(),
            "n_users": self.funnel.n_users,
            "now": self.now,
        }
        (folder / "state.json").write_text(json.dumps(meta, indent=2))
        arrays = {f"attr_{k}": v for k, v in self.attributes.arrays().items()}
        arrays |= {f"items_{k}": v for k, v in self.items.arrays().items()}
        arrays |= {f"funnel_{k}": v for k, v in self.funnel.arrays().items()}
        arrays |= {f"trans_{k}": v for k, v in self.transitions.arrays().items()}
        np.savez(folder / "state.npz", allow_pickle=False, **arrays)

    @classmethod
    def load(cls, folder: Path) -> FeatureState:
        """Read what :meth:`save` wrote."""
        folder = Path(folder)
        meta = json.loads((folder / "state.json").read_text())
        with np.load(folder / "state.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        attrs = ItemAttributes.from_saved(
            meta["attributes"], {k[5:]: v for k, v in arrays.items() if k.startswith("attr_")}
        )
        state = cls(attrs, int(meta["n_users"]), FeatureConfig(**meta["config"]))
        state.items.load_arrays({k[6:]: v for k, v in arrays.items() if k.startswith("items_")})
        state.funnel.load_arrays({k[7:]: v for k, v in arrays.items() if k.startswith("funnel_")})
        state.transitions.load_arrays({k[6:]: v for k, v in arrays.items() if k.startswith("trans_")})
        state.now = float(meta["now"])
        return state
