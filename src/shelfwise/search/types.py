"""Requests and responses of the search pipeline: plain frozen dataclasses, JSON-ready via ``to_dict``.

The CLI, the evaluation harness and the HTTP API all speak these types, so what is evaluated offline is
what is served.

Example:
    >>> req = SearchRequest(query="red running shoes under 50", k=5)
    >>> req.k, req.offset, req.personalise
    (5, 0, True)
    >>> SearchHit("sku-1", "Red shoe", 0.9, "matches 'red shoe'", {"lexical": 1.2}).to_dict()["item_id"]
    'sku-1'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SearchRequest:
    """One search.

    Attributes:
        query: the text the shopper typed (may be empty when ``filters`` browse a category).
        user_id: the shopper, for personalisation (``None`` = anonymous).
        k: results per page.
        offset: results skipped (paging).
        filters: explicit filters from the UI, applied as hard constraints on top of what the query says:
            ``brand`` / ``category`` / ``colour`` / ``size`` (a string or list, OR within a key),
            ``price_min`` / ``price_max`` (numbers), ``in_stock`` (bool), ``exclude_ids`` (list).
        personalise: use the shopper's profile (never above a strong textual match).
        use_query_filters: turn the constraints the parser extracted from the text into filters.
        rerank: apply the learned re-ranker when one is loaded.
    """

    query: str
    user_id: str | None = None
    k: int = 10
    offset: int = 0
    filters: dict[str, Any] = field(default_factory=dict)
    personalise: bool = True
    use_query_filters: bool = True
    rerank: bool = True


@dataclass(frozen=True)
class SearchHit:
    """One result.

    Attributes:
        item_id: external item id.
        title: the item title.
        score: the final score (higher = better; comparable within one response only).
        reason: a plain-language reason, built from :attr:`breakdown`.
        breakdown: where the score came from, e.g. ``{"lexical": 7.1, "dense": 0.62, "rrf": 0.03,
            "ranker": 1.4, "personal": 0.05}``.
    """

    item_id: str
    title: str
    score: float
    reason: str
    breakdown: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class SearchResponse:
    """What :meth:`~shelfwise.search.pipeline.SearchPipeline.search` returns.

    Attributes:
        results: the page of hits, best first.
        parsed: the parsed query (normalised text, corrected text, extracted ``filters``, ``chips``,
            ``intent``), see :meth:`~shelfwise.search.query.ParsedQuery.to_dict`.
        facets: ``{"category": {...}, "brand": {...}, "price": {...}}`` counts over the matching set.
        relaxed: one message per constraint dropped to avoid an empty result (``[]`` if none).
        total: size of the matching set (the candidates that pass every applied filter).
        applied_filters: the hard filters that were finally applied.
        timings_ms: time spent per stage.
    """

    results: list[SearchHit]
    parsed: dict[str, Any]
    facets: dict[str, dict[str, int]]
    relaxed: list[str]
    total: int
    applied_filters: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "results": [h.to_dict() for h in self.results],
            "parsed": self.parsed,
            "facets": self.facets,
            "relaxed": self.relaxed,
            "total": self.total,
            "applied_filters": self.applied_filters,
            "timings_ms": self.timings_ms,
        }
