"""The ranked pipeline of :mod:`shelfwise.ranking.training` as model ``ranker`` of ``shelfwise evaluate``.

:class:`RankerEvalModel` adapts :func:`~shelfwise.ranking.training.fit_ranked_pipeline` to the experiment
runner (``fit(data, part)``, ``score``, ``params``); it registers as ``"ranker"`` when this module is
imported (the registry imports it lazily).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import Part, RecommendData
from shelfwise.evaluation.registry import register_recommender
from shelfwise.ranking.config import RankerConfig
from shelfwise.ranking.pipeline import HarnessModel
from shelfwise.ranking.training import SourceFactory, baseline_sources, fit_ranked_pipeline

__all__ = ["RankerEvalModel"]


class RankerEvalModel:
    """The ranked pipeline as a model of the experiment runner (test evaluation only)."""

    def __init__(
        self, make_sources: SourceFactory, config: RankerConfig | None = None, name: str = "ranker"
    ) -> None:
        self.name = name
        self.make_sources = make_sources
        self.config = config or RankerConfig()
        self._model: HarnessModel | None = None

    def fit(self, data: RecommendData, part: Part) -> None:
        """Train on the validation period and refit the sources on train + valid (``part="train_valid"``)."""
        if part != "train_valid":
            raise NotImplementedError(
                "the ranker learns from the validation labels, so it is evaluated on test only"
            )
        pipeline = fit_ranked_pipeline(data, self.make_sources, self.config)
        self._model = HarnessModel(pipeline, data.train_valid_sequences, self.name)

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """Candidates above the floor, everything else tied below (see :mod:`shelfwise.ranking.pipeline`)."""
        if self._model is None:
            raise RuntimeError("fit first")
        return self._model.score(user_indices, history)

    def params(self) -> dict[str, Any]:
        """The ranker settings."""
        return self.config.model_dump()


@register_recommender("ranker")
def _ranker(settings: Settings) -> RankerEvalModel:
    return RankerEvalModel(baseline_sources(settings), RankerConfig(seed=settings.seed))
