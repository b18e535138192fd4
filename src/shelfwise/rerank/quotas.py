"""Caps and quotas on list slots (per category / brand / seller), and xQuAD coverage of the shopper's mix.

:class:`SlotConstraints` is the constraint every greedy method runs under: a group at its cap
(``max_per_category`` ...) takes no more slots, and when the slots left are just enough for the
outstanding quotas (``min_per_category``), only candidates of categories still short of their quota
are allowed. Unknown groups (``-1``) are never capped. Caps are never exceeded by picks; pinned items
count toward them (and may exceed them: a pin is an explicit decision, reported in the notes).

:class:`XQuAD` diversifies over the shopper's categories (Santos et al. 2010, as used for recommendation
by Vargas & Castells): ``(1 - lam) rel(i) + lam * sum_c p(c|u) P(i|c) prod_{j in S} (1 - P(j|c))`` with
``P(i|c) = [category(i) = c]``, i.e. an item earns ``p(c_i)`` while its category is not yet in the list.

Example:
    >>> import numpy as np
    >>> cons = SlotConstraints({"category": np.array([0, 0, 1])}, {"category": 1})
    >>> taken = np.zeros(3, dtype=bool); cons.take(0); taken[0] = True
    >>> cons.allowed(taken).tolist()
    [False, False, True]
"""

from __future__ import annotations

import numpy as np

from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = ["SlotConstraints", "XQuAD"]


class SlotConstraints:
    """Caps (``max per group``) and category quotas (``min per category``) over one candidate list.

    Args:
        groups: ``{"category" | "brand" | "seller": int (n,) group id per candidate, -1 unknown}``.
        caps: ``{group kind: max items per group}`` (kinds without a cap are not limited).
        min_per_category: ``{category id: min items}``; needs ``groups["category"]``.
        slots: list slots the picks will fill (quotas are enforced against the slots left).
    """

    def __init__(
        self,
        groups: dict[str, np.ndarray],
        caps: dict[str, int | None],
        min_per_category: dict[int, int] | None = None,
        slots: int = 0,
    ) -> None:
        self._codes: dict[str, np.ndarray] = {}
        self._counts: dict[str, np.ndarray] = {}
        self._caps: dict[str, int] = {}
        self.n = next((int(np.asarray(g).size) for g in groups.values()), 0)
        for kind, cap in caps.items():
            if cap is None or kind not in groups:
                continue
            values = np.asarray(groups[kind], dtype=np.int64)
            uniq, local = np.unique(values, return_inverse=True)
            local = np.where(values >= 0, local, -1)
            self._codes[kind] = local
            self._counts[kind] = np.zeros(uniq.size, dtype=np.int64)
            self._caps[kind] = int(cap)
        self.quota: dict[int, int] = {int(c): int(m) for c, m in (min_per_category or {}).items() if m > 0}
        self._cats = np.asarray(groups.get("category", np.full(self.n, -1)), dtype=np.int64)
        self._quota_count = dict.fromkeys(self.quota, 0)
        self.slots = slots
        self.picked = 0
        self.over_cap: list[str] = []

    def _cap_ok(self) -> np.ndarray:
        ok = np.ones(self.n, dtype=bool)
        for kind, local in self._codes.items():
            counts = self._counts[kind]
            ok &= (local < 0) | (counts[np.maximum(local, 0)] < self._caps[kind])
        return ok

    def allowed(self, taken: np.ndarray) -> np.ndarray:
        """Candidates allowed next (not taken, within caps, and serving quotas when slots run short)."""
        ok: np.ndarray = self._cap_ok() & ~taken
        if self.quota:
            short = [c for c, m in self.quota.items() if self._quota_count[c] < m]
            if short:
                serving = np.isin(self._cats, short) & ok
                need = sum(
                    min(self.quota[c] - self._quota_count[c], int((serving & (self._cats == c)).sum()))
                    for c in short
                )
                if need and need >= self.slots - self.picked:
                    ok = serving
        return ok

    def can_take(self, j: int) -> bool:
        """Whether candidate ``j`` fits the caps now."""
        return all(
            local[j] < 0 or self._counts[kind][local[j]] < self._caps[kind]
            for kind, local in self._codes.items()
        )

    def take(self, j: int, *, forced: bool = False) -> None:
        """Count candidate ``j`` in its groups (``forced``: a pin, counted even past a cap)."""
        for kind, local in self._codes.items():
            if local[j] >= 0:
                if forced and self._counts[kind][local[j]] >= self._caps[kind]:
                    self.over_cap.append(kind)
                self._counts[kind][local[j]] += 1
        c = int(self._cats[j]) if self._cats.size else -1
        if c in self._quota_count:
            self._quota_count[c] += 1
        if not forced:
            self.picked += 1

    def counts(self, kind: str) -> dict[int, int]:
        """Slots taken per local group of ``kind`` (for checks and tests)."""
        return {int(g): int(c) for g, c in enumerate(self._counts.get(kind, np.zeros(0))) if c}


class _XQuADState(GreedyState):
    def __init__(self, problem: SelectionProblem, lam: float) -> None:
        self.lam = lam
        self.rel = problem.relevance.astype(np.float64)
        mix = problem.user_mix
        self.fallback = mix is None
        cats = np.asarray(problem.categories, dtype=np.int64)
        self.cats = cats
        if mix is None:
            return
        known = (cats >= 0) & (cats < mix.size)
        self.weight = np.where(known, mix[np.where(known, cats, 0)], 0.0)  # p(c_i | u)
        self.uncovered = np.ones(self.rel.size, dtype=np.float64)

    def gains(self) -> np.ndarray:
        if self.fallback:
            return self.rel
        return (1.0 - self.lam) * self.rel + self.lam * self.weight * self.uncovered

    def take(self, j: int) -> None:
        if self.fallback:
            return
        if self.cats[j] >= 0:
            self.uncovered[self.cats == self.cats[j]] = 0.0

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        out = {"relevance": float(self.rel[j]), "gain": float(gains[j])}
        if not self.fallback:
            out["coverage"] = float(self.weight[j] * self.uncovered[j])
        return out

    def notes(self) -> tuple[str, ...]:
        if self.fallback and self.lam > 0:
            return ("xquad: no category mix for this shopper; relevance order",)
        return ()


class XQuAD(Diversifier):
    """xQuAD coverage of the shopper's category mix.

    Args:
        diversity: ``lam = diversity``.
    """

    name = "xquad"

    @property
    def lam(self) -> float:
        """xQuAD's coverage weight."""
        return self.diversity

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _XQuADState(problem, self.lam)
