"""Candidate sources: the first stage of every recommendation and search request.

A source proposes items for one request with scores and says where each came from; the pipeline merges
several sources, the ranker orders the merged set, the re-ranker diversifies it. Every source also scores
all items for a batch of users (:meth:`CandidateSource.score_all`), which is what the offline harness ranks
(full ranking) — the same object serves both, so what is evaluated is what is served.

Ids inside are dense int32 item indices of the catalogue the source was fitted on.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shelfwise.encoded.data import RecommendData


@dataclass(frozen=True)
class UserContext:
    """What is known about the shopper at request time.

    Attributes:
        user_index: dense user index the models were fitted with, or -1 for a user they never saw.
        history: item indices the user interacted with, oldest first (all event types).
        weights: optional per-history-item weights (e.g. purchase > view), aligned with ``history``.
        session: items of the current session, oldest first (a subset of the recent history).
        query: the search query, when the request is a search.
        exclude: items never to propose (out of stock, already bought where the shop filters them).
    """

    user_index: int = -1
    history: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    weights: np.ndarray | None = None
    session: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    query: str | None = None
    exclude: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))


@dataclass(frozen=True)
class Candidates:
    """One source's proposal for one request.

    Attributes:
        source: the source's name (``"sasrec"``, ``"item2item"``, ``"popular"``...).
        items: int32 item indices, best first.
        scores: float32 scores aligned with ``items`` (comparable within a source only).
        anchors: for item-to-item sources, the history item each candidate is similar to (-1 if none);
            explanations ("similar to X you viewed") are built from it.
    """

    source: str
    items: np.ndarray
    scores: np.ndarray
    anchors: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.items.shape != self.scores.shape:
            raise ValueError("items and scores must be aligned")


class CandidateSource(abc.ABC):
    """Proposes items for a request, and scores all items for the harness."""

    name: str = "source"

    @abc.abstractmethod
    def fit(self, data: RecommendData) -> CandidateSource:
        """Learn from the training part of ``data`` (its ``train_valid`` matrices and sequences)."""

    @abc.abstractmethod
    def score_all(self, contexts: list[UserContext]) -> np.ndarray:
        """float32 ``(len(contexts), n_items)`` scores for every item."""

    def candidates(self, context: UserContext, k: int) -> Candidates:
        """The top-``k`` items for one request (default: from :meth:`score_all`, excluded items removed)."""
        scores = self.score_all([context])[0]
        if context.exclude.size:
            scores[context.exclude] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k else np.zeros(0, dtype=np.int64)
        top = top[np.argsort(-scores[top], kind="stable")]
        return Candidates(self.name, top.astype(np.int32), scores[top].astype(np.float32))

    def save(self, folder: Path) -> None:  # pragma: no cover - sources override when they persist
        """Write the fitted state into ``folder`` (JSON + arrays; never pickle)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be saved yet")
