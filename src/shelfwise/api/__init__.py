"""The shelfwise HTTP service: an app factory, routes, schemas, auth, rate limits, caches and metrics.

Build an app with :func:`create_app` (``from shelfwise.api import create_app``)::

    app = create_app(settings, store=store)          # or store_path=Path("shop")
    uvicorn.run(app, host="127.0.0.1", port=8000)    # what `shelfwise serve --store DIR` does

Nothing is built at import time. The lifespan loads every artifact once (profiles, the recommender, the
search pipeline, experiments) and ``/health/ready`` answers 200 only after that. The same pipeline objects
the evaluation harness measures (:class:`shelfwise.recommend.Recommender`,
:class:`shelfwise.search.SearchPipeline`) answer the requests.

Everything the app serves with is one typed :class:`shelfwise.api.services.Services` at
``app.state.services`` (routes use it). ``app.state`` forwards the names below to it (reading and writing),
so the web pages of :mod:`shelfwise.web` keep calling them directly:

========================  ===================================================================================
``app.state.settings``     :class:`shelfwise.config.Settings` — the settings tree the app was made with
``app.state.store``        :class:`shelfwise.storage.Store` — the shop's data
``app.state.ingestor``     :class:`shelfwise.data.ingest.Ingestor` — validation; ``user_key(raw_id)`` gives
                           the id the store keeps (the pseudonym when pseudonymisation is on)
``app.state.profiles``     :class:`shelfwise.profiles.service.ProfileService` — live user profiles
``app.state.recommender``  :class:`shelfwise.recommend.Recommender` or ``None`` while it is not available
``app.state.search``       :class:`shelfwise.search.SearchPipeline` or ``None`` while it is not available
``app.state.experiments``  :class:`shelfwise.experiments.ExperimentRegistry` — definitions, sticky assignment
``app.state.feedback``     :class:`shelfwise.api.feedback.FeedbackLoop` — ingest events / catalogue changes
                           and push them to profiles, pipelines and caches (use it for storefront clicks)
``app.state.serving``      :class:`shelfwise.api.serving.Serving` — recommend / search with caching,
                           experiment arms and impression logging (what the routes call)
``app.state.impressions``  :class:`shelfwise.api.impressions.ImpressionLog` — what was shown, flushed to
                           the store; attribution joins it with later events
``app.state.caches``       :class:`shelfwise.api.cache.ResponseCaches` — per-user / per-query TTL caches
``app.state.keys``         :class:`shelfwise.api.auth.KeyRing` — hashed API keys with scopes
``app.state.metrics``      :class:`shelfwise.api.metrics.Metrics` — Prometheus collectors of this app
``app.state.ready``        ``bool`` — true once the lifespan has loaded everything
``app.state.components``   ``dict`` — each component's load status (``ok``, ``missing``, ``failed: ...``)
========================  ===================================================================================

Other attributes (``online``, ``limiter``, ``write_lock``, ``item_facts``, ``arm_pipelines``, ``follower``) are
internal. With ``shelfwise serve --workers N`` each worker process has its own app and follows the store
(:mod:`shelfwise.api.follower`).

Web pages: when the package :mod:`shelfwise.web` exists, :func:`create_app` calls ``shelfwise.web.install(app)``
if it defines it (to mount static files and routers), else includes ``shelfwise.web.router`` (an
``APIRouter``). Pages read the objects above from ``request.app.state``.

Auth: every ``/v1`` route needs an API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``) with a scope:
``read`` (recommend, search, profiles), ``events`` (ingest events), ``admin`` (catalogue, users, experiments,
keys). Keys are stored hashed. For local use an admin key can be given in the environment variable named by
``api.admin_key_env`` (default ``SHELFWISE_ADMIN_KEY``); it is never written anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shelfwise.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    """Import the FastAPI parts only when they are used (the CLI imports settings from here)."""
    if name == "create_app":
        from shelfwise.api.app import create_app

        return create_app
    raise AttributeError(name)
