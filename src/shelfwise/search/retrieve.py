"""Hybrid candidate retrieval: lexical (BM25) and dense (text encoder + vector index) top lists, fused.

Both indexes are asked for their ``depth`` best items under the hard filters they support (category
subtree, price range, stock, excluded ids); the union is the candidate set. Every candidate gets both
scores (the dense cosine is computed from the stored vector even when the vector index did not return the
item) and both ranks, and a fused score: reciprocal rank fusion ``sum 1 / (rrf_k + rank)`` by default, or
a learned linear fusion of the two normalised scores (:class:`LinearFusion`).

Example:
    >>> import numpy as np
    >>> c = Candidates.build(["a", "b"], np.array([3.0, 0.0]), np.array([1, 0]), np.array([0.5, 0.7]),
    ...                      np.array([2, 1]), depth=10, rrf_k=60)
    >>> [round(float(x), 4) for x in c.rrf]
    [0.0325, 0.0164]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shelfwise.index.base import SearchFilter

log = logging.getLogger(__name__)


def index_filter(filters: Mapping[str, Any]) -> SearchFilter | None:
    """The part of ``filters`` the indexes apply themselves (category, price, stock, excluded ids)."""
    cats = filters.get("category")
    if isinstance(cats, str):
        cats = [cats]
    low, high = filters.get("price_min"), filters.get("price_max")
    flt = SearchFilter(
        categories=tuple(cats) if cats else None,
        price_min=float(low) if low is not None else None,
        price_max=float(high) if high is not None else None,
        in_stock=filters.get("in_stock"),
        exclude_ids=frozenset(str(i) for i in filters.get("exclude_ids") or ()),
    )
    return None if flt.is_empty else flt


@dataclass
class Candidates:
    """Candidate items of one query with their retrieval evidence (arrays aligned with ``ids``).

    Attributes:
        ids: external item ids.
        lexical: BM25 score (0 when the lexical index did not return the item).
        lexical_rank: 1-based rank in the lexical list (``depth + 1`` when absent).
        dense: cosine of query and item vectors.
        dense_rank: 1-based rank in the dense list (``depth + 1`` when absent).
        rrf: reciprocal rank fusion score.
        fused: the score used to order candidates before re-ranking (``rrf`` or the linear fusion).
    """

    ids: list[str]
    lexical: np.ndarray
    lexical_rank: np.ndarray
    dense: np.ndarray
    dense_rank: np.ndarray
    rrf: np.ndarray
    fused: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls,
        ids: list[str],
        lexical: np.ndarray,
        lexical_rank: np.ndarray,
        dense: np.ndarray,
        dense_rank: np.ndarray,
        *,
        depth: int,
        rrf_k: int,
    ) -> Candidates:
        """Candidates with their RRF score (ranks ``0`` = absent, stored as ``depth + 1``)."""
        lr = np.where(lexical_rank > 0, lexical_rank, depth + 1).astype(np.float32)
        dr = np.where(dense_rank > 0, dense_rank, depth + 1).astype(np.float32)
        rrf = np.where(lexical_rank > 0, 1.0 / (rrf_k + lr), 0.0) + np.where(
            dense_rank > 0, 1.0 / (rrf_k + dr), 0.0
        )
        return cls(
            ids,
            lexical.astype(np.float32),
            lr,
            dense.astype(np.float32),
            dr,
            rrf.astype(np.float32),
            rrf.astype(np.float32),
        )

    def subset(self, keep: np.ndarray) -> Candidates:
        """The candidates at positions ``keep`` (indices or a boolean mask)."""
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep
        return Candidates(
            [self.ids[i] for i in idx],
            self.lexical[idx],
            self.lexical_rank[idx],
            self.dense[idx],
            self.dense_rank[idx],
            self.rrf[idx],
            self.fused[idx],
        )

    def order(self) -> np.ndarray:
        """Positions sorted by :attr:`fused`, best first (stable)."""
        return np.argsort(-self.fused, kind="stable")


class LinearFusion:
    """Learned linear fusion: ``w_lex * lexical / max_lexical + w_dense * dense + w_rrf * rrf * rrf_k``.

    Fitted by least squares on graded labels of training queries (:meth:`fit`); unfitted it is the equal
    mix ``0.5, 0.5, 0``.
    """

    def __init__(self, weights: Sequence[float] = (0.5, 0.5, 0.0), rrf_k: int = 60) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)
        self.rrf_k = rrf_k

    def features(self, c: Candidates) -> np.ndarray:
        """``(n, 3)``: lexical score over the query's best lexical score, cosine, scaled RRF."""
        top = float(c.lexical.max()) if len(c) and c.lexical.max() > 0 else 1.0
        return np.column_stack([c.lexical / top, c.dense, c.rrf * self.rrf_k]).astype(np.float64)

    def score(self, c: Candidates) -> np.ndarray:
        """Fused scores of the candidates."""
        return (self.features(c) @ self.weights).astype(np.float32) if len(c) else np.zeros(0, np.float32)

    def fit(self, groups: Sequence[tuple[Candidates, np.ndarray]]) -> LinearFusion:
        """Least-squares weights from ``(candidates, gains)`` per training query."""
        x = np.concatenate([self.features(c) for c, _ in groups])
        y = np.concatenate([g for _, g in groups]).astype(np.float64)
        self.weights, *_ = np.linalg.lstsq(x, y, rcond=None)
        log.info("linear fusion weights (lexical, dense, rrf): %s", np.round(self.weights, 4).tolist())
        return self


class HybridRetriever:
    """Lexical + dense candidates with hard filters, fused.

    Args:
        lexical_index: a :class:`~shelfwise.index.base.LexicalIndex`.
        vector_index: a vector index with ``get_vectors`` (any :class:`~shelfwise.index.vector_exact.ExactVectorIndex`).
        encoder: the text encoder the item vectors were made with.
        depth: candidates taken from each index.
        rrf_k: reciprocal rank fusion constant.
    """

    def __init__(
        self, lexical_index: Any, vector_index: Any, encoder: Any, depth: int = 200, rrf_k: int = 60
    ) -> None:
        self.lexical_index = lexical_index
        self.vector_index = vector_index
        self.encoder = encoder
        self.depth = depth
        self.rrf_k = rrf_k
        self.fusion: LinearFusion | None = None
        self._recent: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors (unit rows); the last few single queries are remembered (features re-read them)."""
        if len(texts) == 1 and texts[0] in self._recent:
            return self._recent[texts[0]]
        out = np.asarray(self.encoder.encode_queries(list(texts)), dtype=np.float32)
        if len(texts) == 1:
            if len(self._recent) >= 64:
                self._recent.pop(next(iter(self._recent)))
            self._recent[texts[0]] = out
        return out

    def candidates(
        self,
        text: str,
        flt: SearchFilter | None = None,
        depth: int | None = None,
        query_vector: np.ndarray | None = None,
    ) -> Candidates:
        """The fused candidates of one query text (empty text: no candidates)."""
        depth = depth or self.depth
        if not text.strip():
            return Candidates.build([], *(np.zeros(0),) * 4, depth=depth, rrf_k=self.rrf_k)
        qv = self.encode([text]) if query_vector is None else np.atleast_2d(query_vector)
        lex = self.lexical_index.search([text], k=depth, filter=flt)
        den = self.vector_index.search(qv, k=depth, filter=flt)
        lex_ids, lex_scores = lex.item_ids[0], lex.scores[0]
        den_ids = den.item_ids[0]
        ids = list(dict.fromkeys([*lex_ids, *den_ids]))
        pos = {i: n for n, i in enumerate(ids)}
        lexical = np.zeros(len(ids), np.float32)
        lexical_rank = np.zeros(len(ids), np.int64)
        dense_rank = np.zeros(len(ids), np.int64)
        for r, (i, s) in enumerate(zip(lex_ids, lex_scores, strict=True), start=1):
            lexical[pos[i]], lexical_rank[pos[i]] = s, r
        for r, i in enumerate(den_ids, start=1):
            dense_rank[pos[i]] = r
        dense = self.vector_index.get_vectors(ids) @ qv[0] if ids else np.zeros(0, np.float32)
        out = Candidates.build(ids, lexical, lexical_rank, dense, dense_rank, depth=depth, rrf_k=self.rrf_k)
        if self.fusion is not None:
            out.fused = self.fusion.score(out)
        return out
