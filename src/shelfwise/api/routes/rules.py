"""Merchandising rules (scope ``admin``): list, create and delete the shop's boost / bury / pin rules.

The rules live in the store (:mod:`shelfwise.recommend.merchandising`) and apply to every recommendation list
from the next request on in this process (the response caches are cleared), within a few seconds in other
processes serving the same store. The dashboard's rules page (``/admin/rules``) uses the same functions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from shelfwise.api.auth import AdminKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.reads import ERRORS
from shelfwise.recommend.merchandising import CATEGORY_SEPARATOR, MerchRule, NewRule, RuleBook

__all__ = ["add_rule", "delete_rule", "router", "rule_book"]

router = APIRouter(prefix="/v1", tags=["admin"])


def rule_book(state: Any) -> RuleBook:
    """The app's rule book (kept on ``state.rule_book``)."""
    book = getattr(state, "rule_book", None)
    if book is None:
        book = state.rule_book = RuleBook(state.store)
    return book


def _changed(state: Any) -> None:
    """Make the change visible at once here: the recommenders re-read the rules, cached lists go."""
    services = getattr(state, "services", None)
    loaded = services.pipelines() if services is not None else [getattr(state, "recommender", None)]
    for rec in loaded:
        book = getattr(rec, "rulebook", None)
        if isinstance(book, RuleBook):
            book.refresh()
    caches = getattr(state, "caches", None)
    if caches is not None:
        caches.invalidate_all()


def _check_target(store: Any, rule: NewRule) -> None:
    """422 when the rule names an item, category or brand the catalogue does not have."""
    if rule.item_id:
        if store.read_items(["item_id"], item_ids=[rule.item_id]).num_rows == 0:
            raise ApiError(
                422,
                "unknown_item",
                f"no item {rule.item_id!r} in the catalogue",
                fix="use an item_id of the catalogue",
            )
        return
    column = "category" if rule.category else "brand"
    wanted = str(rule.category or rule.brand)
    values = {v for v in store.read_items([column]).column(column).to_pylist() if v}
    found = (
        any(v == wanted or v.startswith(wanted + CATEGORY_SEPARATOR) for v in values)
        if column == "category"
        else wanted in values
    )
    if not found:
        raise ApiError(
            422,
            f"unknown_{column}",
            f"no {column} {wanted!r} in the catalogue",
            fix=f"use a {column} exactly as the catalogue spells it"
            + (" (a category path like 'Home > Tape', or its start 'Home')" if column == "category" else ""),
        )


def add_rule(state: Any, rule: NewRule) -> MerchRule:
    """Check and store a rule; it applies from the next request."""
    _check_target(state.store, rule)
    made = rule_book(state).add(rule)
    _changed(state)
    return made


def delete_rule(state: Any, rule_id: str) -> bool:
    """Delete a rule; False when there is none with that id."""
    gone = rule_book(state).remove(rule_id)
    if gone:
        _changed(state)
    return gone


@router.get("/rules", response_model=list[MerchRule], responses=ERRORS, summary="List merchandising rules")
def list_rules(request: Request, _key: AdminKey) -> list[MerchRule]:
    """Every boost, bury and pin rule, oldest first."""
    return rule_book(request.app.state).rules()


@router.post(
    "/rules",
    response_model=MerchRule,
    status_code=201,
    responses=ERRORS,
    summary="Create a merchandising rule",
)
def create_rule(body: NewRule, request: Request, _key: AdminKey) -> MerchRule:
    """A boost / bury (by ``amount``) of one item, a category (and those under it) or a brand, or a pin of one
    item at a ``position``; ``slots`` limits it to some recommendation slots. Applies from the next request."""
    return add_rule(request.app.state, body)


@router.delete(
    "/rules/{rule_id}", responses={**ERRORS, 404: {"description": "no such rule"}}, summary="Delete a rule"
)
def remove_rule(
    request: Request, _key: AdminKey, rule_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> dict[str, Any]:
    """Delete a rule at once."""
    if not delete_rule(request.app.state, rule_id):
        raise ApiError(404, "not_found", f"no rule {rule_id!r}; GET /v1/rules lists them")
    return {"deleted": rule_id}
