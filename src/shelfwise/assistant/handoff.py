"""When to hand a conversation to a person, and the summary the person gets.

A hand-off happens on a complaint or an order problem (the ``handoff`` act of :mod:`~shelfwise.assistant.intents`),
and on low confidence: ``assistant.handoff_after_abstentions`` product questions in a row that the evidence could
not answer. The summary is built from the session (already scrubbed of personal data): what the shopper is
looking for, the constraints, the products last shown and the last messages.

Example:
    >>> from shelfwise.assistant.session import Session
    >>> s = Session("x", need="tape", constraints={"price_max": 10.0}, items=["a", "b"])
    >>> s.add_turn("shopper", "my order never arrived")
    >>> print(summary(s, "order problem or complaint"))
    Hand-off (order problem or complaint). Looking for: tape; under 10. Last shown: a, b. Shopper said: "my order never arrived".
"""

from __future__ import annotations

from shelfwise.assistant.compose import describe_constraints
from shelfwise.assistant.session import Session

__all__ = ["COMPLAINT", "LOW_CONFIDENCE", "handoff_reason", "summary"]

COMPLAINT = "order problem or complaint"
LOW_CONFIDENCE = "questions the product information could not answer"


def handoff_reason(act: str, unanswered: int, limit: int) -> str | None:
    """Why this turn hands off, or None."""
    if act == "handoff":
        return COMPLAINT
    if unanswered >= limit:
        return LOW_CONFIDENCE
    return None


def summary(session: Session, reason: str, last_messages: int = 3) -> str:
    """A few lines a person can act on without reading the conversation."""
    parts = [f"Hand-off ({reason})."]
    if session.need or session.constraints:
        wanted = "; ".join(p for p in (session.need, describe_constraints(session.constraints)) if p)
        parts.append(f"Looking for: {wanted}.")
    if session.items:
        parts.append(f"Last shown: {', '.join(session.items[:5])}.")
    said = [t["text"] for t in session.turns if t.get("role") == "shopper"][-last_messages:]
    if said:
        parts.append("Shopper said: " + " / ".join(f'"{t}"' for t in said) + ".")
    return " ".join(parts)
