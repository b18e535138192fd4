"""The API's documentation pages, served offline: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with every
script and stylesheet from ``static/vendor/`` (npm ``swagger-ui-dist`` and ``redoc``, see the README there).

FastAPI's own pages load their assets from a CDN and start them with an inline script; these pages use the
vendored files and a small static initialiser (``static/docs.js``), so they work with no network and under a
policy without ``unsafe-inline`` scripts (:data:`DOCS_CSP`: the page CSP plus inline *styles*, which both UIs
set, and ``blob:`` workers, which ReDoc's search uses). ReDoc's sidebar hard-codes its maker's logo on
``cdn.redoc.ly``: the policy refuses it before any request leaves, and the image hides itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shelfwise.web.assets import templates

__all__ = ["DOCS_CSP", "router"]

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str) -> HTMLResponse:
    app = request.app
    response = templates().TemplateResponse(
        request,
        template,
        {"title": f"{app.title} {app.version} API", "openapi_url": app.openapi_url or "/openapi.json"},
    )
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@router.get("/docs", name="api_docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over this app's OpenAPI document (try requests with an API key from ``Authorize``)."""
    return _page(request, "docs.html")


@router.get("/redoc", name="api_redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over this app's OpenAPI document."""
    return _page(request, "redoc.html")
