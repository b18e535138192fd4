"""Exact vector index (NumPy), and the base every approximate index wraps.

The exact index keeps every vector in one float32 matrix (row = key) and answers with a matrix product.
Approximate backends (:mod:`~shelfwise.index.vector_faiss`, :mod:`~shelfwise.index.vector_usearch`)
subclass it and only propose candidates; this class then

* searches exactly while the catalogue is small (``exact_threshold``), or when a filter leaves few items
  (``filter_exact_max``: exact over a small subset is both faster and perfect),
* drops tombstoned and filtered-out candidates, re-scores the rest with the fp32 vectors (so a compressed
  ANN copy costs no precision in the final scores) and widens the candidate list when a filter ate it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from shelfwise.config_base import Section
from shelfwise.index.base import SearchFilter, SearchResults, VectorIndex, top_k
from shelfwise.index.metadata import ItemMetadata

logger = logging.getLogger(__name__)

_FORMAT = 1


class VectorIndexConfig(Section):
    """Settings of a vector index.

    Attributes:
        type: ``"faiss-hnsw"`` (default), ``"usearch"`` or ``"exact"``. Measured on 100,000 x 384 vectors
            (``benchmarks/bench_vector_index.py``): FAISS HNSW SQ8 recall@10 0.9996 at ~500x the exact
            index's queries/s (one query per call) and 69x in batch; usearch was slower to build and to
            query at equal recall, and slower with filters (no search-time predicate in its Python API).
        exact_threshold: below this many live items every search is exact (no graph is built).
        filter_exact_max: a filter leaving at most this many items is answered exactly on that subset.
        hnsw_m: HNSW links per node.
        ef_construction: HNSW candidate list while building.
        ef_search: HNSW candidate list while searching (raised to the candidate count when smaller).
        storage: precision of the ANN copy of the vectors (``"f32"``, ``"f16"``, ``"i8"``/SQ8, default);
            final scores always come from the fp32 vectors, so SQ8 lost no recall and was faster and
            smaller than f32 (recall 0.9996 both; 3,370 vs 2,430 queries/s; 211 vs 321 MB on disk).
        candidates: ANN candidates per query before re-scoring; ``None`` = ``max(2 k, 20)``.
        rebuild_ratio: rebuild the graph when tombstones exceed this share of all rows.
        threads: threads for building and batch search; ``None`` = library default.
    """

    type: Literal["exact", "faiss-hnsw", "usearch"] = "faiss-hnsw"
    exact_threshold: int = Field(default=20_000, ge=0)
    filter_exact_max: int = Field(default=20_000, ge=0)
    hnsw_m: int = Field(default=32, ge=4)
    ef_construction: int = Field(default=128, ge=8)
    ef_search: int = Field(default=64, ge=1)
    storage: Literal["f32", "f16", "i8"] = "i8"
    candidates: int | None = Field(default=None, ge=1)
    rebuild_ratio: float = Field(default=0.25, gt=0, le=1)
    threads: int | None = Field(default=None, ge=1)


class ExactVectorIndex(VectorIndex):
    """Brute-force inner-product search; the reference and the small-catalogue default.

    Args:
        dim: vector width.
        config: settings (only ``exact_threshold`` etc. matter to subclasses).
    """

    kind = "exact"

    def __init__(self, dim: int, config: VectorIndexConfig | None = None) -> None:
        self.dim = int(dim)
        self.config = config or VectorIndexConfig(type="exact")
        self.meta = ItemMetadata()
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._rows = 0  # rows of _vectors in use (capacity grows by doubling)

    # ----------------------------------------------------------------- mutation
    def add(
        self,
        item_ids: Sequence[str],
        vectors: np.ndarray,
        metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """See :meth:`VectorIndex.add`."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(vectors) != len(item_ids):
            raise ValueError(f"expected ({len(item_ids)}, {self.dim}) vectors, got {vectors.shape}")
        replaced = self.meta.keys(item_ids)
        keys = self.meta.add(item_ids, metadata)
        self._ensure_capacity(self._rows + len(keys))
        self._vectors[keys] = vectors
        self._rows += len(keys)
        self._on_remove(replaced[replaced >= 0])
        self._on_add(keys, vectors)

    def delete(self, item_ids: Sequence[str]) -> int:
        """See :meth:`VectorIndex.delete`."""
        keys = self.meta.delete(item_ids)
        self._on_remove(keys)
        if self._rows and (self._rows - len(self.meta)) / self._rows > self.config.rebuild_ratio:
            self.compact()
        return len(keys)

    def compact(self) -> None:
        """Drop tombstoned rows and rebuild any approximate structure."""
        old = self.meta.compact()
        self._vectors = np.ascontiguousarray(self._vectors[old])
        self._rows = len(old)
        self._rebuild()

    def _ensure_capacity(self, rows: int) -> None:
        if rows > len(self._vectors):
            grown = np.zeros((max(rows, 2 * len(self._vectors), 1024), self.dim), dtype=np.float32)
            grown[: self._rows] = self._vectors[: self._rows]
            self._vectors = grown

    # hooks for approximate backends
    def _on_add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Called after rows ``keys`` were added."""

    def _on_remove(self, keys: np.ndarray) -> None:
        """Called after rows ``keys`` were tombstoned."""

    def _rebuild(self) -> None:
        """Called after :meth:`compact` renumbered the rows."""

    def _ann_ready(self) -> bool:
        return False

    def _ann_candidates(self, queries: np.ndarray, count: int, mask: np.ndarray | None) -> np.ndarray:
        """``(nq, count)`` candidate keys, ``-1`` padded."""
        raise NotImplementedError

    # ------------------------------------------------------------------- search
    def __len__(self) -> int:
        return len(self.meta)

    def __contains__(self, item_id: object) -> bool:
        return str(item_id) in self.meta.key_of

    @property
    def vectors(self) -> np.ndarray:
        """All rows in use, tombstones included (row = key)."""
        return self._vectors[: self._rows]

    def get_vectors(self, item_ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of live ids (KeyError for unknown ids)."""
        keys = self.meta.keys(item_ids)
        if (keys < 0).any():
            raise KeyError([i for i, k in zip(item_ids, keys, strict=True) if k < 0])
        return self._vectors[keys].copy()

    def search(self, queries: np.ndarray, k: int = 10, filter: SearchFilter | None = None) -> SearchResults:
        """See :meth:`VectorIndex.search`."""
        q = np.atleast_2d(np.ascontiguousarray(queries, dtype=np.float32))
        if q.shape[1] != self.dim:
            raise ValueError(f"queries have dim {q.shape[1]}, index has {self.dim}")
        filtered = filter is not None and not filter.is_empty
        mask = self.meta.mask(filter) if filtered or len(self.meta) < self._rows else None
        allowed = len(self.meta) if mask is None else int(mask.sum())
        use_ann = self._ann_ready() and len(self.meta) >= self.config.exact_threshold
        if use_ann and not (filtered and allowed <= self.config.filter_exact_max):
            keys, scores = self._approximate(q, k, mask, allowed)
        else:
            keys, scores = self._exact(q, k, mask)
        return self._results(keys, scores)

    def _exact(self, q: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        subset = np.arange(self._rows) if mask is None else np.flatnonzero(mask[: self._rows])
        keys = np.full((len(q), min(k, len(subset))), -1, dtype=np.int64)
        scores = np.full(keys.shape, -np.inf, dtype=np.float32)
        if len(subset) == 0 or k <= 0:
            return keys, scores
        mat = self._vectors[subset] if mask is not None else self._vectors[: self._rows]
        step = max(1, (64 << 20) // (4 * len(subset)))  # ~64 MB of scores at a time
        for start in range(0, len(q), step):
            s = q[start : start + step] @ mat.T
            idx = top_k(s, k)
            keys[start : start + step] = subset[idx]
            scores[start : start + step] = np.take_along_axis(s, idx, axis=1)
        return keys, scores

    def _approximate(
        self, q: np.ndarray, k: int, mask: np.ndarray | None, allowed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        count = max(self.config.candidates or max(2 * k, 20), k)
        if mask is not None and allowed:
            count = int(min(count * max(1.0, len(self.meta) / allowed), 4096))
        step = max(1, (64 << 20) // (4 * self.dim * count))  # bound the (nq, count, dim) re-score block
        parts = [
            self._approximate_block(q[s : s + step], k, mask, allowed, count) for s in range(0, len(q), step)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _approximate_block(
        self, q: np.ndarray, k: int, mask: np.ndarray | None, allowed: int, count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        keys = np.full((len(q), k), -1, dtype=np.int64)
        scores = np.full((len(q), k), -np.inf, dtype=np.float32)
        todo = np.arange(len(q))
        while len(todo):
            cand = self._ann_candidates(q[todo], count, mask)
            valid = cand >= 0
            if mask is not None:
                valid &= mask[np.where(valid, cand, 0)]
            safe = np.where(valid, cand, 0)
            s = np.einsum("nd,ncd->nc", q[todo], self._vectors[safe])  # exact fp32 re-score
            s[~valid] = -np.inf
            idx = top_k(s, k)
            keys[todo] = np.where(np.take_along_axis(valid, idx, 1), np.take_along_axis(cand, idx, 1), -1)
            scores[todo] = np.take_along_axis(s, idx, axis=1)
            short = (keys[todo] < 0).sum(1) > 0
            if not short.any() or count >= min(4096, allowed):
                break
            todo, count = todo[short], min(count * 4, 4096)
        short = (keys < 0).any(1) & (allowed > (keys >= 0).sum(1))
        if short.any():  # the graph could not find k allowed items: answer those queries exactly
            keys[short], scores[short] = self._exact(q[short], k, mask)
        return keys, scores

    def _results(self, keys: np.ndarray, scores: np.ndarray) -> SearchResults:
        ids, out_scores = [], []
        for row_keys, row_scores in zip(keys, scores, strict=True):
            ok = row_keys >= 0
            ids.append([self.meta.ids[x] for x in row_keys[ok]])
            out_scores.append(row_scores[ok].astype(np.float32))
        return SearchResults(ids, out_scores, f"vector:{self.kind}")

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Write ``index.json``, ``vectors.npy``, metadata and the backend's own file."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        manifest = {"format": _FORMAT, "kind": self.kind, "dim": self.dim, "config": self.config.model_dump()}
        (d / "index.json").write_text(json.dumps(manifest, indent=2))
        np.save(d / "vectors.npy", self.vectors, allow_pickle=False)
        self.meta.save(d)
        self._save_ann(d)

    def _save_ann(self, directory: Path) -> None:
        """Backends write their structure here."""

    def _load_ann(self, directory: Path) -> None:
        """Backends read their structure here (or rebuild it from the vectors)."""

    @classmethod
    def load(cls, directory: str | Path) -> ExactVectorIndex:
        """Read an index written by :meth:`save`; the class is taken from ``index.json``."""
        from shelfwise.index.registry import VECTOR_INDEXES

        d = Path(directory)
        manifest = json.loads((d / "index.json").read_text())
        config = VectorIndexConfig(**manifest["config"])
        impl = VECTOR_INDEXES[manifest["kind"]]
        out = impl(manifest["dim"], config)
        vectors = np.load(d / "vectors.npy", allow_pickle=False)
        out.meta = ItemMetadata.load(d)
        out._vectors, out._rows = np.ascontiguousarray(vectors), len(vectors)
        out._load_ann(d)
        return out
