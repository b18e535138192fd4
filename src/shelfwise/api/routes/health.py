"""``/health/live``, ``/health/ready`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shelfwise.api.auth import require
from shelfwise.api.routes.deps import services
from shelfwise.api.schemas import HealthOut
from shelfwise.api.services import WORKER_HEADER, WORKER_ID

router = APIRouter(tags=["health"])


@router.get("/health/live", response_model=HealthOut, summary="The process is up")
def live() -> HealthOut:
    """200 as long as the process answers."""
    return HealthOut(status="live")


@router.get(
    "/health/ready",
    response_model=HealthOut,
    summary="Artifacts are loaded",
    responses={503: {"model": HealthOut, "description": "still loading, or a component failed"}},
)
def ready(request: Request) -> JSONResponse:
    """200 once every installed component loaded (and the online state answers); 503 with each component's
    status otherwise."""
    svc = services(request)
    online = svc.components["online_state"] = svc.online.health()  # a shared one may go down at any time
    ready = svc.ready and online == "ok"
    watch = svc.artifact_watch
    body = HealthOut(
        status="ready" if ready else "not ready",
        components=dict(svc.components),
        versions=watch.served() if watch is not None else None,
    )
    return JSONResponse(
        body.model_dump(), status_code=200 if ready else 503, headers={WORKER_HEADER: WORKER_ID}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(request: Request) -> Response:
    """The text exposition format (public when ``api.metrics_public``, else an admin key is needed)."""
    svc = services(request)
    if not svc.settings.api.metrics_public:
        require("admin")(request, None, request.headers.get("x-api-key") or _bearer(request))
    return Response(svc.metrics.render(), media_type=svc.metrics.content_type)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None
