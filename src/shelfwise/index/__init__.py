"""Vector and lexical indexes behind one interface each, with metadata filters and save/load.

Backends (FAISS, usearch, bm25s, tantivy, jieba, PyStemmer) are imported when an index of that type is
created; a missing one raises an error naming ``pip install 'shelfwise[index]'``.
"""

from __future__ import annotations

from shelfwise.index._optional import MissingDependencyError
from shelfwise.index.base import Hit, LexicalIndex, SearchFilter, SearchResults, VectorIndex
from shelfwise.index.lexical_fields import FIELDS, LexicalIndexConfig
from shelfwise.index.registry import (
    LEXICAL_INDEXES,
    VECTOR_INDEXES,
    build_lexical_index,
    build_vector_index,
    load_lexical_index,
    load_vector_index,
)
from shelfwise.index.tokenize import Tokenizer, TokenizerConfig
from shelfwise.index.vector_exact import VectorIndexConfig

__all__ = [
    "FIELDS",
    "LEXICAL_INDEXES",
    "VECTOR_INDEXES",
    "Hit",
    "LexicalIndex",
    "LexicalIndexConfig",
    "MissingDependencyError",
    "SearchFilter",
    "SearchResults",
    "Tokenizer",
    "TokenizerConfig",
    "VectorIndex",
    "VectorIndexConfig",
    "build_lexical_index",
    "build_vector_index",
    "load_lexical_index",
    "load_vector_index",
]
