"""Exploration slots: a few list positions given to candidates outside the shopper's usual interests.

A candidate qualifies when its category's share in the shopper's mix is at most
``max_interest_share`` (default 0: a category they never touched), it is not in their history, it is
not already in the list, and it fits the caps. Without a category mix (a new shopper) every candidate
of known category qualifies. One is drawn per slot with probability ``proportional to
exp((rel - max rel) / temperature)`` from ``numpy.random.default_rng([seed, request seed])``, so a
request's list is reproducible and different requests explore differently. A slot no candidate
qualifies for goes back to the diversity method.

Example:
    >>> import numpy as np
    >>> ex = Explorer(ExplorationConfig(slots=2))
    >>> ex.positions(10, pinned={10})
    [8, 9]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shelfwise.rerank.config import ExplorationConfig

__all__ = ["ExplorationPick", "Explorer"]


@dataclass(frozen=True)
class ExplorationPick:
    """One exploration draw: the candidate, its slot and why it qualified.

    Attributes:
        candidate: candidate position drawn.
        position: the 1-based list position of the slot.
        probability: the draw's probability of this candidate.
        interest_share: the share of its category in the shopper's mix.
        pool: how many candidates qualified.
        outside_known_interests: whether the shopper's mix was known (else any category qualified).
    """

    candidate: int
    position: int
    probability: float
    interest_share: float
    pool: int
    outside_known_interests: bool

    def to_dict(self) -> dict[str, Any]:
        """The breakdown entry of the pick."""
        return {
            "slot": self.position,
            "probability": round(self.probability, 6),
            "interest_share": round(self.interest_share, 6),
            "pool": self.pool,
            "outside_known_interests": self.outside_known_interests,
            "note": "added for variety: exploration slot",
        }


class Explorer:
    """Draws exploration picks for one request.

    Args:
        config: the exploration settings.
    """

    def __init__(self, config: ExplorationConfig) -> None:
        self.config = config

    def positions(self, k: int, pinned: set[int]) -> list[int]:
        """1-based slots for exploration within a ``k`` list, skipping pinned positions."""
        cfg = self.config
        if cfg.slots == 0:
            return []
        if cfg.positions is not None:
            return sorted(p for p in set(cfg.positions) if p <= k and p not in pinned)
        free = [p for p in range(k, 0, -1) if p not in pinned]
        return sorted(free[: cfg.slots])

    def rng(self, request_seed: int) -> np.random.Generator:
        """The request's generator (``request_seed`` may be any int)."""
        return np.random.default_rng([self.config.seed & 0xFFFFFFFF, request_seed & 0xFFFFFFFFFFFFFFFF])

    def eligible(
        self, categories: np.ndarray, user_mix: np.ndarray | None, in_history: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(mask, share)``: candidates outside the shopper's interests and their category's share."""
        cats = np.asarray(categories, dtype=np.int64)
        known = cats >= 0
        if user_mix is None:
            share = np.zeros(cats.size, dtype=np.float64)
        else:
            inside = known & (cats < user_mix.size)
            share = np.where(inside, user_mix[np.where(inside, cats, 0)], 0.0)
        mask = known & (share <= self.config.max_interest_share + 1e-12) & ~in_history
        return mask, share

    def draw(
        self,
        relevance: np.ndarray,
        pool: np.ndarray,
        share: np.ndarray,
        position: int,
        rng: np.random.Generator,
        *,
        known_mix: bool = True,
    ) -> ExplorationPick | None:
        """Draw one candidate from the boolean ``pool`` (``None`` when it is empty).

        ``known_mix`` says whether the shopper's category mix was known when ``pool`` was built.
        """
        idx = np.flatnonzero(pool)
        if idx.size == 0:
            return None
        rel = np.asarray(relevance, dtype=np.float64)[idx]
        w = np.exp((rel - rel.max()) / self.config.temperature)
        prob = w / w.sum()
        choice = int(rng.choice(idx.size, p=prob))
        j = int(idx[choice])
        return ExplorationPick(j, position, float(prob[choice]), float(share[j]), int(idx.size), known_mix)
