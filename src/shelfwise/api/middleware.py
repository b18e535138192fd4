"""One pure-ASGI middleware: request id, latency / status metrics, an access log without ids or queries.

Pure ASGI (not ``BaseHTTPMiddleware``) keeps the per-request cost to a few microseconds. The access log
names the route template (``/v1/users/{user_id}``), never the concrete path, so no shopper id reaches logs.
An exception that escapes a route becomes a JSON 500 carrying the request id.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shelfwise.api.errors import error_body
from shelfwise.api.metrics import Metrics
from shelfwise.api.request_id import HEADER, accept_request_id, set_request_id

access_log = logging.getLogger("shelfwise.api.access")
log = logging.getLogger(__name__)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class ServiceMiddleware:
    """Adds ``X-Request-ID`` to every response and records metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                raw = value.decode("latin-1")
                break
        request_id = accept_request_id(raw)
        set_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500, "started": False}
        header = (HEADER.encode(), request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log.exception("unhandled error in %s (request %s)", route_template(scope), request_id)
            if status["started"]:
                raise
            body = json.dumps(
                error_body(
                    500,
                    "internal_error",
                    f"the service failed on this request ({type(exc).__name__})",
                    "report the request id to the operators",
                )
            ).encode()
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            self._record(scope, status["code"], time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, code: Any, seconds: float, request_id: str) -> None:
        route = route_template(scope)
        method = scope.get("method", "")
        self.metrics.requests.labels(route, method, str(code)).inc()
        self.metrics.latency.labels(route, method).observe(seconds)
        if self.access_log and access_log.isEnabledFor(logging.INFO):
            access_log.info("%s %s %s %.1fms %s", method, route, code, seconds * 1000, request_id)
