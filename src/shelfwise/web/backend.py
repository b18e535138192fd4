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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Listing", "Unavailable", "loading", "recommend", "record_event", "search", "suggest", "user_key"]

#: Exceptions of the service meaning "this pipeline is not loaded / trained" (matched by name: the API and
#: pipeline packages are optional for this module).
_NOT_LOADED = ("NotAvailable", "NotTrainedError", "ArtifactNotFoundError")

log = logging.getLogger(__name__)


class Unavailable(RuntimeError):
    """A pipeline the page needs is not loaded; the message says why (shown to the visitor)."""


@dataclass(frozen=True)
class Listing:
    """One shown list: ``(item_id, score, reason)`` rows and the request id its impression was logged under."""

    rows: list[tuple[str, float, str]]
    request_id: str | None
    note: str | None = None
    arm: str | None = None


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
    method: str | None = None,
) -> Listing:
    """A recommendation list for a slot (``home``, ``similar``, ``bought_together``, ``cart``)."""
    from shelfwise.recommend import RecommendRequest

    req = RecommendRequest(
        user_id=user_id,
        slot=slot,
        k=k,
        item_id=item_id,
        diversity=diversity,
        method=method,
    )
    serving = getattr(state, "serving", None)
    with _not_loaded(state):
        if serving is not None and hasattr(serving, "recommend"):
            resp = serving.recommend(req)
        else:
            resp = _need(state, "recommender", "The recommender").recommend(req)
    response, request_id = _unwrap(resp)
    rows = [(i.item_id, float(i.score), i.reason) for i in response.items]
    note = None
    if getattr(response, "fallback", None) == "popular":
        note = "No history yet: showing what is popular. Click something and this changes."
    elif getattr(response, "fallback", None) == "no_co_purchases":
        note = "No shopper has bought or looked at this together with another product yet."
    return Listing(rows, request_id, note, getattr(resp, "arm", None))


def search(state: Any, request: Any) -> tuple[Any, str | None]:
    """Run a :class:`shelfwise.search.SearchRequest`; returns the response and its request id."""
    serving = getattr(state, "serving", None)
    with _not_loaded(state):
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


def user_key(state: Any, raw_user_id: str) -> str:
    """The id the store and the profiles keep for a shopper (the pseudonym when the store pseudonymises)."""
    ingestor = getattr(state, "ingestor", None)
    return ingestor.user_key(raw_user_id) if ingestor is not None else raw_user_id


def loading(state: Any) -> list[str]:
    """The parts the app is still loading in the background (empty once it is ready)."""
    if getattr(state, "ready", True):
        return []
    return [
        name for name, status in (getattr(state, "components", None) or {}).items() if status == "loading"
    ]


@contextmanager
def _not_loaded(state: Any) -> Iterator[None]:
    """Turn the service's "not loaded / not trained" errors into :class:`Unavailable` (saying "still
    loading" rather than what to run while the app is loading its models)."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ not in _NOT_LOADED:
            raise
        parts = loading(state)
        if parts:
            raise Unavailable(
                f"The service is still loading ({', '.join(parts)}); this page reloads itself in a few seconds."
            ) from exc
        raise Unavailable(str(exc)) from exc


def _unwrap(resp: Any) -> tuple[Any, str | None]:
    """``(response, request_id)`` from either a bare response or a serving result carrying both."""
    if isinstance(resp, tuple) and len(resp) == 2:
        return resp[0], resp[1]
    inner = getattr(resp, "response", None)
    if inner is not None:
        return inner, getattr(resp, "request_id", None)
    return resp, getattr(resp, "request_id", None)
