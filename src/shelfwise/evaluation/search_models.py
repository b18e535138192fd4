"""Search systems the harness compares: lexical (BM25), dense (text encoder), hybrid (reciprocal rank fusion).

Each system does two jobs, one per protocol of BENCHMARKS.md section 3:

- ``retrieve(queries, k)``: the best ``k`` item ids of the whole catalogue per query (retrieval);
- ``rerank(query, item_ids)``: a score for each of the given items (re-ranking judged candidates).

``fit(items, train)`` sees the catalogue and the judgements of the training queries only; systems that do
not learn from labels ignore ``train``. New systems register with :func:`register_searcher`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from shelfwise.config import Settings

log = logging.getLogger(__name__)


class EvalSearcher(Protocol):
    """What the search harness needs of a system."""

    name: str
    uses_labels: bool

    def fit(self, items: list[dict[str, Any]], train: pa.Table | None) -> None:
        """Index the catalogue; learn from ``train`` judgements when the system uses labels."""

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[str]]:
        """Top-``k`` item ids per query, best first."""
        ...

    def rerank(self, query: str, item_ids: Sequence[str]) -> np.ndarray:
        """float scores for ``item_ids`` (higher = more relevant)."""
        ...

    def params(self) -> dict[str, Any]:
        """Configuration, for the report."""
        ...


SearcherFactory = Callable[[Settings], EvalSearcher]
_SEARCHERS: dict[str, SearcherFactory] = {}


def register_searcher(name: str) -> Callable[[SearcherFactory], SearcherFactory]:
    """Decorator registering a search system factory under ``name``."""

    def deco(factory: SearcherFactory) -> SearcherFactory:
        _SEARCHERS[name] = factory
        return factory

    return deco


def build_searcher(name: str, settings: Settings) -> EvalSearcher:
    """Build the named search system; ``ValueError`` lists the known names."""
    try:
        return _SEARCHERS[name](settings)
    except KeyError:
        raise ValueError(f"unknown search model {name!r}; known: {', '.join(sorted(_SEARCHERS))}") from None


class LexicalSearcher:
    """BM25 over weighted item fields (the configured lexical index)."""

    name = "bm25"
    uses_labels = False

    def __init__(self, settings: Settings) -> None:
        self.config = settings.search.lexical
        self.index: Any = None
        self.n_items = 0

    def fit(self, items: list[dict[str, Any]], train: pa.Table | None) -> None:
        from shelfwise.index.registry import build_lexical_index

        self.index = build_lexical_index(self.config)
        self.index.add(items)
        self.n_items = len(items)

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[str]]:
        return [list(ids) for ids in self.index.search(list(queries), k=k).item_ids]

    def rerank(self, query: str, item_ids: Sequence[str]) -> np.ndarray:
        res = self.index.search([query], k=self.n_items)
        score = dict(zip(res.item_ids[0], res.scores[0].tolist(), strict=True))
        return np.array([score.get(i, 0.0) for i in item_ids], dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {"lexical": self.config.model_dump()}


class DenseSearcher:
    """Cosine similarity of encoded queries and encoded item texts (exact search)."""

    name = "dense"
    uses_labels = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ids: list[str] = []
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        self.encoder: Any = None

    def fit(self, items: list[dict[str, Any]], train: pa.Table | None) -> None:
        from shelfwise.encoders import ItemTextTemplate, build_encoder

        self.encoder = build_encoder(self.settings.search.encoder)
        template = ItemTextTemplate(self.settings.search.item_text)
        texts = [template.render(item) for item in items]
        self.ids = [str(item["item_id"]) for item in items]
        self.vectors = np.asarray(self.encoder.encode_documents(texts, show_progress=True), dtype=np.float32)
        self._pos = {i: n for n, i in enumerate(self.ids)}

    def _scores(self, queries: Sequence[str]) -> np.ndarray:
        q = np.asarray(self.encoder.encode_queries(list(queries)), dtype=np.float32)
        return q @ self.vectors.T

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[str]]:
        scores = self._scores(queries)
        k = min(k, scores.shape[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[self.ids[j] for j in row] for row in top]

    def rerank(self, query: str, item_ids: Sequence[str]) -> np.ndarray:
        scores = self._scores([query])[0]
        return np.array([scores[self._pos[i]] for i in item_ids], dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {
            "encoder": self.settings.search.encoder.model_dump(mode="json"),
            "item_text": self.settings.search.item_text.model_dump(),
        }


class HybridSearcher:
    """Reciprocal rank fusion of the lexical and dense rankings: ``sum 1 / (rrf_k + rank)``."""

    name = "hybrid"
    uses_labels = False

    def __init__(self, settings: Settings) -> None:
        self.lexical = LexicalSearcher(settings)
        self.dense = DenseSearcher(settings)
        self.rrf_k = settings.search.rrf_k
        self.depth = settings.search.candidates

    def fit(self, items: list[dict[str, Any]], train: pa.Table | None) -> None:
        self.lexical.fit(items, train)
        self.dense.fit(items, train)

    def _fuse(self, rankings: list[list[str]]) -> dict[str, float]:
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, item in enumerate(ranking, start=1):
                fused[item] = fused.get(item, 0.0) + 1.0 / (self.rrf_k + rank)
        return fused

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[str]]:
        lex = self.lexical.retrieve(queries, self.depth)
        den = self.dense.retrieve(queries, self.depth)
        out = []
        for a, b in zip(lex, den, strict=True):
            fused = self._fuse([a, b])
            out.append(sorted(fused, key=lambda i: -fused[i])[:k])
        return out

    def rerank(self, query: str, item_ids: Sequence[str]) -> np.ndarray:
        rankings = []
        for scores in (self.lexical.rerank(query, item_ids), self.dense.rerank(query, item_ids)):
            order = np.argsort(-scores, kind="stable")
            rankings.append([item_ids[j] for j in order])
        fused = self._fuse(rankings)
        return np.array([fused[i] for i in item_ids], dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {"rrf_k": self.rrf_k, "depth": self.depth, **self.lexical.params(), **self.dense.params()}


register_searcher("bm25")(LexicalSearcher)
register_searcher("dense")(DenseSearcher)
register_searcher("hybrid")(HybridSearcher)

# the full pipeline registers itself on import (kept last: it imports register_searcher from here)
from shelfwise.evaluation import search_shelfwise as _search_shelfwise  # noqa: E402, F401
