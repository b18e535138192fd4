"""Full-ranking evaluation: the rank of each held-out item among all items, ties broken randomly.

For user ``u`` with score vector ``s`` (float32, one score per item) and target item ``t``::

    rank = 1 + #{i : s_i > s_t} + U,   U ~ uniform integer on [0, T],   T = #{i != t : s_i == s_t}

i.e. the target takes a uniformly random position among the items tied with it. ``U`` is drawn with a
fixed seed as ``floor(u * (T + 1))`` from one uniform ``u`` per (user, target) drawn up front, so results
do not depend on the batch size. Ties are never broken by item id: an id order puts the target first or
last among its ties depending on how ids were assigned (BENCHMARKS.md: up to ~20% NDCG inflation).
When several targets of one user share a score they take distinct random positions in their tie group.

Protocol options, recorded in every result as a :class:`Protocol`:

* ``exclude_history`` (default ``False``): the user's history items are set to ``-inf`` (the target
  itself stays rankable). The default leaves history rankable, the convention of published tables.
* ``sampled=N``: rank the target among ``N`` negatives drawn uniformly without replacement from the items
  that are neither the target nor (with ``exclude_history``) in the history. Only when asked; numbers
  under it are not comparable with full ranking.

Scores are produced and ranked in user batches, so a ``(n_users, n_items)`` matrix never exists.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from shelfwise.metrics.base import RankingMetric

__all__ = [
    "Protocol",
    "RankResult",
    "ScoreFn",
    "rank_targets",
    "ranks_in_batch",
    "sample_negatives",
    "top_k_items",
]

log = logging.getLogger(__name__)

#: ``score_fn(user_indices int32 (b,), history CSR (b, n_items) | None) -> float32 (b, n_items)``.
ScoreFn = Callable[[np.ndarray, "sp.csr_matrix | None"], np.ndarray]


@dataclass(frozen=True)
class Protocol:
    """How a ranking result was measured. Two results are comparable only if their protocols are equal.

    Attributes:
        split: which held-out part was ranked (e.g. ``"test"``, ``"valid"``).
        ranking: ``"full"`` or ``"sampled:N"``.
        history: ``"rankable"`` (default protocol) or ``"excluded"`` (history items masked).
        tie_break_seed: seed of the random tie-break.
    """

    split: str
    ranking: str = "full"
    history: Literal["rankable", "excluded"] = "rankable"
    tie_break_seed: int = 0

    def label(self) -> str:
        """One-line description, e.g. ``"test, full ranking, history rankable, random ties (seed 0)"``."""
        ranking = "full ranking" if self.ranking == "full" else f"{self.ranking} ranking"
        return f"{self.split}, {ranking}, history {self.history}, random ties (seed {self.tie_break_seed})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class RankResult:
    """Ranks of held-out items.

    Attributes:
        ranks: int64, shaped like the targets given: the 1-based rank of each target, 0 for padding.
        users: int32 user indices, one per row of ``ranks``.
        protocol: how the ranks were measured.
        n_candidates: items each target was ranked against (``n_items`` for full ranking, ``N + 1``
            for sampled).
        score_seconds: wall time spent in the scoring function.
        rank_seconds: wall time spent ranking (masking, counting, tie-breaking).
    """

    ranks: np.ndarray
    users: np.ndarray
    protocol: Protocol
    n_candidates: int
    score_seconds: float
    rank_seconds: float

    def evaluate(self, metrics: list[RankingMetric]) -> dict[str, float]:
        """``{metric.name: value}`` of each ranking metric over these ranks."""
        return {m.name: m.compute(self.ranks) for m in metrics}


def ranks_in_batch(
    scores: np.ndarray, targets: np.ndarray, uniforms: np.ndarray, collision_seeds: np.ndarray | None = None
) -> np.ndarray:
    """Exact ranks of targets in one batch of score rows, ties broken by the given uniforms.

    Args:
        scores: ``(b, n)`` scores (``-inf`` allowed, NaN not).
        targets: ``(b, m)`` target columns of ``scores``, ``-1`` padding; distinct within a row.
        uniforms: ``(b, m)`` uniforms in ``[0, 1)``, one per target.
        collision_seeds: ``(b,)`` seeds for rows where targets share a score (default: the row number).

    Returns:
        ``(b, m)`` int64 ranks (1-based; 0 for padding).
    """
    b, m = targets.shape
    valid = targets >= 0
    rows = np.arange(b)
    safe = np.where(valid, targets, 0)
    target_scores = scores[rows[:, None], safe]
    if np.isnan(target_scores[valid]).any():
        raise ValueError("a target has a NaN score")
    greater = np.zeros((b, m), dtype=np.int64)
    tied = np.zeros((b, m), dtype=np.int64)  # including the target itself
    for j in range(m):
        s = target_scores[:, j : j + 1]
        greater[:, j] = (scores > s).sum(axis=1)
        tied[:, j] = (scores == s).sum(axis=1)
    offset = np.floor(uniforms * tied).astype(np.int64)
    ranks = np.where(valid, 1 + greater + offset, 0)
    if m > 1:
        same = (
            (target_scores[:, :, None] == target_scores[:, None, :]) & valid[:, :, None] & valid[:, None, :]
        )
        shared_rows = np.flatnonzero(same.sum(axis=(1, 2)) > valid.sum(axis=1))
        for r in shared_rows:
            seed = int(collision_seeds[r]) if collision_seeds is not None else int(r)
            rng = np.random.default_rng([seed, 7])
            cols = np.flatnonzero(valid[r])
            for value in np.unique(target_scores[r, cols]):
                group = cols[target_scores[r, cols] == value]
                if group.size > 1:  # distinct random positions inside the tie group, in random order
                    picks = rng.choice(int(tied[r, group[0]]), size=group.size, replace=False)
                    ranks[r, group] = 1 + greater[r, group] + picks
    return ranks


def sample_negatives(n_items: int, n: int, forbidden: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct items drawn uniformly from ``range(n_items)`` minus the sorted-unique ``forbidden``."""
    free = n_items - forbidden.size
    if n > free:
        raise ValueError(f"cannot sample {n} negatives from {free} free items")
    pos = np.sort(rng.choice(free, size=n, replace=False))
    # map the p-th free slot to its item: skip every forbidden item at or before it
    return pos + np.searchsorted(forbidden - np.arange(forbidden.size), pos, side="right")


def rank_targets(
    scorer: ScoreFn | np.ndarray,
    users: np.ndarray,
    targets: np.ndarray,
    *,
    history: sp.csr_matrix | None = None,
    exclude_history: bool = False,
    sampled: int | None = None,
    tie_break_seed: int = 0,
    split: str = "test",
    batch_size: int = 1024,
) -> RankResult:
    """Rank each user's target item(s) against all items (or sampled negatives), in user batches.

    Args:
        scorer: a model's ``score(user_indices, history)`` (returns float32 ``(b, n_items)``), or a
            precomputed ``(len(users), n_items)`` score array aligned with ``users``.
        users: int user indices, shape ``(n,)``.
        targets: ``(n,)`` one target per user, or ``(n, m)`` several, ``-1`` padded (full ranking only).
        history: CSR ``(n, n_items)``: row ``i`` = what ``users[i]`` interacted with before the target.
            Passed to the scorer, and masked when ``exclude_history`` (the scorer's output array is
            then modified in place).
        exclude_history: set history items (except the targets) to ``-inf`` before ranking.
        sampled: rank among this many sampled negatives instead of all items.
        tie_break_seed: seed of the tie-break (and of negative sampling).
        split: name of the ranked part, recorded in the protocol.
        batch_size: users scored at once (memory ~ ``batch_size * n_items * 4`` bytes).

    Returns:
        The ranks with their :class:`Protocol`.
    """
    users = np.asarray(users, dtype=np.int32)
    tgt = np.asarray(targets, dtype=np.int64)
    tgt2 = tgt[:, None] if tgt.ndim == 1 else tgt
    n = users.shape[0]
    if tgt2.shape[0] != n:
        raise ValueError(f"{tgt2.shape[0]} target rows for {n} users")
    if history is not None and history.shape[0] != n:
        raise ValueError(f"history has {history.shape[0]} rows for {n} users")
    if exclude_history and history is None:
        raise ValueError("exclude_history needs the history matrix")
    srt = np.sort(np.where(tgt2 >= 0, tgt2, -1 - np.arange(tgt2.shape[1])), axis=1)
    if (np.diff(srt, axis=1) == 0).any():
        raise ValueError("a user's targets must be distinct items")
    if sampled is not None and (tgt2.shape[1] != 1 or (tgt2 < 0).any()):
        raise ValueError("sampled ranking needs exactly one target per user")
    protocol = Protocol(
        split=split,
        ranking="full" if sampled is None else f"sampled:{sampled}",
        history="excluded" if exclude_history else "rankable",
        tie_break_seed=tie_break_seed,
    )
    rng = np.random.default_rng(tie_break_seed)
    uniforms = rng.random(tgt2.shape)
    ranks = np.zeros(tgt2.shape, dtype=np.int64)
    score_s = rank_s = 0.0
    n_items = -1
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        hist = history[start:stop] if history is not None else None
        t0 = time.perf_counter()
        if isinstance(scorer, np.ndarray):
            scores = np.array(scorer[start:stop], dtype=np.float32)
        else:
            scores = np.asarray(scorer(users[start:stop], hist))
        t1 = time.perf_counter()
        score_s += t1 - t0
        n_items = scores.shape[1]
        bt = tgt2[start:stop]
        if (bt >= n_items).any():
            raise ValueError("target item index out of range")
        if exclude_history and hist is not None:
            scores = _mask_history(scores, hist, bt)
        if sampled is not None:
            scores, bt = _sampled_candidates(
                scores, bt, hist if exclude_history else None, sampled, tie_break_seed, np.arange(start, stop)
            )
        ranks[start:stop] = ranks_in_batch(scores, bt, uniforms[start:stop], np.arange(start, stop))
        rank_s += time.perf_counter() - t1
    log.debug("ranked %d users (%s): scoring %.2fs, ranking %.2fs", n, protocol.label(), score_s, rank_s)
    return RankResult(
        ranks=ranks.reshape(tgt.shape),
        users=users,
        protocol=protocol,
        n_candidates=n_items if sampled is None else sampled + 1,
        score_seconds=score_s,
        rank_seconds=rank_s,
    )


def _mask_history(scores: np.ndarray, hist: sp.csr_matrix, targets: np.ndarray) -> np.ndarray:
    """Scores with each row's history items at ``-inf``, the targets keeping their score."""
    if not scores.flags.writeable:
        scores = scores.copy()
    coo = hist.tocoo()
    rows = np.arange(targets.shape[0])[:, None]
    valid = targets >= 0
    keep = scores[rows, np.where(valid, targets, 0)]
    scores[coo.row, coo.col] = -np.inf
    scores[np.broadcast_to(rows, targets.shape)[valid], targets[valid]] = keep[valid]
    return scores


def _sampled_candidates(
    scores: np.ndarray,
    targets: np.ndarray,
    hist: sp.csr_matrix | None,
    n_neg: int,
    seed: int,
    positions: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the target's score in column 0 followed by the scores of ``n_neg`` sampled negatives."""
    b, n_items = scores.shape
    out = np.empty((b, n_neg + 1), dtype=scores.dtype)
    for r in range(b):
        forbidden = targets[r][targets[r] >= 0]
        if hist is not None:
            forbidden = np.union1d(forbidden, hist.indices[hist.indptr[r] : hist.indptr[r + 1]])
        rng = np.random.default_rng([seed, 1, int(positions[r])])
        neg = sample_negatives(n_items, n_neg, np.unique(forbidden), rng)
        out[r, 0] = scores[r, targets[r, 0]]
        out[r, 1:] = scores[r, neg]
    return out, np.zeros((b, 1), dtype=np.int64)


def top_k_items(
    scorer: ScoreFn | np.ndarray,
    users: np.ndarray,
    k: int,
    *,
    history: sp.csr_matrix | None = None,
    exclude_history: bool = False,
    tie_break_seed: int = 0,
    batch_size: int = 1024,
    scores_out: np.ndarray | None = None,
) -> np.ndarray:
    """Top-``k`` item lists (the input of list metrics), ties broken randomly with a fixed seed.

    Each row's float32 scores are moved up by a random amount below a quarter of their float32 spacing
    (in float64), which orders tied items uniformly at random without ever swapping two different
    float32 scores. Masked (``-inf``) items are returned as ``-1``.

    Args:
        scorer: as in :func:`rank_targets`.
        users: int user indices ``(n,)``.
        k: list length.
        history: CSR ``(n, n_items)`` aligned with ``users``.
        exclude_history: drop history items from the lists.
        tie_break_seed: seed of the tie-break (per user, independent of the batch size).
        batch_size: users scored at once.
        scores_out: optional float32 ``(n, k)`` array filled with the scores of the returned items (0 at
            ``-1`` padding), so callers needing both do not score twice.

    Returns:
        int32 ``(n, k)`` item indices in rank order, ``-1`` padded.
    """
    users = np.asarray(users, dtype=np.int32)
    n = users.shape[0]
    if exclude_history and history is None:
        raise ValueError("exclude_history needs the history matrix")
    out = np.full((n, k), -1, dtype=np.int32)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        hist = history[start:stop] if history is not None else None
        if isinstance(scorer, np.ndarray):
            scores = np.array(scorer[start:stop], dtype=np.float32)
        else:
            scores = np.asarray(scorer(users[start:stop], hist), dtype=np.float32)
        if exclude_history and hist is not None:
            scores = _mask_history(scores, hist, np.full((stop - start, 1), -1, dtype=np.int64))
        n_items = scores.shape[1]
        kk = min(k, n_items)
        noise = np.stack(
            [np.random.default_rng([tie_break_seed, 2, p]).random(n_items) for p in range(start, stop)]
        )
        ulp = np.where(np.isfinite(scores), np.abs(np.spacing(scores)), 0).astype(np.float64)
        keys = scores.astype(np.float64) + noise * 0.25 * ulp
        part = np.argpartition(-keys, kk - 1, axis=1)[:, :kk]
        part_keys = np.take_along_axis(keys, part, axis=1)
        order = np.argsort(-part_keys, axis=1, kind="stable")
        best = np.take_along_axis(part, order, axis=1)
        best_keys = np.take_along_axis(part_keys, order, axis=1)
        out[start:stop, :kk] = np.where(np.isneginf(best_keys), -1, best)
        if scores_out is not None:
            picked = np.take_along_axis(scores, best, axis=1)
            scores_out[start:stop, :kk] = np.where(np.isneginf(best_keys), 0.0, picked)
    return out
