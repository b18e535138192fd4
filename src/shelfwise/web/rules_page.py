"""The merchandising-rules page (``/admin/rules``): the shop's boost, bury and pin rules, with a form to add
one and a button to delete each (POST forms with the session's CSRF token; admin only).

The same functions as the API's ``/v1/rules`` (:mod:`shelfwise.api.routes.rules`) check and store the rule,
so a rule naming an item, category or brand the catalogue does not have is refused with the reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from shelfwise.api.errors import ApiError
from shelfwise.api.routes.rules import add_rule, delete_rule, rule_book
from shelfwise.recommend.merchandising import NewRule, Slot
from shelfwise.web.pages import catalog, read_form, render
from shelfwise.web.session import check_csrf, require_admin
from shelfwise.web.shoppers import current_shopper

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)])

SLOTS: tuple[str, ...] = get_args(Slot)
TARGETS = ("item_id", "category", "brand")
FLASH = {"added": "Rule added: it applies from the next recommendation.", "deleted": "Rule deleted."}


def _rows(request: Request) -> list[dict[str, Any]]:
    cat = catalog(request)
    out = []
    for r in rule_book(request.app.state).rules():
        item = cat.get(r.item_id) if r.item_id else None
        out.append(
            {
                "rule": r,
                "item_title": item.title if item else None,
                "item_url": request.url_for("web_product", item_id=r.item_id).path if item else None,
                "added": datetime.fromtimestamp(r.created_at, UTC).strftime("%Y-%m-%d %H:%M")
                if r.created_at
                else "",
            }
        )
    return out


def _choices(request: Request) -> dict[str, list[str]]:
    items = list(catalog(request).items().values())
    return {
        "categories": sorted({i.category for i in items if i.category}),
        "brands": sorted({i.brand for i in items if i.brand}),
    }


def _page(
    request: Request,
    *,
    problem: str | None = None,
    form: dict[str, str] | None = None,
    flash: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "rules.html",
        current_shopper(request),
        section="admin",
        page="web_rules",
        notices=[problem] if problem else [],
        flash=flash,
        rules=_rows(request),
        form=form or {"action": "boost", "target": "brand"},
        slots=SLOTS,
        targets=TARGETS,
        status_code=status_code,
        **_choices(request),
    )


@router.get("/admin/rules", name="web_rules", response_class=HTMLResponse)
def rules_page(request: Request, done: str | None = None) -> HTMLResponse:
    """The rules and the form to add one."""
    return _page(request, flash=FLASH.get(done or ""))


def _rule_from(form: dict[str, str]) -> NewRule:
    """The rule a submitted form describes (pydantic's checks: one target, pin with an item and a position)."""
    target = form.get("target", "")
    if target not in TARGETS:
        raise ValueError("choose what the rule matches: an item, a category or a brand")
    value = form.get("value", "").strip()
    if not value:
        raise ValueError(f"give the {target.replace('_', ' ')} the rule matches")
    amount, position = form.get("amount", "").strip(), form.get("position", "").strip()
    return NewRule(
        action=form.get("action", ""),
        **{target: value},
        amount=float(amount) if amount and form.get("action") != "pin" else None,
        position=int(position) if position and form.get("action") == "pin" else None,
        slots=[s for s in SLOTS if form.get(f"slot_{s}")],
        note=form.get("note", "").strip(),
    )


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    if isinstance(exc, ApiError):
        return f"{exc.message} ({exc.fix})" if exc.fix else exc.message
    return str(exc)


@router.post("/admin/rules", name="web_rules_add")
async def rules_add(request: Request) -> Response:
    """Add the rule of the form; the page again with the reason when it is refused (422)."""
    form = await read_form(request)
    check_csrf(request, form)
    try:
        rule = add_rule(request.app.state, _rule_from(form))
    except (ValueError, ApiError) as exc:
        return _page(request, problem=f"Rule not added: {_problem(exc)}", form=form, status_code=422)
    log.info("merchandising rule added on the dashboard: %s", rule.label())
    return RedirectResponse(f"{request.url_for('web_rules').path}?done=added", status_code=303)


@router.post("/admin/rules/{rule_id}/delete", name="web_rules_delete")
async def rules_delete(request: Request, rule_id: str) -> Response:
    """Delete one rule (404 when there is none with that id)."""
    form = await read_form(request)
    check_csrf(request, form)
    if not delete_rule(request.app.state, rule_id):
        return _page(request, problem=f"No rule {rule_id!r}: it was deleted already.", status_code=404)
    return RedirectResponse(f"{request.url_for('web_rules').path}?done=deleted", status_code=303)
