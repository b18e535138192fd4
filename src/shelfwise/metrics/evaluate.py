"""Evaluate a fitted recommender under a stated protocol: one call, one frozen result.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> from shelfwise.retrieval.baselines import Popularity
    >>> train = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0]], dtype=np.float32))
    >>> model = Popularity().fit(train)
    >>> res = evaluate_ranking(model, np.array([0, 1]), np.array([1, 2]), train[[0, 1]], ["hr@1", "ndcg@2"])
    >>> res.metrics["hr@1"], res.protocol.history
    (0.5, 'rankable')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np
import scipy.sparse as sp

from shelfwise.metrics.base import RankingMetric
from shelfwise.metrics.ranking import Protocol, RankResult, rank_targets
from shelfwise.metrics.registry import get_metric

__all__ = ["EvaluationResult", "ScoringModel", "evaluate_ranking"]


class ScoringModel(TypingProtocol):
    """What the harness needs of a model: a name and batch scoring over all items."""

    name: str

    def score(self, user_indices: np.ndarray, history: sp.csr_matrix | None = None) -> np.ndarray:
        """float32 ``(len(user_indices), n_items)`` scores."""
        ...


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one model under one protocol, with where they came from.

    Attributes:
        model: the model's name.
        protocol: how the targets were ranked.
        metrics: ``{metric name: mean over evaluated users}``.
        n_users: users evaluated.
        score_seconds: time spent scoring (inference).
        rank_seconds: time spent ranking.
        fit_seconds: training time, when the caller measured it.
        params: the model's hyper-parameters, when given.
    """

    model: str
    protocol: Protocol
    metrics: dict[str, float]
    n_users: int
    score_seconds: float
    rank_seconds: float
    fit_seconds: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model": self.model,
            "protocol": self.protocol.to_dict(),
            "metrics": dict(self.metrics),
            "n_users": self.n_users,
            "score_seconds": self.score_seconds,
            "rank_seconds": self.rank_seconds,
            "fit_seconds": self.fit_seconds,
            "params": dict(self.params),
        }


def evaluate_ranking(
    model: ScoringModel,
    users: np.ndarray,
    targets: np.ndarray,
    history: sp.csr_matrix | None,
    metrics: Sequence[RankingMetric | str],
    *,
    exclude_history: bool = False,
    sampled: int | None = None,
    tie_break_seed: int = 0,
    split: str = "test",
    batch_size: int = 1024,
    fit_seconds: float | None = None,
    params: dict[str, Any] | None = None,
) -> EvaluationResult:
    """Rank every user's target(s) with ``model.score`` and compute ranking metrics.

    Args:
        model: anything with ``name`` and ``score(user_indices, history)``.
        users: int user indices ``(n,)``.
        targets: ``(n,)`` or ``(n, m)`` held-out items (``-1`` padded).
        history: CSR ``(n, n_items)`` aligned with ``users`` (model input and history mask).
        metrics: ranking metric objects or names (``"ndcg@10"``).
        exclude_history: mask history items (default: history rankable, the published protocol).
        sampled: rank among this many sampled negatives instead of all items.
        tie_break_seed: seed of the random tie-break.
        split: name of the evaluated part (recorded in the protocol).
        batch_size: users scored at once.
        fit_seconds: training time to record.
        params: hyper-parameters to record.

    Returns:
        The frozen result.
    """
    objs = [get_metric(m) if isinstance(m, str) else m for m in metrics]
    for m in objs:
        if not isinstance(m, RankingMetric):
            raise TypeError(f"{m.name} is not a ranking metric")
    result: RankResult = rank_targets(
        model.score,
        users,
        targets,
        history=history,
        exclude_history=exclude_history,
        sampled=sampled,
        tie_break_seed=tie_break_seed,
        split=split,
        batch_size=batch_size,
    )
    return EvaluationResult(
        model=model.name,
        protocol=result.protocol,
        metrics=result.evaluate(objs),  # type: ignore[arg-type]
        n_users=int(np.asarray(users).size),
        score_seconds=result.score_seconds,
        rank_seconds=result.rank_seconds,
        fit_seconds=fit_seconds,
        params=dict(params or {}),
    )
