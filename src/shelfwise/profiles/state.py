"""Per-user incremental profile state and its update from one event: the online path.

Everything a profile shows is a function of a few running sums, so one event costs O(1) (plus one
``d``-wide vector add) and never a rebuild. Long-term quantities are time-decayed with half-life ``H``
using *anchored* sums: an event at time ``t`` adds ``c = w * 2**((t - anchor) / H)``, which makes every
derived mean and distribution exactly the decayed one at any read time (the common factor cancels), makes
the sums independent of the order events arrive in, and needs no decay pass over old entries. When ``t``
runs ``rebase_exponent`` half-lives past the anchor, all sums are rescaled and the anchor moved.

:mod:`shelfwise.profiles.builder` computes the same state for all users at once (vectorised) and a test
checks that it agrees with replaying events through :meth:`ProfileUpdater.apply`.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> from shelfwise.profiles.catalog import ItemCatalog
    >>> cat = ItemCatalog.from_items(pa.table({"item_id": ["a", "b"], "category": ["Skin", "Nails"]}))
    >>> up = ProfileUpdater(cat)
    >>> st = up.new_state()
    >>> up.apply(st, ProfileEvent(item=0, type="purchase", timestamp=0.0))
    >>> up.apply(st, ProfileEvent(item=1, type="view", timestamp=60.0))
    >>> st.n_events, st.sessions, {cat.categories[c]: round(w, 3) for c, w in st.categories.items()}
    (2, 1, {'Skin': 5.0, 'Nails': 1.0})
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.config import ProfileConfig
from shelfwise.profiles.reviews import ReviewSignal, ReviewStats

__all__ = [
    "FUNNEL_STAGE",
    "RATING_TYPES",
    "ProfileEvent",
    "ProfileUpdater",
    "UserState",
    "funnel_of",
    "interest_weight",
]

#: Event types whose ``value`` is a star rating.
RATING_TYPES = frozenset({"rating", "review"})
#: Funnel step an event shows an item reached: 1 looked at, 2 put in the cart, 3 bought (a purchase implies
#: the earlier steps, so each step's items include the later steps' and no rate exceeds 100%).
FUNNEL_STAGE: dict[str, int] = {"view": 1, "click": 1, "add_to_cart": 2, "purchase": 3}
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class ProfileEvent:
    """One event as the profile sees it: dense item index, no user id, no text.

    Attributes:
        item: catalogue index (``-1`` = none or unknown item).
        type: canonical event type.
        timestamp: Unix seconds.
        value: rating, quantity or price paid (``None`` if absent).
        session_id: the event's session, when the source has one.
        vector: for a search event, the query embedding (float32 ``(d,)``), counted in the interest vector.
        review: derived review signal (see :func:`~shelfwise.profiles.reviews.analyse_review`).
    """

    item: int
    type: str
    timestamp: float
    value: float | None = None
    session_id: str | None = None
    vector: np.ndarray | None = None
    review: ReviewSignal | None = None


def interest_weight(event_type: str, value: float | None, config: ProfileConfig) -> float:
    """How much an event says about interest: its type weight, 0 for a low rating."""
    w = config.event_weight(event_type)
    if event_type in RATING_TYPES and value is not None and value < config.min_positive_rating:
        return 0.0
    return w


@dataclass(slots=True)
class UserState:
    """Running sums of one user. Long-term sums are anchored at :attr:`anchor` (see the module doc).

    Attributes:
        n_events: events applied; ``type_counts`` per type.
        first_ts / last_ts: first and latest event time (Unix seconds).
        sessions: sessions started; ``active_days``: distinct UTC days (events in time order).
        anchor: time the anchored sums are relative to.
        weight: anchored interest weight of all events; ``vec_weight`` of those with a vector.
        vec_sum: float32 anchored weighted sum of item (or query) vectors.
        categories / brands: code -> anchored weight (time-decayed).
        lifetime_categories / lifetime_brands: code -> event-strength weight, not decayed (so a burst of
            recent clicks cannot hide fifteen older purchases; :class:`~shelfwise.profiles.view.ProfileReader`
            blends both).
        lifetime_price: price-percentile bin -> event-strength weight, not decayed (blended like the
            lifetime affinities).
        stages: item -> furthest funnel step reached (:data:`FUNNEL_STAGE`).
        price_hist: anchored weight per price-percentile bin; ``price_by_cat``: code -> [sum c*pct, sum c].
        activity: anchored event counts, one per activity half-life.
        monetary: money spent on purchases (value, else item price); ``priced_purchases`` counted.
        rating_sum / rating_n: star ratings given.
        reviews: review-signal totals.
        recent: the last events ``(item, type, timestamp)``, oldest first.
    """

    n_events: int = 0
    type_counts: dict[str, int] = field(default_factory=dict)
    first_ts: float | None = None
    last_ts: float | None = None
    last_session: str | None = None
    last_day: int = -(10**9)
    sessions: int = 0
    active_days: int = 0
    anchor: float | None = None
    weight: float = 0.0
    vec_weight: float = 0.0
    vec_sum: np.ndarray | None = None
    categories: dict[int, float] = field(default_factory=dict)
    brands: dict[int, float] = field(default_factory=dict)
    lifetime_categories: dict[int, float] = field(default_factory=dict)
    lifetime_brands: dict[int, float] = field(default_factory=dict)
    lifetime_price: dict[int, float] = field(default_factory=dict)
    stages: dict[int, int] = field(default_factory=dict)
    price_hist: list[float] = field(default_factory=list)
    price_by_cat: dict[int, list[float]] = field(default_factory=dict)
    activity: list[float] = field(default_factory=list)
    monetary: float = 0.0
    priced_purchases: int = 0
    rating_sum: float = 0.0
    rating_n: int = 0
    reviews: ReviewStats = field(default_factory=ReviewStats)
    recent: deque[tuple[int, str, float]] = field(default_factory=deque)

    def long_vector(self) -> np.ndarray | None:
        """The long-term interest vector: decayed, event-weighted mean of item vectors (float32)."""
        if self.vec_sum is None or self.vec_weight <= 0:
            return None
        return (self.vec_sum / self.vec_weight).astype(np.float32)

    def activity_at(self, now: float, half_lives_days: tuple[float, ...]) -> list[float]:
        """Decayed event counts as of ``now`` (one per half-life)."""
        if self.anchor is None:
            return [0.0] * len(half_lives_days)
        return [
            a * 2.0 ** ((self.anchor - now) / (h * _DAY))
            for a, h in zip(self.activity, half_lives_days, strict=True)
        ]


class ProfileUpdater:
    """Applies events to :class:`UserState` objects; holds the catalogue facts as plain lists for speed.

    Args:
        catalog: item facts (vectors, categories, brands, price percentiles).
        config: profile settings.
    """

    def __init__(self, catalog: ItemCatalog, config: ProfileConfig | None = None) -> None:
        self.catalog = catalog
        self.config = cfg = config or ProfileConfig()
        self._cat = catalog.category.tolist()
        self._brand = catalog.brand.tolist()
        self._pct = [None if math.isnan(p) else float(p) for p in catalog.price_pct.tolist()]
        self._bin = [
            None if p is None else min(int(p * cfg.price_bins / 100.0), cfg.price_bins - 1) for p in self._pct
        ]
        self._price = [None if math.isnan(p) else float(p) for p in catalog.price.tolist()]
        vecs = catalog.vectors
        self._vectors = vecs
        self._has_vec = [] if vecs is None else (np.abs(vecs).sum(axis=1) > 0).tolist()
        self._dim = catalog.dim
        self._h_long = cfg.long_half_life_seconds
        self._h_act = [h * _DAY for h in cfg.activity_half_lives_days]
        self._h_min = min([self._h_long, *self._h_act])
        self._gap = cfg.session_gap_minutes * 60.0
        self._n_recent = cfg.short_events

    def new_state(self) -> UserState:
        """An empty state with histogram and activity slots sized by the config."""
        st = UserState()
        st.price_hist = [0.0] * self.config.price_bins
        st.activity = [0.0] * len(self._h_act)
        st.recent = deque(maxlen=self._n_recent)
        return st

    def _rebase(self, st: UserState, t: float) -> None:
        assert st.anchor is not None
        f = 2.0 ** (-(t - st.anchor) / self._h_long)
        st.weight *= f
        st.vec_weight *= f
        if st.vec_sum is not None:
            st.vec_sum *= f
        for d in (st.categories, st.brands):
            for k in d:
                d[k] *= f
        st.price_hist = [x * f for x in st.price_hist]
        for acc in st.price_by_cat.values():
            acc[0] *= f
            acc[1] *= f
        st.activity = [
            a * 2.0 ** (-(t - st.anchor) / h) for a, h in zip(st.activity, self._h_act, strict=True)
        ]
        st.anchor = t

    def apply(self, st: UserState, ev: ProfileEvent) -> None:
        """Fold one event into a user's state (O(1) plus one vector add).

        Events should arrive in time order; a late event is folded into every time-decayed sum exactly,
        but session / day counters and the recent window treat it as arriving now.
        """
        t = float(ev.timestamp)
        etype = ev.type
        # -- activity and funnel counters ----------------------------------------------------------
        st.n_events += 1
        st.type_counts[etype] = st.type_counts.get(etype, 0) + 1
        if st.anchor is None:
            st.anchor = t
            st.first_ts = t
            if len(st.activity) != len(self._h_act) or len(st.price_hist) != self.config.price_bins:
                st.activity = [0.0] * len(self._h_act)
                st.price_hist = [0.0] * self.config.price_bins
        elif (t - st.anchor) > self.config.rebase_exponent * self._h_min:
            self._rebase(st, t)
        last = st.last_ts
        if (
            last is None
            or (ev.session_id is not None and ev.session_id != st.last_session)
            or t - last > self._gap
        ):
            st.sessions += 1
        if ev.session_id is not None:
            st.last_session = ev.session_id
        day = int(t // _DAY)
        if day != st.last_day and (last is None or t >= last):
            st.active_days += 1
            st.last_day = day
        if last is None or t > last:
            st.last_ts = t
        if st.first_ts is not None and t < st.first_ts:
            st.first_ts = t
        anchor = st.anchor
        act = st.activity
        for k, h in enumerate(self._h_act):
            act[k] += 2.0 ** ((t - anchor) / h)
        item = ev.item
        value = ev.value
        if etype == "purchase":
            paid = value if value is not None and value > 0 else (self._price[item] if item >= 0 else None)
            if paid is not None:
                st.monetary += paid
                st.priced_purchases += 1
        if etype in RATING_TYPES and value is not None:
            st.rating_sum += value
            st.rating_n += 1
        if ev.review is not None:
            st.reviews.add(ev.review)
        stage = FUNNEL_STAGE.get(etype, 0)
        if stage and item >= 0 and st.stages.get(item, 0) < stage:
            st.stages[item] = stage
        # -- decayed interest sums -----------------------------------------------------------------
        w = interest_weight(etype, value, self.config)
        if w <= 0:
            return
        c = w * 2.0 ** ((t - anchor) / self._h_long)
        st.weight += c
        vec = ev.vector
        if vec is None and item >= 0 and self._vectors is not None and self._has_vec[item]:
            vec = self._vectors[item]
        if vec is not None:
            if st.vec_sum is None:
                st.vec_sum = np.zeros(vec.shape[0], dtype=np.float32)
            st.vec_sum += c * vec
            st.vec_weight += c
        if item < 0:
            return
        cat = self._cat[item]
        if cat >= 0:
            st.categories[cat] = st.categories.get(cat, 0.0) + c
            st.lifetime_categories[cat] = st.lifetime_categories.get(cat, 0.0) + w
        brand = self._brand[item]
        if brand >= 0:
            st.brands[brand] = st.brands.get(brand, 0.0) + c
            st.lifetime_brands[brand] = st.lifetime_brands.get(brand, 0.0) + w
        b = self._bin[item]
        if b is not None:
            st.price_hist[b] += c
            st.lifetime_price[b] = st.lifetime_price.get(b, 0.0) + w
            acc = st.price_by_cat.get(cat)
            if acc is None:
                st.price_by_cat[cat] = [c * self._pct[item], c]
            else:
                acc[0] += c * self._pct[item]
                acc[1] += c
        recent = st.recent
        if recent and t < recent[-1][2]:
            items = sorted([*recent, (item, etype, t)], key=lambda r: r[2])
            recent.clear()
            recent.extend(items[-self._n_recent :])
        else:
            recent.append((item, etype, t))


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b > 0 else None


def funnel_of(st: UserState) -> dict[str, Any]:
    """The shopper's funnel over **distinct items**: items looked at (viewed, clicked, or further), put in
    the cart (or bought), bought; each step's items include the later steps', so no rate exceeds 1."""
    reached = [0, 0, 0, 0]
    for stage in st.stages.values():
        reached[stage] += 1
    bought = reached[3]
    carted = reached[2] + bought
    looked = reached[1] + carted
    return {
        "basis": "distinct items",
        "views": looked,
        "carts": carted,
        "purchases": bought,
        "view_to_cart": _ratio(carted, looked),
        "cart_to_purchase": _ratio(bought, carted),
        "view_to_purchase": _ratio(bought, looked),
    }
