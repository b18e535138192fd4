"""Size constraints: letter sizes, numeric sizes, bed sizes and quantities with units.

Understood (on text normalised by :func:`~shelfwise.search.query.normalize.normalize_text`, which has
already rewritten quantities as ``"<number> <unit>"``)::

    size 9, size 10.5, sz m, size xl, us 9, uk 8, eu 42     -> "9", "10.5", "M", "XL", "US 9", "UK 8", "EU 42"
    xs, xl, xxl, xxxl, 2xl, x-large (on their own)          -> "XS", "XL", "XXL", "XXXL", "XXL", "XL"
    queen / king / twin / full before a bedding word, queen size      -> "queen", ...
    32 gb, 2 tb, 8 oz, 0.5 fl oz, 5 ml, 50 l, 13 in, 10 kg  -> the quantity ("32 gb")
    42码, xl码, 大号, 中号, 小号, 加大号                        -> "42", "XL", "L", "M", "S", "XL"

A bare "s", "m" or "l" is a size only after "size"; a bare number is never a size (it is more often a
model: "iphone 5", "levis 505").

Example:
    >>> [s.value for s in find_sizes("nike running shoes size 10.5")]
    ['10.5']
    >>> [s.value for s in find_sizes("seagate 2 tb hard disk")]
    ['2 tb']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shelfwise.search.query.normalize import UNIT_ALIASES

_LETTERS = {
    "xxs": "XXS",
    "xs": "XS",
    "s": "S",
    "m": "M",
    "l": "L",
    "xl": "XL",
    "xxl": "XXL",
    "xxxl": "XXXL",
    "2xl": "XXL",
    "3xl": "XXXL",
    "4xl": "4XL",
    "x-large": "XL",
    "xx-large": "XXL",
    "extra large": "XL",
    "small": "S",
    "medium": "M",
    "large": "L",
}
_ZH_WORDS = {
    "加大号": "XL",
    "加大码": "XL",
    "大号": "L",
    "大码": "L",
    "中号": "M",
    "中码": "M",
    "小号": "S",
    "小码": "S",
}
_UNIT_SET = sorted(set(UNIT_ALIASES.values()), key=len, reverse=True)
_BEDDING = (
    r"comforters?|sheets?|beds?|mattress(?:es)?|duvets?|quilts?|bedspreads?|toppers?|pillows?|blankets?|"
    r"bedding|frames?|headboards?|size"
)
_BEDS = "california king|cal king|queen|king|twin xl|twin|full"
_LETTER_ALT = "|".join(re.escape(k) for k in sorted(_LETTERS, key=len, reverse=True))

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("size", re.compile(rf"(?<![a-z0-9])(?:size|sz)\s*:?\s*(?P<v>\d+(?:\.\d+)?|{_LETTER_ALT})(?![a-z0-9])")),
    ("region", re.compile(r"(?<![a-z0-9])(?P<r>us|uk|eu)\s?(?P<v>\d{1,2}(?:\.5)?)(?![a-z0-9.])")),
    (
        "quantity",
        re.compile(
            rf"(?<![a-z0-9.])(?P<v>\d+(?:\.\d+)?) (?P<u>{'|'.join(map(re.escape, _UNIT_SET))})(?![a-z])"
        ),
    ),
    ("bed", re.compile(rf"(?<![a-z])(?P<v>{_BEDS})\s+size(?![a-z])")),
    ("bed", re.compile(rf"(?<![a-z])(?P<v>{_BEDS})(?=\s+(?:{_BEDDING})(?![a-z]))")),
    ("zh", re.compile(r"(?<![a-z0-9])(?P<v>\d{2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl)\s*(?:码|号)")),
    ("zhword", re.compile("|".join(_ZH_WORDS))),
    ("letter", re.compile(r"(?<![a-z0-9-])(?P<v>xxs|xs|xl|xxl|xxxl|[2-4]xl|x-large|xx-large)(?![a-z0-9-])")),
]


@dataclass(frozen=True)
class SizeMatch:
    """One size phrase found in a query.

    Attributes:
        value: the canonical size ("XL", "9", "32 gb", "queen").
        kind: ``"letter"``, ``"numeric"``, ``"quantity"`` or ``"bed"``.
        start: offset in the normalised query.
        end: offset just past the phrase.
        text: the phrase as written.
    """

    value: str
    kind: str
    start: int
    end: int
    text: str


def _canonical(kind: str, m: re.Match[str]) -> tuple[str, str]:
    if kind == "zhword":
        return _ZH_WORDS[m.group(0)], "letter"
    v = m.group("v")
    if kind == "quantity":
        return f"{m.group('v')} {m.group('u')}", "quantity"
    if kind == "bed":
        return {"cal king": "california king"}.get(v, v), "bed"
    if kind == "region":
        return f"{m.group('r').upper()} {v}", "numeric"
    if re.fullmatch(r"\d+(?:\.\d+)?", v):
        return v, "numeric"
    return _LETTERS.get(v, v.upper()), "letter"


def find_sizes(text: str, skip: list[tuple[int, int]] | None = None) -> list[SizeMatch]:
    """Every size phrase of a normalised query, left to right, outside the ``skip`` spans.

    Args:
        text: a normalised query.
        skip: spans already taken (e.g. price phrases).
    """
    taken = list(skip or [])
    out: list[SizeMatch] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < e and s < end for s, e in taken):
                continue
            value, cls = _canonical(kind, m)
            taken.append((start, end))
            out.append(SizeMatch(value, cls, start, end, m.group(0)))
    return sorted(out, key=lambda s: s.start)
