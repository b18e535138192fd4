"""The front door: pure-ASGI middlewares that run before any route reads a byte of the body.

- :class:`BodyLimit` answers 413 to a body above ``api.max_body_bytes`` (``api.max_bulk_body_bytes`` for the bulk
  writes): at once from ``Content-Length``, or, for a chunked body, as soon as the bytes counted while streaming
  pass the cap; the route then sees a disconnected client and whatever it answers is dropped.
- :class:`KeyGate` checks the API key of every ``/v1`` request before the route (and so before FastAPI reads
  and parses the body), limits failed attempts per client address (:class:`~shelfwise.api.auth.Gatekeeper`),
  and leaves the verified key in ``scope["state"]`` for the scope check of :func:`~shelfwise.api.auth.require`.
- :class:`SecurityHeaders` adds ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy`` to every
  response and a ``Content-Security-Policy`` without ``unsafe-inline`` to every HTML page that sets none itself
  (the API docs pages set their own: still this origin only, with inline styles, :mod:`shelfwise.web.api_docs`).
- CORS stays off unless ``api.cors_origins`` names origins (then starlette's ``CORSMiddleware``).

:func:`install_front_door` adds them in that order (outermost first: headers, CORS, size, key).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfwise.api.auth import VERIFIED, Gatekeeper, KeyRing, token_of
from shelfwise.api.config import ApiSettings
from shelfwise.api.errors import ApiError, error_body
from shelfwise.online import OnlineState

__all__ = ["PAGE_CSP", "BodyLimit", "KeyGate", "SecurityHeaders", "install_front_door"]

log = logging.getLogger(__name__)

#: Paths whose body may be as large as ``api.max_bulk_body_bytes``.
BULK_PATHS = frozenset({"/v1/events", "/v1/items", "/v1/items/delete"})
#: The policy of every HTML page: scripts, styles and everything else from this origin only.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


async def _send_error(send: Send, exc: ApiError) -> None:
    body = json.dumps(error_body(exc.status, exc.code, exc.message, exc.fix, exc.problems)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
    # the rest of the body is never read: the server must close the connection after this answer
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (``unknown`` when the server did not say)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class BodyLimit:
    """413 for a request body above the cap, without reading it whole.

    Args:
        app: the next ASGI app.
        max_bytes: the cap of every request.
        bulk_bytes: the cap of the paths in :data:`BULK_PATHS`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, bulk_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.bulk_bytes = max(bulk_bytes, max_bytes)

    def _too_large(self, cap: int) -> ApiError:
        return ApiError(
            413,
            "body_too_large",
            f"the request body is larger than {cap:,} bytes",
            fix="send a smaller body (split a batch; api.max_body_bytes / api.max_bulk_body_bytes)",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.bulk_bytes if scope.get("path", "") in BULK_PATHS else self.max_bytes
        length = _headers(scope).get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await _send_error(send, ApiError(400, "bad_request", "Content-Length is not a number"))
                return
            if int(length) > cap:
                await _send_error(send, self._too_large(cap))
                return
        seen = 0
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    answered = True
                    if not started:
                        await _send_error(send, self._too_large(cap))
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:  # the 413 went out already: the route's own answer is dropped
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


class KeyGate:
    """API keys checked before the route runs, for every path under ``/v1``.

    Args:
        app: the next ASGI app.
        gatekeeper: checks keys and counts failures per address.
    """

    def __init__(self, app: ASGIApp, gatekeeper: Gatekeeper) -> None:
        self.app = app
        self.gatekeeper = gatekeeper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        try:
            key = self.gatekeeper.authenticate(token_of(_headers(scope)), client_address(scope))
        except ApiError as exc:
            await _send_error(send, exc)
            return
        scope.setdefault("state", {})[VERIFIED] = key
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Security headers on every response; the page CSP on HTML responses that set none themselves."""

    def __init__(self, app: ASGIApp, csp: str = PAGE_CSP) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in names]
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if html and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.csp))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_front_door(
    app: Any, settings: ApiSettings, keys: KeyRing, online: OnlineState | None = None
) -> Gatekeeper:
    """Add the front door's middlewares to a FastAPI / Starlette app; returns its :class:`Gatekeeper` (the pages'
    sign-in uses the same one, so failures count together). Call before the app starts, and before adding the
    request-id middleware, so that one stays outermost and every refusal carries a request id.

    ``add_middleware`` wraps what was added before, so the last one added runs first: the key gate runs
    innermost (after the size check), the headers outermost (every answer, a 413 or 401 too, carries them).
    Failed authentications are counted in ``online`` (the service's online state) when given.
    """
    storage = online.window_storage() if online is not None else None  # failures count across replicas
    gatekeeper = Gatekeeper(keys, settings.rate_limit.failed_auth_per_minute, storage)
    app.add_middleware(KeyGate, gatekeeper=gatekeeper)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, bulk_bytes=settings.max_bulk_body_bytes)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(SecurityHeaders)
    return gatekeeper
