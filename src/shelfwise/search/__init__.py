"""Product search. So far: query understanding (:mod:`shelfwise.search.query`).

A query is parsed against the catalogue's own vocabulary into a :class:`ParsedQuery`: corrected text,
brand / category / colour / size / price constraints (as filters and as UI chips), an intent and the
residual text for the retriever.
"""

from __future__ import annotations

from shelfwise.search.query import (
    Brand,
    CatalogueVocabulary,
    Chip,
    Correction,
    Extraction,
    Intent,
    ParsedQuery,
    QueryParser,
    QueryParserConfig,
    VocabularyConfig,
)

__all__ = [
    "Brand",
    "CatalogueVocabulary",
    "Chip",
    "Correction",
    "Extraction",
    "Intent",
    "ParsedQuery",
    "QueryParser",
    "QueryParserConfig",
    "VocabularyConfig",
]
