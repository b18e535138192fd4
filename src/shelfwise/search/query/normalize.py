"""Text normalisation shared by the vocabulary and the parser: case, Unicode, units, tokens, keys.

Both sides of every match (a catalogue brand and a query n-gram) go through the same functions, so a
brand written "Levi's", "LEVIS" or "levis" has one key, and "Ray-Ban" / "ray ban" / "rayban" meet.

Example:
    >>> normalize_text("Ｍen’s  5ML Bottle – 0.5 Fl. Oz")
    "men's 5 ml bottle - 0.5 fl oz"
    >>> phrase_key("Levi's"), phrase_key("B&C Eagle"), phrase_key("Black & Decker")
    ('levis', 'bc eagle', 'black and decker')
    >>> fold("batteries"), fold("dresses"), fold("shoes"), fold("glass"), fold("cases"), fold("boxes")
    ('battery', 'dress', 'shoe', 'glass', 'case', 'box')
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(rf"[{_HAN}]")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\uff0d]")
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2033": '"', "\u2032": "'"}
_QUOTE_RE = re.compile("|".join(map(re.escape, _QUOTES)))
_SPACES = re.compile(r"\s+")

#: Unit spellings -> canonical unit symbol. Longer spellings are tried first.
UNIT_ALIASES: dict[str, str] = {
    "fluid ounces": "fl oz",
    "fluid ounce": "fl oz",
    "fl. oz.": "fl oz",
    "fl. oz": "fl oz",
    "fl.oz.": "fl oz",
    "fl.oz": "fl oz",
    "fl oz": "fl oz",
    "floz": "fl oz",
    "millilitres": "ml",
    "milliliters": "ml",
    "millilitre": "ml",
    "milliliter": "ml",
    "mls": "ml",
    "ml": "ml",
    "litres": "l",
    "liters": "l",
    "litre": "l",
    "liter": "l",
    "ltrs": "l",
    "ltr": "l",
    "ounces": "oz",
    "ounce": "oz",
    "oz": "oz",
    "kilograms": "kg",
    "kilogram": "kg",
    "kilos": "kg",
    "kgs": "kg",
    "kg": "kg",
    "grams": "g",
    "gram": "g",
    "gr": "g",
    "pounds": "lb",
    "pound": "lb",
    "lbs": "lb",
    "lb": "lb",
    "terabytes": "tb",
    "terabyte": "tb",
    "tb": "tb",
    "gigabytes": "gb",
    "gigabyte": "gb",
    "gigs": "gb",
    "gb": "gb",
    "megabytes": "mb",
    "mb": "mb",
    "inches": "in",
    "inch": "in",
    "feet": "ft",
    "foot": "ft",
    "ft": "ft",
    "millimeters": "mm",
    "millimetres": "mm",
    "mm": "mm",
    "centimeters": "cm",
    "centimetres": "cm",
    "cm": "cm",
    "mah": "mah",
    "watts": "w",
    "watt": "w",
    "volts": "v",
    "volt": "v",
    "毫升": "ml",
    "公斤": "kg",
    "千克": "kg",
    "英寸": "in",
    "厘米": "cm",
    "毫米": "mm",
    "克": "g",
    "升": "l",
    "寸": "in",
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNIT_ALIASES, key=len, reverse=True))
#: A number followed by a unit (``"5ml"``, ``"0.5 fl. oz"``, ``"13-inch"``, ``'13"'``).
QUANTITY_RE = re.compile(
    rf"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*-?\s*(?:({_UNIT_ALT})(?![a-z])|(\"))",
)


@dataclass(frozen=True)
class Token:
    """One token of a normalised query.

    Attributes:
        text: the token as matched (lower case).
        start: offset in the normalised text.
        end: offset just past the token.
        han: a Chinese (Han) word from jieba rather than a Latin word or number.
    """

    text: str
    start: int
    end: int
    han: bool = False

    @property
    def is_number(self) -> bool:
        """A plain number ("5", "10.5")."""
        return bool(_NUMBER.fullmatch(self.text))

    @property
    def has_digit(self) -> bool:
        """Contains a digit ("s4", "ps3", "505")."""
        return any(c.isdigit() for c in self.text)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LATIN_TOKEN = re.compile(rf"\d+\.\d+|[a-z0-9]+|[{_HAN}]+")
_WORD = re.compile(rf"\d+\.\d+|[a-z0-9]+(?:['&][a-z0-9]+)*|[{_HAN}]+")


def normalize_text(text: str) -> str:
    """Normalise a query or a catalogue string for matching.

    NFKC (full-width to half-width, "Ｍ" -> "M", "￥" -> "¥"), lower case, typographic quotes and dashes to
    ASCII, quantities with units rewritten as ``"<number> <unit>"`` (:data:`UNIT_ALIASES`), whitespace
    collapsed.

    Args:
        text: any string.

    Returns:
        The normalised string (``""`` for blank input).
    """
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", text).lower()
    out = _QUOTE_RE.sub(lambda m: _QUOTES[m.group(0)], out)
    out = _DASHES.sub("-", out)
    out = normalize_units(out)
    return _SPACES.sub(" ", out).strip()


def normalize_units(text: str) -> str:
    """Rewrite every quantity as ``"<number> <canonical unit>"``: ``"5ML"`` -> ``"5 ml"``.

    Expects lower-case text (as :func:`normalize_text` makes it).
    """

    def repl(m: re.Match[str]) -> str:
        unit = "in" if m.group(3) else UNIT_ALIASES[m.group(2)]
        return f"{m.group(1)} {unit}"

    return QUANTITY_RE.sub(repl, text)


def phrase_key(text: str) -> str:
    """Matching key of a catalogue phrase or query n-gram: normalised words joined by single spaces.

    Apostrophes inside words vanish ("levi's" -> "levis"), an ampersand inside a word vanishes
    ("b&c" -> "bc") and a free-standing one becomes "and"; every other non-alphanumeric is a separator.
    """
    norm = normalize_text(text)
    norm = re.sub(r"(?<=\w)['&](?=\w)", "", norm)
    norm = norm.replace("&", " and ")
    return " ".join(_LATIN_TOKEN.findall(norm))


def compact(key: str) -> str:
    """A key with its spaces removed ("ray ban" -> "rayban"): matches run-together spellings."""
    return key.replace(" ", "")


_ES_ENDINGS = ("sses", "xes", "ches", "shes")


def fold(word: str) -> str:
    """Fold an English plural to its singular with a few suffix rules (Han and numbers unchanged)."""
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(_ES_ENDINGS):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def fold_key(key: str) -> str:
    """:func:`fold` applied to every word of a key ("sports shoes" -> "sport shoe")."""
    return " ".join(fold(w) for w in key.split())


def is_han(text: str) -> bool:
    """Whether ``text`` contains a Han character."""
    return bool(HAN_RE.search(text))


@lru_cache(maxsize=1)
def _jieba_tokenizer() -> Any:
    """A private jieba tokenizer (the global one is shared with the lexical index), with lexicon words."""
    try:
        import jieba
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "jieba is required to parse Chinese queries; install it with: pip install 'shelfwise[index]'"
        ) from exc
    from shelfwise.search.query.lexicon import COLOURS, PRICE_BANDS, ZH_BRAND_ALIASES, ZH_CATEGORY_TERMS

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for word in (*COLOURS, *PRICE_BANDS, *ZH_BRAND_ALIASES, *ZH_CATEGORY_TERMS):
        if is_han(word) and len(word) > 1:
            tok.add_word(word, freq=100_000)
    for word in ("以下", "以内", "之内", "以上", "不超过", "不到", "低于", "高于", "超过", "左右"):
        tok.add_word(word, freq=100_000)
    return tok


def add_han_words(words: Iterable[str]) -> None:
    """Teach the private jieba tokenizer extra words (e.g. Chinese brand or category names)."""
    tok = _jieba_tokenizer()
    for w in words:
        if is_han(w) and len(w) > 1:
            tok.add_word(w, freq=100_000)


def tokenize(text: str, skip: Iterable[tuple[int, int]] = ()) -> list[Token]:
    """Split normalised text into Latin words / numbers and jieba-segmented Chinese words.

    An apostrophe or ampersand inside a word is dropped from the token text ("levi's" -> "levis",
    "b&c" -> "bc"), as :func:`phrase_key` does.

    Args:
        text: output of :func:`normalize_text`.
        skip: character spans already consumed (e.g. a price phrase); tokens inside them are dropped.

    Returns:
        Tokens in text order with their character spans.
    """
    spans = sorted(skip)
    out: list[Token] = []
    for m in _WORD.finditer(text):
        start, end = m.span()
        if any(s <= start and end <= e for s, e in spans):
            continue
        piece = m.group(0)
        if HAN_RE.match(piece):
            for word, ws, we in _jieba_tokenizer().tokenize(piece):
                if word.strip() and not any(s <= start + ws and start + we <= e for s, e in spans):
                    out.append(Token(word, start + ws, start + we, han=True))
        else:
            out.append(Token(piece.replace("'", "").replace("&", ""), start, end))
    return out
