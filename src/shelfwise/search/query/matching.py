"""Longest-phrase matching of query tokens against the vocabulary: brands, categories, colours, bands.

Left to right, the longest run of adjacent tokens (up to ``max_ngram``) that names something wins; a run
is looked up as written ("ray ban"), joined ("rayban", "t恤") and, for multi-word brands, within one edit of
a brand's joined form ("victoria secret" -> "Victoria's Secret"). When one run has several readings the
order is: brand, category, colour, price band, and last a brand whose name is also an ordinary word of
the catalogue (an *ambiguous* brand such as "Pipettes").

Example:
    >>> from shelfwise.search.query.vocabulary import CatalogueVocabulary
    >>> from shelfwise.search.query.normalize import tokenize
    >>> vocab = CatalogueVocabulary.build([{"title": "Red Tape Men Brown Shoe", "brand": "Red Tape",
    ...                                     "category": "Footwear > Shoes"}])
    >>> m = PhraseMatcher(vocab)
    >>> [(x.field, x.values) for x in m.match(tokenize("red tape brown shoes"), "red tape brown shoes")]
    [('brand', ('Red Tape',)), ('colour', ('brown',)), ('category', ('Footwear > Shoes',))]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shelfwise.search.query.config import QueryParserConfig
from shelfwise.search.query.lexicon import (
    CATEGORY_SYNONYMS,
    COLOURS,
    PRICE_BANDS,
    ZH_BRAND_ALIASES,
    ZH_CATEGORY_TERMS,
)
from shelfwise.search.query.normalize import Token, compact, fold_key, phrase_key
from shelfwise.search.query.spelling import SpellCorrector
from shelfwise.search.query.vocabulary import Brand, CatalogueVocabulary

_GAP = re.compile(r"[\s\-/&.'+]{0,3}")
_PRIORITY = {"brand": 0, "category": 1, "colour": 2, "price_band": 3, "weak_brand": 4}


@dataclass(frozen=True)
class PhraseMatch:
    """A run of tokens ``[first, last)`` that names a brand, category, colour or price band.

    Attributes:
        field: ``"brand"``, ``"category"``, ``"colour"`` or ``"price_band"``.
        values: brand names, category paths, one canonical colour, or one band.
        first: index of the first token.
        last: index just past the last token.
        source: ``"exact"``, ``"joined"``, ``"fuzzy"``, ``"synonym"``, ``"zh"`` or ``"head"``.
    """

    field: str
    values: tuple[str, ...]
    first: int
    last: int
    source: str = "exact"


def adjacent(tokens: Sequence[Token], text: str) -> list[bool]:
    """``out[i]``: token ``i`` and token ``i + 1`` are separated only by spaces or light punctuation."""
    return [_GAP.fullmatch(text[a.end : b.start]) is not None for a, b in itertools.pairwise(tokens)]


class PhraseMatcher:
    """Finds brand, category, colour and price-band phrases in a token list.

    Args:
        vocabulary: the catalogue vocabulary.
        config: parser settings (``max_ngram``, ``fuzzy_brands``, extra aliases and synonyms).
    """

    def __init__(self, vocabulary: CatalogueVocabulary, config: QueryParserConfig | None = None) -> None:
        self.vocab = vocabulary
        self.config = config or QueryParserConfig()
        self.brand_aliases = {compact(phrase_key(k)): phrase_key(v) for k, v in ZH_BRAND_ALIASES.items()}
        self.brand_aliases |= {
            compact(phrase_key(k)): phrase_key(v) for k, v in self.config.brand_aliases.items()
        }
        self.synonyms: dict[str, tuple[str, ...]] = {phrase_key(k): v for k, v in CATEGORY_SYNONYMS.items()}
        self.synonyms |= {phrase_key(k): tuple(v) for k, v in self.config.category_synonyms.items()}
        self.synonyms |= {
            fold_key(k): v for k, v in self.synonyms.items() if fold_key(k) not in self.synonyms
        }
        self.zh_terms = {compact(phrase_key(k)): v for k, v in ZH_CATEGORY_TERMS.items()}
        joined: dict[str, int] = {}
        for brand in vocabulary.brands:
            for key in brand.keys:
                if " " in key and len(compact(key)) >= 8:
                    joined[compact(key)] = brand.count
        self._fuzzy = SpellCorrector(joined) if self.config.fuzzy_brands else None

    def match(self, tokens: Sequence[Token], text: str) -> list[PhraseMatch]:
        """All matches, left to right, longest first, without overlaps.

        Args:
            tokens: query tokens (from :func:`~shelfwise.search.query.normalize.tokenize`).
            text: the text the token offsets refer to (used to check that a run is contiguous).
        """
        links = adjacent(tokens, text)
        out: list[PhraseMatch] = []
        i = 0
        while i < len(tokens):
            for length in range(min(self.config.max_ngram, len(tokens) - i), 0, -1):
                if not all(links[i : i + length - 1]):
                    continue
                found = self._lookup(tokens[i : i + length])
                if found is not None:
                    field, values, source = found
                    out.append(PhraseMatch(field, values, i, i + length, source))
                    i += length
                    break
            else:
                i += 1
        return out

    def _lookup(self, span: Sequence[Token]) -> tuple[str, tuple[str, ...], str] | None:
        words = [t.text for t in span]
        key, joined = " ".join(words), "".join(words)
        han = any(t.han for t in span)
        readings: list[tuple[int, str, tuple[str, ...], str]] = []
        brands, source = self._brands(words, key, joined, han)
        if brands:
            strong = [b for b in brands if not b.ambiguous]
            kind = "brand" if strong else "weak_brand"
            readings.append((_PRIORITY[kind], "brand", tuple(b.name for b in (strong or brands)), source))
        paths, source = self._categories(key, joined, han)
        if paths:
            readings.append((_PRIORITY["category"], "category", paths, source))
        colour = COLOURS.get(joined if han else key)
        if colour:
            readings.append((_PRIORITY["colour"], "colour", (colour,), "exact"))
        band = PRICE_BANDS.get(joined if han else key)
        if band:
            readings.append((_PRIORITY["price_band"], "price_band", (band,), "exact"))
        if not readings:
            return None
        _, field, values, source = min(readings)
        return field, values, source

    def _brands(self, words: list[str], key: str, joined: str, han: bool) -> tuple[list[Brand], str]:
        if han:
            found = self.vocab.brands_for(joined)
            if found:
                return found, "exact"
        else:
            found = self.vocab.brands_for(key)
            if found:
                return found, "exact"
            if len(words) <= 3 and len(joined) >= 4 and len(words) > 1:
                found = self.vocab.brands_for(joined)
                if found:
                    return found, "joined"
            if len(words) <= 2 and fold_key(key) != key:
                found = [b for b in self.vocab.brands_for(fold_key(key)) if b.keys[0] == fold_key(key)]
                if found:
                    return found, "plural"
        alias = self.brand_aliases.get(joined)
        if alias:
            found = self.vocab.brands_for(alias)
            if found:
                return found, "alias"
        if self._fuzzy is not None and not han and 2 <= len(words) <= 3 and len(joined) >= 8:
            best = self._fuzzy.correct(joined, 1)
            if best:
                found = [
                    b
                    for b in self.vocab.brands_for(best[0])
                    if any(set(words) & set(k.split()) for k in b.keys) and b.keys[0][0] == joined[0]
                ]
                if found:
                    return found, "fuzzy"
        return [], ""

    def _categories(self, key: str, joined: str, han: bool) -> tuple[tuple[str, ...], str]:
        if han:
            paths = self.vocab.categories_for(joined)
            if paths:
                return paths, "exact"
        else:
            paths = self.vocab.categories_for(key)
            if paths:
                return paths, "exact"
            for name in self.synonyms.get(key, ()) or self.synonyms.get(fold_key(key), ()):
                paths = self.vocab.categories_for(phrase_key(name))
                if paths:
                    return paths, "synonym"
        for name in self.zh_terms.get(joined, ()):
            paths = self.vocab.categories_for(phrase_key(name))
            if paths:
                return paths, "zh"
        return (), ""
