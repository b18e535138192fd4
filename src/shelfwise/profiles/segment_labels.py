"""Human-readable labels and dashboard statistics of fitted segments.

A label names what sets a segment apart, from its members' mean affinities: the categories and brands
with the highest share x lift (share in the segment / share overall; at least ``min_share``), the price
tier of the mean price histogram, and how active members are compared with everyone. Catalogues with no
categories (Amazon Beauty) fall back to the most distinctive title words of the members' recent items,
scored by class-based TF-IDF (``tf(term, segment) * log(1 + A / tf(term, all))``, A = mean words per
segment, as in BERTopic) among the words over-represented in the segment (lift >= 1.25).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.churn import ChurnModel
from shelfwise.profiles.config import ProfileConfig
from shelfwise.profiles.price import band_label, weighted_median
from shelfwise.profiles.segments import SegmentFeatures, SegmentModel
from shelfwise.profiles.state import UserState, funnel_of

__all__ = ["category_name", "label_segments", "title_terms"]

_WORD = re.compile(r"[a-z][a-z'\-]{2,}")
_STOP: Final[frozenset[str]] = frozenset(
    [
        "and",
        "the",
        "for",
        "with",
        "from",
        "this",
        "that",
        "oz",
        "ounce",
        "ounces",
        "fluid",
        "fl",
        "pack",
        "count",
        "pcs",
        "piece",
        "pieces",
        "set",
        "size",
        "new",
        "inch",
        "inches",
        "ml",
        "gram",
        "grams",
        "lb",
        "lbs",
        "each",
        "per",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "ten",
        "value",
        "kit",
        "travel",
        "sample",
        "mini",
        "full",
        "bottle",
        "tube",
        "jar",
        "box",
        "free",
        "by",
        "in",
        "of",
        "to",
        "a",
        "an",
        "women",
        "men",
        "womens",
        "mens",
        "unisex",
    ]
)


def category_name(path: str) -> str:
    """The readable leaf of a category path: ``"Beauty > Nails > Nail Polish"`` -> ``"nail polish"``.

    Bare ids (Taobao's numeric categories) read as ``"category 2355072"``.
    """
    leaf = path.split(">")[-1].strip().lower() or path
    return f"category {leaf}" if leaf.isdigit() else leaf


def term_idf(catalog: ItemCatalog) -> dict[str, float]:
    """Inverse document frequency of every title term of the catalogue (``log(n / df)``)."""
    if catalog.titles is None:
        return {}
    df: Counter[str] = Counter()
    for title in catalog.titles:
        df.update(title_terms(title))
    n = max(len(catalog.titles), 1)
    return {t: math.log(n / c) for t, c in df.items()}


def recent_terms(
    state: UserState, catalog: ItemCatalog, idf: dict[str, float], k: int = 3, min_df: int = 5
) -> list[str]:
    """The ``k`` title words that best describe the user's recent items: words shared by most of them
    first, then the more common word (product types such as "polish" over one-off names), among words in
    at least ``min_df`` catalogue titles (relaxed below 5,000 titles) and at most 10% of them."""
    if catalog.titles is None or not state.recent:
        return []
    n = max(len(catalog.titles), 1)
    max_idf = math.log(n / min(min_df, max(1, n // 1000)))
    min_idf = math.log(10.0) if n >= 100 else -math.inf
    counts: Counter[str] = Counter()
    for item in {r[0] for r in state.recent}:
        counts.update(
            t for t in title_terms(catalog.titles[item]) if min_idf <= idf.get(t, math.inf) <= max_idf
        )
    return sorted(counts, key=lambda t: (-counts[t], idf[t], t))[:k]


def title_terms(title: str) -> list[str]:
    """Distinct lower-case words of a title worth showing in a label (no stop words, units, numbers)."""
    return sorted({w.strip("'-") for w in _WORD.findall(title.lower())} - _STOP)


def _distinctive(seg: np.ndarray, overall: np.ndarray, min_share: float, k: int) -> list[int]:
    """Keys over-represented in the segment (lift >= 1.2, share >= ``min_share``), by share x lift."""
    lift = seg / np.maximum(overall, 1e-12)
    score = np.where((seg >= min_share) & (lift >= 1.2), seg * lift, -1.0)
    order = np.argsort(-score, kind="stable")
    return [int(i) for i in order[:k] if score[i] > 0]


def _terms_by_segment(
    states: Sequence[UserState], assign: np.ndarray, k: int, catalog: ItemCatalog, top: int
) -> list[list[tuple[str, float]]]:
    assert catalog.titles is not None
    cache: dict[int, list[str]] = {}
    counts = [Counter[str]() for _ in range(k)]
    for st, s in zip(states, assign.tolist(), strict=True):
        for item in {r[0] for r in st.recent}:
            terms = cache.get(item)
            if terms is None:
                terms = cache[item] = title_terms(catalog.titles[item])
            counts[s].update(terms)
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    avg_words = sum(total.values()) / max(k, 1)
    out = []
    for c in counts:
        n = max(sum(c.values()), 1)
        all_words = max(sum(total.values()), 1)
        scored = {  # over-represented words only (lift >= 1.25), ranked by class-based TF-IDF
            t: (f / n) * math.log(1 + avg_words / total[t])
            for t, f in c.items()
            if f >= 3 and (f / n) / (total[t] / all_words) >= 1.25
        }
        best = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        out.append([(t, round(c[t] / n, 4)) for t, _ in best])
    return out


def _segment_facts(
    s: int,
    model: SegmentModel,
    assign: np.ndarray,
    catalog: ItemCatalog,
    terms: list[tuple[str, float]],
    overall_cat: np.ndarray,
    overall_brand: np.ndarray,
    overall_price: float | None,
    events: np.ndarray,
    buys: np.ndarray,
    buy_share: float,
) -> list[list[str]]:
    """What sets segment ``s`` apart from everyone, as groups of phrases (most telling first in each):
    over-represented categories (or title words), brands, a price level 10+ percentile points from the
    population's, and activity / buying well above or below the population's. The first phrase of each
    group makes the label; later ones tell apart segments whose labels would otherwise be equal."""
    min_share = model.config.min_share
    m = assign == s
    cats = _distinctive(model.prior_category[s], overall_cat, min_share, 4) if overall_cat.size else []
    brands = _distinctive(model.prior_brand[s], overall_brand, min_share, 3) if overall_brand.size else []
    what = [category_name(catalog.categories[c]) for c in cats] or [t for t, _ in terms]
    if (
        not what and overall_cat.size
    ):  # nothing holds min_share: a category strongly over-represented still tells
        lean = _distinctive(model.prior_category[s], overall_cat, min_share / 2, 1)
        lift = model.prior_category[s] / np.maximum(overall_cat, 1e-12)
        what = [f"mixed, leaning to {category_name(catalog.categories[c])}" for c in lean if lift[c] >= 2]
    what = what or ["mixed interests"]
    groups: list[list[str]] = [what[:2], [" and ".join(what[2:4])] if len(what) > 2 else []]
    groups.append(
        [catalog.brands[b] for b in brands[:2]] and [" and ".join(catalog.brands[b] for b in brands[:2])]
    )
    typical = weighted_median(model.prior_price[s]) if model.prior_price.size else None
    price: list[str] = []
    if typical is not None and overall_price is not None:
        if typical >= overall_price + 10:
            price = [f"premium price ({band_label(typical)} pct)"]
        elif typical <= overall_price - 10:
            price = [f"budget price ({band_label(typical)} pct)"]
    groups.append(price)
    size = int(m.sum())
    rel = float(events[m].mean() / max(events.mean(), 1e-9)) if size else 1.0
    activity = "frequent" if rel >= 1.5 else "occasional" if rel <= 0.67 else ""
    share = float(buys[m].sum() / max(events[m].sum(), 1e-9)) if size else buy_share
    ratio = share / max(buy_share, 1e-9)
    role = "buyers" if ratio >= 1.25 else "browsers" if ratio <= 0.8 else ""
    groups.append([f"{activity} {role or 'shoppers'}"] if activity or role else [])
    extra = [f"{band_label(typical)} price pct"] if typical is not None and not price else []
    groups.append([*extra, f"{rel:.1f}x the average activity"])
    return groups


def _distinct_labels(facts: list[list[list[str]]]) -> list[str]:
    """One label per segment from its fact groups: the first phrase of the first groups; segments whose
    labels collide get their next facts added until every label differs (the segment number at last)."""

    def label(groups: list[list[str]], depth: int) -> str:
        main = [" and ".join(groups[0][:2])] if groups[0] else []
        parts = main + [g[0] for g in groups[2:5] if g]
        extra = [p for g in (groups[1], groups[5]) for p in g][:depth]
        return ", ".join(parts + extra)

    depth = [0] * len(facts)
    labels = [label(f, 0) for f in facts]
    for _ in range(4):
        seen = Counter(labels)
        clash = [s for s, lab in enumerate(labels) if seen[lab] > 1]
        if not clash:
            return labels
        for s in clash:
            depth[s] += 1
            labels[s] = label(facts[s], depth[s])
    seen = Counter(labels)
    return [f"{lab} (segment {s})" if seen[lab] > 1 else lab for s, lab in enumerate(labels)]


def label_segments(
    model: SegmentModel,
    assign: np.ndarray,
    feats: SegmentFeatures,
    states: Sequence[UserState],
    catalog: ItemCatalog,
    config: ProfileConfig,
    now: float,
    churn: ChurnModel | None = None,
) -> SegmentModel:
    """The model with a label and dashboard statistics per segment.

    Args:
        model: a fitted model (from :func:`~shelfwise.profiles.segments.fit_segments`).
        assign: each user's segment.
        feats: the raw feature blocks the model was fitted on.
        states: the users' states (same order).
        catalog: item facts (category / brand names, titles).
        config: profile settings.
        now: time the recency statistics are read at (Unix seconds).
        churn: adds the mean churn risk per segment when given.
    """
    k = model.k
    overall_cat = feats.category.mean(axis=0) if feats.category.size else np.zeros(0)
    overall_brand = feats.brand.mean(axis=0) if feats.brand.size else np.zeros(0)
    use_terms = not catalog.categories and catalog.titles is not None
    terms = _terms_by_segment(states, assign, k, catalog, 4) if use_terms else [[] for _ in range(k)]
    events = np.array([st.n_events for st in states], dtype=np.float64)
    funnels = [funnel_of(st) for st in states]
    looked = np.array([f["views"] for f in funnels], dtype=np.float64)
    bought_items = np.array([f["purchases"] for f in funnels], dtype=np.float64)
    buys = np.array([st.type_counts.get("purchase", 0) for st in states], dtype=np.float64)
    recency = np.array([(now - (st.last_ts or now)) / 86_400.0 for st in states])
    risk = None
    if churn is not None:
        hl = config.activity_half_lives_days
        risk = np.array([churn.risk(st, now, hl) for st in states])
    sizes = np.bincount(assign, minlength=k).astype(np.float64)
    overall_price = (
        weighted_median((sizes[:, None] * model.prior_price).sum(axis=0)) if model.prior_price.size else None
    )
    buy_share = float(buys.sum() / max(events.sum(), 1e-9))
    facts = [
        _segment_facts(
            s,
            model,
            assign,
            catalog,
            terms[s],
            overall_cat,
            overall_brand,
            overall_price,
            events,
            buys,
            buy_share,
        )
        for s in range(k)
    ]
    labels = _distinct_labels(facts)
    stats: list[dict[str, Any]] = []
    for s in range(k):
        m = assign == s
        size = int(m.sum())
        typical = weighted_median(model.prior_price[s]) if model.prior_price.size else None
        stat: dict[str, Any] = {
            "segment": s,
            "label": labels[s],
            "size": size,
            "share": round(size / max(len(states), 1), 4),
            "events_mean": round(float(events[m].mean()), 2) if size else 0.0,
            "events_median": float(np.median(events[m])) if size else 0.0,
            "purchases_mean": round(float(buys[m].mean()), 3) if size else 0.0,
            # distinct items bought / looked at (each bought item was looked at): never above 1
            "view_to_purchase": round(float(bought_items[m].sum() / looked[m].sum()), 4)
            if looked[m].sum()
            else None,
            "recency_days_median": round(float(np.median(recency[m])), 2) if size else None,
            "monetary_mean": round(
                float(np.mean([states[i].monetary for i in np.flatnonzero(m).tolist()])), 2
            )
            if size
            else 0.0,
            "price_typical_percentile": None if typical is None else round(typical, 1),
            "price_band": None if typical is None else band_label(typical),
            "top_categories": [
                {"name": catalog.categories[c], "share": round(float(model.prior_category[s][c]), 4)}
                for c in np.argsort(-model.prior_category[s])[:3]
                if model.prior_category[s][c] > 0
            ]
            if overall_cat.size
            else [],
            "top_brands": [
                {"name": catalog.brands[b], "share": round(float(model.prior_brand[s][b]), 4)}
                for b in np.argsort(-model.prior_brand[s])[:3]
                if model.prior_brand[s][b] > 0
            ]
            if overall_brand.size
            else [],
            "top_terms": [{"term": t, "share": f} for t, f in terms[s]],
            "silhouette_k": model.k,
        }
        if risk is not None:
            stat["churn_risk_mean"] = round(float(risk[m].mean()), 4) if size else None
        stats.append(stat)
    return dataclasses.replace(model, labels=tuple(labels), stats=tuple(stats))
