"""FAISS HNSW over the exact index: ``IndexHNSWFlat`` (f32) or ``IndexHNSWSQ`` (f16 / int8 storage).

FAISS ids are the index's row keys (rows are only ever appended, and :meth:`compact` rebuilds), so a
search returns keys directly. HNSW graphs cannot drop nodes; deleted and filtered-out rows are skipped
during the graph walk by an ``IDSelectorBitmap`` passed in ``SearchParametersHNSW``. The graph is saved
with ``faiss.write_index`` (FAISS's own binary format, not pickle).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.index._optional import require
from shelfwise.index.vector_exact import ExactVectorIndex, VectorIndexConfig

logger = logging.getLogger(__name__)

_GRAPH_FILE = "hnsw.faiss"


class FaissHnswVectorIndex(ExactVectorIndex):
    """HNSW (FAISS) candidates, exact fp32 re-scoring; exact search below ``exact_threshold`` items.

    Args:
        dim: vector width.
        config: settings (``hnsw_m``, ``ef_construction``, ``ef_search``, ``storage``...).
    """

    kind = "faiss-hnsw"

    def __init__(self, dim: int, config: VectorIndexConfig | None = None) -> None:
        super().__init__(dim, config or VectorIndexConfig(type="faiss-hnsw"))
        self._faiss = require("faiss")
        if self.config.threads:
            self._faiss.omp_set_num_threads(self.config.threads)
        self._graph: Any | None = None

    def _new_graph(self) -> Any:
        faiss, cfg = self._faiss, self.config
        metric = faiss.METRIC_INNER_PRODUCT
        if cfg.storage == "f32":
            graph = faiss.IndexHNSWFlat(self.dim, cfg.hnsw_m, metric)
        else:
            qtype = faiss.ScalarQuantizer.QT_fp16 if cfg.storage == "f16" else faiss.ScalarQuantizer.QT_8bit
            graph = faiss.IndexHNSWSQ(self.dim, qtype, cfg.hnsw_m, metric)
        graph.hnsw.efConstruction = cfg.ef_construction
        return graph

    def _build(self) -> None:
        """Build the graph over every row (tombstones included, so FAISS ids stay equal to keys)."""
        graph = self._new_graph()
        if not graph.is_trained:  # scalar quantiser ranges
            graph.train(self.vectors if len(self.vectors) else np.zeros((1, self.dim), np.float32))
        if self._rows:
            graph.add(self.vectors)
        self._graph = graph
        logger.info(
            "built FAISS HNSW (M=%d, %s) over %d rows", self.config.hnsw_m, self.config.storage, self._rows
        )

    def _on_add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if self._graph is None:
            if len(self.meta) >= self.config.exact_threshold:
                self._build()
            return
        if self._graph.ntotal != keys[0]:  # pragma: no cover - defensive: ids must stay aligned with keys
            self._build()
            return
        self._graph.add(vectors)

    def _rebuild(self) -> None:
        self._graph = None
        if len(self.meta) >= self.config.exact_threshold:
            self._build()

    def _ann_ready(self) -> bool:
        return self._graph is not None

    def _ann_candidates(self, queries: np.ndarray, count: int, mask: np.ndarray | None) -> np.ndarray:
        assert self._graph is not None
        faiss = self._faiss
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.config.ef_search, count)
        if mask is not None:
            bits = np.packbits(mask[: self._rows].astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(self._rows, faiss.swig_ptr(bits))
            params.sel = selector
        _, labels = self._graph.search(queries, count, params=params)
        return labels.astype(np.int64, copy=False)

    def _save_ann(self, directory: Path) -> None:
        if self._graph is not None:
            self._faiss.write_index(self._graph, str(directory / _GRAPH_FILE))

    def _load_ann(self, directory: Path) -> None:
        path = directory / _GRAPH_FILE
        if path.exists():
            self._graph = self._faiss.read_index(str(path))
            self._graph.hnsw.efSearch = self.config.ef_search
        else:
            self._rebuild()
