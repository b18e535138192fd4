"""``POST /v1/assistant`` (scope ``read``): one turn of a conversation with the shopping assistant."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shelfwise.api.auth import ReadKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import call, finite_json, ready_services
from shelfwise.api.services import WORKER_HEADER, WORKER_ID, Services

router = APIRouter(prefix="/v1", tags=["read"])

_LOCK = threading.Lock()


class AssistantIn(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$",
                            description="the conversation (letters, digits, _ . : -); reuse it to refine")
    message: str = Field(min_length=1, max_length=1000, description="what the shopper wrote")
    user_id: str | None = Field(None, min_length=1, max_length=256, description="the shop's id of the shopper")


class AssistantItem(BaseModel):
    """A product the reply suggests or discusses."""

    item_id: str
    title: str | None = None
    price: float | None = None
    brand: str | None = None
    category: str | None = None
    reason: str = ""


class AssistantOut(BaseModel):
    """The assistant's reply."""

    reply: str
    items: list[AssistantItem]
    citations: list[dict[str, Any]] = Field(description="evidence the reply rests on; [n] in the reply = id n")
    constraints: dict[str, Any] = Field(description="what the conversation asks for after this turn")
    handoff: bool = Field(description="a person should take over (see summary)")
    summary: str | None = None
    act: str
    request_id: str | None = Field(None, description="send back with click events on the items")
    comparison: list[dict[str, Any]] | None = None
    phrasing: dict[str, Any] = Field(default_factory=dict)


def _assistant(request: Request, svc: Services) -> Any:
    """The app's assistant, built on first use over the loaded search pipeline (rebuilt when it is swapped)."""
    pipeline = svc.search
    if pipeline is None:
        raise ApiError(503, "not_available", "search is not loaded (build the indexes: `shelfwise build --store DIR`)")
    state = request.app.state
    held = getattr(state, "assistant", None)
    if held is not None and held[0] is pipeline:
        return held[1]
    with _LOCK:
        held = getattr(state, "assistant", None)
        if held is not None and held[0] is pipeline:
            return held[1]
        from shelfwise.assistant.build import load_assistant
        from shelfwise.assistant.consent import ConsentBook
        from shelfwise.assistant.session import OnlineSessions

        settings = svc.settings.assistant
        consent = ConsentBook(svc.store)

        def search(req: Any) -> tuple[Any, str | None]:
            served = svc.serving.search(req)
            return served.response, served.request_id

        def similar(item_id: str, k: int, exclude: list[str]) -> tuple[list[str], str | None]:
            if svc.recommender is None:
                return [], None
            from shelfwise.recommend import RecommendRequest

            try:
                served = svc.serving.recommend(
                    RecommendRequest(slot="similar", item_id=item_id, k=k, exclude=list(exclude))
                )
            except (LookupError, ValueError, RuntimeError):  # unknown to the recommender: search alone
                return [], None
            return [i.item_id for i in served.response.items], served.request_id

        assistant = load_assistant(
            svc.store,
            settings,
            pipeline,
            OnlineSessions(svc.online, settings.session_ttl),
            search=search,
            personalise=lambda user: user is not None and consent.allows(svc.feedback.user_key(user)),
            similar=similar,
        )
        state.assistant = (pipeline, assistant)
        return assistant


@router.post(
    "/assistant",
    response_model=AssistantOut,
    responses={
        401: {"description": "no or invalid API key"},
        403: {"description": "the key lacks the scope"},
        422: {"description": "invalid input; the body says which field and how to fix it"},
        503: {"description": "still loading"},
    },
    summary="Shopping assistant: one turn of a conversation",
)
def assistant_turn(body: AssistantIn, request: Request, response: Response, _key: ReadKey) -> AssistantOut:
    """Finds products and refines them over turns ("I need tape", "under $10", "not 3M", "compare the first
    two"), answers product questions from the item's evidence with citations (or says it does not know),
    answers shop questions from the shop's Q&A, and flags a hand-off with a summary for complaints, order
    problems and repeated unanswered questions. Items are logged as impressions like search results."""
    response.headers[WORKER_HEADER] = WORKER_ID
    svc = ready_services(request)
    assistant = _assistant(request, svc)
    reply = call(lambda: assistant.turn(body.session_id, body.message, body.user_id))
    data = finite_json(reply.to_dict())
    return AssistantOut(**{k: v for k, v in data.items() if k in AssistantOut.model_fields})
