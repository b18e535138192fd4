"""``DELETE /v1/users/{user_id}`` (scope ``admin``): erase a shopper everywhere the service keeps them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from shelfwise.api.auth import AdminKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import ready_services
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import UserDeletedOut

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.delete(
    "/{user_id}",
    response_model=UserDeletedOut,
    responses={**ERRORS, 404: {"description": "nothing stored about this shopper"}},
    summary="Delete a shopper",
)
def delete_user(
    request: Request, _key: AdminKey, user_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> UserDeletedOut:
    """Removes the shopper's events, user row, profile (stored and live), impressions (stored and
    buffered), cached responses and the pipelines' session state; reports counts per place."""
    svc = ready_services(request)
    result = svc.feedback.delete_user(user_id)
    if not result["deleted"]:
        raise ApiError(404, "not_found", "nothing is stored about this shopper")
    return UserDeletedOut(**result)
