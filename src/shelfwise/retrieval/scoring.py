"""Shared machinery of shelfwise's candidate sources: a base class, top-k selection, history aggregation.

* :class:`ScoredSource` adds to :class:`~shelfwise.retrieval.base.CandidateSource` a seeded tie order
  (ties are never broken by item id), ``params()`` for reports, and "sparse" sources whose zero scores
  mean "not proposed" (an item-to-item source proposes only neighbours of the history).
* :func:`top_k_per_row` keeps each row's ``k`` largest entries of a sparse similarity matrix.
* :func:`history_rows` and :func:`aggregate` score users from a neighbour matrix: ``score(i) =
  sum_j w_j S[j, i]`` or ``max_j w_j S[j, i]`` over the weighted history items ``j``;
  :func:`contributions` gives, per candidate, the history item that contributed most (its anchor).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from shelfwise.retrieval.base import Candidates, CandidateSource, UserContext
from shelfwise.retrieval.history import RecencyConfig, weigh_history

__all__ = [
    "ScoredSource",
    "aggregate",
    "batch_top_k",
    "contributions",
    "history_rows",
    "single_thread_blas",
    "top_k_per_row",
    "top_row",
]

Aggregation = Literal["sum", "max"]


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the block with one BLAS thread.

    For one request, or a loop of tiny per-user products, BLAS threads cost more than they bring: on the
    shared 2-core machine a 1 x 256 by 256 x 12k product took 16 ms with OpenBLAS threads and 0.3 ms
    without. Batched scoring (the harness) keeps the threads.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


class ScoredSource(CandidateSource):
    """Base of the concrete sources.

    Attributes:
        sparse_scores: items scoring ``<= 0`` are not proposed by :meth:`candidates`.
        seed: seed of the tie order.
    """

    sparse_scores: bool = False

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._tie = np.zeros(0, dtype=np.int64)

    @property
    def n_items(self) -> int:
        """Items the source scores (the width of :meth:`score_all`)."""
        return int(self._tie.size)

    @property
    def tie_order(self) -> np.ndarray:
        """int64 seeded permutation of the items: the order among equal scores (never the item id)."""
        return self._tie

    def _set_items(self, n_items: int) -> None:
        """Record the catalogue width and draw the seeded tie order."""
        self._tie = np.random.default_rng(self.seed).permutation(n_items).astype(np.int64)

    def _check_fitted(self) -> None:
        if self._tie.size == 0:
            raise RuntimeError(f"{self.name} is not fitted")

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, JSON-ready (sources override)."""
        return {}

    def select(self, scores: np.ndarray, context: UserContext, k: int) -> np.ndarray:
        """Indices of the top-``k`` proposable items of one score row, best first (ties in seeded order)."""
        scores = np.array(scores, dtype=np.float32, copy=True)
        if context.exclude.size:
            banned = np.asarray(context.exclude, dtype=np.int64)
            scores[banned[(banned >= 0) & (banned < scores.size)]] = -np.inf
        return top_row(scores, k, self._tie, self.sparse_scores)

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """The top-``k`` items for one request, excluded items removed (see :meth:`select`)."""
        self._check_fitted()
        with single_thread_blas():
            scores = self.score_all([context])[0]
        top = self.select(scores, context, k)
        return Candidates(self.name, top, scores[top].astype(np.float32))


def top_row(scores: np.ndarray, k: int, tie: np.ndarray, positive_only: bool) -> np.ndarray:
    """int32 indices of the ``k`` best proposable entries of one score row, best first.

    Proposable = finite, and positive when ``positive_only``. Equal scores are ordered by ``tie`` (a
    seeded permutation of the items), never by item id; items tied with the ``k``-th score compete fairly.
    """
    ok = scores > 0 if positive_only else np.isfinite(scores)
    pool = np.flatnonzero(ok)
    k = min(k, pool.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int32)
    if k < pool.size:
        top = pool[np.argpartition(-scores[pool], k - 1)[:k]]
        kth = scores[top].min()
        pool = np.union1d(top, pool[scores[pool] == kth])
    order = np.lexsort((tie[pool], -scores[pool]))
    return pool[order][:k].astype(np.int32)


def batch_top_k(scores: np.ndarray, k: int, tie: np.ndarray, positive_only: bool) -> np.ndarray:
    """int32 ``(b, k)``: :func:`top_row` of every row, ``-1`` padded."""
    out = np.full((scores.shape[0], min(k, scores.shape[1])), -1, dtype=np.int32)
    for r in range(scores.shape[0]):
        top = top_row(scores[r], k, tie, positive_only)
        out[r, : top.size] = top
    return out


def top_k_per_row(m: sp.csr_matrix, k: int, seed: int = 0) -> sp.csr_matrix:
    """Keep the ``k`` largest positive entries of every row (ties at random with ``seed``), float32 CSR."""
    m = sp.csr_matrix(m, dtype=np.float32)
    m.eliminate_zeros()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    tie = np.random.default_rng(seed).random(m.nnz)
    order = np.lexsort((tie, -m.data, rows))
    rank = np.arange(m.nnz) - m.indptr[rows[order]]
    keep = order[(rank < k) & (m.data[order] > 0)]
    out = sp.csr_matrix((m.data[keep], (rows[keep], m.indices[keep])), shape=m.shape, dtype=np.float32)
    out.sort_indices()
    return out


def history_rows(contexts: Sequence[UserContext], recency: RecencyConfig, n_items: int) -> sp.csr_matrix:
    """float32 CSR ``(len(contexts), n_items)`` of weighted history items (:func:`weigh_history`)."""
    indptr, indices, data = [0], [], []
    for ctx in contexts:
        items, w = weigh_history(ctx, recency)
        keep = (items >= 0) & (items < n_items)
        indices.append(items[keep])
        data.append(w[keep])
        indptr.append(indptr[-1] + int(keep.sum()))
    idx = np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32)
    val = np.concatenate(data) if data else np.zeros(0, dtype=np.float32)
    return sp.csr_matrix((val, idx, np.asarray(indptr)), shape=(len(contexts), n_items), dtype=np.float32)


def aggregate(weights: sp.csr_matrix, sim: sp.csr_matrix, how: Aggregation) -> np.ndarray:
    """float32 ``(b, n_items)``: per user, ``sum_j`` or ``max_j`` of ``w_j * sim[j, i]``."""
    if how == "sum":
        return np.asarray((weights @ sim).toarray(), dtype=np.float32)
    out = np.zeros((weights.shape[0], sim.shape[1]), dtype=np.float32)
    for r in range(weights.shape[0]):
        lo, hi = weights.indptr[r], weights.indptr[r + 1]
        if lo == hi:
            continue
        rows = sim[weights.indices[lo:hi]]
        vals = rows.data * np.repeat(weights.data[lo:hi], np.diff(rows.indptr))
        np.maximum.at(out[r], rows.indices, vals)
    return out


def contributions(
    items: np.ndarray, weights: np.ndarray, sim: sp.csr_matrix, candidates: np.ndarray
) -> np.ndarray:
    """int32 per candidate: the history item ``j`` with the largest ``w_j * sim[j, candidate]`` (-1 if none)."""
    if items.size == 0 or candidates.size == 0:
        return np.full(candidates.size, -1, dtype=np.int32)
    block = sim[items][:, candidates].toarray() * weights[:, None]
    best = block.argmax(axis=0)
    return np.where(block.max(axis=0) > 0, items[best], -1).astype(np.int32)
