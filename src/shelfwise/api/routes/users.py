"""``/v1/users/{user_id}`` (scope ``admin``): erase a shopper everywhere the service keeps them, or set their
consent (:mod:`shelfwise.privacy.consent`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from shelfwise.api.auth import AdminKey
from shelfwise.api.consent import apply_consent_changes
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import ready_services
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import ConsentIn, ConsentOut, UserDeletedOut

router = APIRouter(prefix="/v1/users", tags=["users"])

UserId = Annotated[str, Path(min_length=1, max_length=256)]


@router.delete(
    "/{user_id}",
    response_model=UserDeletedOut,
    responses={**ERRORS, 404: {"description": "nothing stored about this shopper"}},
    summary="Delete a shopper",
)
def delete_user(request: Request, _key: AdminKey, user_id: UserId) -> UserDeletedOut:
    """Removes the shopper's events, user row, profile (stored and live), impressions (stored and
    buffered), cached responses and the pipelines' session state; reports counts per place."""
    svc = ready_services(request)
    result = svc.feedback.delete_user(user_id)
    if not result["deleted"]:
        raise ApiError(404, "not_found", "nothing is stored about this shopper")
    if svc.consent is not None:
        svc.consent.forget(svc.feedback.user_key(user_id))
    return UserDeletedOut(**result)


@router.put("/{user_id}/consent", response_model=ConsentOut, responses=ERRORS, summary="Set consent")
def put_consent(request: Request, _key: AdminKey, user_id: UserId, body: ConsentIn) -> ConsentOut:
    """Records the shopper's consent flags (those left out keep the value that applied) and applies them
    from this request on here, and from the next follower tick on in every other worker. Withdrawing
    personalisation deletes the stored and live profile; withdrawing training leaves the shopper's events
    out of the next training (they stay stored)."""
    from shelfwise.privacy.consent import record_consent

    svc = ready_services(request)
    book = svc.consent
    if book is None:
        raise ApiError(503, "not_available", "consent is not loaded")
    given = body.model_dump(exclude_none=True)
    if not given:
        raise ApiError(
            422,
            "invalid_request",
            "no consent flag given",
            fix="send at least one of personalisation, analytics, training as true or false",
        )
    key = svc.feedback.user_key(user_id)
    with svc.write_lock:
        record, seq = record_consent(svc.store, key, given, book.get(key))
        effective = book.record(key, record)
        apply_consent_changes(svc, [key])
    return ConsentOut(user_id=user_id, recorded=record, effective=effective.to_dict(), consent_seq=seq)
