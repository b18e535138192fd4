"""Calibrated re-ranking (Steck, "Calibrated Recommendations", RecSys 2018).

The list's category mix ``q`` should match the shopper's ``p`` (from their history). Greedy steps maximise

    (1 - lam) * sum_{i in S} rel(i)  -  lam * KL(p || q~(S)),   q~ = (1 - a) q + a p

with ``lam = diversity`` and ``a = calibration_alpha`` (0.01, as the harness's ``miscalibration@k``,
which this objective minimises; items weigh equally in ``q``, as in that metric). Adding one item
changes ``q`` in one category only, so every candidate's new KL follows from the current category
counts in ``O(|support(p)| + n)`` per step. Items of unknown category add mass outside ``p``'s
support. Without a category mix (no history, no categories) the method falls back to relevance order.

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank.greedy import SelectionProblem
    >>> p = SelectionProblem(np.array([1.0, 0.9, 0.8], dtype=np.float32),
    ...                      categories=np.array([0, 0, 1], dtype=np.int32), user_mix=np.array([0.5, 0.5]))
    >>> CalibratedGreedy(0.0).select(p, 2).order.tolist(), CalibratedGreedy(0.5).select(p, 2).order.tolist()
    ([0, 1], [0, 2])
"""

from __future__ import annotations

import numpy as np

from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = ["CalibratedGreedy", "kl_miscalibration"]


def kl_miscalibration(p: np.ndarray, counts: np.ndarray, alpha: float = 0.01) -> float:
    """``KL(p || (1 - alpha) q + alpha p)`` in nats, ``q = counts / counts.sum()`` (the harness formula)."""
    p = np.asarray(p, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    q = counts / total if total > 0 else np.zeros_like(counts)
    q_tilde = (1.0 - alpha) * q + alpha * p
    s = p > 0
    return float((p[s] * np.log(p[s] / q_tilde[s])).sum())


class _CalibratedState(GreedyState):
    def __init__(self, problem: SelectionProblem, lam: float) -> None:
        self.lam = lam
        self.alpha = problem.calibration_alpha
        self.rel = problem.relevance.astype(np.float64)
        mix = problem.user_mix
        self.fallback = mix is None or lam <= 0.0
        if mix is None:
            return
        support = np.flatnonzero(mix > 0)
        self.p = mix[support].astype(np.float64)
        cats = np.asarray(problem.categories, dtype=np.int64)
        lookup = np.full(max(int(cats.max(initial=-1)), int(support.max(initial=-1))) + 2, -1, dtype=np.int64)
        lookup[support] = np.arange(support.size)
        self.local = np.where(cats >= 0, lookup[np.where(cats >= 0, cats, 0)], -1)  # index into support
        self.counts = np.zeros(support.size, dtype=np.float64)  # selected items per support category
        self.m = 0  # selected items (all categories)
        self.kl_now = float("nan")

    def _kl_if_added(self) -> np.ndarray:
        """KL of the list after adding each candidate."""
        a, denom = self.alpha, self.m + 1.0
        base = (1.0 - a) * self.counts / denom + a * self.p  # q~ on the support if the new item is outside
        log_base = np.log(base)
        kl_base = float((self.p * (np.log(self.p) - log_base)).sum())
        inside = self.local >= 0
        loc = np.where(inside, self.local, 0)
        delta = self.p[loc] * (log_base[loc] - np.log(base[loc] + (1.0 - a) / denom))
        return kl_base + np.where(inside, delta, 0.0)

    def gains(self) -> np.ndarray:
        if self.fallback:
            return self.rel
        self.kl_after = self._kl_if_added()
        return (1.0 - self.lam) * self.rel - self.lam * self.kl_after

    def take(self, j: int) -> None:
        if self.fallback and not hasattr(self, "counts"):
            return
        if self.local[j] >= 0:
            self.counts[self.local[j]] += 1.0
        self.m += 1

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        out = {"relevance": float(self.rel[j]), "gain": float(gains[j])}
        if not self.fallback:
            out["kl_after"] = float(self.kl_after[j])
        return out

    def notes(self) -> tuple[str, ...]:
        if self.fallback and self.lam > 0:
            return ("calibrated: no category mix for this shopper; relevance order",)
        return ()


class CalibratedGreedy(Diversifier):
    """Steck's calibrated greedy re-ranking toward the shopper's category mix.

    Args:
        diversity: ``lam = diversity``.
    """

    name = "calibrated"

    @property
    def lam(self) -> float:
        """Steck's calibration weight."""
        return self.diversity

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _CalibratedState(problem, self.lam)
