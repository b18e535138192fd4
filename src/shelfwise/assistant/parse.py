"""Turn understanding for needs and refinements, on top of the search pipeline's query parser.

The search parser (:class:`~shelfwise.search.query.QueryParser`) already reads brands, colours, categories and
prices out of text. This module adds what a conversation needs on top:

* **exclusions**: "not 3M", "no red", "anything but Gorilla" -> ``brand_exclude`` / ``colour_exclude`` (the
  parser would read "3M" as a wanted brand);
* **new need or refinement**: a message whose words, once the constraint phrases and filler are removed, still
  name something ("tape", "safety glasses") starts a new need; otherwise it refines the current one;
* **clearing**: "any brand", "any price", "any colour" drop a constraint.

Example:
    >>> from shelfwise.search.query import CatalogueVocabulary, QueryParser
    >>> parser = QueryParser(CatalogueVocabulary.build([
    ...     {"item_id": "1", "title": "3M black duct tape", "brand": "3M", "category": "Tapes > Duct Tape"},
    ...     {"item_id": "2", "title": "Gorilla red tape", "brand": "Gorilla", "category": "Tapes > Duct Tape"}]))
    >>> r = read_refinement("not 3M, under $10", parser.parse)
    >>> r.exclude, r.set, r.new_need
    ({'brand_exclude': ['3M']}, {'price_max': 10.0}, False)
    >>> read_refinement("I need duct tape", parser.parse).need
    'duct tape'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Refinement", "apply", "read_refinement"]

_NEGATION = re.compile(
    r"\b(?:not|no|without|except|excluding|exclude|anything but|other than|avoid|but not)\s+"
    r"(?:from\s+|by\s+|made by\s+|the\s+)?(?P<what>[\w&.'+-]+(?:\s+[\w&.'+-]+)?)",
    re.IGNORECASE,
)
_NOT_AN_EXCLUSION = re.compile(r"^(?:more|less|higher|lower|over|under|cheaper|pricier|longer|bigger|smaller)\b", re.I)
_CLEAR = re.compile(r"\bany (brand|price|colou?r)\b", re.I)
_FILLER = frozenset(
    ["a", "an", "the", "i", "i'd", "im", "i'm", "me", "my", "we", "need", "want", "wanted", "would", "like", "looking", "look", "for", "find", "show", "some", "something", "anything", "ones", "one", "them", "those", "these", "it", "please", "pls", "thanks", "thank", "you", "can", "could", "get", "give", "do", "have", "any", "other", "more", "less", "cheaper", "cheap", "instead", "rather", "just", "only", "also", "too", "but", "and", "or", "of", "in", "on", "with", "by", "from", "to", "that", "which", "what", "is", "are", "be", "okay", "ok", "yes", "no", "not", "hi", "hello", "hey", "buy"]
)
_WORD = re.compile(r"[\w&'+-]+")
_CLEAR_KEYS = {
    "brand": ("brand", "brand_exclude"),
    "price": ("price_min", "price_max"),
    "colour": ("colour", "colour_exclude"),
    "color": ("colour", "colour_exclude"),
}


@dataclass
class Refinement:
    """What a search message changes.

    Attributes:
        need: the search text of a new need ("" when the message only refines).
        new_need: the message names a new thing to look for (constraints start over).
        set: constraints set or replaced (``price_min`` / ``price_max`` / ``brand`` / ``colour``); a category
            named in the message stays in :attr:`need`, where the search pipeline reads it as a constraint
            it may relax before the shopper's own ones.
        exclude: exclusions added (``brand_exclude`` / ``colour_exclude``).
        clear: constraint keys the shopper dropped ("any brand").
    """

    need: str = ""
    new_need: bool = False
    set: dict[str, Any] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    clear: list[str] = field(default_factory=list)


def _exclusions(message: str, parse: Callable[[str], Any]) -> tuple[str, dict[str, list[str]]]:
    """The message without its exclusion phrases, and what they exclude."""
    out: dict[str, list[str]] = {}
    rest = message
    for m in _NEGATION.finditer(message):
        what = m.group("what").strip(" .,'")
        if not what or _NOT_AN_EXCLUSION.match(what):
            continue
        parsed = parse(what)
        if parsed.brands:
            out.setdefault("brand_exclude", []).extend(parsed.brands)
        elif parsed.colours:
            out.setdefault("colour_exclude", []).extend(parsed.colours)
        else:  # a brand the vocabulary does not know: matched against brand fields and titles
            word = what.split()[0]
            if word.lower() in _FILLER:
                continue
            out.setdefault("brand_exclude", []).append(word)
        rest = rest.replace(m.group(0), " ")
    return rest, out


def read_refinement(message: str, parse: Callable[[str], Any]) -> Refinement:
    """Read a need or refinement (see the module docstring); ``parse`` is the search parser's ``parse``."""
    out = Refinement()
    for m in _CLEAR.finditer(message):
        out.clear.extend(_CLEAR_KEYS[m.group(1).lower()])
    text = _CLEAR.sub(" ", message)
    text, out.exclude = _exclusions(text, parse)
    parsed = parse(text) if text.strip() else None
    if parsed is None:
        return out
    filters = parsed.filters()
    for key in ("price_min", "price_max"):
        if filters.get(key) is not None:
            out.set[key] = float(filters[key])
    for key in ("brand", "colour"):
        if filters.get(key):
            out.set[key] = list(filters[key])
    if filters.get("colour_exclude"):
        out.exclude.setdefault("colour_exclude", []).extend(filters["colour_exclude"])
    taken = {w.lower() for v in (*parsed.brands, *parsed.colours) for w in _WORD.findall(v)}
    words = [w for w in _WORD.findall(parsed.search_text or "") if w.lower() not in _FILLER | taken]
    words = [w for w in words if not re.fullmatch(r"[$€£]?\d+(?:\.\d+)?", w)]
    if words or filters.get("category"):  # the category stays in the need's text: search reads it softly
        out.new_need = True
        out.need = " ".join(words) or (parsed.search_text or "").strip()
    return out


def apply(constraints: dict[str, Any], change: Refinement) -> dict[str, Any]:
    """The constraints after ``change`` (a new need starts from nothing but what its message says)."""
    out: dict[str, Any] = {} if change.new_need else dict(constraints)
    for key in change.clear:
        out.pop(key, None)
    for key, value in change.set.items():
        out[key] = value
        if key in ("brand", "colour"):  # wanting a brand again lifts its exclusion
            left = [v for v in out.get(f"{key}_exclude", []) if v.lower() not in {x.lower() for x in value}]
            out[f"{key}_exclude"] = left
    for key, values in change.exclude.items():
        merged = list(dict.fromkeys([*out.get(key, []), *values]))
        out[key] = merged
        wanted = key.removesuffix("_exclude")
        lowered = {v.lower() for v in merged}
        if out.get(wanted):
            out[wanted] = [v for v in out[wanted] if v.lower() not in lowered]
    return {k: v for k, v in out.items() if v not in (None, [], "")}
