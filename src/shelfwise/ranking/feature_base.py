"""The base of ranking features: the request a feature reads, the :class:`Feature` class, shared helpers.

A feature names and documents its columns, says which state it reads, and computes float32 values for one
request (NaN where unknown). Concrete features are in :mod:`shelfwise.ranking.features` (item and source
side) and :mod:`shelfwise.ranking.user_features` (the shopper's side).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from shelfwise.data.schema import EVENT_WEIGHTS
from shelfwise.ranking.affinity import UserAffinity
from shelfwise.ranking.config import FeatureConfig
from shelfwise.ranking.events import TYPE_INDEX, TYPES
from shelfwise.ranking.merge import MergedCandidates
from shelfwise.ranking.state import FeatureState
from shelfwise.retrieval.base import UserContext

__all__ = ["Feature", "FeatureRequest", "hours", "log1p", "rate"]

HOUR = 3600.0
V, C = TYPE_INDEX["view"], TYPE_INDEX["click"]
CART, FAV, BUY = TYPE_INDEX["add_to_cart"], TYPE_INDEX["favorite"], TYPE_INDEX["purchase"]
#: ``EVENT_WEIGHTS`` in the column order of per-type counts.
TYPE_WEIGHTS = np.array([EVENT_WEIGHTS.get(t, 1.0) for t in TYPES], dtype=np.float32)


@dataclass(frozen=True, eq=False)
class FeatureRequest:
    """One ranking request.

    Attributes:
        context: the shopper (dense user index, history oldest first, session).
        candidates: the merged candidates with per-source scores.
        affinity: precomputed affinities (e.g. from the profile service); computed from the history if None.
        now: request time in Unix seconds (default: the state's latest event time).
    """

    context: UserContext
    candidates: MergedCandidates
    affinity: UserAffinity | None = None
    now: float | None = None


def log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(np.asarray(x, dtype=np.float64), 0.0))


def hours(now: float, t: np.ndarray) -> np.ndarray:
    return log1p((now - t) / HOUR)


def rate(hits: np.ndarray, trials: np.ndarray, prior_rate: float, strength: float) -> np.ndarray:
    """``(hits + strength * prior) / (trials + strength)``: shrinks rare items towards the prior rate."""
    return (
        (hits + strength * prior_rate) / (trials + strength) if strength > 0 else hits / np.maximum(trials, 1)
    )


class Feature(ABC):
    """One group of feature columns.

    Attributes:
        group: the config name of the group.
        docs: ``{column: what it means}``, in column order.
        reads: the state it reads (``"candidates"``, ``"context"``, ``"items"``, ``"funnel"``, ...).
    """

    group: ClassVar[str] = ""
    docs: ClassVar[dict[str, str]] = {}
    reads: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: FeatureConfig) -> None:
        self.config = config

    def column_docs(self) -> dict[str, str]:
        """``{column: meaning}`` in column order."""
        return dict(self.docs)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names."""
        return tuple(self.column_docs())

    @abstractmethod
    def compute(self, request: FeatureRequest, state: FeatureState) -> np.ndarray:
        """float32 ``(len(request.candidates), len(self.columns))``."""
