"""Build vector and lexical indexes from their config ``type``."""

from __future__ import annotations

import json
from pathlib import Path

from shelfwise.index.base import LexicalIndex
from shelfwise.index.lexical_bm25s import Bm25sLexicalIndex
from shelfwise.index.lexical_fields import LexicalIndexConfig
from shelfwise.index.lexical_tantivy import TantivyLexicalIndex
from shelfwise.index.vector_exact import ExactVectorIndex, VectorIndexConfig
from shelfwise.index.vector_faiss import FaissHnswVectorIndex
from shelfwise.index.vector_usearch import UsearchVectorIndex

#: ``VectorIndexConfig.type`` -> class. Adding a backend = one module, one line here, the contract tests.
VECTOR_INDEXES: dict[str, type[ExactVectorIndex]] = {
    "exact": ExactVectorIndex,
    "faiss-hnsw": FaissHnswVectorIndex,
    "usearch": UsearchVectorIndex,
}

#: ``LexicalIndexConfig.type`` -> class.
LEXICAL_INDEXES: dict[str, type[Bm25sLexicalIndex] | type[TantivyLexicalIndex]] = {
    "bm25s": Bm25sLexicalIndex,
    "tantivy": TantivyLexicalIndex,
}


def build_vector_index(dim: int, config: VectorIndexConfig | None = None) -> ExactVectorIndex:
    """An empty vector index of the configured type.

    Args:
        dim: vector width.
        config: settings (default: FAISS HNSW, exact below 20,000 items).
    """
    config = config or VectorIndexConfig()
    try:
        impl = VECTOR_INDEXES[config.type]
    except KeyError:
        raise ValueError(
            f"unknown vector index type {config.type!r}; expected one of {sorted(VECTOR_INDEXES)}"
        ) from None
    return impl(dim, config)


def build_lexical_index(config: LexicalIndexConfig | None = None) -> LexicalIndex:
    """An empty lexical index of the configured type."""
    config = config or LexicalIndexConfig()
    try:
        impl = LEXICAL_INDEXES[config.type]
    except KeyError:
        raise ValueError(
            f"unknown lexical index type {config.type!r}; expected one of {sorted(LEXICAL_INDEXES)}"
        ) from None
    return impl(config)


def load_lexical_index(directory: str | Path) -> LexicalIndex:
    """Open a saved lexical index of whichever type wrote it."""
    kind = json.loads((Path(directory) / "lexical.json").read_text())["kind"]
    return LEXICAL_INDEXES[kind].load(directory)


def load_vector_index(directory: str | Path) -> ExactVectorIndex:
    """Open a saved vector index of whichever type wrote it."""
    return ExactVectorIndex.load(directory)
