"""The one place the pages call the service's objects on ``request.app.state`` (see :mod:`shelfwise.api`).

Recommendations and searches go through ``app.state.serving`` when the app has it (the cached, experiment-
and impression-aware path the HTTP routes use), else straight to ``app.state.recommender`` /
``app.state.search``; events go through ``app.state.feedback`` (profiles, pipelines and caches all see them).
Nothing here ranks, filters or scores: when an object is missing, the page says so instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["Listing", "Unavailable", "recommend", "record_event", "search", "suggest"]

log = logging.getLogger(__name__)


class Unavailable(RuntimeError):
    """A pipeline the page needs is not loaded; the message says why (shown to the visitor)."""


@dataclass(frozen=True)
class Listing:
    """One shown list: ``(item_id, score, reason)`` rows and the request id its impression was logged under."""

    rows: list[tuple[str, float, str]]
    request_id: str | None
    note: str | None = None


def _need(state: Any, name: str, what: str) -> Any:
    obj = getattr(state, name, None)
    if obj is None:
        raise Unavailable(f"{what} is not available in this app yet (app.state.{name} is not set).")
    return obj


def recommend(
    state: Any,
    user_id: str | None,
    slot: str,
    k: int,
    *,
    item_id: str | None = None,
    diversity: float | None = None,
) -> Listing:
    """A recommendation list for a slot (``home``, ``similar``, ``bought_together``, ``cart``)."""
    from shelfwise.recommend import RecommendRequest

    req = RecommendRequest(user_id=user_id, slot=slot, k=k, item_id=item_id, diversity=diversity)  # type: ignore[arg-type]
    serving = getattr(state, "serving", None)
    if serving is not None and hasattr(serving, "recommend"):
        resp = serving.recommend(req)
    else:
        resp = _need(state, "recommender", "The recommender").recommend(req)
    response, request_id = _unwrap(resp)
    rows = [(i.item_id, float(i.score), i.reason) for i in response.items]
    note = None
    if getattr(response, "fallback", None) == "popular":
        note = "No history yet: showing what is popular. Click something and this changes."
    return Listing(rows, request_id, note)


def search(state: Any, request: Any) -> tuple[Any, str | None]:
    """Run a :class:`shelfwise.search.SearchRequest`; returns the response and its request id."""
    serving = getattr(state, "serving", None)
    if serving is not None and hasattr(serving, "search"):
        return _unwrap(serving.search(request))
    return _unwrap(_need(state, "search", "Search").search(request))


def suggest(state: Any, prefix: str, k: int = 8) -> list[str]:
    """Autocomplete suggestions for a prefix (empty when search is not loaded)."""
    pipeline = getattr(state, "search", None)
    if pipeline is None:
        return []
    return list(pipeline.suggest(prefix, k=k))


def record_event(
    state: Any, user_id: str, item_id: str, event_type: str, request_id: str | None = None
) -> None:
    """Send one real interaction (``click``, ``view``, ``add_to_cart``, ``purchase``) into the feedback loop."""
    event = {
        "event_id": f"web:{uuid.uuid4().hex}",
        "user_id": user_id,
        "item_id": item_id,
        "type": event_type,
        "timestamp": time.time(),
        "request_id": request_id or None,
    }
    _need(state, "feedback", "Event ingestion").ingest_events([event])
    log.debug("web event %s recorded", event_type)


def _unwrap(resp: Any) -> tuple[Any, str | None]:
    """``(response, request_id)`` from either a bare response or a serving result carrying both."""
    if isinstance(resp, tuple) and len(resp) == 2:
        return resp[0], resp[1]
    inner = getattr(resp, "response", None)
    if inner is not None:
        return inner, getattr(resp, "request_id", None)
    return resp, getattr(resp, "request_id", None)
