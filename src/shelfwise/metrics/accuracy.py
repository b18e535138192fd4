"""Accuracy metrics: ranking (HR, Recall, NDCG, MRR, MAP at K) and classification (AUC, GAUC, log loss).

Ranking metrics take the ranks of relevant items (see :class:`~shelfwise.metrics.base.RankingMetric`
for the input convention). For user ``u`` with relevant items ``i`` of rank ``r_i`` (1-based) and gain ``g_i``,
``R`` = number of relevant items, ``hit_i = [r_i <= K]``:

* ``HR@K     = 1 if any hit_i``  (equals Recall@K when every user has one relevant item)
* ``Recall@K = sum_i hit_i / R``
* ``NDCG@K   = DCG@K / IDCG@K`` with ``DCG@K = sum_i hit_i * g_i / log2(r_i + 1)`` (linear gain, rank 1 has
  discount 1) and ``IDCG@K = sum_{j=1..min(K, R)} g_(j) / log2(j + 1)`` over gains sorted descending.
* ``MRR@K    = max_i hit_i / r_i``
* ``MAP@K``: ``AP@K = (1 / min(R, K)) * sum_{j: r_(j) <= K} j / r_(j)`` where ``r_(1) < r_(2) < ...`` are the
  sorted relevant ranks (``j / r_(j)`` is the precision at the j-th hit); binary relevance (gain > 0).

Every value is averaged over users having at least one relevant item.
"""

from __future__ import annotations

import numpy as np

from shelfwise.metrics.base import ClassificationMetric, RankingMetric

__all__ = ["AUC", "GAUC", "MAP", "MRR", "NDCG", "HitRate", "LogLoss", "Recall", "grouped_auc"]


def _hits(ranks: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    return relevant & (ranks <= k)


class HitRate(RankingMetric):
    """HR@K: share of users with at least one relevant item in the top K."""

    base_name = "hr"

    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        return np.asarray(_hits(ranks, relevant, self.k).any(axis=1), dtype=np.float64)


class Recall(RankingMetric):
    """Recall@K: share of a user's relevant items found in the top K (denominator: all relevant items)."""

    base_name = "recall"

    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        n_rel = relevant.sum(axis=1)
        return np.asarray(_hits(ranks, relevant, self.k).sum(axis=1) / np.maximum(n_rel, 1), dtype=np.float64)


class NDCG(RankingMetric):
    """NDCG@K with linear gains and a ``log2(rank + 1)`` discount (binary or graded relevance)."""

    base_name = "ndcg"

    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        hits = _hits(ranks, relevant, self.k)
        safe_rank = np.where(hits, ranks, 1).astype(np.float64)
        dcg = np.where(hits, gains / np.log2(safe_rank + 1.0), 0.0).sum(axis=1)
        ideal = -np.sort(-np.where(relevant, gains, 0.0), axis=1)[:, : self.k]
        discounts = 1.0 / np.log2(np.arange(2, ideal.shape[1] + 2, dtype=np.float64))
        idcg = (ideal * discounts).sum(axis=1)
        return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


class MRR(RankingMetric):
    """MRR@K: reciprocal rank of the first relevant item, 0 when it is below K."""

    base_name = "mrr"

    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        hits = _hits(ranks, relevant, self.k)
        safe_rank = np.where(hits, ranks, 1).astype(np.float64)
        return np.where(hits, 1.0 / safe_rank, 0.0).max(axis=1)


class MAP(RankingMetric):
    """MAP@K: mean over users of average precision at K, normalised by ``min(R, K)``."""

    base_name = "map"

    def _per_user(self, ranks: np.ndarray, gains: np.ndarray, relevant: np.ndarray) -> np.ndarray:
        big = np.iinfo(np.int64).max
        srt = np.sort(np.where(relevant, ranks, big), axis=1)
        hits = srt <= self.k
        j = np.arange(1, srt.shape[1] + 1, dtype=np.float64)[None, :]
        precision = np.where(hits, j / np.where(hits, srt, 1).astype(np.float64), 0.0)
        denom = np.minimum(relevant.sum(axis=1), self.k)
        return precision.sum(axis=1) / np.maximum(denom, 1)


def grouped_auc(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUC of every group (Mann-Whitney U with tied scores counting one half), fully vectorised.

    Args:
        labels: 0/1 labels, shape ``(n,)``.
        scores: predicted scores, shape ``(n,)``.
        groups: group key of each prediction, shape ``(n,)``.

    Returns:
        ``(auc, n_pos, n_neg)`` per group in the order of ``np.unique(groups)``; ``auc`` is NaN for a group
        lacking one of the classes.
    """
    y = np.asarray(labels).astype(np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {s.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    _, g = np.unique(np.asarray(groups).ravel(), return_inverse=True)
    n = y.size
    order = np.lexsort((s, g))
    gs, ss, ys = g[order], s[order], y[order]
    pos = np.arange(n)
    # blocks of equal (group, score): every member gets the average position of its block (tie = 1/2)
    new_block = np.ones(n, dtype=bool)
    new_block[1:] = (gs[1:] != gs[:-1]) | (ss[1:] != ss[:-1])
    block = np.cumsum(new_block) - 1
    starts = pos[new_block]
    ends = np.append(starts[1:], n) - 1
    avg_pos = (starts[block] + ends[block]) / 2.0
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = gs[1:] != gs[:-1]
    group_start = pos[new_group][np.cumsum(new_group) - 1]
    rank_in_group = avg_pos - group_start + 1.0
    n_groups = int(gs.max()) + 1 if n else 0
    n_pos = np.bincount(gs, weights=ys, minlength=n_groups)
    n_all = np.bincount(gs, minlength=n_groups).astype(np.float64)
    n_neg = n_all - n_pos
    rank_sum = np.bincount(gs, weights=rank_in_group * ys, minlength=n_groups)
    denom = n_pos * n_neg
    auc = np.full(n_groups, np.nan)
    ok = denom > 0
    auc[ok] = (rank_sum[ok] - n_pos[ok] * (n_pos[ok] + 1) / 2.0) / denom[ok]
    return auc, n_pos, n_neg


class AUC(ClassificationMetric):
    """Area under the ROC curve over all predictions (ties count one half)."""

    base_name = "auc"

    def compute(self, labels: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None) -> float:
        auc, _, _ = grouped_auc(labels, scores, np.zeros(np.asarray(labels).size, dtype=np.int64))
        return float(auc[0]) if auc.size else float("nan")


class GAUC(ClassificationMetric):
    """Group AUC: per-group AUC averaged with weight = the group's number of impressions.

    Only groups with both a positive and a negative count (``sum_g w_g AUC_g / sum_g w_g`` over those).
    """

    base_name = "gauc"

    def compute(self, labels: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None) -> float:
        if groups is None:
            raise ValueError("gauc needs groups (e.g. the user of each impression)")
        auc, n_pos, n_neg = grouped_auc(labels, scores, groups)
        ok = ~np.isnan(auc)
        if not ok.any():
            return float("nan")
        weights = (n_pos + n_neg)[ok]
        return float((auc[ok] * weights).sum() / weights.sum())


class LogLoss(ClassificationMetric):
    """Mean binary cross-entropy in nats: ``-mean(y ln p + (1 - y) ln(1 - p))``, ``p`` clipped to ``[eps, 1-eps]``."""

    base_name = "logloss"
    higher_is_better = False

    def __init__(self, eps: float = 1e-15) -> None:
        super().__init__()
        self.eps = eps

    def compute(self, labels: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None) -> float:
        y = np.asarray(labels, dtype=np.float64).ravel()
        p = np.clip(np.asarray(scores, dtype=np.float64).ravel(), self.eps, 1.0 - self.eps)
        if y.shape != p.shape:
            raise ValueError(f"labels and scores differ in length: {y.shape} vs {p.shape}")
        if y.size == 0:
            return float("nan")
        return float(-(y * np.log(p) + (1.0 - y) * np.log1p(-p)).mean())
