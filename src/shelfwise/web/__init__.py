"""Storefront demo and admin dashboard: server-rendered pages served by the API app itself.

:func:`install` adds the pages to an app made by :func:`shelfwise.api.create_app` (which calls it); the same
routes are also available as one ``APIRouter``, :data:`router`. Pages read the service's objects from
``request.app.state`` (store, profiles, recommender / search through ``serving``, ``feedback`` for events,
experiments, metrics; see :mod:`shelfwise.api`): there is no second implementation of anything here.

Pages (none in the OpenAPI document):

- ``/shop`` home feed with a diversity slider; ``/shop/search`` results with chips and facets;
  ``/shop/product/{id}`` with "similar items" and "bought together"; ``/shop/suggest`` autocomplete (JSON);
  ``POST /shop/cart`` add-to-cart; ``POST /shop/shopper`` pick a demo shopper or browse anonymously;
- ``/admin`` dashboard (``?user=ID`` for one shopper's profile); ``/admin/report`` the latest evaluation report;
- ``/web/static/{name}`` the stylesheet and script, shipped in the package (nothing loads from the network).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from shelfwise.web.assets import static_router
from shelfwise.web.dashboard import router as dashboard_router
from shelfwise.web.storefront import router as storefront_router

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(static_router)
router.include_router(storefront_router)
router.include_router(dashboard_router)


def install(app: Any) -> None:
    """Add the storefront and dashboard pages to a FastAPI app."""
    app.include_router(router)
