"""Re-rank many users' candidate lists at once: the bridge to the evaluation harness's list metrics.

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank import ItemCatalog, RerankConfig, RerankPipeline
    >>> cat = ItemCatalog(categories=np.array([0, 0, 1], dtype=np.int32))
    >>> top = np.array([[0, 1, 2]]); scores = np.array([[3.0, 2.0, 1.0]])
    >>> rerank_top_items(RerankPipeline(RerankConfig(k=2)), top, scores, cat).tolist()
    [[0, 1]]
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from shelfwise.rerank.base import CandidateList, ItemCatalog, UserContext
from shelfwise.rerank.config import RerankConfig
from shelfwise.rerank.exposure import ExposureCounter
from shelfwise.rerank.pipeline import RerankPipeline

__all__ = ["rerank_top_items"]

log = logging.getLogger(__name__)


def rerank_top_items(
    pipeline: RerankPipeline,
    candidate_items: np.ndarray,
    candidate_scores: np.ndarray,
    catalog: ItemCatalog,
    history: sp.csr_matrix | None = None,
    *,
    k: int | None = None,
    config: RerankConfig | None = None,
    seeds: np.ndarray | None = None,
    exposure: ExposureCounter | None = None,
) -> np.ndarray:
    """Re-rank each row's candidates; return ``(n_users, k)`` int32 item lists (``-1`` padded).

    Args:
        pipeline: the re-ranker.
        candidate_items: ``(n_users, C)`` item indices per user (``-1`` padding is dropped).
        candidate_scores: ``(n_users, C)`` relevance scores aligned with ``candidate_items``.
        catalog: item metadata.
        history: CSR ``(n_users, n_items)`` aligned with the rows: each user's history items and
            weights (the category mix for calibration / xQuAD / exploration).
        k: list length (default the configuration's).
        config: per-call configuration (e.g. a sweep's ``with_knob(diversity=...)``).
        seeds: per-row request seeds of exploration (default: the row number).
        exposure: exposure counts to start from and update (default: a fresh counter over the
            catalogue, or the pipeline's own when it has one). Every list is recorded in row order,
            so the exposure-aware methods see what the earlier rows were shown.

    Returns:
        The lists, in the input row order: the input of the harness's ``ListMetric``\\s.
    """
    cfg = config or pipeline.config
    k = int(k or cfg.k)
    items = np.asarray(candidate_items)
    scores = np.asarray(candidate_scores, dtype=np.float32)
    if items.shape != scores.shape or items.ndim != 2:
        raise ValueError(f"candidate items {items.shape} and scores {scores.shape} must be equal 2-D shapes")
    hist = sp.csr_matrix(history) if history is not None else None
    if hist is not None and hist.shape[0] != items.shape[0]:
        raise ValueError(f"history has {hist.shape[0]} rows for {items.shape[0]} users")
    out = np.full((items.shape[0], k), -1, dtype=np.int32)
    counter = exposure or pipeline.exposure
    if counter is None:
        n_items = catalog.n_items or int(items.max(initial=-1)) + 1
        counter = ExposureCounter(n_items)
    for u in range(items.shape[0]):
        valid = items[u] >= 0
        user = UserContext(seed=int(seeds[u]) if seeds is not None else u)
        if hist is not None:
            lo, hi = hist.indptr[u], hist.indptr[u + 1]
            user = UserContext(history=hist.indices[lo:hi], history_weights=hist.data[lo:hi], seed=user.seed)
        cands = CandidateList(items[u][valid], scores[u][valid], catalog, user)
        ranked = pipeline.rerank(cands, k, explain=False, config=cfg, exposure=counter).indices()
        out[u, : ranked.size] = ranked
        counter.record(ranked)
    return out
