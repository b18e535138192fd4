"""Settings of user profiles, segments, churn risk and the profile retriever (one pydantic tree).

Every field carries its default and why; the lead wires :class:`ProfileConfig` into the settings tree as
a ``profiles`` section.

Example:
    >>> cfg = ProfileConfig(long_half_life_days=14)
    >>> cfg.event_weight("purchase") > cfg.event_weight("view")
    True
"""

from __future__ import annotations

from pydantic import Field

from shelfwise.config_base import FrozenSection as _Section
from shelfwise.data.schema import EVENT_WEIGHTS


class SegmentConfig(_Section):
    """How segments are found (K-means over profile features, k chosen by silhouette).

    Attributes:
        k_min: smallest number of segments tried.
        k_max: largest number of segments tried.
        pca_components: the features are projected on this many principal components before
            clustering (denoises 384-d text vectors and makes K-means cheap); 0 = no projection.
        silhouette_sample: users sampled to compute the silhouette (O(n^2) in the sample).
        n_init: K-means restarts per k.
        seed: seed of PCA sampling, K-means and the silhouette sample.
        weight_interest: weight of the long-term interest vector block.
        weight_category: weight of the category-affinity block.
        weight_brand: weight of the brand-affinity block.
        weight_price: weight of the price-percentile histogram block.
        weight_activity: weight of the activity block (log counts, conversion, recency).
        min_share: labels list categories / brands / terms holding at least this share of the segment.
    """

    k_min: int = Field(default=4, ge=2)
    k_max: int = Field(default=12, ge=2)
    pca_components: int = Field(default=32, ge=0)
    silhouette_sample: int = Field(default=4000, ge=100)
    n_init: int = Field(default=3, ge=1)
    seed: int = 0
    weight_interest: float = Field(default=1.0, ge=0)
    weight_category: float = Field(default=1.0, ge=0)
    weight_brand: float = Field(default=0.5, ge=0)
    weight_price: float = Field(default=0.5, ge=0)
    weight_activity: float = Field(default=0.25, ge=0)
    min_share: float = Field(default=0.05, ge=0, le=1)


class ChurnConfig(_Section):
    """Churn risk: P(no event within ``horizon_days`` after ``now``), a logistic regression.

    Attributes:
        horizon_days: the horizon of the label.
        l2: ridge penalty of the (standardised) logistic regression.
        max_iter: Newton (IRLS) iterations.
    """

    horizon_days: float = Field(default=2.0, gt=0)
    l2: float = Field(default=1.0, ge=0)
    max_iter: int = Field(default=50, ge=1)


class ProfileConfig(_Section):
    """Settings of profile building, online updates and their readable form.

    Attributes:
        event_weights: weight of each event type as an interest signal (default
            :data:`~shelfwise.data.schema.EVENT_WEIGHTS`: a purchase 5, a view 1).
        long_half_life_days: half-life of the long-term decay: an event this old counts half as much as
            a new one in the long-term vector, affinities and price band.
        long_recency_floor: in the long-term category and brand affinities, an event keeps at least this
            share of its strength however old it is (``floor + (1 - floor) * 2**(-age / half-life)``), so
            fifteen old purchases outweigh one new click; 0 = pure time decay.
        short_events: events kept in the recent window (short-term vector, "recently browsing").
        short_half_life_events: inside the window, each newer event halves the weight of an event this
            many positions back (order-only data such as Amazon Beauty decays this way).
        short_half_life_hours: inside the window, an event this much older than the newest one counts
            half (real-time data: a gap of a day is effectively a new session).
        session_gap_minutes: a gap longer than this (or a new ``session_id``) starts a new session.
        min_positive_rating: rating / review events whose value is below this count 0 as interest.
        activity_half_lives_days: half-lives of the decayed activity counters (churn features).
        prior_strength: weight (in purchase-free "view units") of the segment prior mixed into every
            profile view; it dominates a cold profile and fades as the user's own weight grows.
        price_bins: bins of the price-percentile histogram (20 = 5-point bins).
        top_k: entries listed per distribution in readable output.
        rebase_exponent: the anchored accumulators are rescaled when an event is this many half-lives
            newer than the anchor (keeps float ranges safe; invisible in every derived value).
        segments: segment settings.
        churn: churn-risk settings.
    """

    event_weights: dict[str, float] = Field(default_factory=lambda: dict(EVENT_WEIGHTS))
    long_half_life_days: float = Field(default=30.0, gt=0)
    long_recency_floor: float = Field(default=0.5, ge=0, le=1)
    short_events: int = Field(default=20, ge=1)
    short_half_life_events: float = Field(default=3.0, gt=0)
    short_half_life_hours: float = Field(default=1.0, gt=0)
    session_gap_minutes: float = Field(default=30.0, gt=0)
    min_positive_rating: float = 3.0
    activity_half_lives_days: tuple[float, float] = (1.0, 7.0)
    prior_strength: float = Field(default=2.0, ge=0)
    price_bins: int = Field(default=20, ge=2)
    top_k: int = Field(default=5, ge=1)
    rebase_exponent: float = Field(default=30.0, gt=0)
    segments: SegmentConfig = Field(default_factory=SegmentConfig)
    churn: ChurnConfig = Field(default_factory=ChurnConfig)

    def event_weight(self, event_type: str) -> float:
        """Interest weight of an event type (0 for an unknown type)."""
        return float(self.event_weights.get(event_type, 0.0))

    @property
    def long_half_life_seconds(self) -> float:
        """:attr:`long_half_life_days` in seconds."""
        return self.long_half_life_days * 86_400.0
