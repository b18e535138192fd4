"""The full search pipeline as an evaluated system: ``--models shelfwise`` in ``shelfwise evaluate --task search``.

It is the same :class:`~shelfwise.search.SearchPipeline` the CLI and the API serve, built in memory from the
harness's catalogue (indexes and item vectors once, reused across folds), with the learned re-ranker
(LightGBM over retrieval, text-match and cross-encoder features; :func:`~shelfwise.search.training.train_ranker`)
fitted per fold on the training queries' judgements only. The harness ranks the whole catalogue, so the
constraints the parser extracts act as ranker features here, not as filters.

The cross-encoder feature is off by default (``--set search.pipeline.cross_encoder.enabled=true`` turns
it on; it fine-tunes two cross-fitted MiniLM cross-encoders per fold, tens of minutes on two cores).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.config import Settings
from shelfwise.evaluation.search_models import register_searcher

log = logging.getLogger(__name__)


class ShelfwiseSearcher:
    """The search pipeline with its learned re-ranker (see the module docstring)."""

    name = "shelfwise"
    uses_labels = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = settings.search.pipeline
        self.pipe: Any = None
        self._key: tuple[Any, ...] | None = None
        self.fits: list[dict[str, Any]] = []

    def fit(self, items: list[dict[str, Any]], train: pa.Table | None) -> None:
        from shelfwise.encoders import build_encoder
        from shelfwise.search import SearchPipeline
        from shelfwise.search.training import train_ranker

        key = (
            len(items),
            str(items[0]["item_id"]) if items else "",
            str(items[-1]["item_id"]) if items else "",
        )
        if self.pipe is None or key != self._key:
            encoder = build_encoder(self.settings.search.encoder)
            self.pipe = SearchPipeline.from_items(items, self.settings, encoder=encoder)
            self._key = key
        self.pipe.ranker = None
        self.pipe.retriever.fusion = None
        if train is None or train.num_rows == 0:
            return
        judged: dict[str, dict[str, float]] = {}
        for q, i, g in zip(*(train.column(c).to_pylist() for c in ("query", "item_id", "gain")), strict=True):
            judged.setdefault(q, {})[str(i)] = float(g)
        ranker = train_ranker(self.pipe, judged, use_cross_encoder=self.config.cross_encoder.enabled)
        self.pipe.ranker = ranker
        self.fits.append({"queries": len(judged), "importance": dict(list(ranker.importance().items())[:8])})

    def retrieve(self, queries: Sequence[str], k: int) -> list[list[str]]:
        from shelfwise.search import SearchRequest

        out = []
        for q in queries:
            resp = self.pipe.search(SearchRequest(q, k=k, use_query_filters=False, personalise=False))
            out.append([h.item_id for h in resp.results])
        return out

    def rerank(self, query: str, item_ids: Sequence[str]) -> np.ndarray:
        from shelfwise.search.training import candidates_for

        parsed = self.pipe.parse(query)
        text = self.pipe.retrieval_text(query, parsed)
        cands = candidates_for(self.pipe, text, list(item_ids))
        if self.pipe.ranker is None:
            scores = cands.fused.astype(np.float64)
        else:
            scores, _ = self.pipe.ranker.score(
                self.pipe, text, parsed, cands, np.zeros((len(cands), 3), np.float32), ce_depth=None
            )
        by_id = dict(zip(cands.ids, scores.tolist(), strict=True))
        low = min(by_id.values(), default=0.0) - 1.0
        return np.array([by_id.get(str(i), low) for i in item_ids], dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {
            "pipeline": self.config.model_dump(mode="json"),
            "encoder": self.settings.search.encoder.model_dump(mode="json"),
            "folds_fitted": self.fits,
        }


register_searcher("shelfwise")(ShelfwiseSearcher)
