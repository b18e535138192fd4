"""The profile vector as a retriever in the harness: ``shelfwise evaluate --models profile``.

A user's profile (time-decayed, event-weighted mean of item text vectors, blended with the short-term
vector) is built from the training events only and scored by inner product against every item vector.
Needs the ``item-vectors`` artifact (``shelfwise build``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.config import Settings
from shelfwise.encoded.data import RecommendData
from shelfwise.evaluation.registry import Part, register_recommender


class ProfileModel:
    """Adapter of :class:`shelfwise.profiles.retriever.ProfileRetriever` to the runner."""

    name = "profile"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.retriever: Any = None

    def fit(self, data: RecommendData, part: Part) -> None:
        from shelfwise.profiles.catalog import ItemCatalog
        from shelfwise.profiles.retriever import ProfileRetriever

        if data.item_vectors is None:
            raise ValueError(
                "the profile model needs item vectors: run `shelfwise build` on this store first"
            )
        ids = data.ranking.items.ids.astype(str).tolist()
        catalog = ItemCatalog.from_items(data.items, data.item_vectors, ids)
        rows = (
            data.split.train
            if part == "train"
            else np.sort(np.concatenate([data.split.train, data.split.valid]))
        )
        cfg = self.settings.models.profile
        profile_config = self.settings.profiles.model_copy(
            update={"short_half_life_events": cfg.short_half_life_events}
        )
        self.retriever = ProfileRetriever.fit(
            data.split.table.take(rows),
            data.ranking.users.ids.astype(str).tolist(),
            ids,
            catalog,
            profile_config,
            short_weight=cfg.short_weight,
        )

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        return self.retriever.score(user_indices, history)

    def params(self) -> dict[str, Any]:
        return self.retriever.params() if self.retriever is not None else {}


register_recommender("profile")(ProfileModel)
