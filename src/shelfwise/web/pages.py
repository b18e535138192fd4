"""Shared page plumbing: render a template with the header's context, and the per-app helpers on state."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from shelfwise.web.assets import templates
from shelfwise.web.backend import loading
from shelfwise.web.items import WebCatalog
from shelfwise.web.shoppers import DemoShoppers, Shopper, remember

__all__ = ["cards", "catalog", "demo_shoppers", "render"]


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
    """A full page: the template with the header's values (shopper picker, search box, notices)."""
    values = {
        "section": section,
        "shopper": shopper,
        "demo_shoppers": demo_shoppers(request),
        "notices": [n for n in (notices or []) if n],
        "flash": context.pop("flash", None),
        "query": context.pop("query", ""),
        "loading": bool(loading(request.app.state)),
        **context,
    }
    response = templates().TemplateResponse(request, template, values, status_code=status_code)
    remember(response, shopper)
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
