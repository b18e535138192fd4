"""shelfwise.rerank: the last stage — business rules, diversity, calibration, exploration, explanations.

Typical use::

    pipeline = RerankPipeline(RerankConfig(method="dpp", diversity=0.3, caps=CapsConfig(max_per_brand=2)))
    ranked = pipeline.rerank(CandidateList(items, scores, catalog, UserContext(history=hist), sources))
    reasons = [(r.position, r.item, r.reason) for r in ranked]   # e.g. 'Similar to "X" you viewed; added for variety'

The knob ``diversity`` (0 = relevance, 1 = maximal diversity) maps onto each method's own trade-off
(see :mod:`shelfwise.rerank.config`); ``relevance="rank"`` scales relevance by rank, and ``coverage``
adds an exposure-across-shoppers term (:class:`ExposureCounter`). For offline sweeps, :func:`rerank_top_items` re-ranks a batch of
candidate lists into the ``(n_users, k)`` array the evaluation harness's list metrics take.
"""

from __future__ import annotations

from shelfwise.rerank.base import (
    SOURCE_KINDS,
    CandidateList,
    ItemCatalog,
    QueryFilter,
    RankedItem,
    RankedList,
    RemovedItem,
    Reranker,
    SourceHit,
    SourceKind,
    UserContext,
)
from shelfwise.rerank.batch import rerank_top_items
from shelfwise.rerank.calibration import CalibratedGreedy, kl_miscalibration
from shelfwise.rerank.config import CapsConfig, ExplorationConfig, Method, RerankConfig, RuleConfig
from shelfwise.rerank.dpp import DPP
from shelfwise.rerank.exploration import ExplorationPick, Explorer
from shelfwise.rerank.exposure import CoverageGreedy, ExposureCounter
from shelfwise.rerank.greedy import Diversifier, RelevanceOrder, Selection, SelectionProblem
from shelfwise.rerank.mmr import MMR
from shelfwise.rerank.pipeline import RerankPipeline, normalise_scores, scale_relevance
from shelfwise.rerank.quotas import SlotConstraints, XQuAD
from shelfwise.rerank.registry import DIVERSIFIERS, build_diversifier
from shelfwise.rerank.rules import apply_rules

__all__ = [
    "DIVERSIFIERS",
    "DPP",
    "MMR",
    "SOURCE_KINDS",
    "CalibratedGreedy",
    "CandidateList",
    "CapsConfig",
    "CoverageGreedy",
    "Diversifier",
    "ExplorationConfig",
    "ExplorationPick",
    "Explorer",
    "ExposureCounter",
    "ItemCatalog",
    "Method",
    "QueryFilter",
    "RankedItem",
    "RankedList",
    "RelevanceOrder",
    "RemovedItem",
    "RerankConfig",
    "RerankPipeline",
    "Reranker",
    "RuleConfig",
    "Selection",
    "SelectionProblem",
    "SlotConstraints",
    "SourceHit",
    "SourceKind",
    "UserContext",
    "XQuAD",
    "apply_rules",
    "build_diversifier",
    "kl_miscalibration",
    "normalise_scores",
    "rerank_top_items",
    "scale_relevance",
]
