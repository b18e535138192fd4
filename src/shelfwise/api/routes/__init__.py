"""The route groups of the API; :func:`include_all` adds them to an app."""

from __future__ import annotations

from fastapi import FastAPI

from shelfwise.api.routes import (
    admin,
    assistant,
    catalogue,
    events,
    experiments,
    health,
    reads,
    rules,
    users,
)


def include_all(app: FastAPI) -> None:
    """Add every route group."""
    for module in (health, reads, events, catalogue, users, experiments, admin, rules, assistant):
        app.include_router(module.router)
