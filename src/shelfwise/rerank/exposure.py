"""Exposure across shoppers: how often each item was already shown, for coverage-aware re-ranking.

Catalogue coverage is a property of *all* lists together, so no per-list method can aim at it. An
:class:`ExposureCounter` remembers how many lists each item was placed in; the re-ranker then gives
each candidate an exposure bonus ``1 / (1 + x_i)`` (1 for an item never shown, 1/2 after one list, ...),
weighted by ``diversity`` (method ``coverage``) or by ``diversity * coverage`` (added to any other
method). Offline, :func:`~shelfwise.rerank.batch.rerank_top_items` keeps one counter for the whole
batch of users (in row order); online, :class:`LiveExposure` keeps one per surface (recommendation slot),
grows it with the catalogue and halves its counts every ``half_life`` lists, so that what was shown often
long ago may come back.

Example:
    >>> c = ExposureCounter(4)
    >>> c.record(np.array([0, 1])); c.record(np.array([1]))
    >>> c.bonus(np.array([0, 1, 2])).tolist()
    [0.5, 0.3333333333333333, 1.0]
"""

from __future__ import annotations

import numpy as np

from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = ["CoverageGreedy", "ExposureCounter", "LiveExposure"]


class ExposureCounter:
    """Per-item count of the lists an item was placed in.

    Args:
        n_items: catalogue size (dense item indices ``0..n_items-1``).
    """

    def __init__(self, n_items: int) -> None:
        if n_items < 0:
            raise ValueError("n_items must be >= 0")
        self.counts = np.zeros(n_items, dtype=np.float64)

    def record(self, items: np.ndarray) -> None:
        """Count one more list showing ``items`` (dense indices; ``-1`` padding ignored)."""
        arr = np.asarray(items, dtype=np.int64)
        np.add.at(self.counts, arr[arr >= 0], 1.0)

    def bonus(self, items: np.ndarray) -> np.ndarray:
        """float64 ``1 / (1 + exposure)`` of ``items``: 1 for never-shown items, toward 0 for over-exposed ones."""
        return 1.0 / (1.0 + self.counts[np.asarray(items, dtype=np.int64)])

    def decay(self, factor: float) -> None:
        """Multiply every count by ``factor`` in ``[0, 1]`` (e.g. once an hour, for recent exposure)."""
        if not 0.0 <= factor <= 1.0:
            raise ValueError("factor must be in [0, 1]")
        self.counts *= factor

    def grow(self, n_items: int) -> None:
        """Make room for items added to the catalogue (new items start unexposed)."""
        if n_items > len(self.counts):
            self.counts = np.concatenate([self.counts, np.zeros(n_items - len(self.counts))])


class LiveExposure:
    """The exposure counters of a serving process, one per surface, with a half-life in lists.

    Every served list is recorded (whatever method produced it), so a request that asks for coverage
    knows what every other request showed. Counts are multiplied by ``0.5 ** (1 / half_life)`` per
    recorded list, applied in steps of ``half_life / 100`` lists (one pass over the counts per step).
    Not thread-safe: the caller serialises requests (the recommender holds its lock).

    Args:
        half_life: lists after which a count has halved.

    Example:
        >>> live = LiveExposure(half_life=2)
        >>> live.record("home", np.array([0, 1]), n_items=3)
        >>> live.record("home", np.array([1]), n_items=3)
        >>> live.counter("home", 3).counts.round(3).tolist()  # the first list has aged one list
        [0.707, 1.707, 0.0]
    """

    def __init__(self, half_life: int = 10_000) -> None:
        if half_life < 1:
            raise ValueError("half_life must be >= 1")
        self.half_life = half_life
        self._step = max(1, half_life // 100)
        self._counters: dict[str, ExposureCounter] = {}
        self._since_decay: dict[str, int] = {}

    def counter(self, surface: str, n_items: int) -> ExposureCounter:
        """The surface's counter, sized for ``n_items``."""
        c = self._counters.get(surface)
        if c is None:
            c = self._counters[surface] = ExposureCounter(n_items)
        c.grow(n_items)
        return c

    def record(self, surface: str, items: np.ndarray, n_items: int) -> None:
        """Count one served list of ``surface`` and age the counts."""
        c = self.counter(surface, n_items)
        n = self._since_decay.get(surface, 0) + 1
        if n >= self._step:
            c.decay(0.5 ** (n / self.half_life))
            n = 0
        self._since_decay[surface] = n
        c.record(items)


class _CoverageState(GreedyState):
    def __init__(self, problem: SelectionProblem, lam: float) -> None:
        self.rel = problem.relevance.astype(np.float64)
        bonus = problem.exposure_bonus
        self.bonus = np.zeros_like(self.rel) if bonus is None else np.asarray(bonus, dtype=np.float64)
        self.lam = lam if bonus is not None else 0.0
        self.missing = bonus is None and lam > 0

    def gains(self) -> np.ndarray:
        if self.lam <= 0.0:
            return self.rel
        return (1.0 - self.lam) * self.rel + self.lam * self.bonus

    def take(self, j: int) -> None:
        return None

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        return {
            "relevance": float(self.rel[j]),
            "exposure_bonus": float(self.bonus[j]),
            "gain": float(gains[j]),
        }

    def notes(self) -> tuple[str, ...]:
        if self.missing:
            return ("coverage: no exposure counts were given; relevance order",)
        return ()


class CoverageGreedy(Diversifier):
    """Relevance traded against exposure across lists: ``(1 - lam) rel(i) + lam / (1 + x_i)``, ``lam = diversity``.

    Needs :attr:`SelectionProblem.exposure_bonus` (the pipeline fills it from an :class:`ExposureCounter`);
    without it the order is relevance order.
    """

    name = "coverage"

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _CoverageState(problem, self.diversity)
