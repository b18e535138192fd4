"""The baselines every model is compared with in the same run: popularity, item-kNN, ALS.

Their defaults are the configurations that reproduce BENCHMARKS.md section 6 on Amazon Beauty
(``benchmarks/bench_beauty_baselines.py`` tunes them on validation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData
from shelfwise.evaluation.registry import Part, register_recommender
from shelfwise.retrieval.baselines import ALS, ItemKNN, Popularity, Recommender


class MatrixModel:
    """Adapts a CSR-fitted :class:`~shelfwise.retrieval.baselines.Recommender` to the runner."""

    def __init__(self, model: Recommender) -> None:
        self.model = model
        self.name = model.name

    def fit(self, data: RecommendData, part: Part) -> None:
        matrix = data.ranking.train if part == "train" else data.ranking.train_valid
        self.model.fit(matrix)

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        return self.model.score(user_indices, history)

    def params(self) -> dict[str, Any]:
        return self.model.params()


@register_recommender("popularity")
def _popularity(settings: Settings) -> MatrixModel:
    return MatrixModel(Popularity())


@register_recommender("itemknn")
def _itemknn(settings: Settings) -> MatrixModel:
    cfg = settings.models.itemknn
    return MatrixModel(ItemKNN(k=cfg.k, similarity=cfg.similarity, seed=settings.seed))


@register_recommender("als")
def _als(settings: Settings) -> MatrixModel:
    cfg = settings.models.als
    return MatrixModel(
        ALS(
            factors=cfg.factors,
            regularization=cfg.regularization,
            alpha=cfg.alpha,
            iterations=cfg.iterations,
            seed=settings.seed,
        )
    )
