"""Types of the re-ranking stage: what goes in (a :class:`CandidateList`), what comes out (a :class:`RankedList`).

Inside, items are dense int32 indices into one :class:`ItemCatalog` (the catalogue's metadata arrays,
built once and shared by every request); external ids are mapped at the edges. A candidate list is what
the ranker hands over: item indices, float32 relevance scores, per candidate the candidate sources that
produced it (:class:`SourceHit`, e.g. ``{"sasrec": 3.2, "item2item": 0.7 via history item 12}``), and the
shopper's context (:class:`UserContext`: history, category mix, items already shown in this session,
the search query and its parsed filters).

Example:
    >>> import numpy as np
    >>> cat = ItemCatalog(categories=np.array([0, 0, 1, 2], dtype=np.int32))
    >>> cands = CandidateList(np.array([2, 0, 1]), np.array([0.9, 0.5, 0.1]), cat)
    >>> len(cands), cands.items.dtype, cat.n_categories
    (3, dtype('int32'), 3)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from shelfwise.rerank.catalog import ItemCatalog, QueryFilter

__all__ = [
    "SOURCE_KINDS",
    "CandidateList",
    "ItemCatalog",
    "QueryFilter",
    "RankedItem",
    "RankedList",
    "RemovedItem",
    "Reranker",
    "SourceHit",
    "SourceKind",
    "UserContext",
]

#: What kind of evidence a candidate source is; explanations are chosen by kind, never by source name.
SourceKind = Literal[
    "sequential",  # a model of the shopper's recent sequence (SASRec, GRU4Rec, ...)
    "item2item",  # similarity to one item (``anchor``), e.g. "because you viewed"
    "collaborative",  # users-like-you signal (ALS, item-kNN over co-interactions, ...)
    "popularity",  # popular / trending in the shop
    "lexical",  # the search query matched the item's text
    "semantic",  # the search query's embedding is close to the item's
    "content",  # the item's own attributes / text (cold start)
    "rule",  # inserted by a business rule (a pin)
    "other",
]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]

_EMPTY = np.zeros(0, dtype=np.int32)


def _as_int32(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        return _EMPTY
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array, got {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int32)


@dataclass(frozen=True)
class SourceHit:
    """One candidate source's vote for a candidate.

    Attributes:
        name: the source's name as configured (``"sasrec"``, ``"item2item"``, ``"als"`` ...).
        score: the source's own score for the item (its scale is the source's).
        kind: what kind of evidence it is (see :data:`SourceKind`).
        anchor: for ``item2item``, the item (dense index) the candidate was found similar to.
    """

    name: str
    score: float
    kind: SourceKind = "other"
    anchor: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}; expected one of {', '.join(SOURCE_KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``anchor`` left out when absent)."""
        out = asdict(self)
        if self.anchor is None:
            del out["anchor"]
        return out


@dataclass(frozen=True, eq=False)
class UserContext:
    """The shopper and the request: what the re-ranker may personalise and explain with.

    Attributes:
        history: int32 items the shopper interacted with (oldest first).
        history_weights: float32 weight per history item (default 1), for the category mix.
        category_mix: float32 ``(n_categories,)`` share of each category in the shopper's interests;
            ``None`` = computed from ``history`` (weighted) when the catalogue has categories.
        session_shown: int32 items already shown in this session (never shown again).
        query: the search query, when this is a search.
        filters: filters parsed from the query.
        seed: per-request seed of the exploration draw (e.g. a hash of the request id): the same
            request always gets the same list.
    """

    history: np.ndarray = field(default_factory=lambda: _EMPTY)
    history_weights: np.ndarray | None = None
    category_mix: np.ndarray | None = None
    session_shown: np.ndarray = field(default_factory=lambda: _EMPTY)
    query: str | None = None
    filters: tuple[QueryFilter, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", _as_int32(self.history, "history"))
        object.__setattr__(self, "session_shown", _as_int32(self.session_shown, "session_shown"))
        if self.history_weights is not None:
            w = np.asarray(self.history_weights, dtype=np.float32)
            if w.shape != self.history.shape:
                raise ValueError("history_weights must align with history")
            object.__setattr__(self, "history_weights", w)
        if self.category_mix is not None:
            mix = np.asarray(self.category_mix, dtype=np.float32)
            if mix.ndim != 1 or (mix < 0).any():
                raise ValueError("category_mix must be a 1-D array of non-negative shares")
            object.__setattr__(self, "category_mix", mix)

    def mix(self, catalog: ItemCatalog) -> np.ndarray | None:
        """float64 ``(catalog.n_categories,)`` category distribution summing to 1, or ``None`` if unknown."""
        n_cat = catalog.n_categories
        if self.category_mix is not None:
            raw = np.zeros(max(n_cat, self.category_mix.size), dtype=np.float64)
            raw[: self.category_mix.size] = self.category_mix
        elif self.history.size and catalog.categories is not None:
            cats = catalog.categories[self.history]
            w = (
                np.ones(cats.size)
                if self.history_weights is None
                else self.history_weights.astype(np.float64)
            )
            known = cats >= 0
            raw = np.bincount(cats[known], weights=w[known], minlength=n_cat).astype(np.float64)
        else:
            return None
        total = raw.sum()
        return raw / total if total > 0 else None


@dataclass(frozen=True, eq=False)
class CandidateList:
    """The ranker's output for one request: candidates with relevance, provenance and context.

    Attributes:
        items: int32 ``(n,)`` distinct item indices into ``catalog``.
        scores: float32 ``(n,)`` finite relevance scores (higher = more relevant; any scale).
        catalog: the catalogue metadata.
        user: the shopper and request context.
        sources: per candidate, the sources that produced it (``None`` = not recorded).
    """

    items: np.ndarray
    scores: np.ndarray
    catalog: ItemCatalog
    user: UserContext = field(default_factory=UserContext)
    sources: tuple[tuple[SourceHit, ...], ...] | None = None

    def __post_init__(self) -> None:
        items = _as_int32(self.items, "items")
        scores = np.ascontiguousarray(self.scores, dtype=np.float32)
        if scores.shape != items.shape:
            raise ValueError(f"{scores.shape[0] if scores.ndim else 0} scores for {items.size} items")
        if not np.isfinite(scores).all():
            raise ValueError("scores must be finite")
        if items.size and (items.min() < 0 or (self.catalog.n_items and items.max() >= self.catalog.n_items)):
            raise ValueError("item index outside the catalogue")
        if np.unique(items).size != items.size:
            raise ValueError("candidate items must be distinct")
        if self.sources is not None and len(self.sources) != items.size:
            raise ValueError(f"{len(self.sources)} source tuples for {items.size} candidates")
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "scores", scores)

    def __len__(self) -> int:
        return int(self.items.size)


@dataclass(frozen=True)
class RankedItem:
    """One result: the item, where it is, and how it got there.

    Attributes:
        item: dense item index.
        score: relevance after business rules (scaled to ``[0, 1]`` over the candidates as
            ``rerank.relevance`` says, plus rule boosts); the order is the re-ranker's, so scores need not decrease down the list.
        position: 1-based position in the list.
        reason: a plain-language reason, true of how the item was produced (see :mod:`.explain`).
        breakdown: the structured record the reason was built from: ``sources``, ``score_parts``,
            ``rules``, ``placed_by`` (``relevance`` / ``diversity`` / ``exploration`` / ``pin``),
            ``relevance_position`` (its position without the diversity step), ``diversity`` (the swap,
            e.g. "moved from relevance rank 7 to 3 for variety"), ``filters_matched``, ``claims``.
    """

    item: int
    score: float
    position: int
    reason: str = ""
    breakdown: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class RemovedItem:
    """A candidate that was kept out of the list, and why (``stage``: session / rule / caps)."""

    item: int
    stage: str
    why: str


@dataclass(frozen=True, eq=False)
class RankedList:
    """The re-ranked list of one request, with where it came from.

    Attributes:
        items: the results in order.
        method: the diversity method used.
        diversity: the diversity knob (0 = pure relevance, 1 = maximal diversity).
        trade_off: the method's own trade-off parameter the knob was mapped to.
        removed: candidates kept out (session repeats, excluded by rules, skipped by caps).
        notes: facts about this run (fallbacks, unfillable slots, pin conflicts).
        config: the configuration used (JSON-ready).
    """

    items: tuple[RankedItem, ...]
    method: str
    diversity: float
    trade_off: dict[str, float] = field(default_factory=dict)
    removed: tuple[RemovedItem, ...] = ()
    notes: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[RankedItem]:
        return iter(self.items)

    def indices(self) -> np.ndarray:
        """int32 item indices in list order."""
        return np.fromiter((r.item for r in self.items), dtype=np.int32, count=len(self.items))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "method": self.method,
            "diversity": self.diversity,
            "trade_off": dict(self.trade_off),
            "items": [asdict(r) for r in self.items],
            "removed": [asdict(r) for r in self.removed],
            "notes": list(self.notes),
            "config": self.config,
        }


class Reranker(ABC):
    """The re-ranking stage: a candidate list in, a final explained list out.

    Implementations must keep three promises, checked by the tests: an item appears at most once; no
    item excluded by the context (already shown in the session) or by a rule appears; every
    ``reason`` is true of the inputs and of the step that placed the item.
    """

    name: str = "reranker"

    @abstractmethod
    def rerank(self, candidates: CandidateList, k: int | None = None, *, explain: bool = True) -> RankedList:
        """Order the best ``k`` candidates (``None`` = the configured length).

        Args:
            candidates: the ranker's output for one request.
            k: list length.
            explain: build reasons and breakdowns (``False`` skips them, for offline sweeps).
        """
