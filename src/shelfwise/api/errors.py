"""Errors as JSON that say what went wrong and how to fix it; the service never answers a bad input with 5xx.

Every error body has one shape::

    {"error": {"status": 422, "code": "invalid_request", "message": "body.k: Input should be less than or
     equal to 100 (got 1000)", "fix": "...", "problems": [...]}, "request_id": "..."}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfwise.api.request_id import current_request_id

log = logging.getLogger(__name__)

_FIX_BY_STATUS = {
    400: "send a well-formed request; see /docs for the schema",
    401: "send an API key: `Authorization: Bearer KEY` or `X-API-Key: KEY`",
    403: "use a key with the scope this route needs (read, events or admin)",
    404: "check the path and the id; /docs lists every route",
    405: "use the method /docs lists for this path",
    409: "the resource exists already; use another name or delete it first",
    413: "send fewer rows per request (api.max_batch)",
    422: "correct the fields listed in `problems`; /docs shows the schema",
    429: "slow down: wait Retry-After seconds, or ask for a key with a higher rate",
    503: "the service is loading; retry when /health/ready answers 200",
}


class ApiError(Exception):
    """An error the client can fix: status, a short code, a message, and how to fix it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fix: str | None = None,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fix = fix or _FIX_BY_STATUS.get(status, "")
        self.problems = problems or []
        self.headers = headers or {}


def error_body(
    status: int, code: str, message: str, fix: str = "", problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON body of an error response."""
    err: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": message,
        "fix": fix or _FIX_BY_STATUS.get(status, ""),
    }
    if problems:
        err["problems"] = problems
    return {"error": err, "request_id": current_request_id()}


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 80 and isinstance(value, (int, float, str, bool, type(None))) else text[:80]


def validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One ``{where, problem, got}`` per field error, in the words of pydantic."""
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        problem: dict[str, Any] = {"where": where or "request", "problem": str(err.get("msg", "invalid"))}
        if "input" in err and err.get("type") != "missing":
            problem["got"] = _short(err["input"])
        out.append(problem)
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status, exc.code, exc.message, exc.fix, exc.problems),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc)
        first = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return JSONResponse(
            error_body(422, "invalid_request", f"{first}{more}", problems=problems), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(exc.status_code, "error")
        return JSONResponse(
            error_body(exc.status_code, code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        log.exception("unhandled error (request %s): %s", current_request_id(), type(exc).__name__)
        return JSONResponse(
            error_body(
                500,
                "internal_error",
                "the service failed on this request; it has been logged",
                "report the request id to the operators",
            ),
            status_code=500,
        )
