"""Price constraints in English and Chinese queries: a small grammar of regular expressions.

Understood (amounts may carry ``$ € £ ¥ ₹`` before or ``dollars / usd / bucks / eur / rs / 元 / 块`` after, and a
``k`` / ``千`` / ``万`` multiplier)::

    under 50, below $30, sub $100, less than 20, cheaper than 20, max 40, up to 40, at most 40, within 40, < 40
    50 or less, 50 and under, 50 max
    over 100, above 100, more than 100, at least 100, from $20, min 20, > 100, 100 and up, 100+, 100 or more
    between 20 and 40, from 20 to 40, 20-40 dollars, $20 - $40, 20 to 40 usd, price 20-40
    around 50, about $50, approx 50, ~50                      -> [50 (1 - t), 50 (1 + t)]
    $30 (a lone amount with a currency)                       -> around, if configured
    100元以下, 100以内, 低于50, 少于50, 不超过300, 不到200       -> max
    100元以上, 高于100, 超过100, 至少100, 100起                  -> min
    50到100元, 50-100元, 价格在50到100之间, 50至100             -> range
    300元左右, 300上下                                          -> around

A bare range without a currency or a cue ("20 to 40", "2-3") is not a price, nor is a number followed by
a unit or an age ("under 50 ml", "over 3 years"). Relative words ("cheap", "便宜") are not handled here:
they are price *bands* matched as phrases by the parser.

Example:
    >>> find_prices("nike shoes under $50")[0].price_max
    50.0
    >>> c = find_prices("连衣裙50到100元")[0]; (c.price_min, c.price_max, c.currency)
    (50.0, 100.0, 'CNY')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_MULT = r"(?:k|千|万)"
_CUR_PRE = r"[$€£¥₹]"
_CUR_POST = (
    r"(?:us\s?dollars?|dollars?|usd|bucks|euros?|eur|gbp|rupees?|inr|rs\.?|rmb|cny|yuan|块钱|块|元|人民币)"
)
_UNITS = (
    r"ml|l|oz|fl oz|g|kg|lb|gb|tb|mb|in|ft|mm|cm|m|mah|w|v|inch|inches|years?|yrs?|yo|months?|pack|pcs|pieces?|"
    r"count|ct|x|岁|个月|码|号|寸|%"
)
_NOT_UNIT = rf"(?!\s*(?:{_UNITS})(?![a-z]))(?![a-z0-9.])"

_CURRENCIES = {
    "$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "usdollar": "USD",
    "usdollars": "USD",
    "bucks": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "₹": "INR",
    "rs": "INR",
    "rs.": "INR",
    "inr": "INR",
    "rupee": "INR",
    "rupees": "INR",
    "¥": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "yuan": "CNY",
    "元": "CNY",
    "块": "CNY",
    "块钱": "CNY",
    "人民币": "CNY",
}


def _money(tag: str) -> str:
    """An amount with optional currency before / after; groups pre<tag>, num<tag>, mult<tag>, post<tag>."""
    return (
        rf"(?:(?P<pre{tag}>{_CUR_PRE})\s*)?(?<![a-z0-9.])(?P<num{tag}>{_NUM})(?P<mult{tag}>{_MULT})?"
        rf"(?:\s*(?P<post{tag}>{_CUR_POST})(?![a-z])|{_NOT_UNIT})"
    )


_EN_MAX_PRE = (
    r"under|below|sub|less than|cheaper than|lower than|no more than|not more than|not over|at most|up to|upto|"
    r"maximum|max|within|<=|<|≤"
)
_EN_MAX_POST = r"or less|and less|or under|and under|or below|and below|or cheaper|max|maximum"
_EN_MIN_PRE = r"over|above|more than|greater than|at least|minimum|min|starting at|starting from|from|>=|>|≥"
_EN_MIN_POST = r"and up|and above|and over|or more|plus|\+"
_EN_AROUND = r"around|about|approximately|approx\.?|roughly|circa|~"
_ZH_MAX_PRE = r"不超过|不高于|不大于|低于|少于|小于|不到|最多|最高|最贵"
_ZH_MAX_POST = r"以下|以内|之内|内|封顶"
_ZH_MIN_PRE = r"不低于|不少于|高于|超过|大于|多于|至少|最低|起码"
_ZH_MIN_POST = r"以上|起|往上"
_ZH_AROUND_POST = r"左右|上下"
_RANGE_SEP = r"\s*(?:and|to|-|~|到|至)\s*"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "range",
        re.compile(
            rf"(?P<cue>between|from|price[sd]?(?:\s+range)?|价格在|价格|价位|在)?\s*{_money('a')}{_RANGE_SEP}"
            rf"{_money('b')}(?:\s*之间)?"
        ),
    ),
    ("max", re.compile(rf"(?<![a-z0-9])(?:{_EN_MAX_PRE})\s*{_money('a')}")),
    ("max", re.compile(rf"{_money('a')}\s*(?:{_EN_MAX_POST})(?![a-z])")),
    ("min", re.compile(rf"(?<![a-z0-9])(?:{_EN_MIN_PRE})\s*{_money('a')}")),
    ("min", re.compile(rf"{_money('a')}\s*(?:{_EN_MIN_POST})(?![a-z])")),
    ("around", re.compile(rf"(?:(?<![a-z0-9])(?:{_EN_AROUND}))\s*{_money('a')}")),
    ("max", re.compile(rf"(?:{_ZH_MAX_PRE})\s*{_money('a')}")),
    ("max", re.compile(rf"{_money('a')}\s*(?:{_ZH_MAX_POST})(?:的)?")),
    ("min", re.compile(rf"(?:{_ZH_MIN_PRE})\s*{_money('a')}")),
    ("min", re.compile(rf"{_money('a')}\s*(?:{_ZH_MIN_POST})(?:的)?")),
    ("around", re.compile(rf"{_money('a')}\s*(?:{_ZH_AROUND_POST})(?:的)?")),
    ("amount", re.compile(_money("a"))),
]


@dataclass(frozen=True)
class PriceMatch:
    """One price phrase found in a query.

    Attributes:
        kind: ``"max"``, ``"min"``, ``"range"`` or ``"around"``.
        price_min: lower bound or ``None``.
        price_max: upper bound or ``None``.
        currency: ISO code when the phrase names one ("$", "元"), else ``None``.
        start: offset of the phrase in the normalised query.
        end: offset just past it.
        text: the phrase.
    """

    kind: str
    price_min: float | None
    price_max: float | None
    currency: str | None
    start: int
    end: int
    text: str


def _amount(m: re.Match[str], tag: str) -> float:
    value = float(m.group(f"num{tag}").replace(",", ""))
    mult = m.group(f"mult{tag}")
    return value * {"k": 1_000.0, "千": 1_000.0, "万": 10_000.0}.get(mult or "", 1.0)


def _currency(m: re.Match[str], *tags: str) -> str | None:
    for tag in tags:
        for part in ("pre", "post"):
            raw = m.group(f"{part}{tag}")
            if raw:
                return _CURRENCIES.get(re.sub(r"\s+", " ", raw))
    return None


def find_prices(
    text: str, around_tolerance: float = 0.2, bare_amount_is_around: bool = True
) -> list[PriceMatch]:
    """Every price phrase in a normalised query, left to right, without overlaps.

    Args:
        text: output of :func:`~shelfwise.search.query.normalize.normalize_text`.
        around_tolerance: relative half-width of an "around X" range.
        bare_amount_is_around: read a lone amount with a currency ("$30", "30元") as "around" it;
            otherwise it is ignored.
    """
    taken: list[tuple[int, int]] = []
    out: list[PriceMatch] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < e and s < end for s, e in taken):
                continue
            match = _interpret(kind, m, around_tolerance, bare_amount_is_around)
            if match is None:
                continue
            taken.append((start, end))
            out.append(
                PriceMatch(match[0], match[1], match[2], match[3], start, end, text[start:end].strip())
            )
    return sorted(out, key=lambda p: p.start)


def _interpret(
    kind: str, m: re.Match[str], tolerance: float, bare_around: bool
) -> tuple[str, float | None, float | None, str | None] | None:
    if kind == "range":
        low, high = _amount(m, "a"), _amount(m, "b")
        currency = _currency(m, "a", "b")
        if (currency is None and not m.group("cue")) or low >= high:
            return None
        if m.group("cue") in {"在"} and currency is None:
            return None
        return ("range", low, high, currency)
    value = _amount(m, "a")
    currency = _currency(m, "a")
    if kind == "max":
        return ("max", None, value, currency)
    if kind == "min":
        return ("min", value, None, currency)
    if kind == "amount" and (currency is None or not bare_around):
        return None
    return ("around", round(value * (1 - tolerance), 2), round(value * (1 + tolerance), 2), currency)
