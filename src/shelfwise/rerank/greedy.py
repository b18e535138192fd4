"""The interface of diversity methods: greedy selection of list slots, one item per step.

Every method (MMR, DPP, calibration, xQuAD, plain relevance) is a :class:`Diversifier` whose per-request
state scores every remaining candidate (:meth:`GreedyState.gains`) and is updated with each pick
(:meth:`GreedyState.take`). The loop here is shared: it applies slot constraints (caps / quotas) and
pre-selected items (pins), and breaks ties (gains within 1e-6, relative) by relevance, then by candidate
order, so ``diversity = 0`` reproduces the relevance order exactly for every method.

Example:
    >>> import numpy as np
    >>> p = SelectionProblem(relevance=np.array([0.2, 0.9, 0.5], dtype=np.float32))
    >>> RelevanceOrder().select(p, 2).order.tolist()
    [1, 2]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

__all__ = [
    "Diversifier",
    "GreedyState",
    "NoConstraint",
    "RelevanceOrder",
    "Selection",
    "SelectionProblem",
    "SlotConstraint",
]

_TIE = 1e-6  # gains this close (relative) are ties: float32 inputs carry ~1e-7 noise


@dataclass(frozen=True, eq=False)
class SelectionProblem:
    """One request's candidates, as the diversity methods see them (positions ``0..n-1``).

    Attributes:
        relevance: float32 ``(n,)`` normalised relevance after rules.
        vectors: float32 ``(n, d)`` unit vectors (``None``: similarity falls back to same-category).
        categories: int32 ``(n,)`` category ids, ``-1`` unknown.
        user_mix: float64 ``(n_categories,)`` the shopper's category distribution, or ``None``.
        calibration_alpha: Steck's smoothing of the list's category mix.
        dpp_epsilon: DPP residual volume below which an item adds none.
        exposure_bonus: float64 ``(n,)`` ``1 / (1 + exposure)`` per candidate (see
            :mod:`shelfwise.rerank.exposure`), or ``None`` when exposure is not tracked.
        exposure_weight: added to every method's gain as ``exposure_weight * exposure_bonus``.
        mmr_redundancy: MMR's redundancy: ``max`` (classic) or ``mean`` similarity to the selected items.
    """

    relevance: np.ndarray
    vectors: np.ndarray | None = None
    categories: np.ndarray | None = None
    user_mix: np.ndarray | None = None
    calibration_alpha: float = 0.01
    dpp_epsilon: float = 1e-6
    exposure_bonus: np.ndarray | None = None
    exposure_weight: float = 0.0
    mmr_redundancy: str = "max"

    def __post_init__(self) -> None:
        rel = np.asarray(self.relevance, dtype=np.float32)
        object.__setattr__(self, "relevance", rel)
        if self.categories is None:
            object.__setattr__(self, "categories", np.full(rel.size, -1, dtype=np.int32))

    @property
    def n(self) -> int:
        """Number of candidates."""
        return int(self.relevance.size)

    def similarity_vectors(self) -> np.ndarray:
        """Unit vectors for similarity: the embeddings, else one-hot categories (unknown = unique)."""
        if self.vectors is not None:
            return self.vectors
        cats = np.asarray(self.categories, dtype=np.int64)
        codes = np.where(cats >= 0, cats, cats.max(initial=0) + 1 + np.arange(cats.size))
        _, local = np.unique(codes, return_inverse=True)
        out = np.zeros((cats.size, int(local.max(initial=-1)) + 1), dtype=np.float32)
        out[np.arange(cats.size), local] = 1.0
        return out


@dataclass(frozen=True, eq=False)
class Selection:
    """The picks of one greedy run (pre-selected items not included).

    Attributes:
        order: int32 candidate positions in pick order.
        gains: float64 objective value of each pick at the step it was taken.
        terms: per pick, the parts of its gain (e.g. ``{"relevance": .9, "redundancy": .3}``).
        method: the method's name.
    """

    order: np.ndarray
    gains: np.ndarray
    terms: tuple[dict[str, float], ...] = ()
    method: str = ""
    notes: tuple[str, ...] = field(default=())


class SlotConstraint(Protocol):
    """Which candidates may take the next slot (caps, quotas); told about every pick."""

    def allowed(self, taken: np.ndarray) -> np.ndarray:
        """Boolean ``(n,)``: candidates allowed next, given the boolean ``taken`` mask."""
        ...

    def take(self, j: int) -> None:
        """Record that candidate ``j`` took a slot."""
        ...


class NoConstraint:
    """Every candidate is always allowed."""

    def allowed(self, taken: np.ndarray) -> np.ndarray:
        return ~taken

    def take(self, j: int) -> None:
        return None


class GreedyState(ABC):
    """Per-request state of a greedy method."""

    @abstractmethod
    def gains(self) -> np.ndarray:
        """float64 ``(n,)``: the objective gain of adding each candidate now."""

    @abstractmethod
    def take(self, j: int) -> None:
        """Add candidate ``j`` to the selected set."""

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        """The parts of candidate ``j``'s gain (called just before :meth:`take`)."""
        return {"gain": float(gains[j])}

    def notes(self) -> tuple[str, ...]:
        """Facts about the run (e.g. a fallback)."""
        return ()


class Diversifier(ABC):
    """A diversity method: picks list slots greedily from a :class:`SelectionProblem`.

    Args:
        diversity: the knob in ``[0, 1]``; each method maps it onto its own trade-off
            (see :mod:`shelfwise.rerank.config`).
    """

    name: ClassVar[str] = "diversifier"

    def __init__(self, diversity: float = 0.0) -> None:
        if not 0.0 <= diversity <= 1.0:
            raise ValueError(f"diversity must be in [0, 1], got {diversity}")
        self.diversity = float(diversity)

    @abstractmethod
    def start(self, problem: SelectionProblem) -> GreedyState:
        """Fresh state for one request."""

    def select(
        self,
        problem: SelectionProblem,
        k: int,
        *,
        preselected: Sequence[int] = (),
        constraint: SlotConstraint | None = None,
        available: np.ndarray | None = None,
    ) -> Selection:
        """Pick up to ``k`` candidates.

        Args:
            problem: the candidates.
            k: picks wanted (fewer when candidates or constraints run out).
            preselected: candidate positions already in the list (pins): they shape redundancy /
                coverage but are not returned. Count them in ``constraint`` yourself.
            constraint: caps / quotas (default: none).
            available: boolean ``(n,)`` candidates that may be picked (default: all).

        Returns:
            The picks in order, with their gains.
        """
        state = self.start(problem)
        rel = problem.relevance
        taken = np.zeros(problem.n, dtype=bool) if available is None else ~np.asarray(available, dtype=bool)
        for j in preselected:
            state.take(int(j))
            taken[int(j)] = True
        cons: SlotConstraint = constraint if constraint is not None else NoConstraint()
        extra = (
            problem.exposure_weight * np.asarray(problem.exposure_bonus, dtype=np.float64)
            if problem.exposure_bonus is not None and problem.exposure_weight > 0
            else None
        )
        order: list[int] = []
        gains: list[float] = []
        terms: list[dict[str, float]] = []
        while len(order) < k:
            allowed = cons.allowed(taken) & ~taken
            if not allowed.any():
                break
            g = state.gains() if extra is None else state.gains() + extra
            masked = np.where(allowed, g, -np.inf)
            best = masked.max()
            ties = np.flatnonzero(masked >= best - _TIE * max(1.0, abs(best)))
            j = int(ties[np.argmax(rel[ties])]) if ties.size > 1 else int(ties[0])
            order.append(j)
            gains.append(float(g[j]))
            terms.append(
                state.terms(j, g) if extra is None else {**state.terms(j, g), "exposure": float(extra[j])}
            )
            state.take(j)
            cons.take(j)
            taken[j] = True
        return Selection(
            order=np.asarray(order, dtype=np.int32),
            gains=np.asarray(gains, dtype=np.float64),
            terms=tuple(terms),
            method=self.name,
            notes=state.notes(),
        )


class _RelevanceState(GreedyState):
    def __init__(self, problem: SelectionProblem) -> None:
        self.rel = problem.relevance.astype(np.float64)

    def gains(self) -> np.ndarray:
        return self.rel

    def take(self, j: int) -> None:
        return None

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        return {"relevance": float(self.rel[j]), "gain": float(gains[j])}


class RelevanceOrder(Diversifier):
    """No diversification: relevance order (subject to constraints)."""

    name = "none"

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _RelevanceState(problem)
