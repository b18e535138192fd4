"""The sequential model (SASRec, text-initialised item vectors) as a candidate source of the pipeline.

Trained with :func:`~shelfwise.models.sequential.train.fit_on_split` on the split's train part, early
stopping on its validation items; a request is scored from its own history (the context's items in
time order), so a new event changes the next list at once. Settings: ``recommend.sequential`` overrides
:class:`~shelfwise.models.sequential.SequentialConfig`; item texts are encoded with the default encoder,
cached on disk by content (a second training encodes nothing).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Self

import numpy as np

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.scoring import ScoredSource

__all__ = ["SequentialSource"]

log = logging.getLogger(__name__)


class SequentialSource(ScoredSource):
    """SASRec next-item scores over the whole catalogue; the top ``k`` are the candidates.

    Args:
        settings: the settings tree (``recommend.sequential``, ``seed``).
    """

    name = "sequential"

    def __init__(self, settings: Settings) -> None:
        from shelfwise.models.sequential import SequentialConfig

        super().__init__(settings.seed)
        self.config = SequentialConfig.model_validate(
            {"seed": settings.seed, **settings.recommend.sequential}
        )
        self.model: Any = None
        self.report: dict[str, Any] = {}
        self.dp_training = settings.privacy.dp_training  # privacy.dp_training: DP-SGD when enabled

    def fit(self, data: RecommendData) -> Self:
        """Train on ``data``'s train part, stopping early on its validation items."""
        from shelfwise.encoders import EncoderConfig
        from shelfwise.models.sequential import fit_on_split, item_text_vectors, item_texts, items_in_order
        from shelfwise.retrieval.text_vectors import default_cache_dir

        vectors = None
        if self.config.uses_text:
            ids = [str(i) for i in data.ranking.items.ids]
            texts = item_texts(items_in_order(data.items, ids))
            encoder = EncoderConfig(cache_dir=default_cache_dir(), show_progress=False)
            vectors = item_text_vectors(texts, encoder, show_progress=False)
        dp = self.dp_training
        if dp is not None and dp.enabled:
            self.model = self._fit_private(data, vectors)
        else:
            self.model = fit_on_split(self.config, data.split, data.ranking, item_vectors=vectors)
        self.report = {
            k: v
            for k, v in self.model.report.items()
            if k in ("best_epoch", "epochs_run", "best_valid", "train_seconds", "dp")
        }
        self._set_items(self.model.n_items)
        return self

    def _fit_private(self, data: RecommendData, vectors: np.ndarray | None) -> Any:
        """DP-SGD on the train part (:mod:`shelfwise.privacy.dp_training`: fixed epochs, no early stopping);
        scores from train + valid, as :func:`fit_on_split` does."""
        from shelfwise.models.sequential import sequences_from_split
        from shelfwise.privacy.dp_training import dp_train_sequential

        split, ranking = data.split, data.ranking
        train = sequences_from_split(split, ranking.users, ranking.items, ("train",))
        model = dp_train_sequential(
            self.config,
            train,
            len(ranking.items),
            self.dp_training,
            item_vectors=vectors,
            item_ids=np.asarray(ranking.items.ids, dtype=str),
        )
        self.config = model.config
        return model.with_user_sequences(
            sequences_from_split(split, ranking.users, ranking.items, ("train", "valid"))
        )

    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)`` next-item scores from each context's history."""
        self._check_fitted()
        n = self.n_items
        return self.model.score_sequences(
            [np.asarray(c.history)[np.asarray(c.history) < n] for c in contexts]
        )

    def params(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def save(self, folder: Path) -> None:
        """Write the model (``model/``: safetensors + JSON) and the seed of the tie order."""
        self._check_fitted()
        self.model.save(Path(folder) / "model", include_user_sequences=False)
        (Path(folder) / "sequential_source.json").write_text(
            json.dumps({"seed": self.seed, "report": self.report})
        )

    @classmethod
    def load(cls, folder: Path, settings: Settings) -> Self:
        """Read what :meth:`save` wrote."""
        from shelfwise.models.sequential import SequentialRecommender

        meta = json.loads((Path(folder) / "sequential_source.json").read_text())
        source = cls(settings)
        source.seed = int(meta["seed"])
        source.report = dict(meta.get("report", {}))
        source.model = SequentialRecommender.load(Path(folder) / "model")
        source.config = source.model.config
        source._set_items(source.model.n_items)
        return source
