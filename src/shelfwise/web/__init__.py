"""Storefront demo and admin dashboard: server-rendered pages served by the API app itself.

:func:`install` adds the pages to an app made by :func:`shelfwise.api.create_app` (which calls it); the same
routes are also available as one ``APIRouter``, :data:`router`. Pages read the service's objects from
``request.app.state`` (store, profiles, recommender / search through ``serving``, ``feedback`` for events,
experiments, metrics; see :mod:`shelfwise.api`): there is no second implementation of anything here.

Pages (none in the OpenAPI document):

- ``/shop`` home feed with a diversity slider; ``/shop/search`` results with chips and facets;
  ``/shop/product/{id}`` with "similar items" and "bought together"; ``/shop/suggest`` autocomplete (JSON);
  ``POST /shop/cart`` add-to-cart; ``POST /shop/shopper`` pick a demo shopper or browse anonymously;
  ``POST /shop/assistant`` the chat panel's turn (:mod:`shelfwise.web.chat`);
- ``/admin`` dashboard (``?user=ID`` for one shopper's profile); ``/admin/report`` the latest evaluation report;
  ``/admin/trends`` traffic, CTR, conversion, revenue and diversity per day with the top items and categories;
  ``/admin/search-analytics`` top, zero-result and unclicked queries; ``/admin/rules`` boost / bury / pin rules
  (add and delete); ``/admin/privacy`` the privacy-budget ledger; all need an admin sign-in (``/admin/sign-in``
  with an admin API key; ``POST /admin/sign-out``), else a 303 to the sign-in page: see :mod:`shelfwise.web.session` for the signed cookies, CSRF tokens and write limits;
- ``/web/static/{name}`` the stylesheets and scripts, ``/web/static/vendor/{name}`` Chart.js, Swagger UI and
  ReDoc, shipped in the package (nothing loads from the network); ``/docs`` and ``/redoc`` (:mod:`.api_docs`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from shelfwise.web.assets import static_router
from shelfwise.web.chat import router as chat_router
from shelfwise.web.dashboard import router as dashboard_router
from shelfwise.web.privacy_view import router as privacy_router
from shelfwise.web.rules_page import router as rules_router
from shelfwise.web.session import CsrfFailed, SignInRequired, WebGuard
from shelfwise.web.signin import router as signin_router
from shelfwise.web.storefront import router as storefront_router
from shelfwise.web.trends_page import router as trends_router

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(static_router)
router.include_router(storefront_router)
router.include_router(signin_router)
router.include_router(dashboard_router)
router.include_router(trends_router)
router.include_router(rules_router)
router.include_router(privacy_router)
router.include_router(chat_router)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    """A dashboard page without an admin session: 303 to the sign-in page, nothing else in the body."""
    target = exc.next_url if isinstance(exc, SignInRequired) else "/admin"
    url = f"{request.url_for('web_sign_in').path}?{urlencode({'next': target})}"
    return RedirectResponse(url, status_code=303)


async def _csrf_failed(_: Request, exc: Exception) -> Response:
    """A POST form without this browser's CSRF token: 403."""
    return PlainTextResponse(
        f"403 Forbidden: {exc}. Reload the page and submit the form again.", status_code=403
    )


def install(app: Any) -> None:
    """Add the storefront and dashboard pages to a FastAPI app (with the signing key of its settings)."""
    app.state.web_guard = WebGuard.from_settings(app.state.settings, getattr(app.state, "online", None))
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.include_router(router)
