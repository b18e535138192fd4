"""Sources -> merge -> LightGBM ranker -> re-ranker: the one pipeline that serving and evaluation both call.

:class:`ShelfwisePipeline` asks each source for its top ``k_per_source`` items of a request
(:meth:`~shelfwise.retrieval.base.CandidateSource.candidates`, the serving call, excluded items removed),
merges them (:func:`~shelfwise.ranking.merge.merge_candidates`, anchors kept for explanations) and orders
them with the :class:`~shelfwise.ranking.ranker.Ranker`. The offline harness gets the same lists through
:func:`harness_rows` (candidates above a floor in the ranker's order, every other item tied below), after
the same re-ranking as serving (:func:`rerank_order`) when ``rerank.*`` asks for any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.features import FeatureRequest
from shelfwise.ranking.merge import MergedCandidates, merge_candidates
from shelfwise.ranking.pipeline import candidate_rows
from shelfwise.ranking.ranker import Ranker
from shelfwise.recommend.sources import SOURCE_KIND
from shelfwise.rerank import CandidateList, ItemCatalog, RerankConfig, RerankPipeline, SourceHit
from shelfwise.rerank import UserContext as RerankContext
from shelfwise.retrieval.base import Candidates, CandidateSource, UserContext
from shelfwise.retrieval.history import weigh_history
from shelfwise.retrieval.item2item import NeighbourSource
from shelfwise.retrieval.scoring import ScoredSource, contributions

__all__ = ["Ranked", "ShelfwisePipeline", "harness_rows", "make_context", "rerank_active", "source_hits"]

_EMPTY = np.zeros(0, dtype=np.int32)


def make_context(
    user_index: int, history: np.ndarray, max_history: int, exclude: np.ndarray | None = None
) -> UserContext:
    """The request context every source and the ranker read: the newest ``max_history`` items, oldest first."""
    hist = np.asarray(history, dtype=np.int32)[-max_history:]
    return UserContext(
        user_index=int(user_index),
        history=hist,
        exclude=_EMPTY if exclude is None else np.asarray(exclude, dtype=np.int32),
    )


@dataclass(frozen=True, eq=False)
class Ranked:
    """One request's candidates in the ranker's order.

    Attributes:
        items: int32 candidate items, best first.
        scores: float32 ranker scores aligned with ``items``.
        merged: the merged candidates (per-source scores, ranks and anchors), in merge order.
        rows: int64 row of each ranked item in ``merged``.
    """

    items: np.ndarray
    scores: np.ndarray
    merged: MergedCandidates
    rows: np.ndarray


class ShelfwisePipeline:
    """Fitted sources and the ranker trained on their names.

    Args:
        sources: fitted candidate sources (their names are the ranker's source columns, in this order).
        ranker: the trained ranker with its feature state attached (``ranker.state``).
        k_per_source: candidates asked of each source.
    """

    def __init__(self, sources: Sequence[CandidateSource], ranker: Ranker, k_per_source: int) -> None:
        self.sources = list(sources)
        self.ranker = ranker
        self.k_per_source = k_per_source
        if ranker.features is not None and ranker.sources != self.names:
            raise ValueError(f"the ranker was trained on sources {ranker.sources}, not {self.names}")

    @property
    def names(self) -> tuple[str, ...]:
        """Source names in column order."""
        return tuple(s.name for s in self.sources)

    def source(self, name: str) -> CandidateSource:
        """The source called ``name``."""
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def merged(self, context: UserContext) -> MergedCandidates:
        """Every source's top ``k_per_source`` for one request, merged."""
        return self.merged_many([context])[0]

    def merged_many(self, contexts: Sequence[UserContext], batch_size: int = 256) -> list[MergedCandidates]:
        """:meth:`merged` of many requests; sources score a batch at once (same lists as one by one)."""
        out: list[MergedCandidates] = []
        for start in range(0, len(contexts), batch_size):
            batch = list(contexts[start : start + batch_size])
            per_source = [candidates_many(s, batch, self.k_per_source) for s in self.sources]
            out += [merge_candidates([c[r] for c in per_source], self.names) for r in range(len(batch))]
        return out

    def rank_many(self, contexts: Sequence[UserContext]) -> list[Ranked]:
        """Merged candidates of each request in the ranker's order (features predicted in one batch)."""
        merged = self.merged_many(contexts)
        nonempty = [k for k, m in enumerate(merged) if len(m)]
        scores = self.ranker.score_requests([FeatureRequest(contexts[k], merged[k]) for k in nonempty])
        by_request = dict(zip(nonempty, scores, strict=True))
        out = []
        for k, m in enumerate(merged):
            s = np.asarray(by_request.get(k, np.zeros(0, np.float32)), dtype=np.float32)
            order = np.argsort(-s, kind="stable")
            out.append(Ranked(m.items[order].astype(np.int32), s[order], m, order.astype(np.int64)))
        return out

    def rank(self, context: UserContext) -> Ranked:
        """:meth:`rank_many` of one request."""
        return self.rank_many([context])[0]


def candidates_many(source: CandidateSource, contexts: Sequence[UserContext], k: int) -> list[Candidates]:
    """``source.candidates(context, k)`` for each context, scoring them in one ``score_all`` call.

    For the shelfwise sources (:class:`~shelfwise.retrieval.scoring.ScoredSource`) the lists equal the
    one-request call: the same selection (:meth:`ScoredSource.select`, seeded tie order, exclusions) and,
    for item-to-item sources, the same anchors. Other sources are asked one request at a time.
    """
    if len(contexts) == 1 or not isinstance(source, ScoredSource):
        return [source.candidates(c, k) for c in contexts]
    scores = source.score_all(list(contexts))
    out = []
    for row, ctx in zip(scores, contexts, strict=True):
        top = source.select(row, ctx, k)
        anchors = None
        if isinstance(source, NeighbourSource):
            items, weights = weigh_history(ctx, source.recency)
            inside = (items >= 0) & (items < source.n_items)
            anchors = contributions(items[inside], weights[inside], source.sim, top)
        out.append(Candidates(source.name, top, row[top].astype(np.float32), anchors))
    return out


def source_hits(ranked: Ranked, top: int) -> tuple[tuple[SourceHit, ...], ...]:
    """Per ranked candidate (the first ``top``), the sources that proposed it, with scores and anchors."""
    m = ranked.merged
    out = []
    for r in ranked.rows[:top]:
        hits = []
        for j, name in enumerate(m.sources):
            score = m.scores[r, j]
            if np.isnan(score):
                continue
            kind = SOURCE_KIND.get(name, "other")
            anchor = int(m.anchors[r]) if kind == "item2item" and m.anchors[r] >= 0 else None
            hits.append(SourceHit(name, float(score), kind, anchor))  # type: ignore[arg-type]
        out.append(tuple(hits))
    return tuple(out)


def rerank_catalog(
    attributes: ItemAttributes, vectors: np.ndarray | None = None, names: Sequence[str] | None = None
) -> ItemCatalog:
    """The re-ranker's view of the catalogue (categories, brands, prices, vectors and display names)."""
    return ItemCatalog(
        embeddings=vectors,
        categories=attributes.category,
        brands=attributes.brand,
        prices=attributes.price,
        item_names=names,
        category_names=attributes.categories,
    )


def rerank_active(config: RerankConfig) -> bool:
    """Whether ``config`` changes a relevance-ordered list at all."""
    return (
        config.method != "none"
        or bool(config.rules)
        or config.caps.active()
        or config.exploration.slots > 0
        or config.exclude_history
    )


def harness_rows(
    ranked: Sequence[Ranked],
    n_items: int,
    *,
    rerank: RerankPipeline | None = None,
    catalog: ItemCatalog | None = None,
    histories: Sequence[np.ndarray] | None = None,
    top: int = 100,
    seeds: Sequence[int] | None = None,
) -> np.ndarray:
    """float32 ``(len(ranked), n_items)`` scores for the full-ranking harness.

    Candidates score ``>= 1`` in the ranker's order, every other item ``0`` (tied, broken at random by the
    harness). With ``rerank``, the re-ranked list of the first ``top`` candidates (what serving shows) is
    put above every other candidate, in its order.
    """
    rows = candidate_rows([r.items for r in ranked], [r.scores for r in ranked], n_items)
    if rerank is None or catalog is None:
        return rows
    for u, r in enumerate(ranked):
        if not r.items.size:
            continue
        hist = histories[u] if histories is not None else _EMPTY
        seed = int(seeds[u]) if seeds is not None else u
        cands = CandidateList(
            r.items[:top], r.scores[:top], catalog, RerankContext(history=np.unique(hist), seed=seed)
        )
        listed = rerank.rerank(cands, explain=False).indices()
        if listed.size:
            base = float(rows[u].max()) + 1.0
            rows[u, listed] = base + np.arange(listed.size, 0, -1, dtype=np.float32)
    return rows
