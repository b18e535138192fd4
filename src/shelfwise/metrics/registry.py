"""Evaluation metrics as objects: ``name``, ``k``, ``higher_is_better``, ``compute(...)``.

The metrics live in :mod:`~shelfwise.metrics.accuracy` (HR, Recall, NDCG, MRR, MAP, AUC, GAUC, log loss)
and :mod:`~shelfwise.metrics.beyond_accuracy` (coverage, ILD, novelty, Gini, miscalibration, brand
exposure); this module is the one place to import them from, and builds them from names.

Example:
    >>> import numpy as np
    >>> ranks = np.array([1, 3, 20])  # 1-based rank of each user's held-out item
    >>> [round(get_metric(n).compute(ranks), 4) for n in ("hr@10", "ndcg@10", "mrr@10")]
    [0.6667, 0.5, 0.4444]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shelfwise.metrics.accuracy import AUC, GAUC, MAP, MRR, NDCG, HitRate, LogLoss, Recall, grouped_auc
from shelfwise.metrics.base import (
    NOT_RANKED,
    ClassificationMetric,
    ListMetric,
    Metric,
    RankingMetric,
)
from shelfwise.metrics.beyond_accuracy import (
    BrandExposure,
    CategoryILD,
    Coverage,
    Gini,
    IntraListDiversity,
    Miscalibration,
    Novelty,
    gini_coefficient,
)
from shelfwise.metrics.fairness import (
    BrandExposureVsRelevance,
    GiniBrandExposure,
    GiniItemExposure,
    LongTailShare,
)

__all__ = [
    "AUC",
    "GAUC",
    "MAP",
    "MRR",
    "NDCG",
    "NOT_RANKED",
    "BrandExposure",
    "BrandExposureVsRelevance",
    "CategoryILD",
    "ClassificationMetric",
    "Coverage",
    "Gini",
    "GiniBrandExposure",
    "GiniItemExposure",
    "HitRate",
    "IntraListDiversity",
    "ListMetric",
    "LogLoss",
    "LongTailShare",
    "Metric",
    "Miscalibration",
    "Novelty",
    "RankingMetric",
    "Recall",
    "get_metric",
    "gini_coefficient",
    "grouped_auc",
    "ranks_from_lists",
]

_BY_NAME: dict[str, type[Metric]] = {
    cls.base_name: cls
    for cls in (
        HitRate,
        Recall,
        NDCG,
        MRR,
        MAP,
        AUC,
        GAUC,
        LogLoss,
        Coverage,
        IntraListDiversity,
        CategoryILD,
        Novelty,
        Gini,
        Miscalibration,
        BrandExposure,
        GiniItemExposure,
        GiniBrandExposure,
        BrandExposureVsRelevance,
        LongTailShare,
    )
}


def get_metric(name: str, **side_info: Any) -> Metric:
    """Build a metric from its name, e.g. ``"ndcg@10"``, ``"auc"``, ``"coverage@20"``.

    Args:
        name: ``base`` or ``base@k`` (case-insensitive); bases: hr, recall, ndcg, mrr, map, auc, gauc,
            logloss, coverage, ild, ild_category, novelty, gini, miscalibration, brand_exposure,
            gini_item_exposure, gini_brand_exposure, brand_exposure_vs_relevance, long_tail_share.
        **side_info: constructor arguments of list metrics (``n_items``, ``embeddings``, ``categories``,
            ``item_counts``, ``brands``, ``alpha``).

    Raises:
        ValueError: for an unknown name, or a cut-off on a metric without one.
    """
    base, _, k_text = name.strip().lower().partition("@")
    cls = _BY_NAME.get(base)
    if cls is None:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(sorted(_BY_NAME))}")
    if issubclass(cls, ClassificationMetric):
        if k_text:
            raise ValueError(f"{base} takes no cut-off")
        return cls(**side_info)
    if k_text and not k_text.isdigit():
        raise ValueError(f"bad cut-off in {name!r}")
    k = int(k_text) if k_text else 10
    return cls(k=k, **side_info)


def ranks_from_lists(top_items: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Ranks of relevant items in truncated recommendation lists (the input of :class:`RankingMetric`).

    Args:
        top_items: ``(n_users, L)`` item indices in rank order, ``-1`` padded.
        relevant: ``(n_users,)`` or ``(n_users, m)`` relevant item indices, ``-1`` padded.

    Returns:
        int64 array shaped like ``relevant``: the 1-based position in the list, :data:`NOT_RANKED` when the
        item is not in the list, ``0`` for a padding slot.
    """
    top = np.asarray(top_items, dtype=np.int64)
    rel = np.asarray(relevant, dtype=np.int64)
    rel2 = rel[:, None] if rel.ndim == 1 else rel
    match = (top[:, None, :] == rel2[:, :, None]) & (rel2[:, :, None] >= 0)
    found = match.any(axis=2)
    ranks = np.where(found, match.argmax(axis=2) + 1, NOT_RANKED)
    ranks = np.where(rel2 < 0, 0, ranks)
    return ranks.reshape(rel.shape)
