"""shelfwise.metrics: metric objects, full ranking under a stated protocol, and one-call evaluation.

Pure numpy / scipy and importing nothing else of shelfwise, so a model can validate itself while training
(early stopping on NDCG@10) with exactly the code the evaluation harness reports with.

Example::

    result = evaluate_ranking(model, users, targets, history, ["ndcg@10", "hr@10"])
    result.protocol.label()  # 'test, full ranking, history rankable, random ties (seed 0)'
"""

from __future__ import annotations

from shelfwise.metrics.evaluate import EvaluationResult, ScoringModel, evaluate_ranking
from shelfwise.metrics.ranking import Protocol, RankResult, rank_targets, top_k_items
from shelfwise.metrics.registry import (
    AUC,
    GAUC,
    MAP,
    MRR,
    NDCG,
    NOT_RANKED,
    BrandExposure,
    CategoryILD,
    ClassificationMetric,
    Coverage,
    Gini,
    HitRate,
    IntraListDiversity,
    ListMetric,
    LogLoss,
    Metric,
    Miscalibration,
    Novelty,
    RankingMetric,
    Recall,
    get_metric,
    gini_coefficient,
    grouped_auc,
    ranks_from_lists,
)

__all__ = [
    "AUC",
    "GAUC",
    "MAP",
    "MRR",
    "NDCG",
    "NOT_RANKED",
    "BrandExposure",
    "CategoryILD",
    "ClassificationMetric",
    "Coverage",
    "EvaluationResult",
    "Gini",
    "HitRate",
    "IntraListDiversity",
    "ListMetric",
    "LogLoss",
    "Metric",
    "Miscalibration",
    "Novelty",
    "Protocol",
    "RankResult",
    "RankingMetric",
    "Recall",
    "ScoringModel",
    "evaluate_ranking",
    "get_metric",
    "gini_coefficient",
    "grouped_auc",
    "rank_targets",
    "ranks_from_lists",
    "top_k_items",
]
