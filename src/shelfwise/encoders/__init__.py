"""Item understanding: text encoders, item text, image encoders, features, learned fusion, embedding cache.

Heavy libraries (torch, sentence-transformers, onnxruntime, transformers, Pillow) are imported only by the
backend that needs them; a missing one raises an error naming ``pip install 'shelfwise[encoders]'``.
"""

from __future__ import annotations

from shelfwise.encoders._optional import MissingDependencyError
from shelfwise.encoders.base import DEFAULT_MODEL, Encoder, EncoderConfig, normalize_rows
from shelfwise.encoders.cache import CachedEncoder, EmbeddingCache
from shelfwise.encoders.features import FeatureBatch, FeatureConfig, ItemFeaturizer
from shelfwise.encoders.fusion import FusionConfig, FusionProjection, pairs_from_sequences
from shelfwise.encoders.image import ImageEncoder, ImageEncoderConfig, build_image_encoder
from shelfwise.encoders.item_text import ItemTextConfig, ItemTextTemplate
from shelfwise.encoders.item_vectors import encode_items
from shelfwise.encoders.registry import ENCODERS, build_encoder

__all__ = [
    "DEFAULT_MODEL",
    "ENCODERS",
    "CachedEncoder",
    "EmbeddingCache",
    "Encoder",
    "EncoderConfig",
    "FeatureBatch",
    "FeatureConfig",
    "FusionConfig",
    "FusionProjection",
    "ImageEncoder",
    "ImageEncoderConfig",
    "ItemFeaturizer",
    "ItemTextConfig",
    "ItemTextTemplate",
    "MissingDependencyError",
    "build_encoder",
    "build_image_encoder",
    "encode_items",
    "normalize_rows",
    "pairs_from_sequences",
]
