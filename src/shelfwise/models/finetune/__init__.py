"""The pretrained text encoder fine-tuned with LoRA on the shop's behaviour (a two-tower model).

A shared tower maps a text rendering of the shopper's recent history and the next item's text to unit
vectors; LoRA adapters are trained contrastively on (history -> next item) pairs with in-batch negatives
and early stopping on validation. :class:`TwoTowerTextSource` serves it as the ``lora_text`` candidate
source; with ``train=False`` it is the frozen-encoder baseline ``frozen_text``.

Torch, transformers and peft are imported only when a tower is built (``pip install 'shelfwise[finetune]'``).

Example:
    >>> from shelfwise.models.finetune import FinetuneConfig
    >>> FinetuneConfig(train=False).train
    False
"""

from __future__ import annotations

from shelfwise.models.finetune.config import FinetuneConfig, LoraSettings, RenderConfig
from shelfwise.models.finetune.data import PairSampler
from shelfwise.models.finetune.source import TwoTowerTextSource
from shelfwise.models.finetune.text import HistoryRenderer, item_documents, item_labels
from shelfwise.models.finetune.tower import TextTower, TowerEncoder
from shelfwise.models.finetune.train import TrainReport, train_tower, validation_ndcg

__all__ = [
    "FinetuneConfig",
    "HistoryRenderer",
    "LoraSettings",
    "PairSampler",
    "RenderConfig",
    "TextTower",
    "TowerEncoder",
    "TrainReport",
    "TwoTowerTextSource",
    "item_documents",
    "item_labels",
    "train_tower",
    "validation_ndcg",
]
