"""One result as the shopper sees it: title, score, the score's parts and a plain-language reason.

The reason is built only from facts in the breakdown (matched title words, cosine, re-ranker score, the
filters applied, personal affinity), so it is true by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shelfwise.search.catalog import SearchCatalog
from shelfwise.search.query import ParsedQuery
from shelfwise.search.retrieve import Candidates
from shelfwise.search.types import SearchHit


def build_hit(
    catalog: SearchCatalog,
    n: int,
    score: float,
    cands: Candidates,
    parts: Mapping[str, np.ndarray],
    parsed: ParsedQuery | None,
    applied: Mapping[str, Any],
) -> SearchHit:
    """The :class:`SearchHit` of candidate ``n`` (its breakdown and reason)."""
    item_id = cands.ids[n]
    item = catalog.items.get(item_id)
    breakdown = {
        "lexical": round(float(cands.lexical[n]), 4),
        "dense": round(float(cands.dense[n]), 4),
        "fused": round(float(cands.fused[n]), 6),
        **{k: round(float(v[n]), 4) for k, v in parts.items()},
    }
    reasons = []
    words = (parsed.corrected if parsed else "").split()
    matched = [w for w in dict.fromkeys(words) if item is not None and w in item.words]
    if matched:
        reasons.append("title matches " + ", ".join(f"'{w}'" for w in matched[:4]))
    elif cands.dense[n] > 0:
        reasons.append(f"similar in meaning to the query (cosine {cands.dense[n]:.2f})")
    if "cross_encoder" in parts:
        reasons.append(f"judged relevant by the re-ranker ({parts['cross_encoder'][n]:.2f})")
    cons = [k for k in ("brand", "category", "colour", "size") if k in applied]
    if "price_min" in applied or "price_max" in applied:
        cons.append("price")
    if cons:
        reasons.append("meets " + ", ".join(cons))
    if parts.get("personal") is not None and parts["personal"][n] > 0.05:
        reasons.append("close to your interests")
    return SearchHit(
        item_id=item_id,
        title=item.title if item else "",
        score=round(score, 6),
        reason="; ".join(reasons) or "browse order (popularity)",
        breakdown=breakdown,
    )
