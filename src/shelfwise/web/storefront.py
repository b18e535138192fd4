"""The storefront: home feed, search with chips and facets, product pages, autocomplete, cart and clicks.

Every list comes from the service's own pipelines (:mod:`shelfwise.web.backend`); every click and add-to-cart
is a real event sent through the feedback loop, so the next page reflects it. Those writes are limited per
shopper and per client address (``api.rate_limit.shopper_writes_per_minute`` / ``client_writes_per_minute``):
past the limit, a product view is shown but not recorded and an add-to-cart gets 429. Every POST form carries
the session's CSRF token (:mod:`shelfwise.web.session`); picking a demo shopper needs an admin sign-in.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from shelfwise.web import backend
from shelfwise.web.backend import Unavailable
from shelfwise.web.pages import cards, catalog, read_form, render
from shelfwise.web.search_view import SearchState, search_view
from shelfwise.web.session import admin_key, check_csrf, guard
from shelfwise.web.shoppers import Shopper, current_shopper, pick, remember

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

FEED_SIZE = 24
RELATED_SIZE = 8


#: The re-ranking method the diversity slider turns on when the settings name none (``rerank.method =
#: "none"`` ignores the diversity knob).
SLIDER_METHOD = "mmr"


def _rerank_settings(request: Request) -> tuple[float, str]:
    """The configured ``(diversity, method)``."""
    rerank = getattr(getattr(request.app.state, "settings", None), "rerank", None)
    return round(float(getattr(rerank, "diversity", 0.0)), 1), str(getattr(rerank, "method", "none"))


def _slider_method(configured: str) -> str | None:
    """The method to ask for with the slider: the configured one, else MMR (diversity 0 = relevance order;
    an experiment arm that sets only ``diversity`` then takes effect too)."""
    return SLIDER_METHOD if configured == "none" else None


@router.get("/", name="web_root")
def root(request: Request) -> RedirectResponse:
    """The storefront is the front page."""
    return RedirectResponse(request.url_for("web_home").path, status_code=307)


@router.get("/shop", name="web_home", response_class=HTMLResponse)
def home(request: Request, diversity: float | None = None) -> HTMLResponse:
    """The home feed of the current shopper, with the diversity slider (``diversity`` clamped to [0, 1])."""
    shopper = current_shopper(request)
    default, method = _rerank_settings(request)
    div = default if diversity is None else round(min(1.0, max(0.0, diversity)), 2)
    notices: list[str] = []
    items: list[dict[str, Any]] = []
    rid = None
    try:
        listing = backend.recommend(
            request.app.state,
            shopper.user_id,
            "home",
            FEED_SIZE,
            diversity=div,
            method=_slider_method(method),
        )
        items, rid = cards(request, listing.rows, "home", listing.request_id), listing.request_id
        notices.append(listing.note or "")
        if listing.arm:
            notices.append(
                f"This feed is served under experiment arm {listing.arm}: "
                "the experiment may set its diversity instead of the slider."
            )
    except Unavailable as exc:
        notices.append(str(exc))
    summary = None
    profiles = getattr(request.app.state, "profiles", None)
    key = backend.user_key(request.app.state, shopper.user_id)
    if profiles is not None and key in profiles.states:
        summary = profiles.profile_json(key).get("summary")
    return render(
        request,
        "home.html",
        shopper,
        section="shop",
        notices=notices,
        items=items,
        request_id=rid,
        diversity=div,
        shopper_summary=summary,
    )


@router.get("/shop/search", name="web_search", response_class=HTMLResponse)
def search(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """Search results with the filters read from the query as removable chips, and facets."""
    shopper = current_shopper(request)
    state = SearchState.from_params(q, request.query_params)
    try:
        view = search_view(request, state, shopper.user_id)
    except Unavailable as exc:
        return render(
            request,
            "search.html",
            shopper,
            section="shop",
            notices=[str(exc)],
            query=q,
            results=[],
            chips=[],
            facets=[],
            total_text="",
            relaxed=None,
            corrected=None,
        )
    return render(request, "search.html", shopper, section="shop", query=q, **view)


@router.get("/shop/suggest", name="web_suggest")
def suggest(request: Request, prefix: Annotated[str, Query(max_length=100)] = "") -> JSONResponse:
    """Autocomplete for the search box: ``{"suggestions": [...]}``."""
    return JSONResponse({"suggestions": backend.suggest(request.app.state, prefix) if prefix.strip() else []})


@router.get("/shop/product/{item_id}", name="web_product", response_class=HTMLResponse)
def product(
    request: Request,
    item_id: str,
    rid: Annotated[str | None, Query(max_length=100)] = None,
    slot: Annotated[str | None, Query(max_length=40)] = None,
    added: bool = False,
) -> HTMLResponse:
    """A product with "similar items" and "bought together"; opening it from a list records a click."""
    shopper = current_shopper(request)
    item = catalog(request).get(item_id)
    if item is None:
        return render(
            request,
            "base.html",
            shopper,
            section="shop",
            status_code=404,
            notices=[f"No product {item_id!r} in this shop."],
        )
    notices: list[str] = []
    if _write_wait(request, shopper) > 0:
        log.info("storefront write limit reached: a product view was not recorded")
    else:
        try:
            backend.record_event(
                request.app.state, shopper.user_id, item_id, "click" if slot else "view", rid
            )
        except Unavailable as exc:
            notices.append(str(exc))
    related: dict[str, list[dict[str, Any]]] = {}
    empty_note: dict[str, str | None] = {}  # why a list is empty, when the recommender said so
    for name in ("similar", "bought_together"):
        try:
            listing = backend.recommend(
                request.app.state, shopper.user_id, name, RELATED_SIZE, item_id=item_id
            )
            related[name] = cards(request, listing.rows, name, listing.request_id)
            empty_note[name] = listing.note
        except Unavailable as exc:
            related[name] = []
            notices.append(str(exc))
    return render(
        request,
        "product.html",
        shopper,
        section="shop",
        notices=notices,
        item=item.card(""),
        similar=related["similar"],
        together=related["bought_together"],
        together_note=empty_note.get("bought_together"),
        came_from=rid,
        flash="Added to your cart." if added else None,
    )


def _write_wait(request: Request, shopper: Shopper) -> float:
    """Count one storefront write of ``shopper`` from this client; 0 when allowed, else seconds to wait."""
    client = request.client.host if request.client else "unknown"
    return guard(request).write_wait(shopper.user_id, client)


@router.post("/shop/cart", name="web_add_to_cart")
async def add_to_cart(request: Request) -> Response:
    """Put an item in the cart: an ``add_to_cart`` event, then back to the product page (form fields
    ``item_id`` and ``request_id``, the list the product was opened from)."""
    form = await read_form(request)
    check_csrf(request, form)
    item_id = form.get("item_id", "").strip()
    if not item_id or catalog(request).get(item_id) is None:
        return JSONResponse({"error": f"no product {item_id!r}"}, status_code=400)
    shopper = current_shopper(request)
    wait = _write_wait(request, shopper)
    if wait > 0:
        return JSONResponse(
            {"error": "too many cart changes from this shopper or address; wait and try again"},
            status_code=429,
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )
    await run_in_threadpool(
        backend.record_event,
        request.app.state,
        shopper.user_id,
        item_id,
        "add_to_cart",
        form.get("request_id") or None,
    )
    url = f"{request.url_for('web_product', item_id=item_id).path}?added=true"
    response = RedirectResponse(url, status_code=303)
    remember(request, response, shopper)
    return response


@router.post("/shop/shopper", name="web_pick_shopper")
async def pick_shopper(request: Request) -> Response:
    """Shop as a demo shopper (form field ``user_id``; empty = anonymously; a shopper only for a signed-in
    admin), then go back to the page the picker was on (``next``, a local path only)."""
    form = await read_form(request)
    check_csrf(request, form)
    user_id = form.get("user_id", "").strip()[:100] or None
    if user_id and admin_key(request) is None:
        return JSONResponse(
            {"error": "shopping as another shopper needs an admin sign-in (/admin/sign-in)"}, status_code=403
        )
    target = urlsplit(form.get("next", ""))
    local = target.path.startswith("/") and not target.netloc and not target.path.startswith("//")
    url = (
        (target.path + (f"?{target.query}" if target.query else ""))
        if local
        else request.url_for("web_home").path
    )
    response = RedirectResponse(url, status_code=303)
    pick(request, response, user_id)
    return response
