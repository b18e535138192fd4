"""API keys and attribution (scope ``admin``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from shelfwise.api.auth import AdminKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import KeyCreatedOut, KeyIn, KeyOut

router = APIRouter(prefix="/v1", tags=["admin"])


@router.post("/keys", response_model=KeyCreatedOut, status_code=201, responses=ERRORS, summary="Create a key")
def create_key(body: KeyIn, request: Request, _key: AdminKey) -> KeyCreatedOut:
    """A new key with scopes; the key is returned once and stored only as a hash."""
    token, record = request.app.state.keys.create(body.name, list(body.scopes), body.rate_per_second)
    return KeyCreatedOut(key=token, **record.public())


@router.get("/keys", response_model=list[KeyOut], responses=ERRORS, summary="List keys")
def list_keys(request: Request, _key: AdminKey) -> list[KeyOut]:
    """Stored keys without their hashes."""
    return [KeyOut(**k.public()) for k in request.app.state.keys.list()]


@router.delete("/keys/{key_id}", responses={**ERRORS, 404: {"description": "no such key"}}, summary="Revoke")
def revoke_key(
    request: Request, _key: AdminKey, key_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> dict[str, Any]:
    """Revoke a key at once."""
    if not request.app.state.keys.revoke(key_id):
        raise ApiError(404, "not_found", f"no key {key_id!r}; GET /v1/keys lists them")
    return {"revoked": key_id}


@router.get("/attribution", responses=ERRORS, summary="Impressions joined to interactions")
def attribution(
    request: Request,
    _key: AdminKey,
    limit: Annotated[int, Query(ge=1, le=10_000, description="rows of the joined table to return")] = 100,
) -> dict[str, Any]:
    """What followed the lists the service showed: clicks and purchases per surface and position, and the
    latest attributed interactions (request id, position, type)."""
    state = request.app.state
    state.feedback.flush()
    from shelfwise.experiments.attribution import attribute

    store = state.store
    impressions = store.read_impressions()
    events = store.read_events(["event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id"])
    joined = attribute(impressions, events, state.settings.experiments.attribution_window_seconds)
    by_type: dict[str, int] = {}
    for t in joined.column("type").to_pylist():
        by_type[t] = by_type.get(t, 0) + 1
    rows = joined.slice(max(0, joined.num_rows - limit)).drop_columns(["user_id"]).to_pylist()
    for r in rows:
        r["timestamp"] = r["timestamp"].isoformat()
    return {
        "impressions": impressions.num_rows,
        "attributed": joined.num_rows,
        "direct": int(sum(joined.column("direct").to_pylist())),
        "by_type": by_type,
        "latest": rows,
    }
