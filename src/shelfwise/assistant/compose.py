"""Replies phrased from what was found: suggestions, evidence answers with citations, comparisons, Q&A.

Every factual sentence of a reply comes from a catalogue field, an evidence sentence or a Q&A answer, and
each evidence sentence is cited as ``[n]`` pointing into the reply's ``citations`` list. Nothing here invents
a fact; the optional generative phrasing (:mod:`~shelfwise.assistant.generative`) may only re-word this draft.

Example:
    >>> describe_constraints({"price_max": 10.0, "brand_exclude": ["3M"], "colour": ["black"]})
    'under 10, not 3M, black'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shelfwise.assistant.evidence import Answer

__all__ = [
    "answer_reply",
    "compare_reply",
    "describe_constraints",
    "faq_reply",
    "not_answerable_reply",
    "suggestions_reply",
]


def _money(value: Any) -> str:
    return "price unknown" if value is None else f"{float(value):.2f}"


def describe_constraints(c: Mapping[str, Any]) -> str:
    """Human text of a constraint set."""
    parts: list[str] = []
    low, high = c.get("price_min"), c.get("price_max")
    if low is not None and high is not None:
        parts.append(f"{low:g}-{high:g}")
    elif high is not None:
        parts.append(f"under {high:g}")
    elif low is not None:
        parts.append(f"over {low:g}")
    if c.get("brand"):
        parts.append("by " + " or ".join(c["brand"]))
    if c.get("brand_exclude"):
        parts.append("not " + ", ".join(c["brand_exclude"]))
    if c.get("colour"):
        parts.append(" or ".join(c["colour"]))
    if c.get("colour_exclude"):
        parts.append("not " + ", ".join(c["colour_exclude"]))
    return ", ".join(parts)


def suggestions_reply(need: str, constraints: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
                      relaxed: Sequence[str]) -> str:
    """The reply to a need or refinement."""
    described = describe_constraints(constraints)
    what = " ".join(p for p in (need, f"({described})" if described else "") if p)
    if not items:
        return f"I found nothing for {what or 'that'}. Try fewer constraints or other words."
    lines = [f"Here {'is' if len(items) == 1 else 'are'} {len(items)} for {what or 'you'}:"]
    for n, it in enumerate(items, 1):
        brand = f" by {it['brand']}" if it.get("brand") else ""
        lines.append(f"{n}. {it['title']}{brand}, {_money(it.get('price'))}")
    for note in relaxed:
        lines.append(f"Note: {note}.")
    return "\n".join(lines)


def answer_reply(title: str, answer: Answer, first_citation: int = 1) -> tuple[str, list[dict[str, Any]]]:
    """An answer quoting its evidence sentences, each cited ``[n]``; and the citations."""
    citations: list[dict[str, Any]] = []
    quotes: list[str] = []
    for n, (sentence, score) in enumerate(answer.cited, first_citation):
        citations.append({
            "id": n, "item_id": answer.item_id, "source": sentence.source, "ref": sentence.ref,
            "text": sentence.text, "score": round(score, 4),
        })
        quotes.append(f'"{sentence.text}" [{n}]')
    lead = {
        "complaints": f"What reviewers of {title} complain about:",
        "praise": f"What reviewers of {title} like:",
    }.get(answer.mode, f"About {title}, the product information says:")
    return lead + " " + " ".join(quotes), citations


def not_answerable_reply(title: str) -> str:
    """The honest reply when the evidence does not answer."""
    return (
        f"I don't know: the description, attributes and reviews of {title} do not answer that. "
        "I can hand you to a person if it matters."
    )


def compare_reply(rows: Sequence[Mapping[str, Any]]) -> str:
    """A side-by-side of two or more items (title, brand, price, rating, what reviews say)."""
    lines = ["Side by side:"]
    for n, r in enumerate(rows, 1):
        rating = f"{r['rating']:.1f}/5 from {r['ratings']} ratings" if r.get("ratings") else "no ratings yet"
        lines.append(f"{n}. {r['title']} | brand: {r.get('brand') or 'unknown'} | price: "
                     f"{_money(r.get('price'))} | {rating}")
        for key, value in list((r.get("attributes") or {}).items())[:4]:
            lines.append(f"   {key}: {value}")
        if r.get("review"):
            lines.append(f"   reviews: \"{r['review']}\"")
    return "\n".join(lines)


def faq_reply(entry: Mapping[str, str], n: int = 1) -> tuple[str, list[dict[str, Any]]]:
    """The shop's own answer, cited."""
    citation = {"id": n, "item_id": None, "source": "faq", "ref": entry["id"], "text": entry["answer"]}
    return f"{entry['answer']} [{n}]", [citation]
