"""Plain-language reasons, built only from how a result was produced (its breakdown) and the inputs.

Each reason is a list of *claims*, each with a condition that makes it true; :func:`claims_for`
returns only claims whose condition holds, and :func:`render` turns them into text:

============================== ==========================================================================
claim (text)                   said only when
============================== ==========================================================================
``pinned`` Featured by the shop a pin rule placed the item
``similar_to`` Similar to "X"  an ``item2item`` source found it via anchor X, and X is in the shopper's
you viewed                      history
``query`` Matches your search  a ``lexical`` / ``semantic`` source retrieved it for the request's query
``sequential`` Picked from your a ``sequential`` source produced it and the shopper has a history
recent activity
``collaborative`` Popular with  a ``collaborative`` source produced it
shoppers like you
``popular`` Popular in the shop a ``popularity`` source produced it
``content`` Picked for its      a ``content`` source produced it
product details
``generic`` Recommended for you no source above applies (always true of a ranked result)
``filter`` matches "under $50"  the catalogue says the item satisfies that parsed query filter
``promoted`` promoted by the    a boost rule raised its score
shop
``variety`` added for variety   the diversity step placed it although relevance order would not have
                                 listed it, or it fills an exploration slot
============================== ==========================================================================

One source claim is used (the most specific, in the order above); the others are still listed in the
breakdown's ``sources``.

Example:
    >>> bd = {"placed_by": "diversity", "added_for_variety": True, "filters_matched": [],
    ...       "sources": [{"name": "als", "kind": "collaborative", "score": 1.2}], "rules": []}
    >>> render(claims_for(bd, frozenset(), None), lambda i: str(i))
    'Popular with shoppers like you; added for variety'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["claims_for", "render"]

_SOURCE_ORDER = ("item2item", "lexical", "semantic", "sequential", "collaborative", "popularity", "content")


def _source_claim(
    sources: list[dict[str, Any]], history: frozenset[int], query: str | None
) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for s in sources:
        by_kind.setdefault(str(s.get("kind")), []).append(s)
    for kind in _SOURCE_ORDER:
        for s in by_kind.get(kind, []):
            if kind == "item2item":
                anchor = s.get("anchor")
                if anchor is not None and int(anchor) in history:
                    return {"claim": "similar_to", "anchor": int(anchor), "source": s["name"]}
            elif kind in ("lexical", "semantic"):
                if query:
                    return {"claim": "query", "query": query, "source": s["name"]}
            elif kind == "sequential":
                if history:
                    return {"claim": "sequential", "source": s["name"]}
            else:
                return {"claim": {"popularity": "popular"}.get(kind, kind), "source": s["name"]}
    return {"claim": "generic"}


def claims_for(breakdown: dict[str, Any], history: frozenset[int], query: str | None) -> list[dict[str, Any]]:
    """The true claims about one result.

    Args:
        breakdown: the result's breakdown (``placed_by``, ``sources``, ``rules``, ``filters_matched``,
            ``added_for_variety``, ``exploration``).
        history: the shopper's history items.
        query: the request's search query, if any.

    Returns:
        Claims in display order, each a dict with ``claim`` and the facts it rests on.
    """
    claims: list[dict[str, Any]] = []
    if breakdown.get("placed_by") == "pin":
        claims.append({"claim": "pinned"})
    else:
        claims.append(_source_claim(list(breakdown.get("sources", [])), history, query))
    for label in breakdown.get("filters_matched", []):
        claims.append({"claim": "filter", "label": label})
    if any(r.get("action") == "boost" for r in breakdown.get("rules", [])):
        claims.append({"claim": "promoted"})
    if breakdown.get("placed_by") == "exploration":
        outside = bool(breakdown.get("exploration", {}).get("outside_known_interests"))
        claims.append({"claim": "variety", "step": "exploration", "outside_interests": outside})
    elif breakdown.get("placed_by") == "diversity" and breakdown.get("added_for_variety"):
        claims.append({"claim": "variety", "step": "diversity"})
    return claims


def render(
    claims: list[dict[str, Any]],
    item_name: Callable[[int], str],
    relation: Callable[[int], str] | None = None,
) -> str:
    """One sentence from the claims (first clause capitalised, the rest joined by ``"; "``).

    Args:
        relation: what the shopper did with an anchor item (``"you bought"``, ``"in your cart"``...);
            default ``"you viewed"``. The recommender passes the true one (a purchase is never "viewed").
    """
    parts: list[str] = []
    for c in claims:
        kind = c["claim"]
        if kind == "pinned":
            parts.append("featured by the shop")
        elif kind == "similar_to":
            anchor = int(c["anchor"])
            parts.append(f'similar to "{item_name(anchor)}" {relation(anchor) if relation else "you viewed"}')
        elif kind == "query":
            parts.append(f'matches your search "{c["query"]}"')
        elif kind == "sequential":
            parts.append("picked from your recent activity")
        elif kind == "collaborative":
            parts.append("popular with shoppers like you")
        elif kind == "popular":
            parts.append("popular in the shop")
        elif kind == "content":
            parts.append("picked for its product details")
        elif kind == "filter":
            parts.append(f'matches "{c["label"]}"')
        elif kind == "promoted":
            parts.append("promoted by the shop")
        elif kind == "variety":
            if c.get("outside_interests"):
                parts.append("added for variety: outside your usual categories")
            else:
                parts.append("added for variety")
        else:
            parts.append("recommended for you")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]
