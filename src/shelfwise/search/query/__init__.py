"""Query understanding for product search: normalisation, typo tolerance, constraints and intent.

Build a :class:`CatalogueVocabulary` from the catalogue once (and save it next to the indexes), then
parse each query with a :class:`QueryParser`; the :class:`ParsedQuery` it returns carries the corrected
text, the extracted brand / category / colour / size / price constraints, the intent, the residual text
for the retriever, :meth:`ParsedQuery.filters` for the retrieval layer and :meth:`ParsedQuery.chips` for
a UI.

Example:
    >>> vocab = CatalogueVocabulary.build([
    ...     {"title": "Puma Men Black Sneaker", "brand": "Puma", "category": "Footwear > Shoes > Casual Shoes",
    ...      "price": 40.0},
    ...     {"title": "Lee Women Blue Top", "brand": "Lee", "category": "Apparel > Topwear > Tops", "price": 20.0},
    ...     {"title": "Lee Men Red Shirt", "brand": "Lee", "category": "Apparel > Topwear > Shirts", "price": 30.0},
    ... ])
    >>> q = QueryParser(vocab).parse("pumma black sneakers under $50")
    >>> q.filters()
    {'brand': ['Puma'], 'category': ['Footwear > Shoes > Casual Shoes'], 'colour': ['black'], 'price_max': 50.0, 'currency': 'USD'}
    >>> [c.label for c in q.chips()], str(q.intent)
    (['Brand: Puma', 'Category: Casual Shoes', 'Colour: black', 'Under $50'], 'specific_product')
"""

from __future__ import annotations

from shelfwise.search.query.config import QueryParserConfig, VocabularyConfig
from shelfwise.search.query.evaluation import (
    EvaluationReport,
    FieldScore,
    LabelledQuery,
    evaluate,
    load_labelled,
)
from shelfwise.search.query.intent import classify_intent
from shelfwise.search.query.normalize import normalize_text, normalize_units, phrase_key, tokenize
from shelfwise.search.query.parser import QueryParser
from shelfwise.search.query.price import PriceMatch, find_prices
from shelfwise.search.query.result import Chip, Correction, Extraction, Intent, ParsedQuery
from shelfwise.search.query.sizes import SizeMatch, find_sizes
from shelfwise.search.query.spelling import SpellCorrector
from shelfwise.search.query.vocabulary import Brand, CatalogueVocabulary

__all__ = [
    "Brand",
    "CatalogueVocabulary",
    "Chip",
    "Correction",
    "EvaluationReport",
    "Extraction",
    "FieldScore",
    "Intent",
    "LabelledQuery",
    "ParsedQuery",
    "PriceMatch",
    "QueryParser",
    "QueryParserConfig",
    "SizeMatch",
    "SpellCorrector",
    "VocabularyConfig",
    "classify_intent",
    "evaluate",
    "find_prices",
    "find_sizes",
    "load_labelled",
    "normalize_text",
    "normalize_units",
    "phrase_key",
    "tokenize",
]
