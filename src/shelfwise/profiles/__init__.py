"""User profiles (用户画像) and segments, built in batch and updated live from each event.

Typical use::

    catalog = ItemCatalog.from_items(store.read_items(), item_vectors, vector_item_ids)
    svc = ProfileService(catalog, ProfileConfig())
    svc.rebuild_from_store(store)                       # batch build (vectorised)
    svc.fit_segments()                                  # K-means, k by silhouette, labels
    svc.apply_event("u1", "i9", "purchase", ts)         # online, O(1)
    svc.profile_json("u1")                              # readable, with explanations
    svc.flush(store)                                    # persist changed profiles

See :mod:`shelfwise.profiles.state` for the incremental state, :mod:`~shelfwise.profiles.builder` for the
batch build that equals replay, and :mod:`~shelfwise.profiles.retriever` for the profile as a model.
"""

from __future__ import annotations

from shelfwise.profiles.builder import build_states, replay_states, review_signals_from_dataset
from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.churn import ChurnModel, churn_features, training_data
from shelfwise.profiles.config import ChurnConfig, ProfileConfig, SegmentConfig
from shelfwise.profiles.explain import explain, profile_json, summary
from shelfwise.profiles.retriever import ProfileRetriever
from shelfwise.profiles.reviews import ReviewSignal, analyse_review
from shelfwise.profiles.segment_labels import label_segments
from shelfwise.profiles.segments import SegmentModel, fit_segments, segment_features
from shelfwise.profiles.service import ColdStartContext, ProfileService
from shelfwise.profiles.state import ProfileEvent, ProfileUpdater, UserState
from shelfwise.profiles.store import load_states, save_states
from shelfwise.profiles.view import ProfileReader, UserProfile

__all__ = [
    "ChurnConfig",
    "ChurnModel",
    "ColdStartContext",
    "ItemCatalog",
    "ProfileConfig",
    "ProfileEvent",
    "ProfileReader",
    "ProfileRetriever",
    "ProfileService",
    "ProfileUpdater",
    "ReviewSignal",
    "SegmentConfig",
    "SegmentModel",
    "UserProfile",
    "UserState",
    "analyse_review",
    "build_states",
    "churn_features",
    "explain",
    "fit_segments",
    "label_segments",
    "load_states",
    "profile_json",
    "replay_states",
    "review_signals_from_dataset",
    "save_states",
    "segment_features",
    "summary",
    "training_data",
]
