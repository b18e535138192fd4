"""The profile vector used alone as a retriever: ``score(u, i) = <profile vector of u, item vector of i>``.

It is what the evaluation harness (``evaluate_ranking``) and ``shelfwise evaluate`` call as model
``profile``. The profile vector blends the long-term and the short-term vectors (``short_weight``, chosen
on the validation split in ``benchmarks/bench_profiles.py``). Users without a vector score every item 0
(their targets fall among random ties) unless a segment model gives them their segment's prior vector.

Example:
    >>> import numpy as np
    >>> r = ProfileRetriever(np.eye(2, dtype=np.float32), np.array([[1, 0], [0, 1], [1, 1]], np.float32))
    >>> r.score(np.array([1])).tolist()
    [[0.0, 1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from shelfwise.profiles.builder import build_states
from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.config import ProfileConfig
from shelfwise.profiles.segments import SegmentModel
from shelfwise.profiles.state import ProfileUpdater, UserState
from shelfwise.profiles.vectors import user_matrix

__all__ = ["ProfileRetriever"]


class ProfileRetriever:
    """Scores all items for a batch of users from precomputed profile vectors.

    Args:
        user_vectors: float32 ``(n_users, d)``, row = harness user index.
        item_vectors: float32 ``(n_items, d)``, row = harness item index.
        params: hyper-parameters to report.
    """

    name = "profile"

    def __init__(
        self, user_vectors: np.ndarray, item_vectors: np.ndarray, params: dict[str, Any] | None = None
    ) -> None:
        self.user_vectors = np.ascontiguousarray(user_vectors, dtype=np.float32)
        self.item_vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
        self._params = dict(params or {})

    @classmethod
    def from_states(
        cls,
        states: Mapping[str, UserState],
        user_ids: Sequence[str],
        item_ids: Sequence[str],
        catalog: ItemCatalog,
        config: ProfileConfig | None = None,
        *,
        short_weight: float = 0.5,
        segments: SegmentModel | None = None,
    ) -> ProfileRetriever:
        """Align states and item vectors with the harness's user and item indices.

        Args:
            states: ``{user_id: state}`` built from the training events only.
            user_ids: external id of each harness user index.
            item_ids: external id of each harness item index.
            catalog: item facts with vectors.
            config: profile settings.
            short_weight: blend of the short-term vector (0 = long-term only).
            segments: gives users without a vector their segment's prior vector.

        Raises:
            ValueError: when the catalogue has no item vectors.
        """
        if catalog.vectors is None:
            raise ValueError("the profile retriever needs item vectors in the catalogue")
        cfg = config or ProfileConfig()
        users = user_matrix([states.get(str(u)) for u in user_ids], catalog, cfg, short_weight)
        if segments is not None and segments.prior_interest.size:
            empty = ~users.any(axis=1)
            users[empty] = segments.prior_interest[segments.nearest_by_interest(None)]
        rows = catalog.encode([str(i) for i in item_ids])
        items = np.where((rows >= 0)[:, None], catalog.vectors[np.maximum(rows, 0)], 0.0).astype(np.float32)
        params = {
            "short_weight": short_weight,
            "long_half_life_days": cfg.long_half_life_days,
            "short_half_life_events": cfg.short_half_life_events,
            "dim": catalog.dim,
        }
        return cls(users, items, params)

    @classmethod
    def fit(
        cls,
        train_events: pa.Table,
        user_ids: Sequence[str],
        item_ids: Sequence[str],
        catalog: ItemCatalog,
        config: ProfileConfig | None = None,
        *,
        short_weight: float = 0.5,
    ) -> ProfileRetriever:
        """Build profiles from training events (batch) and align them (the ``shelfwise evaluate`` entry)."""
        states = build_states(train_events, ProfileUpdater(catalog, config))
        return cls.from_states(states, user_ids, item_ids, catalog, config, short_weight=short_weight)

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(user_indices), n_items)`` inner products (history is not used)."""
        u = np.asarray(user_indices, dtype=np.int64)
        return self.user_vectors[u] @ self.item_vectors.T

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, JSON-ready."""
        return dict(self._params)
