"""Plain sentence-transformers (PyTorch) encoder: the reference the fast paths are measured against."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.encoders._optional import require
from shelfwise.encoders.base import Encoder, EncoderConfig, TextKind, model_fingerprint, resolve_model_path

logger = logging.getLogger(__name__)


def load_sentence_transformer(model: str, device: str = "cpu") -> Any:
    """Load a ``SentenceTransformer`` by name or path, offline when the model is local.

    Args:
        model: name or directory (the default name maps to the bundled all-MiniLM-L6-v2).
        device: torch device.

    Returns:
        The loaded ``sentence_transformers.SentenceTransformer``.
    """
    st = require("sentence_transformers")
    path = resolve_model_path(model)
    if Path(path).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logger.info("loading sentence-transformers model %s", path)
    return st.SentenceTransformer(path, device=device)


class SentenceTransformerEncoder(Encoder):
    """Encodes with ``SentenceTransformer.encode`` in fp32.

    Args:
        config: encoder settings (``type="sentence-transformers"``).
        model: an already loaded ``SentenceTransformer`` to reuse (tests share one per session).
    """

    def __init__(self, config: EncoderConfig | None = None, *, model: Any | None = None) -> None:
        self.config = config or EncoderConfig(type="sentence-transformers")
        if self.config.num_threads:
            torch = require("torch")
            torch.set_num_threads(self.config.num_threads)
        self.model = (
            model if model is not None else load_sentence_transformer(self.config.model, self.config.device)
        )
        self.model.max_seq_length = self.config.max_length
        self.batch_size = self.config.batch_size or 32
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        path = resolve_model_path(self.config.model)
        self.model_version = "st-" + model_fingerprint(
            path,
            {
                "backend": "sentence-transformers",
                "max_length": self.config.max_length,
                "query_prefix": self.config.query_prefix,
                "document_prefix": self.config.document_prefix,
            },
        )

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        prefix = self.config.query_prefix if kind == "query" else self.config.document_prefix
        if prefix:
            texts = [prefix + t for t in texts]
        out = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress and self.config.show_progress,
        )
        return np.asarray(out, dtype=np.float32)
