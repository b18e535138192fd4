"""Product search: query understanding (:mod:`shelfwise.search.query`) and the search pipeline.

A query is parsed against the catalogue's own vocabulary into a :class:`ParsedQuery`: corrected text,
brand / category / colour / size / price constraints (as filters and as UI chips), an intent and the
residual text for the retriever. :class:`SearchPipeline` answers a :class:`SearchRequest` with a
:class:`SearchResponse` (hybrid retrieval, filters, facets, relaxation, learned re-ranking,
personalisation); the CLI, the evaluation harness and the HTTP API share it.
"""

from __future__ import annotations

from shelfwise.search.config import SearchPipelineConfig
from shelfwise.search.pipeline import SearchPipeline
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
from shelfwise.search.types import SearchHit, SearchRequest, SearchResponse

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
    "SearchHit",
    "SearchPipeline",
    "SearchPipelineConfig",
    "SearchRequest",
    "SearchResponse",
    "VocabularyConfig",
]
