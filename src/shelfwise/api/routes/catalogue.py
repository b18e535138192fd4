"""Catalogue changes (scope ``admin``): upserts and deletes reach the indexes without a restart."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from shelfwise.api.auth import AdminKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import ready_services
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import DeleteItemsIn, DeleteItemsOut, IngestOut, ItemsIn

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/items", tags=["catalogue"])


def _preflight(state: Any, rows: list[dict[str, Any]]) -> None:
    """Check, before anything is written, that the search index can take ``rows``: the store and the index
    change together or not at all. The query vocabulary is the part of the index that reads every field
    (brands, categories, words); extending a copy of it changes nothing."""
    search = getattr(state, "search", None)
    vocabulary = getattr(search, "vocabulary", None)
    if vocabulary is None:
        return
    try:
        vocabulary.extended(rows)
    except Exception as exc:  # a row the index cannot take: refuse the batch, nothing written
        log.warning("items refused before writing: the search vocabulary failed (%s)", type(exc).__name__)
        raise ApiError(
            422,
            "invalid_items",
            f"the search index cannot take these items ({type(exc).__name__}: {exc}); nothing was written",
            fix="check the brand, category and title fields of the batch",
        ) from None


@router.post("", response_model=IngestOut, responses=ERRORS, summary="Insert or update items")
def upsert_items(body: ItemsIn, request: Request, _key: AdminKey) -> JSONResponse:
    """New items are served at once; price and stock changes apply to the next request."""
    svc = ready_services(request)
    if len(body.items) > svc.settings.api.max_batch:
        raise ApiError(413, "too_large", f"{len(body.items)} items; at most {svc.settings.api.max_batch}")
    rows = [i.model_dump() for i in body.items]
    _preflight(svc, rows)
    outcome = svc.feedback.upsert_items(rows)
    for r in rows:
        svc.item_facts[r["item_id"]] = (r["title"], r["brand"], r["category"], r["price"])
    status = 422 if outcome.quarantined and not outcome.accepted and not outcome.duplicates else 200
    return JSONResponse(IngestOut(**outcome.to_dict()).model_dump(), status_code=status)


@router.post("/delete", response_model=DeleteItemsOut, responses=ERRORS, summary="Delete items")
def delete_items(body: DeleteItemsIn, request: Request, _key: AdminKey) -> DeleteItemsOut:
    """Items leave both indexes at once; the store keeps them as unavailable so history still joins."""
    svc = ready_services(request)
    return DeleteItemsOut(**svc.feedback.delete_items(body.item_ids))


@router.delete(
    "/{item_id}",
    response_model=DeleteItemsOut,
    responses={**ERRORS, 404: {"description": "unknown item"}},
    summary="Delete one item",
)
def delete_item(
    request: Request, _key: AdminKey, item_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> DeleteItemsOut:
    """One item out of the catalogue (404 when there is no such item)."""
    svc = ready_services(request)
    result = svc.feedback.delete_items([item_id])
    if not result["deleted"]:
        raise ApiError(404, "not_found", "no item with this id in the catalogue")
    return DeleteItemsOut(**result)
