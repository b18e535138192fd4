"""shelfwise.ranking: features of (user, candidate, context), LightGBM rankers, ensembles, conversion models.

The stage between the candidate sources and the re-ranker::

    view = validation_view(data)                       # train-period data; valid events = labels
    for s in sources: s.fit(view)
    requests = generate_requests(sources, contexts_for(view, view.ranking.test_users),
                                 view.ranking.test_targets, k=200)
    ranker = Ranker(RankerConfig()).fit_requests(requests, fit_state(view))
    pipeline = RankedPipeline(sources, ranker).fit(data)   # sources refitted on train + valid
    ranker.state = fit_state(data)
    # or all of the above in one call: pipeline = fit_ranked_pipeline(data, make_sources, RankerConfig())
    pipeline.candidates(context, k=10)                 # serving; pipeline.score_all(...) for the harness
    ranker.rank(context, merged)                       # order + per-feature contributions

See :mod:`~shelfwise.ranking.features` for the features, :mod:`~shelfwise.ranking.ensemble` for the weighted
and stacked ensembles, :mod:`~shelfwise.ranking.multi_objective` for expected-value ordering and
:mod:`~shelfwise.ranking.conversion` for the purchase-prediction experiment.
"""

from __future__ import annotations

from shelfwise.ranking.affinity import UserAffinity
from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.ranking.config import (
    FEATURE_GROUPS,
    ConversionConfig,
    EnsembleConfig,
    FeatureConfig,
    LGBMConfig,
    MultiObjectiveConfig,
    RankerConfig,
)
from shelfwise.ranking.dataset import (
    RankingFrame,
    RequestSet,
    build_frame,
    contexts_for,
    fit_state,
    generate_requests,
    validation_view,
)
from shelfwise.ranking.ensemble import WeightedEnsemble, grouped_ndcg, stacked_config
from shelfwise.ranking.events import EventBatch, StateEvent
from shelfwise.ranking.features import Feature, FeatureRequest, FeatureSet
from shelfwise.ranking.lgbm import LGBMModel
from shelfwise.ranking.merge import MergedCandidates, merge_candidates
from shelfwise.ranking.multi_objective import ExpectedValueRanker, item_values
from shelfwise.ranking.pipeline import FLOOR, HarnessModel, MergedScorer, RankedPipeline, candidate_rows
from shelfwise.ranking.ranker import RankedList, Ranker
from shelfwise.ranking.sources import RecommenderSource, history_matrix, top_k_candidates
from shelfwise.ranking.state import FeatureState, ItemStats
from shelfwise.ranking.training import baseline_sources, fit_ranked_pipeline

__all__ = [
    "FEATURE_GROUPS",
    "FLOOR",
    "ConversionConfig",
    "EnsembleConfig",
    "EventBatch",
    "ExpectedValueRanker",
    "Feature",
    "FeatureConfig",
    "FeatureRequest",
    "FeatureSet",
    "FeatureState",
    "HarnessModel",
    "ItemAttributes",
    "ItemStats",
    "LGBMConfig",
    "LGBMModel",
    "MergedCandidates",
    "MergedScorer",
    "MultiObjectiveConfig",
    "RankedList",
    "RankedPipeline",
    "Ranker",
    "RankerConfig",
    "RankingFrame",
    "RecommenderSource",
    "RequestSet",
    "StateEvent",
    "UserAffinity",
    "WeightedEnsemble",
    "baseline_sources",
    "build_frame",
    "candidate_rows",
    "contexts_for",
    "fit_ranked_pipeline",
    "fit_state",
    "generate_requests",
    "grouped_ndcg",
    "history_matrix",
    "item_values",
    "merge_candidates",
    "stacked_config",
    "top_k_candidates",
    "validation_view",
]
