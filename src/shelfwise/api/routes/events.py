"""``POST /v1/events`` (scope ``events``): batches of interactions into the real-time feedback loop."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shelfwise.api.auth import EventsKey
from shelfwise.api.consent import recordable
from shelfwise.api.errors import ApiError
from shelfwise.api.feedback import IngestOutcome
from shelfwise.api.routes.deps import ready_services
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import EventsIn, IngestOut

router = APIRouter(prefix="/v1", tags=["events"])


@router.post(
    "/events",
    response_model=IngestOut,
    responses={**ERRORS, 413: {"description": "batch too large"}},
    summary="Send interactions",
)
def post_events(body: EventsIn, request: Request, _key: EventsKey) -> JSONResponse:
    """Validate and store events; each new one updates the shopper's profile and session state and drops
    their cached results, so the next request reflects it.

    Rows failing validation come back in ``problems`` with their row number and reason (422 when no row
    was accepted). Events with an ``event_id`` already stored are counted as ``duplicates`` (idempotent).
    """
    svc = ready_services(request)
    if len(body.events) > svc.settings.api.max_batch:
        raise ApiError(413, "too_large", f"{len(body.events)} events; at most {svc.settings.api.max_batch}")
    rows, not_recorded = recordable(svc, [e.model_dump() for e in body.events])  # consent
    outcome = svc.feedback.ingest_events(rows) if rows else IngestOutcome(len(body.events), 0, 0, 0)
    outcome.received = len(body.events)
    status = 422 if outcome.quarantined and not outcome.accepted and not outcome.duplicates else 200
    out = IngestOut(**outcome.to_dict(), not_recorded=not_recorded).model_dump()
    if status == 422:
        reasons = "; ".join(f"row {p['row']}: {p['reason']}" for p in outcome.problems[:3])
        out = {
            **out,
            "error": {
                "status": 422,
                "code": "rows_rejected",
                "message": f"no event accepted: {reasons}",
                "fix": "correct the rows listed in `problems`",
            },
        }
    return JSONResponse(out, status_code=status)
