"""Shared page plumbing: render a template with the header's context, and the per-app helpers on state."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from shelfwise.web.assets import templates
from shelfwise.web.backend import loading
from shelfwise.web.items import WebCatalog
from shelfwise.web.session import admin_key, current_session, save_session
from shelfwise.web.shoppers import DemoShoppers, Shopper, remember

__all__ = ["cards", "catalog", "demo_shoppers", "read_form", "render"]


def catalog(request: Request) -> WebCatalog:
    """The app's cached catalogue view (made on first use, kept on ``app.state.web_catalog``)."""
    state = request.app.state
    cat = getattr(state, "web_catalog", None)
    if cat is None:
        cat = state.web_catalog = WebCatalog(state.store)
    return cat


def demo_shoppers(request: Request) -> list[dict[str, Any]]:
    """The shoppers offered in the picker (kept on ``app.state.web_shoppers``)."""
    state = request.app.state
    picker = getattr(state, "web_shoppers", None)
    if picker is None:
        picker = state.web_shoppers = DemoShoppers()
    return picker.rows(state.store, getattr(state, "profiles", None))


def render(
    request: Request,
    template: str,
    shopper: Shopper,
    *,
    section: str,
    notices: list[str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page: the template with the header's values (search box, notices, the CSRF token of the forms;
    the demo-shopper picker and the sign-out button for a signed-in admin)."""
    admin = admin_key(request) is not None
    values = {
        "section": section,
        "shopper": shopper,
        "admin": admin,
        "csrf_token": current_session(request).csrf,
        "demo_shoppers": demo_shoppers(request) if admin else [],
        "notices": [n for n in (notices or []) if n],
        "flash": context.pop("flash", None),
        "query": context.pop("query", ""),
        "loading": bool(loading(request.app.state)),
        **context,
    }
    response = templates().TemplateResponse(request, template, values, status_code=status_code)
    remember(request, response, shopper)
    save_session(request, response)
    return response


def cards(
    request: Request, rows: list[tuple[str, float, str]], slot: str, rid: str | None
) -> list[dict[str, Any]]:
    """Cards for ``(item_id, score, reason)`` rows; each links to the product with the list it came from."""
    cat = catalog(request)
    out = []
    for pos, (item_id, score, reason) in enumerate(rows):
        item = cat.get(item_id)
        if item is None:
            continue
        params = {"slot": slot, "pos": pos, **({"rid": rid} if rid else {})}
        url = f"{request.url_for('web_product', item_id=item_id).path}?{urlencode(params)}"
        out.append(item.card(url, reason, score))
    return out


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a url-encoded form post (what HTML forms send), first value of each, capped in size."""
    body = (await request.body())[:10_000].decode("utf-8", errors="replace")
    return {k: v[0][:2000] for k, v in parse_qs(body, keep_blank_values=True).items()}
