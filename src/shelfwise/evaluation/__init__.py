"""shelfwise.evaluation: offline evaluation harness (splits, metrics, full ranking, evaluation results).

Typical flow::

    split = LeaveOneOut().split(events)                       # frozen Split, leakage-checked
    data = RankingData.from_split(split)                      # dense ids, CSR matrices, targets
    model = ALS(factors=256).fit(data.train_valid)            # shelfwise.retrieval.baselines
    result = evaluate_ranking(model, data.test_users, data.test_targets,
                              data.train_valid[data.test_users], ["ndcg@10", "hr@10"])
    result.protocol.label()  # 'test, full ranking, history rankable, random ties (seed 0)'
"""

from __future__ import annotations

from shelfwise.evaluation.evaluate import EvaluationResult, ScoringModel, evaluate_ranking
from shelfwise.evaluation.interactions import IdIndex, RankingData, interaction_matrix, targets_by_user
from shelfwise.evaluation.metrics import (
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
    ranks_from_lists,
)
from shelfwise.evaluation.ranking import Protocol, RankResult, rank_targets, top_k_items
from shelfwise.evaluation.splits import ByQuery, GivenSplit, LeakageError, LeaveOneOut, Split, TemporalSplit

__all__ = [
    "AUC",
    "GAUC",
    "MAP",
    "MRR",
    "NDCG",
    "NOT_RANKED",
    "BrandExposure",
    "ByQuery",
    "CategoryILD",
    "ClassificationMetric",
    "Coverage",
    "EvaluationResult",
    "Gini",
    "GivenSplit",
    "HitRate",
    "IdIndex",
    "IntraListDiversity",
    "LeakageError",
    "LeaveOneOut",
    "ListMetric",
    "LogLoss",
    "Metric",
    "Miscalibration",
    "Novelty",
    "Protocol",
    "RankResult",
    "RankingData",
    "RankingMetric",
    "Recall",
    "ScoringModel",
    "Split",
    "TemporalSplit",
    "evaluate_ranking",
    "get_metric",
    "interaction_matrix",
    "rank_targets",
    "ranks_from_lists",
    "targets_by_user",
    "top_k_items",
]
