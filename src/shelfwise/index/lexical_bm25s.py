"""Lexical index on bm25s: one sparse BM25 matrix per field, scores summed with field weights.

bm25s has no incremental insert: added items are kept (their field texts and tokens) and the matrices
are rebuilt lazily at the next search (seconds per 100,000 items); deletes only flip a mask.
Filters become a mask over rows. Saved as ``lexical.json`` + ``fields.json`` (texts, for rebuilds),
metadata ``.npy`` files and one bm25s directory per field (its own JSON + ``.npy``; no pickle).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.index._optional import require
from shelfwise.index.base import LexicalIndex, SearchFilter, SearchResults, top_k
from shelfwise.index.lexical_fields import LexicalIndexConfig, item_fields
from shelfwise.index.metadata import ItemMetadata
from shelfwise.index.tokenize import Tokenizer

logger = logging.getLogger(__name__)

_FORMAT = 1


class Bm25sLexicalIndex(LexicalIndex):
    """Multi-field BM25 with bm25s.

    Args:
        config: settings.
    """

    kind = "bm25s"

    def __init__(self, config: LexicalIndexConfig | None = None) -> None:
        self.config = config or LexicalIndexConfig(type="bm25s")
        self._bm25s = require("bm25s")
        self.tokenizer = Tokenizer(self.config.tokenizer)
        self.fields = self.config.active_fields()
        self.meta = ItemMetadata()
        self._texts: dict[str, list[str]] = {f: [] for f in self.fields}
        self._tokens: dict[str, list[list[str]]] = {
            f: [] for f in self.fields
        }  # cache: rebuilds skip tokenising
        self._models: dict[str, Any] = {}
        self._dirty = False

    def __len__(self) -> int:
        return len(self.meta)

    def __contains__(self, item_id: object) -> bool:
        return str(item_id) in self.meta.key_of

    def add(self, items: Sequence[Mapping[str, Any]]) -> None:
        """See :meth:`LexicalIndex.add`."""
        ids = [str(it["item_id"]) for it in items]
        self.meta.add(ids, items)
        for it in items:
            fields = item_fields(it, self.config.description_max_chars)
            for f in self.fields:
                self._texts[f].append(fields[f])
                self._tokens[f].append(self.tokenizer(fields[f]))
        self._dirty = True

    def delete(self, item_ids: Sequence[str]) -> int:
        """See :meth:`LexicalIndex.delete`."""
        return len(self.meta.delete(item_ids))

    def _build(self) -> None:
        if self.meta.capacity and len(self.meta) / self.meta.capacity < 0.75:
            old = self.meta.compact()
            self._texts = {f: [t[i] for i in old] for f, t in self._texts.items()}
            self._tokens = {f: [t[i] for i in old] for f, t in self._tokens.items()}
        self._models = {}
        for f in self.fields:
            tokens = self._tokens[f]
            if not any(tokens):
                continue  # a field empty across the catalogue adds nothing
            model = self._bm25s.BM25(k1=self.config.k1, b=self.config.b, method="lucene")
            model.index(tokens, show_progress=False)
            self._models[f] = model
        self._dirty = False
        logger.info("bm25s: indexed %d items, fields %s", len(self.meta), list(self._models))

    def scores(self, query: str) -> np.ndarray:
        """Weighted BM25 score of every row (tombstones included) for one query."""
        if self._dirty:
            self._build()
        tokens = self.tokenizer(query)
        total = np.zeros(self.meta.capacity, dtype=np.float32)
        if not tokens:
            return total
        for f, model in self._models.items():
            known = [t for t in tokens if t in model.vocab_dict]
            if known:
                total += self.config.field_weights[f] * model.get_scores(known)
        # bm25s's "lucene" variant drops the constant (k1 + 1); restore it so that scores are the classic
        # BM25 that tantivy (and Elasticsearch before 7) report: same ranking, comparable magnitudes.
        return total * np.float32(self.config.k1 + 1.0)

    def search(
        self, queries: Sequence[str], k: int = 10, filter: SearchFilter | None = None
    ) -> SearchResults:
        """See :meth:`LexicalIndex.search`; items with score 0 (no term matched) are not returned."""
        if isinstance(queries, str):
            raise TypeError("pass a list of query strings")
        if self._dirty:
            self._build()
        mask = self.meta.mask(filter)
        ids, scores = [], []
        for q in queries:
            s = self.scores(q)
            s[~mask] = 0.0
            best = top_k(s[None, :], k)[0]
            best = best[s[best] > 0]
            ids.append([self.meta.ids[i] for i in best])
            scores.append(s[best].astype(np.float32))
        return SearchResults(ids, scores, f"lexical:{self.kind}")

    def save(self, directory: str | Path) -> None:
        """See :meth:`LexicalIndex.save`."""
        if self._dirty:
            self._build()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": _FORMAT,
            "kind": self.kind,
            "config": self.config.model_dump(),
            "models": list(self._models),
        }
        (d / "lexical.json").write_text(json.dumps(manifest, indent=2))
        (d / "fields.json").write_text(json.dumps(self._texts))
        self.meta.save(d)
        for f, model in self._models.items():
            model.save(str(d / f"bm25s_{f}"))

    @classmethod
    def load(cls, directory: str | Path) -> Bm25sLexicalIndex:
        """See :meth:`LexicalIndex.load`."""
        d = Path(directory)
        manifest = json.loads((d / "lexical.json").read_text())
        out = cls(LexicalIndexConfig(**manifest["config"]))
        out.meta = ItemMetadata.load(d)
        out._texts = json.loads((d / "fields.json").read_text())
        out._tokens = {f: out.tokenizer.many(texts) for f, texts in out._texts.items()}
        out._models = {f: out._bm25s.BM25.load(str(d / f"bm25s_{f}")) for f in manifest["models"]}
        return out
