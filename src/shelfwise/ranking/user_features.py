"""Features of the shopper's side: affinity, own history, funnel state, activity and item transitions.

See :mod:`shelfwise.ranking.features` for the table of all groups.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from shelfwise.ranking.affinity import UserAffinity
from shelfwise.ranking.feature_base import (
    BUY,
    CART,
    FAV,
    TYPE_WEIGHTS,
    C,
    Feature,
    FeatureRequest,
    V,
    hours,
    rate,
)
from shelfwise.ranking.state import FeatureState

__all__ = ["Affinity", "Funnel", "History", "SequenceFeatures", "UserActivity"]


class Affinity(Feature):
    """Does the item fit the shopper's tastes (category, brand, price)?"""

    group = "affinity"
    reads = ("context", "attributes")
    docs: ClassVar[dict[str, str]] = {
        "aff_category": "share of the user's history in the item's category (NaN: item has none)",
        "aff_brand": "share of the user's history in the item's brand",
        "aff_price_band": "share of the user's history in the item's price tercile",
        "price_gap": "(log price - the user's typical log price) / spread",
        "log_price": "log(price) (NaN if unknown)",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it, attrs, ctx = request.candidates.items, state.attributes, request.context
        aff = request.affinity or UserAffinity.from_history(ctx.history, ctx.weights, attrs)
        price = attrs.price[it].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_price = np.log(np.where(price > 0, price, np.nan))
        return np.stack(
            [
                aff.category_share(it, attrs),
                aff.brand_share(it, attrs),
                aff.price_band_share(it, attrs),
                aff.price_gap(it, attrs),
                log_price,
            ],
            axis=1,
        ).astype(np.float32)


class History(Feature):
    """The candidate in the request's own history (works for anonymous shoppers too)."""

    group = "history"
    reads = ("context",)
    docs: ClassVar[dict[str, str]] = {
        "hist_count": "times the item occurs in the history",
        "hist_steps_since": "1 + events since its last occurrence (1 = the latest event; NaN if never)",
        "hist_len": "log(1 + history length)",
        "in_session": "times the item occurs in the current session",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it, h = request.candidates.items, np.asarray(request.context.history, dtype=np.int64)
        count, last_pos = _occurrences(h, it)
        steps = np.where(last_pos >= 0, h.size - last_pos, np.nan)
        in_session, _ = _occurrences(np.asarray(request.context.session, dtype=np.int64), it)
        hist_len = np.full(it.size, np.log1p(h.size))
        return np.stack([count, steps, hist_len, in_session], axis=1).astype(np.float32)


def _occurrences(seq: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item: how often it occurs in ``seq`` and the position of its last occurrence (-1 if never)."""
    count = np.zeros(items.size, dtype=np.float32)
    last = np.full(items.size, -1, dtype=np.int64)
    if seq.size:
        uniq, cnt = np.unique(seq, return_counts=True)
        last_pos = np.full(uniq.size, -1, dtype=np.int64)
        np.maximum.at(last_pos, np.searchsorted(uniq, seq), np.arange(seq.size))
        pos = np.minimum(np.searchsorted(uniq, items), uniq.size - 1)
        hit = uniq[pos] == items
        count[hit] = cnt[pos[hit]]
        last[hit] = last_pos[pos[hit]]
    return count, last


class Funnel(Feature):
    """How far down the funnel the shopper went with this item (from the event state)."""

    group = "funnel"
    reads = ("funnel",)
    docs: ClassVar[dict[str, str]] = {
        "ui_views": "the user's views and clicks of the item",
        "ui_carts": "the user's add-to-carts of the item",
        "ui_favs": "the user's favourites of the item",
        "ui_purchases": "the user's purchases of the item",
        "ui_weighted": "the user's events on the item weighted by EVENT_WEIGHTS (view 1, cart 3, purchase 5...)",
        "ui_hours_since_last": "log(1 + hours since the user last touched the item) (NaN if never)",
        "ui_hours_since_first": "log(1 + hours since the user first touched the item) (NaN if never)",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it = request.candidates.items
        now = state.now if request.now is None else request.now
        c, first, last = state.funnel.lookup(request.context.user_index, it)
        return np.stack(
            [
                c[:, V] + c[:, C],
                c[:, CART],
                c[:, FAV],
                c[:, BUY],
                c @ TYPE_WEIGHTS,
                hours(now, last),
                hours(now, first),
            ],
            axis=1,
        ).astype(np.float32)


class UserActivity(Feature):
    """The shopper's overall activity (constant within a request: matters for probabilities, not order)."""

    group = "user"
    reads = ("funnel",)
    docs: ClassVar[dict[str, str]] = {
        "u_events": "log(1 + the user's events)",
        "u_purchases": "log(1 + the user's purchases)",
        "u_conversion": "the user's purchases / views, smoothed towards the shop's rate",
        "u_hours_since_last": "log(1 + hours since the user's last event) (NaN if none)",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        n, u = len(request.candidates), request.context.user_index
        now = state.now if request.now is None else request.now
        if u < 0 or u >= state.funnel.n_users:
            return np.full((n, 4), np.nan, dtype=np.float32)
        c, tot = state.funnel.user_counts[u].astype(np.float64), state.items.totals
        seen = max(c[V] + c[C], c[BUY])
        conv = rate(
            np.array([c[BUY]]),
            np.array([seen]),
            tot[BUY] / max(tot[V] + tot[C], tot[BUY], 1.0),
            self.config.conversion_prior,
        )[0]
        row = [
            np.log1p(c.sum()),
            np.log1p(c[BUY]),
            conv,
            hours(now, np.array([state.funnel.user_last[u]]))[0],
        ]
        return np.tile(np.asarray(row, dtype=np.float32), (n, 1))


class SequenceFeatures(Feature):
    """What usually comes next after the shopper's latest items (item-to-next-item transitions).

    With ``transition_symmetric`` a step counts in both directions (adjacency instead of "next"), which is
    robust to an arbitrary order of events that share a timestamp.
    """

    group = "sequence"
    reads = ("transitions", "context")
    docs: ClassVar[dict[str, str]] = {
        "trans_last": "share of the steps out of the user's last item that went to this item",
        "trans_recent": "the same over the last transition_depth distinct items, weighted decay**(k-1)",
        "trans_last_count": "log(1 + times this item followed the user's last item)",
    }

    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        it, h = request.candidates.items, np.asarray(request.context.history, dtype=np.int64)
        out = np.zeros((it.size, 3), dtype=np.float32)
        if not h.size:
            return out
        keep = np.ones(h.size, dtype=bool)
        keep[:-1] = h[1:] != h[:-1]  # consecutive repeats are one step, as in the state
        recent = h[keep][::-1][: self.config.transition_depth]
        trans = state.transitions
        counts = trans.counts(recent, it)
        degree = trans.out_degree[recent]
        if self.config.transition_symmetric:  # steps in either direction
            counts = counts + trans.counts(recent, it, reverse=True)
            degree = degree + trans.in_degree[recent]
        share = counts / np.maximum(degree, 1.0)[:, None]
        weights = self.config.transition_decay ** np.arange(recent.size)
        out[:, 0] = share[0]
        out[:, 1] = weights @ share
        out[:, 2] = np.log1p(counts[0])
        return out
