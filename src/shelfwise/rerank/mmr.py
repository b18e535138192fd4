"""Maximal Marginal Relevance (Carbonell & Goldstein 1998).

Each step picks ``argmax_i lam * rel(i) - (1 - lam) * max_{j in S} cos(e_i, e_j)`` over the remaining
candidates, with ``lam = 1 - diversity`` (the redundancy term is 0 while ``S`` is empty, so the first
pick is the most relevant item). The running maximum similarity is updated with one ``(n, d)`` product per
pick: ``O(n k d)`` for ``k`` picks among ``n`` candidates.

With ``mmr_redundancy="mean"`` (a setting of :class:`~shelfwise.rerank.config.RerankConfig`) the
redundancy is the *mean* similarity to the selected items instead of the maximum: each step then adds the
item that raises the list's sum of pairwise distances most per unit of relevance, i.e. greedy max-sum
diversification, which is what intra-list diversity (the mean pairwise distance) measures.

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank.greedy import SelectionProblem
    >>> vecs = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)   # items 0 and 1 are duplicates
    >>> p = SelectionProblem(np.array([1.0, 0.9, 0.5], dtype=np.float32), vectors=vecs)
    >>> MMR(0.0).select(p, 2).order.tolist(), MMR(0.7).select(p, 2).order.tolist()
    ([0, 1], [0, 2])
"""

from __future__ import annotations

import numpy as np

from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = ["MMR"]


class _MMRState(GreedyState):
    def __init__(self, problem: SelectionProblem, lam: float) -> None:
        self.lam = lam
        self.rel = problem.relevance.astype(np.float64)
        self.vectors = problem.similarity_vectors()
        self.mean = problem.mmr_redundancy == "mean"
        self.max_sim = np.zeros(problem.n, dtype=np.float64)  # max (or mean) similarity to the selected
        self.sum_sim = np.zeros(problem.n, dtype=np.float64)
        self.n_selected = 0
        self.any_selected = False

    def gains(self) -> np.ndarray:
        if self.lam >= 1.0:
            return self.rel
        return self.lam * self.rel - (1.0 - self.lam) * self.max_sim

    def take(self, j: int) -> None:
        if self.lam >= 1.0:
            return
        sim = (self.vectors @ self.vectors[j]).astype(np.float64)
        self.n_selected += 1
        if self.mean:
            self.sum_sim += sim
            self.max_sim = self.sum_sim / self.n_selected
        else:
            self.max_sim = sim if not self.any_selected else np.maximum(self.max_sim, sim)
        self.any_selected = True

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        key = "mean_similarity" if self.mean else "max_similarity"
        return {"relevance": float(self.rel[j]), key: float(self.max_sim[j]), "gain": float(gains[j])}


class MMR(Diversifier):
    """MMR over candidate embeddings (same-category similarity when the catalogue has none).

    Args:
        diversity: ``lam = 1 - diversity``.
    """

    name = "mmr"

    @property
    def lam(self) -> float:
        """MMR's relevance weight."""
        return 1.0 - self.diversity

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _MMRState(problem, self.lam)
