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
        use_query_filters: use what the parser reads from the text: an explicit price limit filters
            (``search.pipeline.query_filters``), the other readings rank with their confidence, and the
            calibrated relevance floor splits confident matches from weaker ones. ``False``: the plain
            ranked list of the text (no query constraints, no floor; what the evaluation scores).
        rerank: apply the learned re-ranker when one is loaded.
        sort: ``relevance`` (default), ``price_asc``, ``price_desc``, ``rating`` or ``newest``; a sort
            orders the confident matches only (weaker ones never rise above them).
    """

    query: str
    user_id: str | None = None
    k: int = 10
    offset: int = 0
    filters: dict[str, Any] = field(default_factory=dict)
    personalise: bool = True
    use_query_filters: bool = True
    rerank: bool = True
    sort: str = "relevance"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {self.sort!r}")
        if self.k < 0 or self.offset < 0:
            raise ValueError("k and offset must be >= 0")


#: The orders a request may ask for.
SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")


@dataclass(frozen=True)
class SearchHit:
    """One result.

    Attributes:
        item_id: external item id.
        title: the item title.
        score: the final score (higher = better; comparable within one response only).
        reason: a plain-language reason, true of the item ("title matches 'tape'; $3.97, under your $10
            limit").
        breakdown: where the score came from, e.g. ``{"lexical": 7.1, "dense": 0.62, "rrf": 0.03,
            "ranker": 1.4, "personal": 0.05, "relevance": 0.93}``.
        price: the item's price (``None`` when unknown).
        brand: the item's brand.
        category: the item's category path as the shop writes it.
        highlights: ``[start, end)`` character spans of the title that match the query.
    """

    item_id: str
    title: str
    score: float
    reason: str
    breakdown: dict[str, float] = field(default_factory=dict)
    price: float | None = None
    brand: str | None = None
    category: str | None = None
    highlights: list[list[int]] = field(default_factory=list)

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
        total: the number of confident matches (calibrated relevance at least the floor, and every
            applied filter passed); with no query text, every item passing the filters.
        applied_filters: the hard filters that were finally applied.
        timings_ms: time spent per stage.
        more_results: weaker matches, shown under their own heading, on the last page of confident ones.
        more_total: how many weaker candidates there are.
        did_you_mean: the corrected query when a typo was corrected ("duct tape"), else ``None``.
        redirect: the shop's redirect URL for this query, if it has one (results are still returned).
        offset: results skipped.
        sort: the order used.
    """

    results: list[SearchHit]
    parsed: dict[str, Any]
    facets: dict[str, dict[str, int]]
    relaxed: list[str]
    total: int
    applied_filters: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    more_results: list[SearchHit] = field(default_factory=list)
    more_total: int = 0
    did_you_mean: str | None = None
    redirect: str | None = None
    offset: int = 0
    sort: str = "relevance"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "results": [h.to_dict() for h in self.results],
            "more_results": [h.to_dict() for h in self.more_results],
            "more_total": self.more_total,
            "did_you_mean": self.did_you_mean,
            "redirect": self.redirect,
            "offset": self.offset,
            "sort": self.sort,
            "parsed": self.parsed,
            "facets": self.facets,
            "relaxed": self.relaxed,
            "total": self.total,
            "applied_filters": self.applied_filters,
            "timings_ms": self.timings_ms,
        }
