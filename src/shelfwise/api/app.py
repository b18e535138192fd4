"""The app factory: ``create_app(settings, store=...)`` -> a FastAPI app whose lifespan loads everything once."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shelfwise import __version__
from shelfwise.api.components import build_services, load, stop
from shelfwise.api.errors import install_error_handlers
from shelfwise.api.front_door import install_front_door
from shelfwise.api.middleware import ServiceMiddleware
from shelfwise.api.routes import include_all
from shelfwise.api.schemas import limit_openapi
from shelfwise.api.services import ServicesState
from shelfwise.config import Settings, load_settings

log = logging.getLogger(__name__)

DESCRIPTION = """Search and recommendations for one shop.

Every `/v1` route needs an API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`) with a scope:
`read` (recommendations, search, profiles), `events` (send events), `admin` (catalogue, users, experiments,
keys). Every response carries an `X-Request-ID` header; recommendation and search responses also carry it
as `request_id` — send it back with events on their items so they are attributed to the list.
Errors are JSON: `{"error": {"status", "code", "message", "fix", "problems"}, "request_id"}`.
"""


def _install_web(app: FastAPI) -> None:
    """Mount the storefront / dashboard pages when :mod:`shelfwise.web` is installed."""
    try:
        web = importlib.import_module("shelfwise.web")
    except ModuleNotFoundError as exc:
        if exc.name not in ("shelfwise.web", "shelfwise"):
            log.warning("web pages not mounted: %s", exc)
        return
    except Exception as exc:  # a broken page package must not take the API down
        log.warning("web pages not mounted: %s", exc)
        return
    if hasattr(web, "install"):
        web.install(app)
    elif hasattr(web, "router"):
        app.include_router(web.router)


def _install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` from assets the app serves itself (:mod:`shelfwise.web.api_docs`):
    no CDN, so they work offline."""
    try:
        docs = importlib.import_module("shelfwise.web.api_docs")
    except Exception as exc:  # the API still serves /openapi.json
        log.warning("API docs pages not mounted: %s", exc)
        return
    app.include_router(docs.router)


def create_app(
    settings: Settings | None = None,
    *,
    store: Any = None,
    store_path: Path | str | None = None,
    background_load: bool = True,
    web: bool = True,
    state: str | None = None,
    artifacts: str | None = None,
) -> FastAPI:
    """A FastAPI app serving one store.

    Args:
        settings: the settings tree (default: defaults + environment).
        store: an open :class:`~shelfwise.storage.Store` (the caller closes it), or
        store_path: a store folder to open now and close at shutdown.
        background_load: load pipelines in a thread after start-up, so ``/health/live`` answers while they
            load and ``/health/ready`` turns 200 when done (False: load before serving).
        web: mount :mod:`shelfwise.web` pages when that package is installed.
        state: the online state's URL (``redis://host:port/db``: shared with the shop's other replicas);
            default in-process.
        artifacts: with ``store_path``, the artifact location to read instead of the store's own
            (``serve --artifacts``: one location every replica shares; new versions there are hot-reloaded).
    """
    settings = settings or load_settings()
    owns_store = store is None
    if store is None:
        if store_path is None:
            raise ValueError("create_app needs store= (an open store) or store_path= (a store folder)")
        from shelfwise.storage import open_store

        store = open_store(store_path, create=False, artifacts=artifacts)

    try:
        services = build_services(settings, store, state=state)
    except Exception:
        if owns_store:
            store.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        loader = threading.Thread(target=load, args=(services,), name="shelfwise-load", daemon=True)
        loader.start()
        if not background_load:
            await anyio.to_thread.run_sync(loader.join)
        try:
            yield
        finally:
            loader.join(timeout=600)
            stop(services)
            if owns_store:
                store.close()

    app = FastAPI(
        title="shelfwise",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by _install_docs instead of FastAPI's CDN pages
        redoc_url=None,
    )
    app.state = ServicesState(services)  # app.state.services, plus the old names forwarded to it
    install_error_handlers(app)
    # the front door (body cap, key check before the body is read, headers, CORS): inside the request-id layer
    app.state.gatekeeper = install_front_door(app, settings.api, services.keys, services.online)
    limit_openapi(app, settings.api.max_k)
    app.add_middleware(ServiceMiddleware, metrics=services.metrics, access_log=settings.api.access_log)
    include_all(app)
    _install_docs(app)
    if web:
        _install_web(app)
    return app
