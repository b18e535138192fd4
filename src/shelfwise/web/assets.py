"""The web package's files: the Jinja2 environment over ``templates/`` and the route serving ``static/``.

Every asset ships inside the package (``pyproject.toml`` package-data ``web/**/*``); pages load nothing from
the network. ``static/vendor/`` holds maintained browser libraries (Chart.js, Swagger UI, ReDoc), unmodified,
with their licences and a README naming version and source; they are served under ``/web/static/vendor/``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "VENDOR_DIR", "serve_file", "static_router", "templates"]

_ROOT = Path(str(resources.files("shelfwise.web")))
TEMPLATES_DIR = _ROOT / "templates"
STATIC_DIR = _ROOT / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}

static_router = APIRouter(include_in_schema=False)


@cache
def _static_files(folder: Path = STATIC_DIR) -> dict[str, bytes]:
    """The static files of ``folder`` by name (read once; the set is fixed by the package)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.suffix in _TYPES}


def serve_file(folder: Path, name: str) -> Response:
    """A static file of ``folder`` (404 when there is none of that name)."""
    body = _static_files(folder).get(name)
    if body is None:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return Response(
        body, media_type=_TYPES[Path(name).suffix], headers={"Cache-Control": "public, max-age=3600"}
    )


@static_router.get("/web/static/{name}", name="web_static")
def web_static(name: str) -> Response:
    """One of the package's static files (only names that exist in ``static/``)."""
    return serve_file(STATIC_DIR, name)


@static_router.get("/web/static/vendor/{name}", name="web_vendor")
def web_vendor(name: str) -> Response:
    """One of the vendored browser libraries (only names that exist in ``static/vendor/``)."""
    return serve_file(VENDOR_DIR, name)


@cache
def templates() -> Jinja2Templates:
    """The page templates (autoescaped), with ``static_url(name)`` available in every template."""
    tpl = Jinja2Templates(directory=str(TEMPLATES_DIR))
    tpl.env.globals["static_url"] = lambda name: f"/web/static/{name}"
    tpl.env.globals["vendor_url"] = lambda name: f"/web/static/vendor/{name}"
    return tpl
