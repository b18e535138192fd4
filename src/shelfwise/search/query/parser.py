"""The query parser: text in, :class:`~shelfwise.search.query.result.ParsedQuery` out.

Steps: normalise (:func:`~shelfwise.search.query.normalize.normalize_text`) -> price phrases
(:mod:`~shelfwise.search.query.price`) -> size phrases (:mod:`~shelfwise.search.query.sizes`) -> tokens
(jieba for Chinese) -> phrase matching (brands, categories, colours, price bands) -> spelling correction of
the unknown words left over, then matching again -> negations ("not red") -> intent
(:mod:`~shelfwise.search.query.intent`) -> residual text.

Typo policy: a word is corrected only when it is alphabetic, at least ``typo_min_len_1`` characters long,
seen fewer than ``known_min_count`` times in the catalogue and not a lexicon word; numbers, model codes and
Chinese are never touched. One edit is allowed from ``typo_min_len_1`` characters, two from
``typo_min_len_2``. A run-together word with no correction is split into two catalogue words if possible.

Example:
    >>> from shelfwise.search.query.vocabulary import CatalogueVocabulary
    >>> vocab = CatalogueVocabulary.build([
    ...     {"title": "Puma Men Black Sneaker", "brand": "Puma", "category": "Footwear > Shoes > Casual Shoes"},
    ...     {"title": "Puma Women Red Sneaker", "brand": "Puma", "category": "Footwear > Shoes > Casual Shoes"},
    ... ])
    >>> q = QueryParser(vocab).parse("pumma red sneakers under $50")
    >>> q.brands, q.colours, q.categories, q.price_max, str(q.intent)
    (('Puma',), ('red',), ('Footwear > Shoes > Casual Shoes',), 50.0, 'specific_product')
    >>> q.corrections[0].corrected, q.residual
    ('puma', '')
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shelfwise.data.schema import CATEGORY_SEPARATOR
from shelfwise.search.query.config import QueryParserConfig
from shelfwise.search.query.intent import classify_intent
from shelfwise.search.query.lexicon import (
    CATEGORY_SYNONYMS,
    COLOURS,
    FILLERS,
    MODIFIERS,
    NEGATIONS,
    PRICE_BANDS,
    WEAK_COLOURS,
    ZH_CATEGORY_TERMS,
)
from shelfwise.search.query.matching import PhraseMatch, PhraseMatcher, adjacent
from shelfwise.search.query.normalize import (
    Token,
    add_han_words,
    compact,
    fold,
    is_han,
    normalize_text,
    phrase_key,
    tokenize,
)
from shelfwise.search.query.price import PriceMatch, find_prices
from shelfwise.search.query.result import Correction, Extraction, ParsedQuery
from shelfwise.search.query.sizes import SizeMatch, find_sizes
from shelfwise.search.query.spans import (
    ATTRIBUTE_CODE,
    PACK,
    combine_prices,
    join_tokens,
    rewrite_text,
    split_colour_prefixes,
)
from shelfwise.search.query.vocabulary import CatalogueVocabulary

logger = logging.getLogger(__name__)

_LEXICON_WORDS = (
    frozenset(w for phrase in (*COLOURS, *PRICE_BANDS, *CATEGORY_SYNONYMS) for w in phrase.split())
    | FILLERS
    | MODIFIERS
    | NEGATIONS
)


class QueryParser:
    """Parses shopper queries against one catalogue's vocabulary.

    Parsing keeps no state, so one parser can serve many threads. The spelling index and jieba's
    dictionary are built on first use (about 0.5 s and 1 s); call :meth:`warm_up` at start-up instead.

    Args:
        vocabulary: built from the catalogue the queries search.
        config: parser settings.
    """

    def __init__(self, vocabulary: CatalogueVocabulary, config: QueryParserConfig | None = None) -> None:
        self.vocab = vocabulary
        self.config = config or QueryParserConfig()
        self.matcher = PhraseMatcher(vocabulary, self.config)
        han = [k for b in vocabulary.brands for k in b.keys if is_han(k)]
        han += [p.rsplit(CATEGORY_SEPARATOR, 1)[-1] for p in vocabulary.categories if is_han(p)]
        if han:  # teach jieba the catalogue's own Chinese names so it does not cut them apart
            add_han_words(compact(phrase_key(w)) for w in han)

    def parse(self, text: str) -> ParsedQuery:
        """Understand one query (see the module docstring for the steps)."""
        norm = normalize_text(text)
        prices = find_prices(norm, self.config.around_tolerance, self.config.bare_amount_is_around)
        sizes = find_sizes(norm, [(p.start, p.end) for p in prices])
        tokens = split_colour_prefixes(
            tokenize(norm, [(p.start, p.end) for p in prices] + [(s.start, s.end) for s in sizes])
        )
        matches = self.matcher.match(tokens, norm)
        tokens, corrections = self._correct(tokens, matches)
        if corrections:
            matches = self.matcher.match(tokens, norm)
        return self._assemble(text, norm, tokens, corrections, matches, prices, sizes)

    def warm_up(self) -> QueryParser:
        """Build the lazy parts now (the spelling index; jieba's dictionary), so no query pays for them.

        Returns:
            ``self``, for chaining.
        """
        _ = self.vocab.speller
        tokenize("预热")
        return self

    def parse_many(self, texts: Sequence[str]) -> list[ParsedQuery]:
        """Batch form of :meth:`parse`."""
        return [self.parse(t) for t in texts]

    # -- steps ------------------------------------------------------------------------------------------

    def _needs_correction(self, tok: Token) -> bool:
        word = tok.text
        return (
            not tok.han
            and word.isalpha()
            and word.isascii()
            and len(word) >= self.config.typo_min_len_1
            and self.vocab.word_count(word) < self.config.known_min_count
            and self.vocab.word_count(fold(word)) < self.config.known_min_count
            and word not in _LEXICON_WORDS
            and fold(word) not in self.vocab.product_types
        )

    def _correct(
        self, tokens: list[Token], matches: list[PhraseMatch]
    ) -> tuple[list[Token], list[Correction]]:
        covered = {i for m in matches for i in range(m.first, m.last)}
        out: list[Token] = []
        corrections: list[Correction] = []
        speller = self.vocab.speller
        for i, tok in enumerate(tokens):
            if i in covered or not self._needs_correction(tok):
                out.append(tok)
                continue
            best = speller.correct(tok.text, self.config.max_edits_for(len(tok.text)))
            if best is not None and len(tok.text) < self.config.same_length_below:
                same = [c for c in speller.candidates(tok.text, 1) if len(c[0]) == len(tok.text)]
                best = same[0] if same and not self.vocab.word_count(tok.text) else None
            seen = self.vocab.word_count(tok.text)
            if best is not None and seen and speller.words[best[0]] < self.config.min_correction_ratio * seen:
                best = None
            if best is not None:
                out.append(Token(best[0], tok.start, tok.end))
                corrections.append(Correction(tok.text, best[0], best[1]))
                continue
            parts = (
                speller.split(tok.text, min_count=self.config.known_min_count) if len(tok.text) >= 8 else None
            )
            if parts is not None:
                out += [Token(parts[0], tok.start, tok.end), Token(parts[1], tok.start, tok.end)]
                corrections.append(Correction(tok.text, " ".join(parts), 0))
                continue
            out.append(tok)
        return out, corrections

    def _assemble(
        self,
        original: str,
        norm: str,
        tokens: list[Token],
        corrections: list[Correction],
        matches: list[PhraseMatch],
        prices: list[PriceMatch],
        sizes: list[SizeMatch],
    ) -> ParsedQuery:
        corrected, shift = rewrite_text(norm, tokens)
        links = adjacent(tokens, norm)
        matches = self._heads(tokens, matches, links)
        consumed: dict[int, str] = {}  # token index -> field that consumed it
        extractions: list[Extraction] = []
        brands: list[str] = []
        categories: list[str] = []
        colours: list[str] = []
        excluded: list[str] = []
        bands: list[str] = []
        content = [i for i, t in enumerate(tokens) if t.text not in FILLERS and t.text not in MODIFIERS]
        for m in matches:
            field = m.field
            if field == "colour" and self._colour_is_product(tokens, m, content, consumed, links):
                continue
            first = m.first
            if field == "colour" and first > 0 and tokens[first - 1].text in NEGATIONS and links[first - 1]:
                field, first = "colour_exclude", first - 1
            target = {
                "brand": brands,
                "category": categories,
                "colour": colours,
                "colour_exclude": excluded,
                "price_band": bands,
            }[field]
            target += [v for v in m.values if v not in target]
            for i in range(first, m.last):
                consumed[i] = field
            start, end = shift(tokens[first].start), shift(tokens[m.last - 1].end, end=True)
            for value in m.values:
                extractions.append(Extraction(field, value, corrected[start:end], start, end, m.source))
        price_min, price_max, currency = combine_prices(prices)
        for p in prices:
            value = (
                f"{'' if p.price_min is None else p.price_min}-{'' if p.price_max is None else p.price_max}"
            )
            extractions.append(
                Extraction("price", value, p.text, shift(p.start), shift(p.end, end=True), "grammar")
            )
        for s in sizes:
            extractions.append(
                Extraction("size", s.value, s.text, shift(s.start), shift(s.end, end=True), s.kind)
            )
        band = bands[0] if bands else None
        band_range = None
        if band and self.config.resolve_price_bands and self.vocab.prices:
            band_range = self.vocab.price_band_range(band)
        packs = [m.span() for m in PACK.finditer(norm)]
        free = [
            i
            for i in content
            if i not in consumed and not any(s <= tokens[i].start and tokens[i].end <= e for s, e in packs)
        ]
        models = [
            i
            for i in free
            if tokens[i].has_digit and not tokens[i].han and not ATTRIBUTE_CODE.fullmatch(tokens[i].text)
        ]
        types = [
            tokens[i].text
            for i in free
            if not tokens[i].has_digit and self.vocab.is_product_type(tokens[i].text)
        ]
        types += [tokens[i].text for i in free if tokens[i].han and _zh_product(tokens[i].text)]
        others = [
            i
            for i in free
            if i not in models and tokens[i].text not in types and tokens[i].text not in NEGATIONS
        ]
        intent = classify_intent(
            brand=bool(brands),
            category=bool(categories),
            product_type=bool(types),
            model=bool(models),
            other_words=len(others),
        )
        residual = join_tokens(
            [
                t
                for i, t in enumerate(tokens)
                if i not in consumed and t.text not in FILLERS and t.text not in NEGATIONS
            ]
        )
        kept = [
            i
            for i, t in enumerate(tokens)
            if t.text not in FILLERS and consumed.get(i) not in {"price_band", "colour_exclude"}
        ]
        search_pieces = [(tokens[i].start, tokens[i]) for i in kept] + [
            (s.start, Token(s.value, s.start, s.end)) for s in sizes
        ]
        search_text = join_tokens([t for _, t in sorted(search_pieces, key=lambda p: p[0])])
        return ParsedQuery(
            original=original,
            normalized=norm,
            corrected=corrected,
            corrections=tuple(corrections),
            brands=tuple(brands),
            categories=tuple(categories),
            colours=tuple(colours),
            colours_excluded=tuple(excluded),
            sizes=tuple(dict.fromkeys(s.value for s in sizes)),
            price_min=price_min,
            price_max=price_max,
            price_band=band,
            price_band_range=band_range,
            currency=currency or (self.config.default_currency if prices else None),
            product_types=tuple(dict.fromkeys(types)),
            intent=intent,
            residual=residual,
            search_text=search_text,
            extractions=tuple(sorted(extractions, key=lambda e: (e.start, e.field))),
        )

    def _heads(self, tokens: list[Token], matches: list[PhraseMatch], links: list[bool]) -> list[PhraseMatch]:
        """In a compound the last noun is the product: a category name that modifies another is dropped.

        "stainless steel screws" -> Screws (not Stainless Steel); "3d printer filament" -> the category
        named after "filament" (not 3D Printers), or none if no category name ends in it.
        """
        covered = {i for m in matches for i in range(m.first, m.last)}
        out: list[PhraseMatch] = []
        for k, m in enumerate(matches):
            if m.field != "category" or not links[m.last - 1 : m.last] or not links[m.last - 1]:
                out.append(m)
                continue
            nxt = matches[k + 1] if k + 1 < len(matches) else None
            if nxt is not None and nxt.field == "category" and nxt.first == m.last:
                continue
            j = m.last
            if j in covered or tokens[j].han or tokens[j].text in MODIFIERS or tokens[j].text in FILLERS:
                out.append(m)
                continue
            if self.vocab.is_product_type(tokens[j].text):
                heads = self.vocab.categories_by_head(tokens[j].text)
                if heads:
                    out.append(PhraseMatch("category", heads, j, j + 1, "head"))
                continue
            out.append(m)
        return out

    def _colour_is_product(
        self,
        tokens: list[Token],
        m: PhraseMatch,
        content: list[int],
        consumed: dict[int, str],
        links: list[bool],
    ) -> bool:
        """Whether a one-word colour match is really a noun.

        It is when it ends the query and is a product type there ("eye cream"), or when it is a weak
        colour (:data:`~shelfwise.search.query.lexicon.WEAK_COLOURS`) right after a content word that is
        neither a product type nor already read as something ("ice cream maker").
        """
        i = m.first
        if m.last - i != 1 or tokens[i].han or not content:
            return False
        word = tokens[i].text
        if i == content[-1] and len(content) > 1 and self.vocab.is_product_type(word):
            return True
        if word in WEAK_COLOURS and i > 0 and links[i - 1] and (i - 1) in content and (i - 1) not in consumed:
            return not self.vocab.is_product_type(tokens[i - 1].text)
        return False


def _zh_product(word: str) -> bool:
    return word in ZH_CATEGORY_TERMS
