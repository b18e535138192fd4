"""Small helpers shared by the routes: the app's :class:`Services`, readiness, mapping pipeline errors to 4xx."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Request

from shelfwise.api.errors import ApiError
from shelfwise.api.services import Services
from shelfwise.api.serving import NotAvailable

T = TypeVar("T")


def services(request: Request) -> Services:
    """The app's :class:`Services` (``app.state.services``)."""
    return request.app.state.services


def ready_services(request: Request) -> Services:
    """The app's :class:`Services` once loaded; 503 saying so while loading."""
    svc = services(request)
    if not svc.ready:
        comps = ", ".join(f"{k}: {v}" for k, v in svc.components.items())
        raise ApiError(503, "not_ready", f"the service is not ready ({comps})", headers={"Retry-After": "2"})
    return svc


ready_state = ready_services  # the old name (other route modules may still use it)


@contextmanager
def pipeline_errors() -> Iterator[None]:
    """A pipeline's complaint about the input becomes a 4xx that repeats its message."""
    try:
        yield
    except NotAvailable as exc:
        raise ApiError(503, "not_available", str(exc)) from None
    except KeyError as exc:
        raise ApiError(404, "not_found", f"unknown id: {exc}") from None
    except (ValueError, LookupError) as exc:
        raise ApiError(
            422, "invalid_request", str(exc), fix="change the request as the message says"
        ) from None


def call(fn: Callable[[], T]) -> T:
    """Run ``fn`` under :func:`pipeline_errors`."""
    with pipeline_errors():
        return fn()


def finite_json(value: Any) -> Any:
    """``value`` with NaN / infinite floats replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value
