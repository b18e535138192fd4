"""One result as the shopper sees it: title, price, brand, category, highlighted words and a reason.

The reason is built only from facts about the item checked here (its title words, brand, category and
price against what the query asked), in a shopper's words: "title matches 'tape'", "in Adhesive Tapes >
Duct Tape", "$3.97, under your $10 limit". No scores or cosines appear in it; they stay in the breakdown.

Example:
    >>> highlight_spans("Duck Duct Tape, 2 Rolls", frozenset({"tape", "roll"}))
    [[10, 14], [18, 23]]
    >>> price_reason(3.97, {"price_max": 10.0})
    '$3.97, under your $10 limit'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from shelfwise.search.catalog import CatalogItem, SearchCatalog, stem
from shelfwise.search.evidence import QueryEvidence
from shelfwise.search.retrieve import Candidates
from shelfwise.search.types import SearchHit

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")


def _money(value: float) -> str:
    return f"${value:,.2f}".replace(".00", "")


def highlight_spans(title: str, stems: frozenset[str]) -> list[list[int]]:
    """``[start, end)`` spans of the title words whose stem is in ``stems``."""
    return [[m.start(), m.end()] for m in _WORD.finditer(title) if stem(m.group()) in stems]


def price_reason(price: float | None, applied: Mapping[str, Any]) -> str | None:
    """How the price meets the shopper's price limit, or ``None`` without a limit or a price."""
    low, high = applied.get("price_min"), applied.get("price_max")
    text = _PRICE_TEXT.get((low is not None, high is not None))
    if price is None or text is None:
        return None
    return f"{_money(price)}, " + text.format(low=_money(low or 0.0), high=_money(high or 0.0))


#: How a price meets the shopper's limit, by (has a minimum, has a maximum).
_PRICE_TEXT = {
    (True, True): "within your {low}-{high} range",
    (False, True): "under your {high} limit",
    (True, False): "over your {low} minimum",
}


def _concept_reasons(item: CatalogItem, matched: list[str], evidence: QueryEvidence) -> list[str]:
    title = item.title_stems
    in_title: list[str] = []
    out: list[str] = []
    by_text = {c.text: c for c in evidence.concepts}
    for text in matched:
        c = by_text.get(text)
        if c is None:
            continue
        if c.brand is not None and item.brand and item.brand.lower() == c.brand.lower():
            out.append(f"brand {item.brand}")
        elif (name := c.name_in(title)) is not None:
            in_title.append(name)
        elif item.leaf:
            out.append(f"in {item.leaf}")
    if in_title:
        out.insert(0, "title matches " + ", ".join(f"'{w}'" for w in in_title[:4]))
    return list(dict.fromkeys(out))


def build_hit(
    catalog: SearchCatalog,
    n: int,
    score: float,
    cands: Candidates,
    parts: Mapping[str, np.ndarray],
    evidence: QueryEvidence | None,
    applied: Mapping[str, Any],
    *,
    matched: list[str] | None = None,
    met: list[str] | None = None,
    confident: bool = True,
) -> SearchHit:
    """The :class:`SearchHit` of candidate ``n`` (its breakdown, reason and highlights)."""
    item_id = cands.ids[n]
    item = catalog.items.get(item_id)
    breakdown = {
        "lexical": round(float(cands.lexical[n]), 4),
        "dense": round(float(cands.dense[n]), 4),
        "fused": round(float(cands.fused[n]), 6),
        **{k: round(float(v[n]), 4) for k, v in parts.items()},
    }
    if item is None:
        return SearchHit(item_id, "", round(score, 6), "", breakdown)
    reasons: list[str] = []
    spans: list[list[int]] = []
    if evidence is not None:
        reasons += _concept_reasons(item, matched or [], evidence)
        if met and "category" in met and not any(r.startswith("in ") for r in reasons) and item.leaf:
            reasons.append(f"in {item.leaf}")
        if met and "brand" in met and not any(r.startswith("brand ") for r in reasons) and item.brand:
            reasons.append(f"brand {item.brand}")
        spans = highlight_spans(item.title, evidence.matched_stems(item))
        if not confident:
            reasons.append("a weaker match")
    if (why := price_reason(item.price, applied)) is not None:
        reasons.append(why)
    for key, label in (("brand", "brand"), ("category", "category"), ("colour", "colour")):
        if key in applied:
            reasons.append(f"your {label} choice")
    if parts.get("personal") is not None and parts["personal"][n] > 0.05:
        reasons.append("close to your interests")
    if not reasons and evidence is None:
        reasons.append("popular in this selection")
    return SearchHit(
        item_id=item_id,
        title=item.title,
        score=round(score, 6),
        reason="; ".join(dict.fromkeys(reasons)) or "related to your search",
        breakdown=breakdown,
        price=item.price,
        brand=item.brand,
        category=item.category_label or None,
        highlights=spans,
    )
