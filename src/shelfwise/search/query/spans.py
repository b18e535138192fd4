"""Token and span helpers of the parser: rewriting corrected text, joining tokens, pack counts.

Example:
    >>> from shelfwise.search.query.normalize import Token
    >>> join_tokens([Token("puma", 0, 4), Token("红色", 5, 7, True), Token("t恤", 7, 9, True)])
    'puma 红色t恤'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from shelfwise.search.query.lexicon import COLOURS, HAN_COLOUR_PREFIXES, ZH_CATEGORY_TERMS
from shelfwise.search.query.normalize import Token
from shelfwise.search.query.price import PriceMatch

#: Pack counts, percentages and discounts ("2 pack", "pack of 6", "100%", "5折"): quantities, not models.
PACK = re.compile(
    r"(?<![a-z0-9])(?:(?:pack|set|box|case|bag|lot) of \d+|\d+(?:\.\d+)?\s*(?:%|折)"
    r"|\d+\s*-?\s*(?:pack|pk|pcs|pc|pieces?|count|ct|pairs?|sets?|rolls?)(?![a-z]))"
)

#: Codes with a digit that describe a feature, not a model: "3d", "4k", "5g", "1080p", "2x", "2pk".
ATTRIBUTE_CODE = re.compile(r"\d+(?:d|k|g|p|x|pk|pc|pcs|ply|th|st|nd|rd)")


def split_colour_prefixes(tokens: list[Token]) -> list[Token]:
    """Split a Han token that is a one-character colour plus a product word ("黑鞋" -> "黑", "鞋")."""
    out: list[Token] = []
    for tok in tokens:
        rest = tok.text[1:]
        if (
            tok.han
            and len(tok.text) > 1
            and tok.text[0] in HAN_COLOUR_PREFIXES
            and tok.text not in COLOURS
            and (rest in ZH_CATEGORY_TERMS)
        ):
            out += [
                Token(tok.text[0], tok.start, tok.start + 1, True),
                Token(rest, tok.start + 1, tok.end, True),
            ]
        else:
            out.append(tok)
    return out


def combine_prices(prices: list[PriceMatch]) -> tuple[float | None, float | None, str | None]:
    lows = [p.price_min for p in prices if p.price_min is not None]
    highs = [p.price_max for p in prices if p.price_max is not None]
    currency = next((p.currency for p in prices if p.currency), None)
    return (max(lows) if lows else None, min(highs) if highs else None, currency)


def join_tokens(tokens: Sequence[Token]) -> str:
    """Join token texts with spaces, except between two Chinese words."""
    out = ""
    prev: Token | None = None
    for tok in tokens:
        if prev is not None and not (prev.han and tok.han):
            out += " "
        out += tok.text
        prev = tok
    return out


def rewrite_text(norm: str, tokens: list[Token]) -> tuple[str, Callable[..., int]]:
    """The normalised text with corrected token texts, and a function mapping old offsets to new ones."""
    edits: dict[tuple[int, int], list[str]] = {}
    for tok in tokens:
        if norm[tok.start : tok.end].replace("'", "").replace("&", "") != tok.text:
            edits.setdefault((tok.start, tok.end), []).append(tok.text)
    if not edits:
        return norm, lambda pos, end=False: pos
    pieces: list[str] = []
    deltas: list[tuple[int, int]] = []  # (old end offset, cumulative delta after it)
    last = 0
    delta = 0
    for (start, end), texts in sorted(edits.items()):
        new = " ".join(texts)
        pieces += [norm[last:start], new]
        delta += len(new) - (end - start)
        deltas.append((end, delta))
        last = end
    pieces.append(norm[last:])

    def shift(pos: int, end: bool = False) -> int:
        d = 0
        for old_end, cum in deltas:
            if pos > old_end or (pos == old_end and end):
                d = cum
        return pos + d

    return "".join(pieces), shift
