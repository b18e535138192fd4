"""Lexical index on tantivy (Rust, Lucene-like): native incremental add/delete and filter queries.

Text is tokenised by :class:`~shelfwise.index.tokenize.Tokenizer` (so English stemming and jieba behave
exactly as in the bm25s backend) and indexed as space-joined terms with tantivy's ``whitespace``
analyzer. A query is a boolean OR of ``term x field`` clauses boosted by the field weight (BM25 per field,
summed); filters are ``Must`` clauses on a category facet, a price range, an availability flag and a
``MustNot`` id set. The index lives in a working directory; ``save`` commits and copies it.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.index._optional import require
from shelfwise.index.base import LexicalIndex, SearchFilter, SearchResults
from shelfwise.index.lexical_fields import LexicalIndexConfig, item_fields
from shelfwise.index.metadata import _price, normalize_category
from shelfwise.index.tokenize import Tokenizer

logger = logging.getLogger(__name__)

_FORMAT = 1


def _facet_path(category: Any) -> str:
    levels = [lvl.replace("/", " ").strip() for lvl in normalize_category(category).split(" > ") if lvl]
    return "/" + "/".join(levels)


class TantivyLexicalIndex(LexicalIndex):
    """Multi-field BM25 with tantivy.

    Args:
        config: settings.
        path: working directory of the index (a temporary one when ``None``).
    """

    kind = "tantivy"

    def __init__(self, config: LexicalIndexConfig | None = None, path: str | Path | None = None) -> None:
        self.config = config or LexicalIndexConfig(type="tantivy")
        self._t = require("tantivy")
        self.tokenizer = Tokenizer(self.config.tokenizer)
        self.fields = self.config.active_fields()
        self._owned = path is None
        self.path = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="shelfwise-tantivy-"))
        sb = self._t.SchemaBuilder()
        sb.add_text_field("item_id", stored=True, tokenizer_name="raw")
        for f in self.fields:
            sb.add_text_field(f, stored=False, tokenizer_name="whitespace")
        sb.add_facet_field("category_facet")
        sb.add_float_field("price", stored=False, indexed=True, fast=True)
        sb.add_boolean_field("available", stored=False, indexed=True, fast=True)
        self.schema = sb.build()
        self.index = self._t.Index(self.schema, path=str(self.path))
        self._writer = self.index.writer(heap_size=self.config.writer_heap_mb << 20, num_threads=1)
        self.index.reload()
        self._ids: set[str] = set(self._stored_ids())

    def __del__(self) -> None:
        if getattr(self, "_owned", False):
            shutil.rmtree(self.path, ignore_errors=True)

    def _stored_ids(self) -> list[str]:
        searcher = self.index.searcher()
        if searcher.num_docs == 0:
            return []
        hits = searcher.search(self._t.Query.all_query(), searcher.num_docs).hits
        return [searcher.doc(addr)["item_id"][0] for _, addr in hits]

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return str(item_id) in self._ids

    def add(self, items: Sequence[Mapping[str, Any]]) -> None:
        """See :meth:`LexicalIndex.add`; committed before returning."""
        t = self._t
        for it in items:
            item_id = str(it["item_id"])
            if item_id in self._ids:
                self._writer.delete_documents_by_term("item_id", item_id)
            texts = item_fields(it, self.config.description_max_chars)
            doc = t.Document(item_id=item_id)
            for f in self.fields:
                doc.add_text(f, " ".join(self.tokenizer(texts[f])))
            if normalize_category(it.get("category")):
                doc.add_facet("category_facet", t.Facet.from_string(_facet_path(it.get("category"))))
            price = _price(it.get("price"))
            if price == price:
                doc.add_float("price", price)
            doc.add_boolean("available", it.get("available", True) is not False)
            self._writer.add_document(doc)
            self._ids.add(item_id)
        self._commit()

    def delete(self, item_ids: Sequence[str]) -> int:
        """See :meth:`LexicalIndex.delete`."""
        present = [str(i) for i in item_ids if str(i) in self._ids]
        for item_id in present:
            self._writer.delete_documents_by_term("item_id", item_id)
            self._ids.discard(item_id)
        if present:
            self._commit()
        return len(present)

    def _commit(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._writer = self.index.writer(heap_size=self.config.writer_heap_mb << 20, num_threads=1)
        self.index.reload()

    def _text_query(self, query: str) -> Any | None:
        t = self._t
        q = t.Query
        clauses = []
        for term in dict.fromkeys(self.tokenizer(query)):
            for f in self.fields:
                clauses.append(
                    (
                        t.Occur.Should,
                        q.boost_query(q.term_query(self.schema, f, term), self.config.field_weights[f]),
                    )
                )
        return q.boolean_query(clauses) if clauses else None

    def _filter_clauses(self, flt: SearchFilter | None) -> list[tuple[Any, Any]]:
        if flt is None or flt.is_empty:
            return []
        t = self._t
        q = t.Query
        out = []
        if flt.categories is not None:
            facets = [
                q.term_query(self.schema, "category_facet", t.Facet.from_string(_facet_path(c)))
                for c in flt.categories
            ]
            out.append(
                (
                    t.Occur.Must,
                    q.boolean_query([(t.Occur.Should, f) for f in facets]) if facets else q.empty_query(),
                )
            )
        if flt.price_min is not None or flt.price_max is not None:
            rng = q.range_query(self.schema, "price", t.FieldType.Float, flt.price_min, flt.price_max)
            out.append((t.Occur.Must, rng))
        if flt.in_stock is not None:
            out.append((t.Occur.Must, q.term_query(self.schema, "available", flt.in_stock)))
        if flt.exclude_ids:
            out.append((t.Occur.MustNot, q.term_set_query(self.schema, "item_id", sorted(flt.exclude_ids))))
        return out

    def search(
        self, queries: Sequence[str], k: int = 10, filter: SearchFilter | None = None
    ) -> SearchResults:
        """See :meth:`LexicalIndex.search`."""
        if isinstance(queries, str):
            raise TypeError("pass a list of query strings")
        t = self._t
        searcher = self.index.searcher()
        filters = self._filter_clauses(filter)
        ids: list[list[str]] = []
        scores: list[np.ndarray] = []
        for text in queries:
            query = self._text_query(text)
            if query is None or k <= 0:
                ids.append([])
                scores.append(np.zeros(0, dtype=np.float32))
                continue
            if filters:
                query = t.Query.boolean_query([(t.Occur.Must, query), *filters])
            hits = searcher.search(query, k).hits
            ids.append([searcher.doc(addr)["item_id"][0] for _, addr in hits])
            scores.append(np.array([s for s, _ in hits], dtype=np.float32))
        return SearchResults(ids, scores, f"lexical:{self.kind}")

    def save(self, directory: str | Path) -> None:
        """Copy the committed index into ``directory/tantivy`` with ``lexical.json``."""
        self._writer.wait_merging_threads()
        self._writer = self.index.writer(heap_size=self.config.writer_heap_mb << 20, num_threads=1)
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        target = d / "tantivy"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.path, target, ignore=shutil.ignore_patterns("*.lock", ".tantivy-*.lock"))
        manifest = {"format": _FORMAT, "kind": self.kind, "config": self.config.model_dump()}
        (d / "lexical.json").write_text(json.dumps(manifest, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> TantivyLexicalIndex:
        """Open a copy of a saved index (the saved files are never modified)."""
        d = Path(directory)
        manifest = json.loads((d / "lexical.json").read_text())
        work = Path(tempfile.mkdtemp(prefix="shelfwise-tantivy-"))
        shutil.copytree(d / "tantivy", work, dirs_exist_ok=True)
        out = cls(LexicalIndexConfig(**manifest["config"]), path=work)
        out._owned = True
        return out
