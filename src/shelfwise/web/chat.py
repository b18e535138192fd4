"""The storefront's chat panel: ``POST /shop/assistant`` answers one message for this browser's shopper.

The panel (``templates/_chat.html``, ``static/chat.js``, ``static/chat.css``) posts the message with the page's
CSRF token; the reply comes from the same assistant as ``POST /v1/assistant`` (one per app), with the
conversation keyed by the shopper's signed cookie, so the visitor needs no API key and cannot continue
someone else's conversation.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from shelfwise.web.pages import read_form
from shelfwise.web.session import check_csrf
from shelfwise.web.shoppers import current_shopper, remember

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.post("/shop/assistant", name="web_assistant")
async def chat(request: Request) -> Response:
    """One chat turn (form fields ``message`` and ``csrf``) -> the reply as JSON, items with their page URLs."""
    form = await read_form(request)
    check_csrf(request, form)
    message = form.get("message", "").strip()[:1000]
    if not message:
        return JSONResponse({"error": "write a message first"}, status_code=400)
    from shelfwise.api.routes.assistant import _assistant
    from shelfwise.api.routes.deps import services

    svc = services(request)
    if not svc.ready or svc.search is None:
        return JSONResponse({"error": "the shop is still loading; try again in a moment"}, status_code=503)
    shopper = current_shopper(request)
    session_id = "web-" + hashlib.sha256(shopper.user_id.encode()).hexdigest()[:24]
    assistant = _assistant(request, svc)
    user = shopper.user_id if shopper.known else None
    reply = await run_in_threadpool(assistant.turn, session_id, message, user)
    body = reply.to_dict()
    for item in body["items"]:
        item["url"] = request.url_for("web_product", item_id=item["item_id"]).path
    keep = ("reply", "items", "citations", "handoff", "summary", "act", "request_id", "constraints")
    response = JSONResponse({k: body[k] for k in keep})
    remember(request, response, shopper)
    return response
