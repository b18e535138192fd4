"""Item-item neighbour matrices: co-occurrence in users' sequences, and cosine between item vectors.

Both return a float32 CSR ``S`` (n_items x n_items) with at most ``k`` entries per row, where ``S[j, i]``
is how strongly item ``i`` is proposed to someone who interacted with item ``j`` (the *anchor*). The
diagonal is always empty: an item never proposes itself.

Co-occurrence (:func:`sequence_cooccurrence`): within each user's time-ordered events (consecutive
repeats of one item collapsed, sequences optionally cut into sessions at long pauses), every pair of items
at most ``window`` positions apart counts ``distance_decay ** (distance - 1)``: forward (``j`` then ``i``)
fully, backward (``i`` then ``j``) times ``backward_weight``. Counts are then normalised
(:func:`normalise_cooccurrence`):

* ``count``: raw.
* ``cosine``: ``C[j, i] / (n_j ** alpha * n_i ** (1 - alpha) + shrink)``; ``alpha = 0.5`` is cosine,
  ``alpha = 1`` is the conditional probability of ``i`` given ``j`` (favours popular candidates).
* ``lift``: ``C[j, i] * N / (n_j * n_i + shrink)`` (pointwise mutual information before the log; favours
  rare candidates, ``shrink`` tames pairs seen once).

with ``n_j`` the item's occurrences in the collapsed sequences and ``N`` their total.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from shelfwise.retrieval.history import EventLog

__all__ = ["normalise_cooccurrence", "sequence_cooccurrence", "vector_neighbours"]

log = logging.getLogger(__name__)

Normalisation = Literal["count", "cosine", "lift"]


def _collapsed(events: EventLog, session_gap_seconds: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Items with consecutive repeats per user removed, and a segment id per kept event."""
    users, items, times = events.users, events.items, events.times
    if items.size == 0:
        return items, items.astype(np.int64)
    keep = np.r_[True, (users[1:] != users[:-1]) | (items[1:] != items[:-1])]
    users, items, times = users[keep], items[keep], times[keep]
    new = np.r_[True, users[1:] != users[:-1]]
    if session_gap_seconds is not None and not events.order_keys():
        new |= np.r_[True, np.diff(times) > session_gap_seconds]
    return items, np.cumsum(new)


def sequence_cooccurrence(
    events: EventLog,
    window: int,
    *,
    backward_weight: float = 1.0,
    distance_decay: float = 1.0,
    session_gap_seconds: float | None = None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Directed, distance-weighted co-occurrence counts (see the module doc).

    Args:
        events: the training events.
        window: largest distance (in positions) between two items that still counts.
        backward_weight: weight of pairs where the candidate came *before* the anchor.
        distance_decay: pair weight ``distance_decay ** (distance - 1)``.
        session_gap_seconds: cut sequences at pauses longer than this (ignored on order-key data).

    Returns:
        ``(C, n)``: float32 CSR counts ``C[anchor, candidate]`` and float64 item occurrences ``n``.
    """
    n_items = events.n_items
    items, seg = _collapsed(events, session_gap_seconds)
    occurrences = np.bincount(items, minlength=n_items).astype(np.float64)
    counts = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    for d in range(1, window + 1):
        if d >= items.size:
            break
        a, b = items[:-d], items[d:]
        ok = (seg[:-d] == seg[d:]) & (a != b)
        if not ok.any():
            break  # no segment is longer than d
        a, b = a[ok], b[ok]
        w = np.float32(distance_decay ** (d - 1))
        rows, cols = [a], [b]
        vals = [np.full(a.size, w, dtype=np.float32)]
        if backward_weight > 0:
            rows.append(b)
            cols.append(a)
            vals.append(np.full(a.size, w * backward_weight, dtype=np.float32))
        counts = counts + sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items)
        )
    counts = sp.csr_matrix(counts, dtype=np.float32)
    counts.sum_duplicates()
    log.info("co-occurrence: %d pairs over %d items (window %d)", counts.nnz, n_items, window)
    return counts, occurrences


def normalise_cooccurrence(
    counts: sp.csr_matrix,
    occurrences: np.ndarray,
    how: Normalisation,
    *,
    alpha: float = 0.5,
    shrink: float = 0.0,
) -> sp.csr_matrix:
    """Normalise co-occurrence counts (see the module doc); float32 CSR of the same pattern."""
    m = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    if how == "count" or m.nnz == 0:
        return m
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    n_anchor, n_cand = occurrences[rows], occurrences[m.indices]
    if how == "cosine":
        denom = np.power(n_anchor, alpha) * np.power(n_cand, 1.0 - alpha) + shrink
        m.data = (m.data / np.maximum(denom, 1e-12)).astype(np.float32)
    elif how == "lift":
        total = float(occurrences.sum())
        m.data = (m.data * total / np.maximum(n_anchor * n_cand + shrink, 1e-12)).astype(np.float32)
    else:
        raise ValueError(f"unknown normalisation {how!r}; expected count, cosine or lift")
    return m


def vector_neighbours(
    vectors: np.ndarray,
    k: int,
    *,
    min_similarity: float = 0.0,
    block_size: int = 1024,
    queries: np.ndarray | None = None,
    show_progress: bool = True,
) -> sp.csr_matrix:
    """Exact top-``k`` cosine neighbours of every row of ``queries`` (default: ``vectors``) among ``vectors``.

    Vectors are expected L2-normalised (cosine = dot product). A query row never lists its own index when
    ``queries`` is ``vectors``; zero vectors have no neighbours.

    Returns:
        float32 CSR ``(n_queries, n_vectors)`` holding the similarities above ``min_similarity``.
    """
    vecs = np.ascontiguousarray(vectors, dtype=np.float32)
    same = queries is None
    qs = vecs if queries is None else np.ascontiguousarray(queries, dtype=np.float32)
    n, nq = vecs.shape[0], qs.shape[0]
    k = min(k, max(n - (1 if same else 0), 0))
    rows, cols, vals = [], [], []
    starts = range(0, nq, block_size)
    for start in tqdm(
        starts, desc="text neighbours", unit="block", disable=not show_progress or nq < 4 * block_size
    ):
        block = qs[start : start + block_size] @ vecs.T
        if same:
            block[np.arange(block.shape[0]), np.arange(start, start + block.shape[0])] = -np.inf
        if k == 0:
            break
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        sims = np.take_along_axis(block, top, axis=1)
        r = np.repeat(np.arange(start, start + block.shape[0]), k)
        keep = sims.ravel() > min_similarity
        rows.append(r[keep])
        cols.append(top.ravel()[keep])
        vals.append(sims.ravel()[keep])
    if not rows:
        return sp.csr_matrix((nq, n), dtype=np.float32)
    out = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nq, n), dtype=np.float32
    )
    out.sort_indices()
    return out
