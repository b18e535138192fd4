"""Profiles as JSON-ready dicts with plain-language explanations.

The summary line reads like "mostly buys moisturisers and cleansers in the 60-80th price percentile;
recently browsing nail polish"; further sentences cover brands, activity, funnel, reviews, churn risk and
the segment. Only derived values appear: no review text, no queries, no vectors (their norms at most).

Example:
    >>> from shelfwise.profiles.view import UserProfile
    >>> p = UserProfile("u1", 0.0, None, None, (("Beauty > Skincare", 0.7),), (), (("Beauty > Nails > Nail Polish", 1.0),),
    ...                 (), 70.0, "60-80th", "premium", (), {"events": 3}, {"views": 1, "carts": 0, "purchases": 2}, {})
    >>> summary(p)
    'mostly buys skincare in the 60-80th price percentile; recently browsing nail polish'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shelfwise.profiles.segment_labels import category_name
from shelfwise.profiles.view import UserProfile

__all__ = ["explain", "profile_json", "summary"]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _verb(p: UserProfile) -> str:
    """What the shopper mostly does with items: the funnel counts distinct items, each step inside the
    previous one (a bought item was also looked at)."""
    f, by_type = p.funnel, p.activity.get("by_type", {})
    reviews = by_type.get("review", 0) + by_type.get("rating", 0)
    if reviews / max(sum(by_type.values()), 1) >= 0.5:
        return "reviews"
    looked = max(f.get("views", 0), 1)
    if f.get("purchases", 0) / looked >= 0.3:
        return "buys"
    if f.get("carts", 0) / looked >= 0.2:
        return "shops for"
    return "browses"


def summary(p: UserProfile) -> str:
    """One line: main interests and price band; what the user looks at lately when it differs."""
    if not p.categories and not p.activity.get("events"):
        return f"new shopper; profile from {', '.join(p.sources) or 'no context'}"
    if not p.categories and p.interest_terms:
        return f"mostly {_verb(p)} items like '{', '.join(p.interest_terms)}'"
    main = [category_name(n) for n, s in p.categories[:2] if s >= 0.15] or (
        [category_name(p.categories[0][0])] if p.categories else []
    )
    what = " and ".join(main) if main else "items"
    line = f"mostly {_verb(p)} {what}"
    if p.price_band:
        line += f" in the {p.price_band} price percentile"
    if p.recent_categories:
        recent = category_name(p.recent_categories[0][0])
        if recent not in main:
            line += f"; recently browsing {recent}"
    elif p.segment_label and not p.categories:
        line = f"mostly {_verb(p)} items like segment '{p.segment_label}'"
    return line


def explain(p: UserProfile) -> list[str]:
    """Plain-language sentences, most important first."""
    out = [summary(p)]
    if p.brands:
        name, share = p.brands[0]
        out.append(f"prefers {name} ({share:.0%} of brand interest)")
    a = p.activity
    if a.get("events"):
        seen = f"; last active {a['recency_days']:.1f} days ago" if a.get("recency_days") is not None else ""
        out.append(
            f"{_plural(a['events'], 'event')} in {_plural(a['sessions'], 'session')} "
            f"on {_plural(a['active_days'], 'day')}{seen}"
        )
    f = p.funnel
    if f.get("views"):
        conv = f.get("view_to_purchase") or 0.0
        out.append(
            f"items looked at -> put in the cart -> bought: {f['views']} -> {f['carts']} -> {f['purchases']} "
            f"({conv:.0%} of the items looked at were bought)"
        )
    r = p.reviews
    if r.get("reviews"):
        mood = r["mean_sentiment"]
        tone = "positive" if mood > 0.2 else "negative" if mood < -0.2 else "mixed"
        praised = [x["aspect"] for x in r["aspects"] if x["mean_polarity"] > 0.2][:2]
        panned = [x["aspect"] for x in r["aspects"] if x["mean_polarity"] < -0.2][:2]
        text = f"{_plural(r['reviews'], 'review')}, mostly {tone}"
        if praised:
            text += f"; praises {' and '.join(praised)}"
        if panned:
            text += f"; criticises {' and '.join(panned)}"
        out.append(text)
    if p.churn_risk is not None:
        why = f" (driven by {', '.join(p.churn_drivers)})" if p.churn_drivers else ""
        out.append(f"churn risk {p.churn_risk:.0%} of no visit within {p.churn_horizon_days:g} days{why}")
    if p.segment_label:
        out.append(f"segment {p.segment}: {p.segment_label}")
    if p.cold_start:
        out.append(
            f"little history: profile leans on {', '.join(s for s in p.sources if s != 'events') or 'defaults'}"
        )
    return out


def profile_json(p: UserProfile) -> dict[str, Any]:
    """The profile as a JSON-ready dict (what ``shelfwise profile USER --json`` and the API return)."""
    return {
        "user_id": p.user_id,
        "as_of": _iso(p.as_of),
        "first_seen": _iso(p.first_seen),
        "last_seen": _iso(p.last_seen),
        "summary": summary(p),
        "explanations": explain(p),
        "segment": None if p.segment is None else {"id": p.segment, "label": p.segment_label},
        "interests": {
            "categories": [{"name": n, "share": s} for n, s in p.categories],
            "brands": [{"name": n, "share": s} for n, s in p.brands],
            "recent_categories": [{"name": n, "share": s} for n, s in p.recent_categories],
            "terms": list(p.interest_terms),
            "has_long_term_vector": p.long_vector is not None,
            "has_short_term_vector": p.short_vector is not None,
        },
        "price": {
            "typical_percentile": p.price_percentile,
            "band": p.price_band,
            "tier": p.price_tier,
            "by_category": [{"name": n, "mean_percentile": m, "share": s} for n, m, s in p.price_by_category],
        },
        "activity": p.activity,
        "funnel": p.funnel,
        "reviews": p.reviews,
        "churn": None
        if p.churn_risk is None
        else {"risk": p.churn_risk, "horizon_days": p.churn_horizon_days, "drivers": list(p.churn_drivers)},
        "cold_start": p.cold_start,
        "sources": list(p.sources),
    }
