"""Read routes (scope ``read``): recommendations, search, autocomplete, a shopper's profile."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from shelfwise.api.auth import AdminKey, ReadKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import call, finite_json, ready_services
from shelfwise.api.schemas import (
    HitOut,
    ItemOut,
    RecommendIn,
    RecommendOut,
    SearchIn,
    SearchOut,
    SearchRulesIn,
    SuggestOut,
)
from shelfwise.api.services import WORKER_HEADER, WORKER_ID, Services

router = APIRouter(prefix="/v1", tags=["read"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or invalid API key"},
    403: {"description": "the key lacks the scope"},
    422: {"description": "invalid input; the body says which field and how to fix it"},
    429: {"description": "rate limited; see Retry-After"},
    503: {"description": "still loading"},
}


def _finite(x: Any) -> float:
    v = float(x)
    return v if math.isfinite(v) else 0.0


def _facts(svc: Services, item_id: str) -> dict[str, Any]:
    title, brand, category, price = svc.item_facts.get(item_id, (None, None, None, None))
    return {"title": title, "brand": brand, "category": category, "price": price}


def _check_k(svc: Services, k: int) -> None:
    if k > svc.settings.api.max_k:
        raise ApiError(
            422,
            "invalid_request",
            f"k={k} is above the limit of {svc.settings.api.max_k}",
            fix=f"ask for k <= {svc.settings.api.max_k} (api.max_k)",
        )


@router.post(
    "/recommendations",
    response_model=RecommendOut,
    responses=ERRORS,
    summary="Recommendations for a shopper and a slot",
)
def recommend(body: RecommendIn, request: Request, response: Response, _key: ReadKey) -> RecommendOut:
    """Home feed, similar items, bought together or cart recommendations, each with a reason.

    Send the response's ``request_id`` back with events on its items (attribution).
    """
    response.headers[WORKER_HEADER] = WORKER_ID
    svc = ready_services(request)
    _check_k(svc, body.k)
    from shelfwise.recommend import RecommendRequest

    req = call(lambda: RecommendRequest(**body.model_dump()))
    served = call(lambda: svc.serving.recommend(req))
    resp = served.response
    items = [
        ItemOut(
            item_id=i.item_id,
            score=_finite(i.score),
            reason=i.reason,
            sources=list(i.sources),
            breakdown=finite_json(dict(i.breakdown)),
            **_facts(svc, i.item_id),
        )
        for i in resp.items
    ]
    return RecommendOut(
        request_id=served.request_id,
        user_id=body.user_id,
        slot=resp.slot,
        model=resp.model,
        version=str(resp.version),
        fallback=resp.fallback,
        arm=served.arm,
        cached=served.cached,
        personalised=served.personalised,
        personalisation_note=served.note,
        items=items,
    )


@router.post("/search", response_model=SearchOut, responses=ERRORS, summary="Product search")
def search(body: SearchIn, request: Request, response: Response, _key: ReadKey) -> SearchOut:
    """Hybrid lexical + semantic search with query understanding, filters, facets and personalisation."""
    response.headers[WORKER_HEADER] = WORKER_ID
    svc = ready_services(request)
    _check_k(svc, body.k)
    from shelfwise.search import SearchRequest

    if (refresh := getattr(svc.search, "refresh_rules", None)) is not None:
        refresh(svc.store)  # the shop's synonyms / redirects, as another worker may have changed them
    req = call(lambda: SearchRequest(**body.model_dump()))
    served = call(lambda: svc.serving.search(req))
    resp = served.response
    return SearchOut(
        request_id=served.request_id,
        query=body.query,
        total=resp.total,
        parsed=finite_json(resp.parsed),
        facets=finite_json(resp.facets),
        relaxed=resp.relaxed,
        arm=served.arm,
        cached=served.cached,
        personalised=served.personalised,
        personalisation_note=served.note,
        results=_hits(svc, resp.results),
        more_results=_hits(svc, getattr(resp, "more_results", [])),
        more_total=getattr(resp, "more_total", 0),
        did_you_mean=getattr(resp, "did_you_mean", None),
        redirect=getattr(resp, "redirect", None),
        offset=body.offset,
        sort=body.sort,
    )


def _hits(svc: Services, hits: list[Any]) -> list[HitOut]:
    """API hits, with the served facts (title, brand, category, price) of each item."""
    out = []
    for h in hits:
        f = _facts(svc, h.item_id) if h.item_id in svc.item_facts else {}
        f["title"] = h.title or f.get("title")
        out.append(
            HitOut(
                item_id=h.item_id,
                score=_finite(h.score),
                reason=h.reason,
                breakdown=finite_json(dict(h.breakdown)),
                highlights=list(getattr(h, "highlights", [])),
                **f,
            )
        )
    return out


@router.get("/search/rules", responses=ERRORS, summary="The shop's search synonyms and redirects")
def get_search_rules(request: Request, _key: AdminKey) -> dict[str, Any]:
    """The stored synonyms and redirects."""
    from shelfwise.search.rules import load_rules

    return load_rules(ready_services(request).store).to_json()


@router.put("/search/rules", responses=ERRORS, summary="Replace the shop's search synonyms and redirects")
def put_search_rules(body: SearchRulesIn, request: Request, _key: AdminKey) -> dict[str, Any]:
    """Applied at query time, without a rebuild: this process at once, the other workers of the store
    within ``SearchPipeline.rules_max_age`` seconds (they re-read the store's meta)."""
    from shelfwise.search.rules import SearchRules, save_rules

    svc = ready_services(request)
    try:
        rules = SearchRules.from_json(body.model_dump())
    except ValueError as exc:
        raise ApiError(422, "invalid_rules", str(exc)) from None
    with svc.write_lock:
        save_rules(svc.store, rules)
    if svc.search is not None:
        setattr(svc.search, "rules", rules)  # noqa: B010 (SearchLike does not declare it)
    svc.caches.invalidate_all()
    return rules.to_json()


@router.get("/search/suggest", response_model=SuggestOut, responses=ERRORS, summary="Autocomplete")
def suggest(
    request: Request,
    _key: ReadKey,
    prefix: Annotated[str, Query(max_length=128, description="what the shopper typed so far")],
    k: Annotated[int, Query(ge=1, le=50)] = 8,
    products: Annotated[int, Query(ge=0, le=10, description="products to suggest")] = 4,
) -> SuggestOut:
    """Completions from past queries and the catalogue vocabulary, and up to ``products`` products that
    confidently match what was typed (search-as-you-type)."""
    svc = ready_services(request)
    pipeline = svc.search
    if pipeline is None:
        raise ApiError(503, "not_available", "search is not loaded (run `shelfwise build --store DIR`)")
    suggest_products = getattr(pipeline, "suggest_products", None)
    found = call(lambda: suggest_products(prefix, products)) if products and suggest_products else []
    return SuggestOut(
        prefix=prefix,
        suggestions=call(lambda: list(pipeline.suggest(prefix, k))),
        products=finite_json(found),
    )


@router.get(
    "/users/{user_id}/profile",
    responses={**ERRORS, 404: {"description": "unknown shopper"}},
    summary="A shopper's profile",
)
def profile(
    request: Request, _key: ReadKey, user_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> dict[str, Any]:
    """Affinities, price band, funnel, segment and plain-language explanations (用户画像)."""
    svc = ready_services(request)
    key = svc.feedback.user_key(user_id)
    if svc.profiles is None:
        raise ApiError(503, "not_available", "profiles are not loaded")
    if svc.consent is not None and not svc.consent.allows(key, "personalisation"):
        raise ApiError(
            404,
            "no_consent",
            "no profile: the shopper has not consented to personalisation, so none is built or served",
            fix="PUT /v1/users/{user_id}/consent with personalisation=true once the shopper agrees",
        )
    if key not in svc.profiles.states:
        raise ApiError(404, "not_found", "no profile for this shopper (no events yet, or deleted)")
    data = svc.profiles.profile_json(key)
    data["user_id"] = user_id
    return finite_json(data)
