"""Admin sign-in and sign-out of the pages: an admin API key for a signed session cookie.

``GET /admin/sign-in`` shows the form; ``POST /admin/sign-in`` (fields ``key``, ``csrf``, ``next``) checks the key
with the API's own :class:`~shelfwise.api.auth.Gatekeeper` (so failed attempts count against the same per-address
limit as invalid API keys: 429 past it) and, for a key with the ``admin`` scope, starts a new session (a new CSRF
token: no fixation) and returns to ``next`` (a local path). ``POST /admin/sign-out`` ends it.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shelfwise.api.errors import ApiError
from shelfwise.web.pages import read_form, render
from shelfwise.web.session import Session, check_csrf, replace_session, save_session
from shelfwise.web.shoppers import SHOPPER_COOKIE, current_shopper

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _local(target: str, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirect)."""
    parts = urlsplit(target)
    ok = (
        parts.path.startswith("/")
        and not parts.path.startswith("//")
        and not parts.netloc
        and not parts.scheme
    )
    return (parts.path + (f"?{parts.query}" if parts.query else "")) if ok else default


def _page(
    request: Request, next_url: str, problem: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "sign_in.html",
        current_shopper(request),
        section="admin",
        notices=[problem] if problem else [],
        next_url=next_url,
        status_code=status_code,
    )


@router.get("/admin/sign-in", name="web_sign_in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/admin") -> HTMLResponse:
    """The sign-in form (an admin API key)."""
    return _page(request, _local(next, "/admin"))


@router.post("/admin/sign-in", name="web_sign_in_post")
async def sign_in(request: Request) -> Response:
    """Check the key; a new signed session for an admin key, else the form again with the reason."""
    form = await read_form(request)
    check_csrf(request, form)
    next_url = _local(form.get("next", ""), "/admin")
    client = request.client.host if request.client else "unknown"
    try:
        record = request.app.state.gatekeeper.authenticate(form.get("key", "").strip() or None, client)
    except ApiError as exc:
        reason = "That key is not valid." if exc.status == 401 else exc.message
        refused = _page(request, next_url, reason, exc.status)
        for name, value in exc.headers.items():
            if name.lower() == "retry-after":
                refused.headers[name] = value
        return refused
    if not record.allows("admin"):
        return _page(request, next_url, "That key has no admin scope: the dashboard needs one.", 403)
    replace_session(request, Session.fresh(admin=record.key_id))
    log.info("admin signed in on the pages (key %s)", record.key_id)
    response = RedirectResponse(next_url, status_code=303)
    save_session(request, response)
    return response


@router.post("/admin/sign-out", name="web_sign_out")
async def sign_out(request: Request) -> Response:
    """End the admin session (and stop shopping as a picked demo shopper)."""
    form = await read_form(request)
    check_csrf(request, form)
    replace_session(request, Session.fresh())
    response = RedirectResponse(request.url_for("web_home").path, status_code=303)
    response.delete_cookie(SHOPPER_COOKIE, path="/")
    save_session(request, response)
    return response
