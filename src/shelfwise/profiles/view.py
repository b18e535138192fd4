"""The readable profile: a frozen snapshot derived from a state at a time ``now``.

:class:`ProfileReader` turns a :class:`~shelfwise.profiles.state.UserState` into a :class:`UserProfile`:
affinity distributions (long-term and recent), price band, activity, funnel, reviews, churn risk and
segment. Distributions are smoothed towards the user's segment prior with ``prior_strength`` pseudo
view-units, so a cold profile shows its segment's tastes and a long history shows its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.churn import ChurnModel
from shelfwise.profiles.config import ProfileConfig
from shelfwise.profiles.price import band_label, price_tier, weighted_median
from shelfwise.profiles.segment_labels import recent_terms, term_idf
from shelfwise.profiles.segments import SegmentModel, segment_features
from shelfwise.profiles.state import UserState, funnel_of
from shelfwise.profiles.vectors import normalised, recent_categories, short_term_vector, top

__all__ = ["ProfileReader", "UserProfile"]

_DAY = 86_400.0


@dataclass(frozen=True)
class UserProfile:
    """One user's profile at ``as_of``; names only (category / brand names, pseudonymous user id).

    Attributes:
        user_id: the id the store holds (pseudonymous when the store pseudonymises).
        as_of: read time (Unix seconds); ``last_seen`` / ``first_seen`` event times.
        categories / brands: long-term affinities ``(name, share)``, largest first.
        recent_categories: affinities of the recent window.
        interest_terms: telling title words of the recent items (catalogues without categories).
        price_percentile: typical (weighted median) price percentile within category; ``price_band``
            its 20-point band ("60-80th"), ``price_tier`` budget / mid / premium.
        price_by_category: ``(category, mean percentile, share of priced weight)``.
        activity: counts (events, sessions, active days, per type), recency / tenure in days, monetary.
        funnel: views, carts, purchases and the conversion rates between them.
        reviews: review summary (mean sentiment, aspects) and mean rating, when any.
        churn_risk: P(no event within ``churn_horizon_days``) when a churn model is loaded.
        churn_drivers: features raising the risk most.
        segment / segment_label: the user's segment, when a segment model is loaded.
        cold_start: the profile rests mostly on the segment prior / context.
        sources: what the profile was built from.
        long_vector / short_vector: interest vectors (float32) or ``None``.
    """

    user_id: str
    as_of: float
    first_seen: float | None
    last_seen: float | None
    categories: tuple[tuple[str, float], ...]
    brands: tuple[tuple[str, float], ...]
    recent_categories: tuple[tuple[str, float], ...]
    interest_terms: tuple[str, ...]
    price_percentile: float | None
    price_band: str | None
    price_tier: str | None
    price_by_category: tuple[tuple[str, float, float], ...]
    activity: dict[str, Any]
    funnel: dict[str, Any]
    reviews: dict[str, Any]
    churn_risk: float | None = None
    churn_horizon_days: float | None = None
    churn_drivers: tuple[str, ...] = ()
    segment: int | None = None
    segment_label: str | None = None
    cold_start: bool = False
    sources: tuple[str, ...] = ()
    long_vector: np.ndarray | None = field(default=None, repr=False)
    short_vector: np.ndarray | None = field(default=None, repr=False)


class ProfileReader:
    """Derives :class:`UserProfile` snapshots; cheap enough per request (no store access).

    Args:
        catalog: item facts.
        config: profile settings.
        segments: a fitted segment model (adds segment, label and the prior), optional.
        churn: a fitted churn model (adds churn risk), optional.
    """

    def __init__(
        self,
        catalog: ItemCatalog,
        config: ProfileConfig | None = None,
        segments: SegmentModel | None = None,
        churn: ChurnModel | None = None,
    ) -> None:
        self.catalog = catalog
        self.config = config or ProfileConfig()
        self._aligned: tuple[SegmentModel, SegmentModel] | None = None
        self.fitted_segments = segments
        self.churn = churn
        self._idf: dict[str, float] | None = None

    def _terms(self, st: UserState) -> tuple[str, ...]:
        """Telling title words of the recent items, for catalogues without categories."""
        if self.catalog.categories or self.catalog.titles is None:
            return ()
        if self._idf is None:
            self._idf = term_idf(self.catalog)
        return tuple(recent_terms(st, self.catalog, self._idf))

    def effective_weight(self, st: UserState) -> float:
        """Interest weight decayed to the last event (in view units)."""
        if st.anchor is None or st.last_ts is None:
            return 0.0
        return st.weight * 2.0 ** ((st.anchor - st.last_ts) / self.config.long_half_life_seconds)

    @property
    def segments(self) -> SegmentModel | None:
        """The segment model read against this reader's catalogue (:meth:`SegmentModel.aligned`)."""
        fitted = self.fitted_segments
        if fitted is None:
            return None
        cached = self._aligned
        if cached is None or cached[0] is not fitted:
            cached = self._aligned = (fitted, fitted.aligned(self.catalog))
        return cached[1]

    @segments.setter
    def segments(self, model: SegmentModel | None) -> None:
        self.fitted_segments = model

    def segment_of(self, st: UserState, context_vector: np.ndarray | None = None) -> int | None:
        """The user's segment (nearest by interest for a state without weight)."""
        if self.segments is None:
            return None
        if st.weight <= 0:
            v = st.long_vector()
            return self.segments.nearest_by_interest(v if v is not None else context_vector)
        feats = segment_features([st], self.catalog, self.config)
        return int(self.segments.assign(feats)[0])

    def _mix(self, own: dict[int, float], prior: np.ndarray | None, w: float) -> dict[int, float]:
        k = self.config.prior_strength
        if prior is None or prior.size == 0 or not prior.any() or k <= 0:
            return normalised(own)
        mine = normalised(own)
        out = {int(i): k * float(prior[i]) for i in np.flatnonzero(prior)}
        for key, share in mine.items():
            out[key] = out.get(key, 0.0) + w * share
        return normalised(out)

    def profile(
        self, user_id: str, st: UserState, now: float | None = None, context: tuple[str, ...] = ()
    ) -> UserProfile:
        """The readable snapshot of ``st`` at ``now`` (default: the user's last event).

        Args:
            user_id: the pseudonymous id to show.
            st: the user's state.
            now: read time (Unix seconds).
            context: extra sources to record (e.g. ``"query"`` for a cold-start profile).
        """
        cfg, cat = self.config, self.catalog
        now = float(now if now is not None else (st.last_ts or 0.0))
        w = self.effective_weight(st)
        seg = self.segment_of(st, st.long_vector())
        prior_c = prior_b = prior_p = None
        if seg is not None and self.segments is not None:
            prior_c = self.segments.prior_category[seg]
            prior_b = self.segments.prior_brand[seg]
            prior_p = self.segments.prior_price[seg]
        decay = 2.0 ** ((st.anchor - now) / cfg.long_half_life_seconds) if st.anchor is not None else 1.0
        own_c = _blend(st.categories, st.lifetime_categories, decay, cfg.long_recency_floor)
        own_b = _blend(st.brands, st.lifetime_brands, decay, cfg.long_recency_floor)
        cats = self._mix(own_c, prior_c, sum(own_c.values()) if st.lifetime_categories else w)
        brands = self._mix(own_b, prior_b, sum(own_b.values()) if st.lifetime_brands else w)
        hist = np.asarray(st.price_hist, dtype=np.float64)
        scale = (
            2.0 ** ((st.anchor - st.last_ts) / cfg.long_half_life_seconds)
            if st.anchor is not None and st.last_ts is not None
            else 1.0
        )
        hist = hist * scale
        if st.lifetime_price:  # each event keeps a floor of its strength however old (like the affinities)
            floor = cfg.long_recency_floor
            lifetime = np.zeros(hist.size, dtype=np.float64)
            for b, v in st.lifetime_price.items():
                if 0 <= b < hist.size:
                    lifetime[b] = v
            hist = floor * lifetime + (1.0 - floor) * hist
        if prior_p is not None and prior_p.any() and hist.size == prior_p.size:
            hist = hist + cfg.prior_strength * prior_p
        typical = weighted_median(hist)
        priced = sum(acc[1] for acc in st.price_by_cat.values())
        by_cat = sorted(
            (
                (category_label(cat, c), acc[0] / acc[1], acc[1] / priced)
                for c, acc in st.price_by_cat.items()
                if acc[1] > 0
            ),
            key=lambda r: -r[2],
        )[: cfg.top_k]
        tc = st.type_counts
        activity = {
            "events": st.n_events,
            "by_type": dict(sorted(tc.items())),
            "sessions": st.sessions,
            "active_days": st.active_days,
            "recency_days": None if st.last_ts is None else round((now - st.last_ts) / _DAY, 3),
            "tenure_days": None if st.first_ts is None else round((now - st.first_ts) / _DAY, 3),
            "monetary": round(st.monetary, 2),
            "priced_purchases": st.priced_purchases,
        }
        funnel = funnel_of(st)
        reviews = st.reviews.summary(cfg.top_k)
        reviews["mean_rating"] = round(st.rating_sum / st.rating_n, 3) if st.rating_n else None
        risk = drivers = None
        if self.churn is not None and st.n_events:
            risk = round(self.churn.risk(st, now, cfg.activity_half_lives_days), 4)
            drivers = tuple(self.churn.drivers(st, now, 2, cfg.activity_half_lives_days))
        cold = w < cfg.prior_strength * 2
        sources = ["events"] if st.n_events else []
        sources += list(context)
        if cold and seg is not None:
            sources.append("segment prior")
        return UserProfile(
            user_id=user_id,
            as_of=now,
            first_seen=st.first_ts,
            last_seen=st.last_ts,
            categories=tuple((category_label(cat, c), round(s, 4)) for c, s in top(cats, cfg.top_k)),
            brands=tuple((cat.brands[b], round(s, 4)) for b, s in top(brands, cfg.top_k)),
            recent_categories=tuple(
                (category_label(cat, c), round(s, 4))
                for c, s in top(recent_categories(st, cat, cfg), cfg.top_k)
            ),
            interest_terms=self._terms(st),
            price_percentile=None if typical is None else round(typical, 1),
            price_band=None if typical is None else band_label(typical),
            price_tier=None if typical is None else price_tier(typical),
            price_by_category=tuple((n, round(p, 1), round(s, 4)) for n, p, s in by_cat),
            activity=activity,
            funnel=funnel,
            reviews=reviews,
            churn_risk=risk,
            churn_horizon_days=self.churn.horizon_days if self.churn is not None else None,
            churn_drivers=drivers or (),
            segment=seg,
            segment_label=self.segments.labels[seg]
            if seg is not None and self.segments and self.segments.labels
            else None,
            cold_start=cold,
            sources=tuple(sources),
            long_vector=st.long_vector(),
            short_vector=short_term_vector(st, cat, cfg),
        )


def _blend(
    decayed: dict[int, float], lifetime: dict[int, float], decay: float, floor: float
) -> dict[int, float]:
    """Per key ``sum w * (floor + (1 - floor) * 2**(-age / H))`` from the anchored (``decayed * decay`` is
    the decayed sum at read time) and the undecayed sums; the decayed sums alone for a state without
    lifetime sums (stored before they existed)."""
    if not lifetime:
        return {k: v * decay for k, v in decayed.items()}
    keys = decayed.keys() | lifetime.keys()
    return {k: floor * lifetime.get(k, 0.0) + (1.0 - floor) * decayed.get(k, 0.0) * decay for k in keys}


def category_label(catalog: ItemCatalog, code: int) -> str:
    """Category name of a code (``"(none)"`` for -1)."""
    return catalog.categories[code] if 0 <= code < len(catalog.categories) else "(none)"
