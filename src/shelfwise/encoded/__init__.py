"""shelfwise.encoded: a shop's events as every model trains on them (dense ids, splits, matrices).

The layer between the store and the models (DESIGN.md, "Who owns which state"): it reads the store and
imports nothing above it; retrieval, ranking, models, recommend and the evaluation harness all build on it.

Typical flow::

    split = LeaveOneOut().split(events)            # frozen Split, leakage-checked
    data = RankingData.from_split(split)           # IdIndex per side, CSR matrices, held-out targets
    rec = load_recommend_data(store, "leave-one-out")  # the same from a store, plus sequences and items
"""

from __future__ import annotations

from shelfwise.encoded.data import (
    SPLITS,
    Part,
    RecommendData,
    SplitName,
    aligned_vectors,
    build_split,
    load_recommend_data,
    ordered_events,
)
from shelfwise.encoded.interactions import IdIndex, RankingData, interaction_matrix, targets_by_user
from shelfwise.encoded.judgements import gains_from_judgements, merged_judgements
from shelfwise.encoded.splits import ByQuery, GivenSplit, LeakageError, LeaveOneOut, Split, TemporalSplit

__all__ = [
    "SPLITS",
    "ByQuery",
    "GivenSplit",
    "IdIndex",
    "LeakageError",
    "LeaveOneOut",
    "Part",
    "RankingData",
    "RecommendData",
    "Split",
    "SplitName",
    "TemporalSplit",
    "aligned_vectors",
    "build_split",
    "gains_from_judgements",
    "interaction_matrix",
    "load_recommend_data",
    "merged_judgements",
    "ordered_events",
    "targets_by_user",
]
