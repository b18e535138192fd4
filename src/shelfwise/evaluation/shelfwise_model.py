"""The served pipeline as model ``shelfwise`` of ``shelfwise evaluate``: what is evaluated is what is served.

``fit`` runs :func:`~shelfwise.recommend.fit.fit_pipeline` (the same code as ``shelfwise train``, on the
split instead of all events); ``score`` sends each test user's request (history = train + valid items in
time order) through the same :class:`~shelfwise.recommend.pipeline.ShelfwisePipeline` as serving, then the
same re-ranking (``rerank.*``) when it changes anything. Shop filters (purchased, out of stock) are not
applied: the protocol decides whether history items are rankable (``evaluation.exclude_history``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import Part, RecommendData
from shelfwise.evaluation.registry import register_recommender
from shelfwise.ranking.attributes import ItemAttributes
from shelfwise.recommend.fit import fit_pipeline
from shelfwise.recommend.pipeline import (
    Ranked,
    ShelfwisePipeline,
    harness_rows,
    make_context,
    rerank_active,
    rerank_catalog,
)
from shelfwise.rerank import ItemCatalog, RerankPipeline

__all__ = ["ShelfwiseEvalModel"]


class ShelfwiseEvalModel:
    """Model ``shelfwise`` of the experiment runner (test evaluation only: the ranker learns from valid)."""

    def __init__(self, settings: Settings, name: str = "shelfwise") -> None:
        self.name = name
        self.settings = settings
        self.pipeline: ShelfwisePipeline | None = None
        self.report: dict[str, Any] = {}
        self._sequences: list[np.ndarray] = []
        self._n_items = 0
        self._catalog: ItemCatalog | None = None
        self._ranked: dict[int, Ranked] = {}

    def fit(self, data: RecommendData, part: Part) -> None:
        """Fit on the split (ranker on the validation period, sources refitted on train + valid)."""
        if part != "train_valid":
            raise NotImplementedError("the ranker learns from the validation labels: evaluate on test only")
        self.pipeline, self.report = fit_pipeline(data, self.settings)
        self._ranked = {}
        self._sequences = data.train_valid_sequences
        self._n_items = data.n_items
        if rerank_active(self.settings.rerank):
            self._catalog = rerank_catalog(ItemAttributes.from_table(data.items), data.item_vectors)

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(users), n_items)``: served lists on top, other candidates below, the rest tied at 0."""
        if self.pipeline is None:
            raise RuntimeError("fit first")
        cfg = self.settings.recommend
        users = np.asarray(user_indices, dtype=np.int64)
        contexts = [make_context(int(u), self._sequences[int(u)], cfg.max_history) for u in users]
        missing = [k for k, u in enumerate(users) if int(u) not in self._ranked]
        for k, r in zip(missing, self.pipeline.rank_many([contexts[k] for k in missing]), strict=True):
            self._ranked[int(users[k])] = r  # the runner scores each user twice (metrics, then lists)
        ranked = [self._ranked[int(u)] for u in users]
        rerank = RerankPipeline(self.settings.rerank) if self._catalog is not None else None
        return harness_rows(
            ranked,
            self._n_items,
            rerank=rerank,
            catalog=self._catalog,
            histories=[c.history for c in contexts],
            top=cfg.rerank_candidates,
            seeds=[int(u) + self.settings.evaluation.tie_break_seed for u in users],
        )

    def params(self) -> dict[str, Any]:
        """Pipeline settings and the training report."""
        return {
            "recommend": self.settings.recommend.model_dump(mode="json"),
            "rerank": self.settings.rerank.model_dump(mode="json"),
            "report": self.report,
        }


@register_recommender("shelfwise")
def _shelfwise(settings: Settings) -> ShelfwiseEvalModel:
    return ShelfwiseEvalModel(settings)
