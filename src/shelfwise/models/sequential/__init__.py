"""Sequential recommender (SASRec family) whose item vectors start from pretrained text vectors.

Torch is imported only when a model is built, trained or loaded (``pip install 'shelfwise[encoders]'``).

Example:
    >>> from shelfwise.models.sequential import SequentialConfig
    >>> SequentialConfig().label
    'sasrec[text+id]'
"""

from __future__ import annotations

from shelfwise.models.sequential.config import AugmentConfig, SequentialConfig
from shelfwise.models.sequential.data import (
    SequenceBatcher,
    pad_left,
    sequences_from_split,
    sequences_from_table,
)
from shelfwise.models.sequential.pipeline import (
    ARTIFACT_NAME,
    load_artifact,
    save_artifact,
    sequence_events,
    train_from_tables,
)
from shelfwise.models.sequential.recommender import SequentialHit, SequentialRecommender
from shelfwise.models.sequential.text import item_text_vectors, item_texts, items_in_order
from shelfwise.models.sequential.train import (
    EpochLog,
    TrainReport,
    ValidationSet,
    fit_on_split,
    train_sequential,
)

__all__ = [
    "ARTIFACT_NAME",
    "AugmentConfig",
    "EpochLog",
    "SequenceBatcher",
    "SequentialConfig",
    "SequentialHit",
    "SequentialRecommender",
    "TrainReport",
    "ValidationSet",
    "fit_on_split",
    "item_text_vectors",
    "item_texts",
    "items_in_order",
    "load_artifact",
    "pad_left",
    "save_artifact",
    "sequence_events",
    "sequences_from_split",
    "sequences_from_table",
    "train_from_tables",
    "train_sequential",
]
