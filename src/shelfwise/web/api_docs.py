"""The API's documentation pages, served offline: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with every
script and stylesheet from ``static/vendor/`` (npm ``swagger-ui-dist`` and ``redoc``, see the README there).

FastAPI's own pages load their assets from a CDN and start them with an inline script; these pages use the
vendored files and a small static initialiser (``static/docs.js``), served under ``/docs/assets/``, so they work with no network and under a
policy without ``unsafe-inline`` scripts (:data:`DOCS_CSP`: the page CSP plus inline *styles*, which both UIs
set, and ``blob:`` workers, which ReDoc's search uses). ReDoc's sidebar hard-codes its maker's logo on
``cdn.redoc.ly``: the policy refuses it before any request leaves, and the image hides itself.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from shelfwise.web.assets import STATIC_DIR, VENDOR_DIR, serve_file, templates

__all__ = ["DOCS_CSP", "router"]

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

#: The files the two pages load, served under ``/docs/assets/`` (so the docs work with ``serve --no-web`` too,
#: when no page or ``/web/static`` route is mounted).
ASSETS = {
    "swagger-ui-bundle.js": VENDOR_DIR,
    "swagger-ui.css": VENDOR_DIR,
    "redoc.standalone.js": VENDOR_DIR,
    "docs.js": STATIC_DIR,
}

router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str) -> HTMLResponse:
    app = request.app
    response = templates().TemplateResponse(
        request,
        template,
        {
            "title": f"{app.title} {app.version} API",
            "openapi_url": app.openapi_url or "/openapi.json",
            "asset": lambda name: request.url_for("api_docs_asset", name=name).path,
        },
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


@router.get("/docs/assets/{name}", name="api_docs_asset")
def docs_asset(name: str) -> Response:
    """One of the files of :data:`ASSETS`."""
    folder = ASSETS.get(name)
    if folder is None:
        raise HTTPException(status_code=404, detail=f"no docs asset {name!r}")
    return serve_file(folder, name)
