"""Determinantal point process re-ranking by fast greedy MAP inference (Chen, Zhang & Zhou, NeurIPS 2018).

Kernel ``L = Diag(exp(alpha r)) S Diag(exp(alpha r))`` with ``S_ij = cos(e_i, e_j)`` (PSD, unit diagonal)
and ``alpha = theta / (2 (1 - theta))``, ``theta = 1 - diversity``. Then
``log det L_Y = 2 alpha sum_{i in Y} r_i + log det S_Y``, and (times ``1 - theta``) the greedy step picks

    argmax_i  theta * r_i + (1 - theta) * log d_i^2

where ``d_i^2`` is the squared residual of ``e_i`` after projecting out the selected items, i.e. the
next diagonal entry of the Cholesky factor of ``S_{Y + i}``. Working in this log form keeps float32
finite where ``exp(alpha r)`` would overflow (``alpha -> inf`` as ``theta -> 1``).

Chen et al.'s incremental Cholesky update (Algorithm 1): after picking ``j``, for every candidate ``i``

    e_i = (S_ji - <c_j, c_i>) / d_j,   c_i <- [c_i, e_i],   d_i^2 <- d_i^2 - e_i^2

costing ``O(n d)`` for the kernel row plus ``O(n k)`` for the inner products, ``O(n k (d + k))`` in all
(``O(n k^2)`` with the kernel precomputed). An item whose residual falls below ``epsilon`` adds no
volume: its ``log d^2`` is floored at ``log epsilon``, so once the embedding span is exhausted the rest
of the list follows relevance (Chen et al. stop there; a shop list still wants its ``k`` items).

Example:
    >>> import numpy as np
    >>> from shelfwise.rerank.greedy import SelectionProblem
    >>> vecs = np.array([[1, 0], [0.995, 0.0998], [0, 1]], dtype=np.float32)  # 0 and 1 near-duplicates
    >>> p = SelectionProblem(np.array([1.0, 0.95, 0.6], dtype=np.float32), vectors=vecs)
    >>> DPP(0.5).select(p, 2).order.tolist()
    [0, 2]
"""

from __future__ import annotations

import math

import numpy as np

from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = ["DPP"]


class _DPPState(GreedyState):
    def __init__(self, problem: SelectionProblem, theta: float) -> None:
        self.theta = theta
        self.rel = problem.relevance.astype(np.float64)
        self.vectors = problem.similarity_vectors()
        self.eps = problem.dpp_epsilon
        n = problem.n
        self.d2 = np.einsum("ij,ij->i", self.vectors, self.vectors).astype(np.float64)  # diag of S
        self.cis: list[np.ndarray] = []  # rows e of the incremental Cholesky factor
        self.log_floor = math.log(self.eps)
        self.n = n
        self.exhausted = False

    def log_volume(self) -> np.ndarray:
        return np.asarray(np.log(np.maximum(self.d2, self.eps)))

    def gains(self) -> np.ndarray:
        if self.theta >= 1.0:
            return self.rel
        return self.theta * self.rel + (1.0 - self.theta) * self.log_volume()

    def take(self, j: int) -> None:
        if self.theta >= 1.0:
            return
        dj2 = self.d2[j]
        if dj2 <= self.eps:  # j is (numerically) in the span of the selected items: no new direction
            self.exhausted = True
            self.d2[j] = 0.0
            return
        dj = math.sqrt(dj2)
        row = (self.vectors @ self.vectors[j]).astype(np.float64)  # S_j.
        if self.cis:
            c = np.stack(self.cis)  # (t, n)
            row -= c[:, j] @ c
        e = row / dj
        self.cis.append(e)
        self.d2 = np.maximum(self.d2 - e * e, 0.0)
        self.d2[j] = 0.0

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        return {
            "relevance": float(self.rel[j]),
            "log_volume": float(max(math.log(max(self.d2[j], self.eps)), self.log_floor)),
            "gain": float(gains[j]),
        }

    def notes(self) -> tuple[str, ...]:
        if self.exhausted:
            return ("dpp: the embedding span was exhausted; later picks follow relevance",)
        return ()


class DPP(Diversifier):
    """Greedy DPP MAP inference with an incremental Cholesky factor (Chen et al. 2018).

    Args:
        diversity: ``theta = 1 - diversity`` (0 = relevance order, 1 = maximum volume only).
    """

    name = "dpp"

    @property
    def theta(self) -> float:
        """Chen et al.'s relevance weight."""
        return 1.0 - self.diversity

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _DPPState(problem, self.theta)
