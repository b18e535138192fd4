"""Requests and responses of the recommendation service (external ids only; dense indices stay inside)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "SLOTS",
    "NotTrainedError",
    "RecommendRequest",
    "RecommendResponse",
    "RecommendedItem",
    "Slot",
]

Slot = Literal["home", "similar", "bought_together", "cart"]
SLOTS: tuple[str, ...] = ("home", "similar", "bought_together", "cart")


class NotTrainedError(LookupError):
    """The store has no trained recommender; the message says what to run."""


@dataclass(frozen=True)
class RecommendRequest:
    """One recommendation request.

    Attributes:
        user_id: the user id as stored (pseudonymised by the API when the store pseudonymises); ``None`` for
            an anonymous shopper.
        slot: ``home`` (personal), ``similar`` / ``bought_together`` (around ``item_id``), ``cart`` (around
            the cart's items).
        k: list length.
        item_id: the anchor item of ``similar`` / ``bought_together``.
        cart: items in the cart (never recommended; the ``cart`` slot's anchors; an anonymous shopper's
            session).
        shown: items already shown this session (never repeated).
        exclude: further items never to return.
        diversity: per-request override of ``rerank.diversity``.
        method: per-request override of ``rerank.method``.
        fairness: per-request override of ``rerank.fairness`` in ``[0, 1]`` (above 0 without a ``method``:
            ``fair_exposure``); ``None`` = the settings'.
    """

    user_id: str | None = None
    slot: Slot = "home"
    k: int = 10
    item_id: str | None = None
    cart: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    diversity: float | None = None
    method: str | None = None
    fairness: float | None = None

    def __post_init__(self) -> None:
        if self.slot not in SLOTS:
            raise ValueError(f"unknown slot {self.slot!r}; expected one of {', '.join(SLOTS)}")
        if self.k < 1:
            raise ValueError("k must be >= 1")
        if self.fairness is not None and not 0.0 <= self.fairness <= 1.0:
            raise ValueError(f"fairness must be in [0, 1], got {self.fairness}")
        if self.slot in ("similar", "bought_together") and not self.item_id:
            raise ValueError(f"slot {self.slot!r} needs item_id")


@dataclass(frozen=True)
class RecommendedItem:
    """One recommended item.

    Attributes:
        item_id: external item id.
        score: relevance after re-ranking (``[0, 1]`` within the list, plus rule boosts).
        reason: a plain-language reason, true of how the item was produced (:mod:`shelfwise.rerank.explain`).
        sources: names of the candidate sources that proposed it.
        breakdown: the structured record behind the reason (source scores, anchors, ranker score,
            re-ranking step); anchors are external item ids.
    """

    item_id: str
    score: float
    reason: str
    sources: list[str] = field(default_factory=list)
    breakdown: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecommendResponse:
    """The answer to one :class:`RecommendRequest`.

    Attributes:
        items: the list, best first.
        user_id: the request's user id.
        slot: the request's slot.
        model: the pipeline's name (``shelfwise``).
        version: the artifact version served.
        fallback: why the personal pipeline was not (fully) used — ``"popular"`` for a shopper with no
            usable history, ``"session"`` when an anonymous shopper's cart / anchor stood in for a
            history — or ``None``.
    """

    items: list[RecommendedItem]
    user_id: str | None
    slot: str
    model: str
    version: int
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
