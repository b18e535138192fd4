"""Diversity methods by name: the ``method`` of :class:`~shelfwise.rerank.config.RerankConfig`.

Adding a method = one module with a :class:`~shelfwise.rerank.greedy.Diversifier`, one line here, and
passing ``tests/rerank/test_contract.py``.

Example:
    >>> type(build_diversifier("dpp", 0.3)).__name__
    'DPP'
"""

from __future__ import annotations

from shelfwise.rerank.calibration import CalibratedGreedy
from shelfwise.rerank.dpp import DPP
from shelfwise.rerank.exposure import CoverageGreedy
from shelfwise.rerank.fair import FairExposure
from shelfwise.rerank.greedy import Diversifier, RelevanceOrder
from shelfwise.rerank.mmr import MMR
from shelfwise.rerank.quotas import XQuAD

__all__ = ["DIVERSIFIERS", "build_diversifier"]

DIVERSIFIERS: dict[str, type[Diversifier]] = {
    "none": RelevanceOrder,
    "mmr": MMR,
    "dpp": DPP,
    "calibrated": CalibratedGreedy,
    "xquad": XQuAD,
    "coverage": CoverageGreedy,
    "fair_exposure": FairExposure,  # knob: rerank.fairness (see shelfwise.rerank.fair)
}


def build_diversifier(method: str, diversity: float = 0.0) -> Diversifier:
    """The diversity method ``method`` with the knob at ``diversity``.

    Raises:
        ValueError: for an unknown method (the message lists the known ones).
    """
    try:
        cls = DIVERSIFIERS[method]
    except KeyError:
        raise ValueError(f"unknown re-ranking method {method!r}; known: {', '.join(DIVERSIFIERS)}") from None
    return cls(diversity)
