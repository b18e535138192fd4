"""usearch HNSW over the exact index.

usearch keys are the index's row keys; deletes are native (``Index.remove``). usearch's Python API has no
search-time predicate, so filters are applied to an over-fetched candidate list (widened by the share the
filter removes), with the exact subset search of the base class for narrow filters. Saved with
``Index.save`` (usearch's own binary format, not pickle).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.index._optional import require
from shelfwise.index.vector_exact import ExactVectorIndex, VectorIndexConfig

logger = logging.getLogger(__name__)

_GRAPH_FILE = "hnsw.usearch"


class UsearchVectorIndex(ExactVectorIndex):
    """HNSW (usearch) candidates, exact fp32 re-scoring; exact search below ``exact_threshold`` items.

    Args:
        dim: vector width.
        config: settings (``hnsw_m``, ``ef_construction``, ``ef_search``, ``storage``...).
    """

    kind = "usearch"

    def __init__(self, dim: int, config: VectorIndexConfig | None = None) -> None:
        super().__init__(dim, config or VectorIndexConfig(type="usearch"))
        self._usearch = require("usearch.index")
        self._graph: Any | None = None

    def _new_graph(self) -> Any:
        cfg = self.config
        return self._usearch.Index(
            ndim=self.dim,
            metric="ip",
            dtype={"f32": "f32", "f16": "f16", "i8": "i8"}[cfg.storage],
            connectivity=cfg.hnsw_m,  # same meaning as FAISS's M (2 M links on the base level)
            expansion_add=cfg.ef_construction,
            expansion_search=cfg.ef_search,
        )

    def _threads(self) -> int:
        return self.config.threads or 0

    def _build(self) -> None:
        graph = self._new_graph()
        live = np.flatnonzero(self.meta.alive[: self._rows])
        if len(live):
            graph.add(live.astype(np.uint64), self.vectors[live], threads=self._threads())
        self._graph = graph
        logger.info(
            "built usearch HNSW (connectivity=%d, %s) over %d rows",
            graph.connectivity,
            self.config.storage,
            len(live),
        )

    def _on_add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if self._graph is None:
            if len(self.meta) >= self.config.exact_threshold:
                self._build()
            return
        self._graph.add(keys.astype(np.uint64), vectors, threads=self._threads())

    def _on_remove(self, keys: np.ndarray) -> None:
        if self._graph is not None and len(keys):
            self._graph.remove(keys.astype(np.uint64))

    def _rebuild(self) -> None:
        self._graph = None
        if len(self.meta) >= self.config.exact_threshold:
            self._build()

    def _ann_ready(self) -> bool:
        return self._graph is not None

    def _ann_candidates(self, queries: np.ndarray, count: int, mask: np.ndarray | None) -> np.ndarray:
        assert self._graph is not None
        self._graph.expansion_search = max(self.config.ef_search, count)
        matches = self._graph.search(queries, count, threads=self._threads())
        out = np.full((len(queries), count), -1, dtype=np.int64)
        if hasattr(matches, "counts"):  # BatchMatches
            keys = np.asarray(matches.keys, dtype=np.int64).reshape(len(queries), -1)
            found = np.asarray(matches.counts).reshape(-1, 1)
            width = min(count, keys.shape[1])
            out[:, :width] = np.where(np.arange(width)[None, :] < found, keys[:, :width], -1)
        else:  # a single query gives Matches
            keys = np.asarray(matches.keys, dtype=np.int64).ravel()[:count]
            out[0, : len(keys)] = keys
        return out

    def _save_ann(self, directory: Path) -> None:
        if self._graph is not None:
            self._graph.save(str(directory / _GRAPH_FILE))

    def _load_ann(self, directory: Path) -> None:
        path = directory / _GRAPH_FILE
        if path.exists():
            self._graph = self._new_graph()
            self._graph.load(str(path))
        else:
            self._rebuild()
